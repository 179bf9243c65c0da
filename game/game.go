// Package game is Arbiter's room runtime: it runs any game that implements
// [Game] on a fixed-rate tick loop owned by one goroutine, feeds it player
// inputs through bounded per-seat mailboxes, seats, unseats and reseats
// players, and after every snapshot tick publishes an immutable [Frame] that
// network writers encode, concurrently and per viewer, into full or delta
// snapshots.
//
// A game plugs in by implementing [Game]. The runtime calls it only from the
// room goroutine, so a game keeps plain typed state with no locks:
//
//	type Tag struct{ players map[game.Seat]*player; tick uint32 }
//
//	func (t *Tag) Join(s game.Seat) uint32             { t.players[s] = newPlayer(s); return uint32(s) + 1 }
//	func (t *Tag) Leave(s game.Seat)                   { delete(t.players, s) }
//	func (t *Tag) Apply(s game.Seat, in game.Input)    { t.players[s].move(in) }
//	func (t *Tag) Step(tick uint32, ev []game.Event) []game.Event { t.tick = tick; return t.tagWhoTouches(ev) }
//	func (t *Tag) AppendEntities(dst []game.Entity) []game.Entity { return t.appendSortedByID(dst) }
//	func (t *Tag) Info() game.Info                     { return game.Info{Map: "tag/field"} }
//	func (t *Tag) Over() bool                          { return false }
//
// The bundled arena shooter (package arena) is the full example.
package game

import arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"

// Seat is a player's place in a room, from 0 to MaxPlayers-1. A player who
// rejoins within the grace period gets the same seat back.
type Seat int

// Input is one validated, quantized player input (see arbiter.v1.Input for
// the meaning of each field). The network edge has checked every range before
// an Input reaches a room.
type Input struct {
	Seq     uint32
	Tick    uint32
	Buttons uint32
	// MoveX and MoveY are in [-MoveMax, MoveMax].
	MoveX, MoveY int32
	// Aim is in 1/65536 turn, [0, 65535].
	Aim uint32
	// RenderTime is in 1/256 tick.
	RenderTime uint32
}

// MoveMax is the largest magnitude of Input.MoveX and Input.MoveY.
const MoveMax = 127

// Entity is the replicated state of one object at one tick. Every field is a
// quantized integer in the units documented in arbiter.v1.Snapshot; a game
// leaves unused fields zero.
type Entity struct {
	ID    uint32
	Kind  uint32
	X, Y  int32
	VX    int32
	VY    int32
	Angle int32
	// Health, Kills, Deaths, Score and Timer are game-defined counters.
	Health int32
	Flags  uint32
	Kills  int32
	Deaths int32
	Score  int32
	Timer  int32
}

// Event is something that happened during a tick, replicated with the
// snapshot of that tick (see arbiter.v1.Event).
type Event struct {
	Type          arbiterv1.EventType
	Tick          uint32
	Actor, Target uint32
	X, Y, X2, Y2  int32
	Value         int32
	// Result is set on EVENT_TYPE_ROUND_END only.
	Result *RoundResult
}

// RoundResult is the outcome of a round, best first.
type RoundResult struct {
	Round     uint32
	Standings []Standing
}

// Standing is one player's line in a RoundResult.
type Standing struct {
	Seat                 Seat
	EntityID             uint32
	Kills, Deaths, Score int32
	Rank                 uint32
}

// Info describes a running game to joining players.
type Info struct {
	// Map names the map, e.g. "arena/yard".
	Map string
	// RoundEndTick is the tick at which the round ends; 0 means no limit.
	RoundEndTick uint32
}

// Game is a simulation the runtime can host. All methods are called from the
// room goroutine only, in this order per tick: Join and Leave for seat
// changes, Apply for each accepted input (per seat in seq order), then Step
// once, then AppendEntities when the tick publishes a frame. A game must be
// deterministic given that sequence of calls, and must not block or start
// goroutines. A panic ends the room, not the process.
type Game interface {
	// Join puts a player into seat s and returns the ID of the entity the
	// player controls (0 if none). The seat is free in the game's eyes.
	Join(s Seat) (entityID uint32)
	// Leave takes the player in seat s out of the world.
	Leave(s Seat)
	// Apply applies one input of the player in seat s for the coming tick.
	Apply(s Seat, in Input)
	// Step advances the world to tick and appends what happened to events.
	Step(tick uint32, events []Event) []Event
	// AppendEntities appends every entity, sorted by ascending ID.
	AppendEntities(dst []Entity) []Entity
	// Info describes the game for players joining now.
	Info() Info
	// Over reports that the game has finished (after the Step that appended
	// its ROUND_END event); the room then ends.
	Over() bool
}
