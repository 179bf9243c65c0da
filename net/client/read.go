package client

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// maxKeptReadBuffer is the largest read buffer kept between messages; a
// larger one (after an unusually big message) is released.
const maxKeptReadBuffer = 64 << 10

// readMessage reads one whole message into the reused read buffer. The
// returned bytes are valid until the next call.
func (c *Client) readMessage(ctx context.Context) (websocket.MessageType, []byte, error) {
	typ, r, err := c.conn.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	if c.rbuf.Cap() > maxKeptReadBuffer {
		c.rbuf = bytes.Buffer{}
	}
	c.rbuf.Reset()
	if _, err := c.rbuf.ReadFrom(r); err != nil {
		return 0, nil, err
	}
	c.msgsIn.Add(1)
	c.bytesIn.Add(uint64(c.rbuf.Len()))
	return typ, c.rbuf.Bytes(), nil
}

// readLoop is the reader goroutine: it reads and dispatches messages until
// the connection ends. It reads with a context that is never done, so no
// timer is armed per read; Close and Drop end it by closing the connection.
func (c *Client) readLoop() {
	defer close(c.done)
	ctx := context.Background()
	for {
		typ, b, err := c.readMessage(ctx)
		if err != nil {
			c.end(err)
			return
		}
		if typ != websocket.MessageBinary {
			c.protocolError("text message from server", nil)
			continue
		}
		// Unmarshal resets the reused envelope, leaving the messages it held
		// before untouched (the client may have stored them).
		if err := proto.Unmarshal(b, &c.msg); err != nil {
			c.protocolError("undecodable message from server", err)
			continue
		}
		c.dispatch(&c.msg)
	}
}

// end records why the connection ended and wakes every waiter.
func (c *Client) end(err error) {
	// The library closes the connection on most read errors, not all (a
	// plain EOF); make sure its resources are released.
	_ = c.conn.CloseNow()
	c.mu.Lock()
	c.ended = true
	c.endErr = err
	c.closeStatus = websocket.CloseStatus(err)
	c.notifyLocked()
	c.mu.Unlock()
	c.log.Debug("client connection ended", "status", int(websocket.CloseStatus(err)), "err", err)
}

func (c *Client) protocolError(what string, err error) {
	c.mu.Lock()
	c.protocolErrors++
	c.mu.Unlock()
	c.log.Warn("client: "+what, "err", err)
}

// notifyLocked wakes the goroutines waiting for a change. c.mu must be held.
func (c *Client) notifyLocked() {
	if c.notify != nil {
		close(c.notify)
		c.notify = nil
	}
}

// dispatch applies one server message and runs its callbacks.
func (c *Client) dispatch(m *arbiterv1.ServerMessage) {
	if c.opt.OnMessage != nil {
		c.opt.OnMessage(m)
	}
	switch x := m.Msg.(type) {
	case *arbiterv1.ServerMessage_Snapshot:
		c.onSnapshot(x.Snapshot)

	case *arbiterv1.ServerMessage_Pong:
		now := time.Now()
		c.mu.Lock()
		if s := c.pings[x.Pong.GetId()]; s != nil && !s.ok {
			s.ok, s.pong, s.at = true, x.Pong, now
		}
		c.notifyLocked()
		c.mu.Unlock()

	case *arbiterv1.ServerMessage_MatchStatus:
		st := x.MatchStatus
		c.mu.Lock()
		c.matchStatus = st
		switch st.GetState() {
		case arbiterv1.MatchState_MATCH_STATE_CANCELLED, arbiterv1.MatchState_MATCH_STATE_TIMED_OUT, arbiterv1.MatchState_MATCH_STATE_FAILED:
			c.matchEnd = st
			c.matchEndN++
		}
		c.notifyLocked()
		c.mu.Unlock()
		if c.opt.OnMatchStatus != nil {
			c.opt.OnMatchStatus(st)
		}

	case *arbiterv1.ServerMessage_MatchFound:
		c.mu.Lock()
		c.matchFound = x.MatchFound
		c.matchFoundN++
		c.notifyLocked()
		c.mu.Unlock()

	case *arbiterv1.ServerMessage_Party:
		c.mu.Lock()
		c.lastParty = x.Party
		if x.Party.GetCode() == "" {
			c.party = nil
		} else {
			c.party = x.Party
		}
		c.partyN++
		c.notifyLocked()
		c.mu.Unlock()

	case *arbiterv1.ServerMessage_Joined:
		j := x.Joined
		c.mu.Lock()
		c.joined = j
		c.lastJoined = j
		c.joinedN++
		c.roster = nil
		c.roomClosed = nil
		c.view = game.NewView()
		c.viewBroken = false
		c.gapFrom = time.Time{}
		c.seq, c.acked = 0, 0
		clear(c.sent[:])
		c.notifyLocked()
		c.mu.Unlock()
		c.log.Debug("client joined", "room", j.GetRoomId(), "seat", j.GetSeat(), "tick", j.GetTick())
		if c.opt.OnJoined != nil {
			c.opt.OnJoined(j)
		}

	case *arbiterv1.ServerMessage_Roster:
		c.mu.Lock()
		c.roster = x.Roster
		c.notifyLocked()
		c.mu.Unlock()
		if c.opt.OnRoster != nil {
			c.opt.OnRoster(x.Roster)
		}

	case *arbiterv1.ServerMessage_RoomClosed:
		rc := x.RoomClosed
		c.mu.Lock()
		c.joined = nil
		c.roomClosed = rc
		c.notifyLocked()
		c.mu.Unlock()
		c.log.Debug("client room closed", "room", rc.GetRoomId(), "reason", rc.GetReason())
		if c.opt.OnRoomClosed != nil {
			c.opt.OnRoomClosed(rc)
		}

	case *arbiterv1.ServerMessage_Chat:
		c.mu.Lock()
		c.chats++
		c.mu.Unlock()
		if c.opt.OnChat != nil {
			c.opt.OnChat(x.Chat)
		}

	case *arbiterv1.ServerMessage_Error:
		c.mu.Lock()
		c.addErrorLocked(x.Error)
		c.notifyLocked()
		c.mu.Unlock()
		c.log.Debug("client got server error", "code", x.Error.GetCode(), "message", x.Error.GetMessage())
		if c.opt.OnError != nil {
			c.opt.OnError(x.Error)
		}

	case *arbiterv1.ServerMessage_Welcome:
		c.protocolError("second Welcome from server", nil)

	default:
		c.protocolError("server message with no known field set", nil)
	}
}

// addErrorLocked records an Error message. c.mu must be held.
func (c *Client) addErrorLocked(e *arbiterv1.Error) {
	if len(c.errs) == maxErrors {
		copy(c.errs, c.errs[1:])
		c.errs = c.errs[:maxErrors-1]
	}
	c.errs = append(c.errs, e)
	c.errN++
}

// onSnapshot applies a snapshot to the view, measures the input acks it
// carries and runs the snapshot, event and ack callbacks.
func (c *Client) onSnapshot(s *arbiterv1.Snapshot) {
	now := time.Now()
	c.mu.Lock()
	err := c.view.Apply(s)
	c.snapshots++
	if c.firstSnap.IsZero() {
		c.firstSnap = now
	}
	c.lastSnap = now
	if !c.gapFrom.IsZero() {
		if gap := now.Sub(c.gapFrom); gap > c.maxGap {
			c.maxGap = gap
		}
	}
	c.gapFrom = now
	acks := c.acks[:0]
	wasBroken := c.viewBroken
	if err != nil {
		c.desyncs++
		c.lastDesync = err
		c.viewBroken = true
	} else {
		c.viewBroken = false
		for _, ev := range c.view.Events() {
			if c.eventCounts == nil {
				c.eventCounts = make(map[arbiterv1.EventType]uint64)
			}
			c.eventCounts[ev.Type]++
			switch ev.Type {
			case arbiterv1.EventType_EVENT_TYPE_ROUND_START:
				c.round = uint32(ev.Value)
			case arbiterv1.EventType_EVENT_TYPE_ROUND_END:
				c.roundResult = ev.Result
			}
		}
		acks = c.ackLocked(c.view.AckSeq(), now.Sub(c.epoch), acks)
	}
	c.acks = acks
	v := c.view
	c.mu.Unlock()
	// Waiters wake after the callbacks for this snapshot have run, so a
	// WaitTick that returns has seen its tick's OnAck and OnEvent calls.
	defer func() {
		c.mu.Lock()
		c.notifyLocked()
		c.mu.Unlock()
	}()

	if err != nil {
		if !wasBroken {
			c.log.Warn("client view out of sync; reconnect to recover", "tick", s.GetTick(), "err", err)
		}
		return
	}
	if c.opt.OnSnapshot != nil {
		c.opt.OnSnapshot(v)
	}
	if c.opt.OnEvent != nil {
		for _, ev := range v.Events() {
			c.opt.OnEvent(ev)
		}
	}
	if c.opt.OnAck != nil {
		for _, a := range acks {
			c.opt.OnAck(a.seq, a.latency)
		}
	}
}

// ackLocked advances the acknowledged seq to ack and appends to dst the
// newly acknowledged inputs whose send time is still in the ring. c.mu must
// be held.
func (c *Client) ackLocked(ack uint32, now time.Duration, dst []ackedInput) []ackedInput {
	if ack < c.acked {
		// The server's count restarted (a rejoin the client has not seen a
		// Joined for yet): follow it without measuring anything.
		c.acked = ack
		return dst
	}
	// Never measure seqs this client did not send (after a resume, the
	// first snapshots may still carry the previous connection's ack).
	ack = min(ack, c.seq)
	if ack <= c.acked {
		return dst
	}
	from := c.acked + 1
	if ack-c.acked > ringSize {
		from = ack - ringSize + 1
	}
	for seq := from; seq <= ack && seq != 0; seq++ {
		e := &c.sent[seq%ringSize]
		if e.seq != seq {
			continue
		}
		c.inputsAckd++
		dst = append(dst, ackedInput{seq: seq, latency: now - e.at})
		*e = sentInput{}
	}
	c.acked = ack
	return dst
}

// String describes the client for logs and test failures.
func (c *Client) String() string {
	return fmt.Sprintf("client(%s)", c.PlayerID())
}
