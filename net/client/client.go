// Package client is Arbiter's Go client: it speaks the arbiter.v1 protocol
// (docs/PROTOCOL.md) over one WebSocket, keeps a [game.View] of the room in
// step with the snapshots the server sends, and offers the request/reply
// calls (matchmaking, joining, parties, ping) as blocking methods.
//
// Integration tests use it to drive a real server, and the load tester runs
// thousands of them at once, so a client is cheap: one reader goroutine, no
// goroutine per message or per request, reused read and write buffers,
// binary messages only, compression off.
//
// A typical bot:
//
//	c, err := client.Dial(ctx, "ws://localhost:8080/v1/connect", client.Options{Name: "bot"})
//	if err != nil { ... }
//	defer c.Close()
//	if _, err := c.Play(ctx, "arena"); err != nil { ... }
//	if err := c.WaitSynced(ctx); err != nil { ... }
//	for range ticker.C {
//		c.SendInput(ctx, game.Input{MoveX: 127})
//	}
package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// ringSize is how many input send times a client remembers for OnAck.
const ringSize = 256

// maxErrors is how many Error messages a client keeps for Errors.
const maxErrors = 256

// Client is one connection to an Arbiter server, from Hello on.
//
// Goroutines. Dial starts exactly one goroutine, the reader: it reads every
// server message, applies it to the client's state and runs the Options
// callbacks, and it is the only goroutine that ever writes to that state.
// It returns when the connection ends; Done is closed then. Close and Drop
// end the connection and wait for it. The reader never writes to the
// connection (apart from the WebSocket library's own control frames), so a
// slow callback delays reading but cannot deadlock a send.
//
// Every exported method is safe for concurrent use. Writes come from the
// goroutines that call Send, SendInput, Ping and the other request methods;
// the WebSocket connection serializes them, and each has a deadline.
//
// Locks. mu guards everything the reader learns from the server (the view,
// the current room, roster, party, match status, errors, pending pings,
// counters) and the send-side input state (the next seq and the ring of send
// times). Methods that wait for a reply check their condition under mu and
// sleep on notify, a channel the reader closes after each message while a
// waiter exists. Callbacks never run with mu held. Byte and message counters
// are atomics. Messages handed out by accessors (Welcome, Joined, Roster,
// ...) are never modified by the client after it stores them and must not be
// modified by the caller.
type Client struct {
	url   string // as dialled
	conn  *websocket.Conn
	opt   Options
	log   *slog.Logger
	epoch time.Time // monotonic base for input send times

	// welcome is set by Dial before the reader starts and never changes.
	welcome *arbiterv1.Welcome

	// done is closed by the reader goroutine when it returns.
	done chan struct{}

	bytesIn, bytesOut, msgsIn, msgsOut atomic.Uint64
	lastWrite                          atomic.Int64 // Unix ns of the last write

	// Owned by the reader goroutine (by Dial before it starts).
	rbuf bytes.Buffer
	msg  arbiterv1.ServerMessage
	acks []ackedInput

	mu sync.Mutex

	// notify, guarded by mu, is closed and cleared by the reader after each
	// message when non-nil; a waiter creates it.
	notify chan struct{}

	// Connection end, guarded by mu.
	ended       bool
	endErr      error
	closeStatus websocket.StatusCode

	// The room, guarded by mu; written by the reader only.
	view        *game.View
	viewBroken  bool // the last snapshot failed to apply
	desyncs     int
	lastDesync  error
	snapshots   uint64
	firstSnap   time.Time
	lastSnap    time.Time
	gapFrom     time.Time // last snapshot in the current room, zero after Joined
	maxGap      time.Duration
	eventCounts map[arbiterv1.EventType]uint64
	round       uint32
	roundResult *game.RoundResult
	joined      *arbiterv1.Joined // current room, nil outside one
	lastJoined  *arbiterv1.Joined
	joinedN     uint64
	roster      *arbiterv1.Roster
	roomClosed  *arbiterv1.RoomClosed // since the last Joined

	// Matchmaking and parties, guarded by mu.
	matchStatus *arbiterv1.MatchStatus
	matchFound  *arbiterv1.MatchFound
	matchFoundN uint64
	matchEnd    *arbiterv1.MatchStatus // last terminal status
	matchEndN   uint64
	matchBase   matchMarks // counters when the open FindMatch was sent
	party       *arbiterv1.PartyState
	lastParty   *arbiterv1.PartyState
	partyN      uint64

	// Other replies and counters, guarded by mu.
	errs           []*arbiterv1.Error // the last maxErrors
	errN           uint64             // errors ever received
	errTaken       uint64             // errors before this one are no request's answer any more
	pings          map[uint32]*pongSlot
	pingID         uint32
	rtt            time.Duration
	chats          uint64
	protocolErrors uint64

	// Send-side input state, guarded by mu.
	seq        uint32 // highest seq sent since the last Joined
	acked      uint32 // highest seq acknowledged since the last Joined
	inputsSent uint64
	inputsAckd uint64
	sent       [ringSize]sentInput
	inMsg      arbiterv1.ClientMessage // reused for inputs
	inInput    arbiterv1.Input
}

// sentInput is one entry of the send-time ring; seq 0 marks an empty slot.
type sentInput struct {
	seq uint32
	at  time.Duration // since epoch
}

// ackedInput is an input acknowledged by the snapshot being processed.
type ackedInput struct {
	seq     uint32
	latency time.Duration
}

// matchMarks are message counters at the moment a FindMatch was sent.
type matchMarks struct{ found, end, err uint64 }

// pongSlot receives the Pong for one Ping.
type pongSlot struct {
	ok   bool
	pong *arbiterv1.Pong
	at   time.Time
}

// Dial opens a WebSocket to url (ws://, wss://, or http(s):// meaning the
// same), sends Hello{protocol_version: 1, name, session_token, client},
// waits for Welcome and starts the reader goroutine. ctx bounds all of
// that; it does not bound the connection's life.
//
// An Error from the server before Welcome is returned as a *ServerError,
// except SESSION_EXPIRED, after which the server issues a new identity: Dial
// then waits on for the Welcome (the error is kept in Errors).
//
// When Welcome.resumed is true and the player still had a seat, the server
// follows with Joined, Roster and a full snapshot, which the reader applies
// as they come: use WaitSynced to wait for them.
func Dial(ctx context.Context, url string, opt Options) (*Client, error) {
	opt.withDefaults()
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPClient:      opt.HTTPClient,
		HTTPHeader:      opt.Header,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", url, err)
	}
	conn.SetReadLimit(opt.ReadLimit)
	c := &Client{
		url:         url,
		conn:        conn,
		opt:         opt,
		log:         opt.Logger,
		epoch:       time.Now(),
		done:        make(chan struct{}),
		closeStatus: -1,
		view:        game.NewView(),
	}
	c.inMsg.Msg = &arbiterv1.ClientMessage_Input{Input: &c.inInput}
	if err := c.handshake(ctx); err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	c.log = c.log.With("player", c.welcome.GetPlayerId())
	c.log.Debug("client connected", "url", url, "resumed", c.welcome.GetResumed())
	go c.readLoop()
	if opt.KeepAlive > 0 {
		go c.keepAlive(opt.KeepAlive)
	}
	return c, nil
}

// keepAlive is the goroutine of Options.KeepAlive: it pings when nothing
// was written for every, and ends with the connection.
func (c *Client) keepAlive(every time.Duration) {
	t := time.NewTicker(every / 2)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		if time.Since(time.Unix(0, c.lastWrite.Load())) < every {
			continue
		}
		_ = c.Send(context.Background(), &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Ping{Ping: &arbiterv1.Ping{
			ClientTimeUs: uint64(time.Now().UnixMicro()),
		}}})
	}
}

// URL is the address the client dialled.
func (c *Client) URL() string { return c.url }

// handshake sends Hello and reads until Welcome. It runs before the reader
// goroutine exists.
func (c *Client) handshake(ctx context.Context) error {
	hello := &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Hello{Hello: &arbiterv1.Hello{
		ProtocolVersion: ProtocolVersion,
		SessionToken:    c.opt.SessionToken,
		Name:            c.opt.Name,
		Client:          c.opt.ClientName,
	}}}
	if err := c.Send(ctx, hello); err != nil {
		return fmt.Errorf("client: send Hello: %w", err)
	}
	for {
		typ, b, err := c.readMessage(ctx)
		if err != nil {
			return fmt.Errorf("client: waiting for Welcome: %w", err)
		}
		if typ != websocket.MessageBinary {
			return fmt.Errorf("client: waiting for Welcome: got a %v message", typ)
		}
		if err := proto.Unmarshal(b, &c.msg); err != nil {
			return fmt.Errorf("client: waiting for Welcome: decode: %w", err)
		}
		switch m := c.msg.Msg.(type) {
		case *arbiterv1.ServerMessage_Welcome:
			c.welcome = m.Welcome
			return nil
		case *arbiterv1.ServerMessage_Error:
			c.mu.Lock()
			c.addErrorLocked(m.Error)
			c.mu.Unlock()
			if m.Error.GetCode() == arbiterv1.ErrorCode_ERROR_CODE_SESSION_EXPIRED {
				continue
			}
			return newServerError(m.Error)
		default:
			c.log.Warn("client: message before Welcome ignored", "type", fmt.Sprintf("%T", m))
		}
	}
}

// Reconnect dials url again with old's session token, as a client that lost
// its connection would. If old's connection is still open it is dropped
// first (see Drop). opt.SessionToken is replaced by old.SessionToken(), and
// an empty opt.Name by the name old was welcomed with; nothing else is taken
// from old (pass the callbacks again).
//
// When the server resumes the session (Welcome().GetResumed()) and the seat
// is still held, the new client receives Joined, Roster and a full snapshot:
// Joined becomes non-nil and the view is re-synced (see WaitSynced). Input
// seqs start again at 1.
func Reconnect(ctx context.Context, url string, old *Client, opt Options) (*Client, error) {
	old.Drop()
	opt.SessionToken = old.SessionToken()
	if opt.Name == "" {
		opt.Name = old.Welcome().GetName()
	}
	return Dial(ctx, url, opt)
}

// Welcome is the server's answer to Hello.
func (c *Client) Welcome() *arbiterv1.Welcome { return c.welcome }

// PlayerID is the player's identity, from Welcome.
func (c *Client) PlayerID() string { return c.welcome.GetPlayerId() }

// SessionToken is the token that resumes this session, from Welcome.
func (c *Client) SessionToken() string { return c.welcome.GetSessionToken() }

// Done is closed when the connection has ended and the reader goroutine has
// returned.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is the reason the connection ended (nil while it is open). It wraps
// the WebSocket library's error, so websocket.CloseStatus works on it.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endErr
}

// CloseStatus is the WebSocket close status the connection ended with: the
// status the server sent, or the one it echoed after Close. It is -1 while
// the connection is open and when it ended without a close frame (Drop, a
// lost connection).
func (c *Client) CloseStatus() websocket.StatusCode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeStatus
}

// Close performs the WebSocket close handshake with status 1000 (normal
// closure) and waits for the reader goroutine to return. It waits at most
// about 10 s for an unresponsive server (the library's close timeouts). It is
// safe to call more than once and after the connection has ended.
func (c *Client) Close() error {
	err := c.conn.Close(websocket.StatusNormalClosure, "")
	<-c.done
	if err == nil {
		// The handshake completed, but the library may have consumed the
		// server's close frame itself rather than hand it to the reader.
		c.mu.Lock()
		if c.closeStatus == -1 {
			c.closeStatus = websocket.StatusNormalClosure
		}
		c.mu.Unlock()
		return nil
	}
	if errors.Is(err, net.ErrClosed) || websocket.CloseStatus(err) != -1 {
		return nil // the connection had already ended
	}
	return fmt.Errorf("client: close: %w", err)
}

// Drop closes the TCP connection at once without a close handshake, as a
// lost connection would, and waits for the reader goroutine to return. The
// server keeps the player's seat for its rejoin grace period.
func (c *Client) Drop() {
	_ = c.conn.CloseNow()
	<-c.done
}

// Errors returns the Error messages received, oldest first (a copy; the
// client keeps the last 256; State().ErrorsReceived counts all of them).
func (c *Client) Errors() []*arbiterv1.Error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*arbiterv1.Error(nil), c.errs...)
}

// Joined is the room the player is seated in, nil outside a room. It is set
// by each Joined message (after JoinRoom, or after a resumed Welcome) and
// cleared by RoomClosed.
func (c *Client) Joined() *arbiterv1.Joined {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.joined
}

// Roster is the last roster received, nil before the first one after Joined.
func (c *Client) Roster() *arbiterv1.Roster {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.roster
}

// LastMatchStatus is the last MatchStatus received, nil before any.
func (c *Client) LastMatchStatus() *arbiterv1.MatchStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.matchStatus
}

// Party is the player's party, nil when not in one.
func (c *Client) Party() *arbiterv1.PartyState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.party
}

// ReadView calls fn with the client's view of the room, under the client's
// lock, so the reader goroutine cannot change it meanwhile. fn must be quick
// and must not keep v or call the client. Unlike State, it copies nothing.
func (c *Client) ReadView(fn func(v *game.View)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(c.view)
}
