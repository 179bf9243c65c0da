package matchmaking

import (
	"context"
	"errors"
)

// ErrNoCapacity is returned by Allocator.Allocate when no further room can
// be opened now. The matchmaker keeps the tickets queued and tries again at
// its next pass.
var ErrNoCapacity = errors.New("matchmaking: no capacity for another room")

// Allocator opens rooms for the matchmaker and lists the running ones.
// Implementations must be safe for concurrent use; the matchmaker calls them
// from its own goroutine without holding any of its locks.
type Allocator interface {
	// Allocate opens a new, empty room for mode. It returns an error that
	// matches ErrNoCapacity (errors.Is) when the server cannot take
	// another room now.
	Allocate(ctx context.Context, mode Mode) (Room, error)
	// Rooms returns the running rooms of a mode that accept new players
	// (for backfill).
	Rooms(mode string) []Room
}

// Room is a room as the matchmaker sees it. Methods are safe for concurrent
// use.
type Room interface {
	ID() string
	Mode() string
	// FreeSeats is the number of seats neither occupied nor reserved.
	FreeSeats() int
	// Reserve atomically reserves a seat for each of these players, or for
	// none of them (false: not enough free seats). A reservation lasts
	// until the player appears in the room's roster or the allocator's
	// ReserveTTL passes.
	Reserve(playerIDs []string) bool
}
