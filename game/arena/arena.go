package arena

import (
	"cmp"
	"slices"

	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// Entity kinds.
const (
	// KindPlayer is the Entity.Kind of a player.
	KindPlayer = 0
)

// Entity flag bits (Entity.Flags).
const (
	// FlagDead marks a dead player waiting to respawn.
	FlagDead = 1
	// FlagFiring marks a player who fired during the tick.
	FlagFiring = 2
	// FlagInvulnerable marks a player under spawn protection.
	FlagInvulnerable = 4
)

// Round is the number of the only round an Arena plays.
const Round = 1

// player is the state of one seat.
type player struct {
	present bool
	id      uint32
	body    Body
	aim     int32
	health  int32
	dead    bool
	// fired is set by a shot during Apply; Step moves it to firedShown,
	// which AppendEntities reports as FlagFiring.
	fired, firedShown bool
	// invuln counts down the ticks of spawn protection left.
	invuln               int32
	kills, deaths, score int32
	// cooldown counts down the ticks until the weapon may fire (at 0).
	cooldown int32
	// respawn counts down the ticks while dead; the Step that finds it at
	// 0 respawns the player.
	respawn int32
	// hist is the ring of recorded positions, indexed by tick modulo its
	// length.
	hist []histEntry
}

// Arena is the arena game, implementing [game.Game]. Create one with [New].
//
// Each call advances the simulation in the order the room runtime makes
// them: Join and Leave seat and unseat players at once (a joining player
// spawns immediately); Apply runs one movement step for the seat and, if the
// fire button is pressed and the weapon is ready, fires a shot, resolved at
// once with lag compensation (its events are reported by the next Step);
// Step counts timers down, respawns the dead, records everyone's position
// for lag compensation and ends the round when its time is up.
//
// An Arena is not safe for concurrent use.
type Arena struct {
	cfg Config
	m   *Map
	mp  MoveParams

	cooldownTicks int32
	respawnTicks  int32
	invulnTicks   int32
	roundTicks    uint32 // 0: no time limit
	maxRewind     uint32 // in 1/SubTick tick
	rangeFixed    int64

	tick       uint32 // the last stepped tick
	started    bool
	over       bool
	roundEnd   uint32
	rng        uint64
	lastRewind uint32 // rewind of the latest shot, in 1/SubTick tick

	players []player
	pending []game.Event
	cand    []int // scratch for spawn selection
}

var _ game.Game = (*Arena)(nil)

// New returns an arena configured by cfg (zero fields take their defaults),
// with no players, before its first Step.
func New(cfg Config) *Arena {
	cfg = cfg.WithDefaults()
	a := &Arena{
		cfg:           cfg,
		m:             cfg.Map,
		mp:            NewMoveParams(cfg.TickRate),
		cooldownTicks: cooldownTicks(cfg.TickRate),
		respawnTicks:  int32(cfg.RespawnSeconds * cfg.TickRate),
		invulnTicks:   int32(InvulnerableSeconds * cfg.TickRate),
		maxRewind:     maxRewindSub(cfg.TickRate),
		rangeFixed:    RangeUnits * Scale,
		rng:           cfg.Seed,
		players:       make([]player, cfg.MaxPlayers),
		pending:       make([]game.Event, 0, 4*cfg.MaxPlayers),
		cand:          make([]int, len(cfg.Map.Spawns)),
	}
	if cfg.RoundSeconds > 0 {
		a.roundTicks = uint32(cfg.RoundSeconds * cfg.TickRate)
	}
	n := historyLen(cfg.TickRate)
	hist := make([]histEntry, n*cfg.MaxPlayers)
	for i := range a.players {
		a.players[i].hist = hist[i*n : (i+1)*n : (i+1)*n]
	}
	return a
}

// seat returns the player in seat s, or nil if s is out of range.
func (a *Arena) seat(s game.Seat) *player {
	if s < 0 || int(s) >= len(a.players) {
		return nil
	}
	return &a.players[s]
}

// Join spawns a player in seat s and returns its entity ID, s+1, or 0 if s
// is not a seat of this arena. A player already in the seat is replaced.
// The player spawns at once at the safest spawn point, invulnerable for
// InvulnerableSeconds; the SPAWN event is reported by the next Step.
func (a *Arena) Join(s game.Seat) uint32 {
	p := a.seat(s)
	if p == nil {
		return 0
	}
	hist := p.hist
	*p = player{present: true, id: uint32(s) + 1, hist: hist}
	clearHistory(p)
	a.spawn(int(s))
	a.pending = append(a.pending, a.spawnEvent(p))
	return p.id
}

// Leave removes the player in seat s, if any.
func (a *Arena) Leave(s game.Seat) {
	p := a.seat(s)
	if p == nil {
		return
	}
	hist := p.hist
	*p = player{hist: hist}
	clearHistory(p)
}

// Apply applies one input of the player in seat s: while alive, it sets the
// aim, runs exactly one [Move] step, then fires if in.Buttons has ButtonFire
// and the weapon is ready (from the position after the move). A dead player's
// inputs are consumed and ignored. Nothing happens once the game is over.
func (a *Arena) Apply(s game.Seat, in game.Input) {
	p := a.seat(s)
	if p == nil || !p.present || p.dead || a.over {
		return
	}
	p.aim = int32(in.Aim & (AngleTurn - 1))
	p.body = Move(p.body, in, a.mp, a.m.Walls)
	if in.Buttons&ButtonFire != 0 && p.cooldown == 0 {
		a.fire(int(s), in)
	}
}

// Step advances the arena to tick and appends what happened since the last
// Step: ROUND_START (at the first Step), the events of Joins and shots since
// the last Step, SPAWN for each respawn, and ROUND_END once tick reaches
// Info().RoundEndTick. In seat order, it counts down each dead player's
// respawn timer (respawning those at 0) and each living player's cooldown and
// invulnerability, then records every player's position at tick for lag
// compensation. After the Step that reports ROUND_END, Over is true and Step
// does nothing.
func (a *Arena) Step(tick uint32, events []game.Event) []game.Event {
	if a.over {
		return events
	}
	a.tick = tick
	if !a.started {
		a.started = true
		if a.roundTicks > 0 {
			a.roundEnd = tick + a.roundTicks
		}
		events = append(events, game.Event{
			Type: arbiterv1.EventType_EVENT_TYPE_ROUND_START, Tick: tick, Value: Round,
		})
	}
	for _, e := range a.pending {
		e.Tick = tick
		events = append(events, e)
	}
	clear(a.pending)
	a.pending = a.pending[:0]

	for i := range a.players {
		p := &a.players[i]
		if !p.present {
			continue
		}
		p.firedShown, p.fired = p.fired, false
		if p.dead {
			if p.respawn > 0 {
				p.respawn--
				continue
			}
			a.spawn(i)
			e := a.spawnEvent(p)
			e.Tick = tick
			events = append(events, e)
			continue
		}
		if p.cooldown > 0 {
			p.cooldown--
		}
		if p.invuln > 0 {
			p.invuln--
		}
	}
	for i := range a.players {
		if p := &a.players[i]; p.present {
			a.record(p)
		}
	}

	if a.roundEnd != 0 && tick >= a.roundEnd {
		a.over = true
		events = append(events, game.Event{
			Type: arbiterv1.EventType_EVENT_TYPE_ROUND_END, Tick: tick, Value: Round,
			Result: a.result(),
		})
	}
	return events
}

// spawn (re)spawns the player in seat s at the safest spawn point, alive,
// at full health, at rest and invulnerable.
func (a *Arena) spawn(s int) {
	p := &a.players[s]
	pt := a.safeSpawn(s)
	p.body = Body{X: pt.X, Y: pt.Y}
	p.health = MaxHealth
	p.dead = false
	p.respawn = 0
	p.cooldown = 0
	p.invuln = a.invulnTicks
}

// spawnEvent returns the (untimed) SPAWN event of p at its position.
func (a *Arena) spawnEvent(p *player) game.Event {
	return game.Event{
		Type: arbiterv1.EventType_EVENT_TYPE_SPAWN, Actor: p.id,
		X: p.body.X, Y: p.body.Y,
	}
}

// safeSpawn returns the spawn point farthest (by squared distance) from
// the nearest living player other than seat s. Ties, such as when nobody else
// is alive, are broken by the arena's random number generator. A map without
// spawn points spawns everyone at its centre.
func (a *Arena) safeSpawn(s int) Point {
	spawns := a.m.Spawns
	if len(spawns) == 0 {
		return Point{a.m.Width / 2, a.m.Height / 2}
	}
	best, n := int64(-1), 0
	for i, sp := range spawns {
		d := int64(1) << 62
		for j := range a.players {
			q := &a.players[j]
			if j == s || !q.present || q.dead {
				continue
			}
			dx, dy := int64(sp.X-q.body.X), int64(sp.Y-q.body.Y)
			d = min(d, dx*dx+dy*dy)
		}
		switch {
		case d > best:
			best, n = d, 0
			a.cand[n] = i
			n++
		case d == best:
			a.cand[n] = i
			n++
		}
	}
	pick := a.cand[0]
	if n > 1 {
		pick = a.cand[a.rand()%uint64(n)]
	}
	return spawns[pick]
}

// rand returns the next number of the arena's splitmix64 generator.
func (a *Arena) rand() uint64 {
	a.rng += 0x9e3779b97f4a7c15
	z := a.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// result returns the standings of the players present: by score, then
// kills (both descending), then deaths (ascending), then seat.
func (a *Arena) result() *game.RoundResult {
	r := &game.RoundResult{Round: Round}
	for i := range a.players {
		p := &a.players[i]
		if !p.present {
			continue
		}
		r.Standings = append(r.Standings, game.Standing{
			Seat: game.Seat(i), EntityID: p.id,
			Kills: p.kills, Deaths: p.deaths, Score: p.score,
		})
	}
	slices.SortFunc(r.Standings, func(x, y game.Standing) int {
		return cmp.Or(
			cmp.Compare(y.Score, x.Score),
			cmp.Compare(y.Kills, x.Kills),
			cmp.Compare(x.Deaths, y.Deaths),
			cmp.Compare(x.Seat, y.Seat),
		)
	})
	for i := range r.Standings {
		r.Standings[i].Rank = uint32(i + 1)
	}
	return r
}

// AppendEntities appends one entity per player, sorted by ID (= seat+1):
// position and velocity, Angle = aim, Health, Flags (FlagDead, FlagFiring,
// FlagInvulnerable), Kills, Deaths, Score, and Timer = the respawn countdown
// while dead or the weapon cooldown while alive (in ticks; at 0 the player
// respawns at the next Step, or may fire with the next input).
func (a *Arena) AppendEntities(dst []game.Entity) []game.Entity {
	for i := range a.players {
		p := &a.players[i]
		if !p.present {
			continue
		}
		var flags uint32
		timer := p.cooldown
		if p.dead {
			flags |= FlagDead
			timer = p.respawn
		}
		if p.firedShown {
			flags |= FlagFiring
		}
		if p.invuln > 0 {
			flags |= FlagInvulnerable
		}
		dst = append(dst, game.Entity{
			ID: p.id, Kind: KindPlayer,
			X: p.body.X, Y: p.body.Y, VX: p.body.VX, VY: p.body.VY,
			Angle: p.aim, Health: p.health, Flags: flags,
			Kills: p.kills, Deaths: p.deaths, Score: p.score, Timer: timer,
		})
	}
	return dst
}

// Info returns the map name and the tick at which the round ends (0 if it
// never does). Before the first Step the round end assumes the first Step is
// for tick 1; the first Step fixes it at its tick plus the round length.
func (a *Arena) Info() game.Info {
	end := a.roundEnd
	if !a.started && a.roundTicks > 0 {
		end = a.tick + 1 + a.roundTicks
	}
	return game.Info{Map: a.m.Name, RoundEndTick: end}
}

// Over reports whether the round has ended.
func (a *Arena) Over() bool { return a.over }

// Body returns the body of the player in seat s, and whether the seat is
// taken.
func (a *Arena) Body(s game.Seat) (Body, bool) {
	p := a.seat(s)
	if p == nil || !p.present {
		return Body{}, false
	}
	return p.body, true
}

// Params returns the movement constants at the arena's tick rate.
func (a *Arena) Params() MoveParams { return a.mp }

// Map returns the arena's map, which the caller must not modify.
func (a *Arena) Map() *Map { return a.m }

// Config returns the arena's configuration, with defaults filled in.
func (a *Arena) Config() Config { return a.cfg }
