package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// bufPool holds marshal buffers shared by all clients; a client holds one
// only for the length of a write.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledBuffer is the largest marshal buffer returned to the pool.
const maxPooledBuffer = 16 << 10

func putBuf(bp *[]byte, b []byte) {
	if cap(b) > maxPooledBuffer {
		return
	}
	*bp = b[:0]
	bufPool.Put(bp)
}

// Send marshals m and writes it as one binary message. It is the raw form of
// every other sending method, for tests; it does not touch the client's
// input seq state (use SendInput for inputs). If ctx has no deadline the
// write gets Options.WriteTimeout. A write that fails or times out ends the
// connection.
func (c *Client) Send(ctx context.Context, m *arbiterv1.ClientMessage) error {
	bp := bufPool.Get().(*[]byte)
	b, err := proto.MarshalOptions{}.MarshalAppend((*bp)[:0], m)
	if err != nil {
		putBuf(bp, b)
		return fmt.Errorf("client: marshal: %w", err)
	}
	err = c.write(ctx, websocket.MessageBinary, b)
	putBuf(bp, b)
	return err
}

// SendRaw writes b as one message of type typ, unchecked: for tests of how
// the server treats broken clients (text messages, garbage, oversize).
func (c *Client) SendRaw(ctx context.Context, typ websocket.MessageType, b []byte) error {
	return c.write(ctx, typ, b)
}

// write writes one message with a deadline and counts it.
func (c *Client) write(ctx context.Context, typ websocket.MessageType, b []byte) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opt.WriteTimeout)
		defer cancel()
	}
	if err := c.conn.Write(ctx, typ, b); err != nil {
		if errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("%w: write: %w", ErrClosed, err)
		}
		return fmt.Errorf("client: write: %w", err)
	}
	c.msgsOut.Add(1)
	c.bytesOut.Add(uint64(len(b)))
	c.lastWrite.Store(time.Now().UnixNano())
	return nil
}

// SendInput sends one Input. If in.Seq is 0 it gets the next seq (1 after
// each Joined, then one more per input); a nonzero in.Seq is sent as given
// and later automatic seqs continue after it. The send time is recorded
// under the seq so that OnAck can report the ack latency. It returns the seq
// sent. The client does not range-check in: out-of-range values are for the
// server to refuse.
func (c *Client) SendInput(ctx context.Context, in game.Input) (seq uint32, err error) {
	bp := bufPool.Get().(*[]byte)
	c.mu.Lock()
	if in.Seq == 0 {
		in.Seq = c.seq + 1
	}
	c.seq = max(c.seq, in.Seq)
	c.inputsSent++
	c.sent[in.Seq%ringSize] = sentInput{seq: in.Seq, at: time.Since(c.epoch)}
	p := &c.inInput
	p.Seq, p.Tick, p.Buttons = in.Seq, in.Tick, in.Buttons
	p.MoveX, p.MoveY, p.Aim, p.RenderTime = in.MoveX, in.MoveY, in.Aim, in.RenderTime
	b, err := proto.MarshalOptions{}.MarshalAppend((*bp)[:0], &c.inMsg)
	c.mu.Unlock()
	if err != nil {
		putBuf(bp, b)
		return in.Seq, fmt.Errorf("client: marshal input: %w", err)
	}
	err = c.write(ctx, websocket.MessageBinary, b)
	putBuf(bp, b)
	return in.Seq, err
}

// FindMatch queues the player (a party leader: the whole party) for mode.
// WaitMatch waits for the outcome; Play does both and joins.
func (c *Client) FindMatch(ctx context.Context, mode string) error {
	c.mu.Lock()
	c.matchBase = c.matchMarksLocked()
	c.mu.Unlock()
	return c.Send(ctx, &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_FindMatch{FindMatch: &arbiterv1.FindMatch{Mode: mode}}})
}

// CancelMatch leaves the matchmaking queue; the server confirms with
// MatchStatus CANCELLED, which a pending WaitMatch returns as a *MatchError.
func (c *Client) CancelMatch(ctx context.Context) error {
	return c.Send(ctx, &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_CancelMatch{CancelMatch: &arbiterv1.CancelMatch{}}})
}

// LeaveRoom gives the seat up at once; the server answers RoomClosed{LEFT}
// (see WaitRoomClosed).
func (c *Client) LeaveRoom(ctx context.Context) error {
	return c.Send(ctx, &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_LeaveRoom{LeaveRoom: &arbiterv1.LeaveRoom{}}})
}

// Chat sends a line of chat to the room or the party.
func (c *Client) Chat(ctx context.Context, text string, scope arbiterv1.ChatScope) error {
	return c.Send(ctx, &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Chat{Chat: &arbiterv1.ChatSend{Text: text, Scope: scope}}})
}

// PartyLeave leaves the current party. The server answers with a PartyState
// whose code is empty, after which Party returns nil.
func (c *Client) PartyLeave(ctx context.Context) error {
	return c.Send(ctx, &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_PartyLeave{PartyLeave: &arbiterv1.PartyLeave{}}})
}
