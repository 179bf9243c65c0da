package game

import (
	"sync/atomic"

	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// Member is one connection's hold on a seat, returned by Room.Join. A
// rejoin gives a new Member for the same seat and ends the old one. Its
// methods are safe for concurrent use; Submit never blocks.
type Member struct {
	room   *Room
	seat   Seat
	player string
	inbox  chan Input    // bounded; drained by the room goroutine each tick
	gone   chan struct{} // closed by the room goroutine when the hold ends
	reason atomic.Int32  // arbiterv1.RoomCloseReason, set before gone closes
}

// Seat is the member's seat.
func (m *Member) Seat() Seat { return m.seat }

// PlayerID is the player holding the seat.
func (m *Member) PlayerID() string { return m.player }

// Room is the member's room.
func (m *Member) Room() *Room { return m.room }

// Submit hands one input to the room for the next tick without blocking. It
// reports false, and counts the drop, when the input cannot be queued (the
// mailbox is full or the member has lost its seat).
func (m *Member) Submit(in Input) bool {
	select {
	case <-m.gone:
		m.room.drop(DropNotSeated)
		return false
	default:
	}
	select {
	case m.inbox <- in:
		return true
	default:
		m.room.drop(DropInboxFull)
		return false
	}
}

// Leave gives up the seat at once. It returns without waiting for the room.
func (m *Member) Leave() { m.room.send(request{kind: reqLeave, member: m}) }

// Disconnect reports that the member's connection is gone: the seat is kept
// for the room's rejoin grace period, then freed.
func (m *Member) Disconnect() { m.room.send(request{kind: reqDisconnect, member: m}) }

// Gone is closed when this member no longer holds the seat: it left, its
// grace ran out, a rejoin replaced it, or the room ended.
func (m *Member) Gone() <-chan struct{} { return m.gone }

// Reason says why Gone closed (LEFT for a leave, an expired grace or a
// replacement; otherwise the room's close reason).
func (m *Member) Reason() arbiterv1.RoomCloseReason {
	return arbiterv1.RoomCloseReason(m.reason.Load())
}

// end is called by the room goroutine only.
func (m *Member) end(reason arbiterv1.RoomCloseReason) {
	select {
	case <-m.gone:
		return
	default:
	}
	m.reason.Store(int32(reason))
	close(m.gone)
}
