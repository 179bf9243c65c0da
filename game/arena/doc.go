// Package arena is Arbiter's bundled game: a top-down 2D shooter in which
// every player moves, aims and fires a hitscan weapon, takes damage, dies,
// respawns after a delay at the safest spawn point, and scores one point per
// kill until the round timer runs out.
//
// The simulation is pure and deterministic: it does no I/O, starts no
// goroutines, reads no clock and keeps no mutable global state, so the same
// sequence of calls on an [Arena] produces the same state bit for bit (see
// [Arena.Hash]). An Arena is not safe for concurrent use; the room runtime
// calls it from one goroutine, as [game.Game] requires.
//
// Units follow arbiter.v1.Snapshot: positions in 1/[Scale] world unit,
// velocities in 1/[Scale] world unit per tick, angles in 1/65536 turn.
// Movement ([Move]) is integer-only so that the browser client can reproduce
// it exactly for prediction; testdata/movement_golden.json holds vectors that
// pin the rules down for the TypeScript port.
package arena
