package game

import (
	"fmt"
	"time"
)

// Config sets how a room runs. The zero value of every field means its
// default; Validate reports values out of range.
type Config struct {
	// TickRate is the simulation rate in ticks per second: 10 to 128,
	// default 30.
	TickRate int
	// SnapshotEvery publishes a frame every that many ticks (default 1).
	SnapshotEvery int
	// MaxPlayers is the number of seats (default 8, at most 256).
	MaxPlayers int
	// RejoinGrace is how long a disconnected player keeps the seat
	// (default 15 s).
	RejoinGrace time.Duration
	// EmptyTimeout ends a room that has had no seated player for that long
	// (default 30 s).
	EmptyTimeout time.Duration
	// MaxCatchUp is how many ticks a late room runs back to back to catch
	// up before it skips the rest (default 3).
	MaxCatchUp int
	// InboxSize is the per-seat input mailbox size (default 32). A full
	// mailbox drops the input and counts it.
	InboxSize int
	// MaxInputsPerTick caps the inputs applied per player per tick
	// (default 4); the oldest excess is dropped and counted.
	MaxInputsPerTick int
	// MaxInputLead is how many ticks ahead an input may be held for the tick
	// it names (default: one second of ticks). Inputs naming a tick further
	// ahead are applied at once.
	MaxInputLead int
	// InterestRadius limits what a viewer sees to entities within this
	// distance (in position units) of the entity it controls; 0 means
	// everything.
	InterestRadius int32
	// EventWindow is how many ticks of events a frame keeps, so that a
	// writer that skipped frames still delivers them (default: one second).
	EventWindow int
}

// Defaults for Config.
const (
	DefaultTickRate     = 30
	MinTickRate         = 10
	MaxTickRate         = 128
	DefaultMaxPlayers   = 8
	MaxSeats            = 256
	DefaultRejoinGrace  = 15 * time.Second
	DefaultEmptyTimeout = 30 * time.Second
)

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.TickRate == 0 {
		c.TickRate = DefaultTickRate
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 1
	}
	if c.MaxPlayers == 0 {
		c.MaxPlayers = DefaultMaxPlayers
	}
	if c.RejoinGrace == 0 {
		c.RejoinGrace = DefaultRejoinGrace
	}
	if c.EmptyTimeout == 0 {
		c.EmptyTimeout = DefaultEmptyTimeout
	}
	if c.MaxCatchUp == 0 {
		c.MaxCatchUp = 3
	}
	if c.InboxSize == 0 {
		c.InboxSize = 32
	}
	if c.MaxInputsPerTick == 0 {
		c.MaxInputsPerTick = 4
	}
	if c.MaxInputLead == 0 {
		c.MaxInputLead = c.TickRate
	}
	if c.EventWindow == 0 {
		c.EventWindow = c.TickRate
	}
	return c
}

// Validate reports the first field out of range.
func (c Config) Validate() error {
	switch {
	case c.TickRate < MinTickRate || c.TickRate > MaxTickRate:
		return fmt.Errorf("game: tick rate %d outside [%d, %d]", c.TickRate, MinTickRate, MaxTickRate)
	case c.SnapshotEvery < 1 || c.SnapshotEvery > c.TickRate:
		return fmt.Errorf("game: snapshot every %d ticks outside [1, tick rate]", c.SnapshotEvery)
	case c.MaxPlayers < 1 || c.MaxPlayers > MaxSeats:
		return fmt.Errorf("game: max players %d outside [1, %d]", c.MaxPlayers, MaxSeats)
	case c.RejoinGrace < 0 || c.EmptyTimeout < 0:
		return fmt.Errorf("game: negative rejoin grace or empty timeout")
	case c.MaxCatchUp < 0 || c.InboxSize < 1 || c.MaxInputsPerTick < 1 || c.MaxInputLead < 0:
		return fmt.Errorf("game: catch-up, inbox size, inputs per tick or input lead out of range")
	case c.InterestRadius < 0 || c.EventWindow < 1:
		return fmt.Errorf("game: negative interest radius or empty event window")
	}
	return nil
}

// TickInterval is the duration of one tick.
func (c Config) TickInterval() time.Duration {
	return time.Second / time.Duration(c.TickRate)
}
