package client

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// Defaults used when the corresponding Options field is zero.
const (
	// DefaultClientName is sent as Hello.client when Options.ClientName is empty.
	DefaultClientName = "arbiter-go"
	// DefaultWriteTimeout bounds a write whose context has no deadline.
	DefaultWriteTimeout = 5 * time.Second
	// DefaultReadLimit is the largest server message accepted, in bytes.
	DefaultReadLimit = 1 << 20
	// ProtocolVersion is the protocol version the client speaks (Hello.protocol_version).
	ProtocolVersion = 1
)

// Options configures Dial and Reconnect. The zero value is usable: every
// field has a default, and a nil callback is not called.
//
// Callbacks run on the client's reader goroutine, one at a time, in the order
// the messages arrived, and never while the client's lock is held, so they may
// call the client's non-waiting methods (State, Joined, Send, SendInput, ...).
// They must not block and must not call the methods that wait for a reply
// (WaitMatch, JoinRoom, Ping, WaitTick, ...): the reply could only be read
// by the goroutine that is blocked. Messages passed to a callback belong to
// the client: read them, do not modify them.
type Options struct {
	// Name is the display name asked for in Hello.name.
	Name string
	// SessionToken resumes an earlier session (Hello.session_token).
	// Reconnect sets it from the old client.
	SessionToken string
	// ClientName is sent as Hello.client; empty means DefaultClientName.
	ClientName string
	// Header holds extra HTTP headers for the WebSocket handshake, e.g. Origin.
	Header http.Header
	// HTTPClient performs the handshake; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
	// WriteTimeout bounds every write whose context has no deadline; zero
	// means DefaultWriteTimeout. A write that times out closes the
	// connection (the WebSocket library cannot abandon a half-written frame).
	WriteTimeout time.Duration
	// ReadLimit is the largest server message accepted, in bytes; zero means
	// DefaultReadLimit. A larger message ends the connection (1009).
	ReadLimit int64
	// KeepAlive, when positive, sends a Ping whenever nothing was written
	// for that long, so that the server does not close an idle connection
	// (its idle timeout is 30 s by default). A lobby connection kept open
	// while the game runs on another node's connection needs it.
	KeepAlive time.Duration

	// OnMessage, if set, is called first for every message received after
	// Welcome, before the client processes it. m is reused: it is valid only
	// during the call.
	OnMessage func(m *arbiterv1.ServerMessage)
	// OnSnapshot is called after each snapshot has been applied to the view;
	// v is valid only during the call. It is not called for a snapshot that
	// failed to apply (see State.DesyncErrors).
	OnSnapshot func(v *game.View)
	// OnEvent is called for each event of an applied snapshot, oldest
	// first, after OnSnapshot.
	OnEvent func(ev game.Event)
	// OnAck is called, after OnEvent, once for each input seq sent with
	// SendInput that a snapshot's ack_seq covers for the first time, in seq
	// order. latency is the time from just before the input was written to
	// the arrival of the snapshot that acknowledged it. Seqs whose send time
	// has left the client's ring (more than 256 inputs ago) are skipped.
	OnAck func(seq uint32, latency time.Duration)
	// OnChat is called for each chat line.
	OnChat func(m *arbiterv1.Chat)
	// OnRoster is called for each roster.
	OnRoster func(m *arbiterv1.Roster)
	// OnJoined is called when a seat is confirmed (after JoinRoom, or after a
	// resumed Welcome).
	OnJoined func(m *arbiterv1.Joined)
	// OnRoomClosed is called when the player is no longer in the room.
	OnRoomClosed func(m *arbiterv1.RoomClosed)
	// OnMatchStatus is called for each matchmaking status update.
	OnMatchStatus func(m *arbiterv1.MatchStatus)
	// OnError is called for each Error the server sends after Welcome.
	OnError func(m *arbiterv1.Error)
}

func (o *Options) withDefaults() {
	if o.ClientName == "" {
		o.ClientName = DefaultClientName
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = DefaultReadLimit
	}
}
