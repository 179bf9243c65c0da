package arena

// Default configuration values, used for zero fields of a [Config].
const (
	DefaultTickRate       = 30
	DefaultMaxPlayers     = 8
	DefaultRoundSeconds   = 180
	DefaultRespawnSeconds = 3
	DefaultSeed           = 1
)

// Config configures an [Arena]. The zero value is valid: every zero (or nil)
// field takes its default (see [Config.WithDefaults]).
type Config struct {
	// TickRate is the number of simulation ticks per second (default 30).
	TickRate int
	// MaxPlayers is the number of seats, 0 to MaxPlayers-1 (default 8).
	MaxPlayers int
	// RoundSeconds is the length of the round (default 180). A negative
	// value means the round never ends.
	RoundSeconds int
	// RespawnSeconds is the time a dead player waits (default 3).
	RespawnSeconds int
	// Seed seeds the arena's random number generator, used to break ties
	// between equally safe spawn points (default 1).
	Seed uint64
	// Map is the level (default DefaultMap()). The arena does not modify
	// it.
	Map *Map
}

// WithDefaults returns c with every zero or nil field replaced by its
// default value.
func (c Config) WithDefaults() Config {
	if c.TickRate <= 0 {
		c.TickRate = DefaultTickRate
	}
	if c.MaxPlayers <= 0 {
		c.MaxPlayers = DefaultMaxPlayers
	}
	if c.RoundSeconds == 0 {
		c.RoundSeconds = DefaultRoundSeconds
	}
	if c.RespawnSeconds <= 0 {
		c.RespawnSeconds = DefaultRespawnSeconds
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.Map == nil {
		c.Map = DefaultMap()
	}
	return c
}
