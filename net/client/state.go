package client

import (
	"maps"
	"time"

	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// State is a copy of what a client knows, taken at one moment by
// Client.State. Message pointers are shared with the client and must not be
// modified.
type State struct {
	// Joined is the current room, nil outside a room.
	Joined *arbiterv1.Joined
	// Roster is the last roster received in the current (or last) room.
	Roster *arbiterv1.Roster
	// RoomClosed is the RoomClosed received since the last Joined, if any.
	RoomClosed *arbiterv1.RoomClosed

	// Tick and AckSeq are those of the last snapshot applied.
	Tick   uint32
	AckSeq uint32
	// Synced is true when the view holds a full snapshot and every delta
	// since applied cleanly.
	Synced bool
	// Entities is the view's world, sorted by ID (a new slice).
	Entities []game.Entity

	// SnapshotsReceived counts every snapshot since Dial, applied or not.
	SnapshotsReceived uint64
	// FirstSnapshotAt and LastSnapshotAt are the arrival times of the first
	// and the latest snapshot since Dial: with SnapshotsReceived they give
	// the snapshot rate.
	FirstSnapshotAt, LastSnapshotAt time.Time
	// MaxSnapshotGap is the longest time between two consecutive snapshots
	// of the same room.
	MaxSnapshotGap time.Duration
	// DesyncErrors counts snapshots that failed to apply to the view;
	// LastDesyncError is the latest such failure. Once a delta fails, every
	// later delta fails too, until a full snapshot (Reconnect).
	DesyncErrors    int
	LastDesyncError error

	// EventCounts counts the events of applied snapshots by type.
	EventCounts map[arbiterv1.EventType]uint64
	// Round is the value of the last ROUND_START event.
	Round uint32
	// RoundResult is the result of the last ROUND_END event, nil before one.
	RoundResult *game.RoundResult

	// LastSeq is the highest input seq sent since the last Joined.
	LastSeq uint32
	// InputsSent counts SendInput calls since Dial; InputsAcked counts the
	// acknowledgements measured for OnAck.
	InputsSent, InputsAcked uint64
	// RTT is the round-trip time of the last Ping answered.
	RTT time.Duration

	// ErrorsReceived counts Error messages; ChatsReceived chat lines.
	ErrorsReceived, ChatsReceived uint64
	// ProtocolErrors counts server messages the client could not use (text
	// messages, undecodable bytes, an empty envelope, a second Welcome).
	ProtocolErrors uint64
	// BytesIn and BytesOut count message payload bytes (WebSocket framing
	// not included); MessagesIn and MessagesOut count messages.
	BytesIn, BytesOut, MessagesIn, MessagesOut uint64
}

// State returns a copy of the client's state. It allocates (the entities,
// the event counts); a bot that polls often should use the callbacks or
// ReadView instead.
func (c *Client) State() State {
	c.mu.Lock()
	s := State{
		Joined:            c.joined,
		Roster:            c.roster,
		RoomClosed:        c.roomClosed,
		Tick:              c.view.Tick(),
		AckSeq:            c.view.AckSeq(),
		Synced:            c.view.Synced(),
		Entities:          c.view.Entities(),
		SnapshotsReceived: c.snapshots,
		FirstSnapshotAt:   c.firstSnap,
		LastSnapshotAt:    c.lastSnap,
		MaxSnapshotGap:    c.maxGap,
		DesyncErrors:      c.desyncs,
		LastDesyncError:   c.lastDesync,
		EventCounts:       maps.Clone(c.eventCounts),
		Round:             c.round,
		RoundResult:       c.roundResult,
		LastSeq:           c.seq,
		InputsSent:        c.inputsSent,
		InputsAcked:       c.inputsAckd,
		RTT:               c.rtt,
		ErrorsReceived:    c.errN,
		ChatsReceived:     c.chats,
		ProtocolErrors:    c.protocolErrors,
	}
	c.mu.Unlock()
	s.BytesIn, s.BytesOut = c.bytesIn.Load(), c.bytesOut.Load()
	s.MessagesIn, s.MessagesOut = c.msgsIn.Load(), c.msgsOut.Load()
	return s
}
