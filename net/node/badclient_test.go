package node

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/arbiter-gg/arbiter/net/client"
	"github.com/arbiter-gg/arbiter/net/gateway"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// raw is a hand-driven WebSocket connection for playing a bad client.
type raw struct {
	t    testing.TB
	conn *websocket.Conn
}

func rawDial(t testing.TB, n *Node, rcvBuf int) *raw {
	t.Helper()
	opts := &websocket.DialOptions{}
	if rcvBuf > 0 {
		d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvBuf)
			})
			if err != nil {
				return err
			}
			return serr
		}}
		opts.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	conn, _, err := websocket.Dial(ctxT(t, 5*time.Second), wsURL(n), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &raw{t: t, conn: conn}
}

func (r *raw) send(m *arbiterv1.ClientMessage) {
	r.t.Helper()
	b, _ := proto.Marshal(m)
	r.sendBytes(websocket.MessageBinary, b)
}

func (r *raw) sendBytes(typ websocket.MessageType, b []byte) {
	r.t.Helper()
	if err := r.conn.Write(ctxT(r.t, 5*time.Second), typ, b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// next reads one server message; it returns nil and the close status when
// the connection ends.
func (r *raw) next(d time.Duration) (*arbiterv1.ServerMessage, websocket.StatusCode) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, b, err := r.conn.Read(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			r.t.Fatalf("no message within %v", d)
		}
		return nil, websocket.CloseStatus(err)
	}
	var m arbiterv1.ServerMessage
	if err := proto.Unmarshal(b, &m); err != nil {
		r.t.Fatalf("server sent a bad message: %v", err)
	}
	return &m, 0
}

// until reads until a message matches, failing on close.
func (r *raw) until(d time.Duration, match func(*arbiterv1.ServerMessage) bool) *arbiterv1.ServerMessage {
	r.t.Helper()
	deadline := time.Now().Add(d)
	for {
		m, st := r.next(time.Until(deadline))
		if m == nil {
			r.t.Fatalf("connection closed (%v) before the awaited message", st)
		}
		if match(m) {
			return m
		}
	}
}

func (r *raw) hello() *arbiterv1.Welcome {
	r.t.Helper()
	r.send(&arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Hello{Hello: &arbiterv1.Hello{ProtocolVersion: 1, Name: "raw"}}})
	return r.until(5*time.Second, func(m *arbiterv1.ServerMessage) bool { return m.GetWelcome() != nil }).GetWelcome()
}

// expectError reads until an Error with code arrives; if status is
// non-zero it then expects the connection to close with that status, else
// to stay open (a Ping is answered).
func (r *raw) expectError(code arbiterv1.ErrorCode, status websocket.StatusCode) {
	r.t.Helper()
	var got []arbiterv1.ErrorCode
	for {
		m, st := r.next(10 * time.Second)
		if m == nil {
			r.t.Fatalf("closed with %v before Error %v (errors seen: %v)", st, code, got)
		}
		if e := m.GetError(); e != nil {
			got = append(got, e.GetCode())
			if e.GetCode() == code {
				break
			}
		}
	}
	if status == 0 {
		r.send(&arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Ping{Ping: &arbiterv1.Ping{Id: 77}}})
		r.until(5*time.Second, func(m *arbiterv1.ServerMessage) bool { return m.GetPong().GetId() == 77 })
		return
	}
	for {
		m, st := r.next(10 * time.Second)
		if m == nil {
			if st != status {
				r.t.Fatalf("closed with %v, want %v", st, status)
			}
			return
		}
	}
}

// watch records the ticks of every snapshot a client receives.
type watch struct {
	mu    sync.Mutex
	ticks []uint32
}

func (w *watch) opts() client.Options {
	return client.Options{OnMessage: func(m *arbiterv1.ServerMessage) {
		if s := m.GetSnapshot(); s != nil {
			w.mu.Lock()
			w.ticks = append(w.ticks, s.GetTick())
			w.mu.Unlock()
		}
	}}
}

// missed counts ticks without a snapshot between the first and last seen.
func (w *watch) missed() (missed, seen int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := 1; i < len(w.ticks); i++ {
		if d := int(w.ticks[i]) - int(w.ticks[i-1]); d > 1 {
			missed += d - 1
		}
	}
	return missed, len(w.ticks)
}

func badNode(t *testing.T) *Node {
	return startNode(t, Config{
		SendBuffer: 8 << 10,
		Gateway:    gateway.Config{HelloTimeout: time.Second, IdleTimeout: 20 * time.Second, WriteTimeout: time.Second, JoinTTL: 2 * time.Second},
	})
}

// Bad clients that never get into a room: each gets its specific Error and,
// where the connection cannot go on, the fitting close status.
func TestBadClientsAtTheEdge(t *testing.T) {
	n := badNode(t)
	cases := []struct {
		name   string
		run    func(r *raw)
		code   arbiterv1.ErrorCode
		status websocket.StatusCode
	}{
		{"text frame", func(r *raw) { r.sendBytes(websocket.MessageText, []byte(`{"hello":{}}`)) },
			arbiterv1.ErrorCode_ERROR_CODE_UNSUPPORTED_DATA, websocket.StatusUnsupportedData},
		{"oversize frame", func(r *raw) { r.hello(); r.sendBytes(websocket.MessageBinary, bytes.Repeat([]byte{0x0a}, 5000)) },
			arbiterv1.ErrorCode_ERROR_CODE_TOO_BIG, websocket.StatusMessageTooBig},
		{"garbage bytes", func(r *raw) { r.hello(); r.sendBytes(websocket.MessageBinary, []byte{0xff, 0xff, 0xff, 0x07, 0x00}) },
			arbiterv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, websocket.StatusPolicyViolation},
		{"unknown message", func(r *raw) {
			r.hello()
			// Field 99 of ClientMessage: not in the oneof this server knows.
			r.sendBytes(websocket.MessageBinary, []byte{0x9a, 0x06, 0x00})
		}, arbiterv1.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, 0},
		{"input before hello", func(r *raw) {
			r.send(&arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Input{Input: &arbiterv1.Input{Seq: 1}}})
		}, arbiterv1.ErrorCode_ERROR_CODE_HELLO_REQUIRED, websocket.StatusPolicyViolation},
		{"wrong protocol version", func(r *raw) {
			r.send(&arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Hello{Hello: &arbiterv1.Hello{ProtocolVersion: 9}}})
		}, arbiterv1.ErrorCode_ERROR_CODE_PROTOCOL_VERSION, websocket.StatusPolicyViolation},
		{"forged join token", func(r *raw) {
			r.hello()
			r.send(&arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_JoinRoom{JoinRoom: &arbiterv1.JoinRoom{JoinToken: "eyJmb3JnZWQiOnRydWV9.c2lnbmF0dXJl"}}})
		}, arbiterv1.ErrorCode_ERROR_CODE_TOKEN_INVALID, 0},
		{"unknown mode", func(r *raw) {
			r.hello()
			r.send(&arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_FindMatch{FindMatch: &arbiterv1.FindMatch{Mode: "chess"}}})
		}, arbiterv1.ErrorCode_ERROR_CODE_UNKNOWN_MODE, 0},
		{"oversize chat", func(r *raw) {
			r.hello()
			r.send(&arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Chat{Chat: &arbiterv1.ChatSend{Text: strings.Repeat("é", 201)}}})
		}, arbiterv1.ErrorCode_ERROR_CODE_CHAT_TOO_LONG, 0},
		{"connects and sends nothing", func(r *raw) {}, arbiterv1.ErrorCode_ERROR_CODE_IDLE, websocket.StatusPolicyViolation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rawDial(t, n, 0)
			r.t = t
			c.run(r)
			r.expectError(c.code, c.status)
		})
	}
	// The server is still fine.
	c := dial(t, n, "after", client.Options{})
	if _, _, err := c.Ping(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
}

// Join tokens work once, for their player, before they expire.
func TestJoinTokenAbuse(t *testing.T) {
	n := badNode(t)
	a := dial(t, n, "a", client.Options{})
	b := rawDial(t, n, 0)
	b.hello()
	thief := rawDial(t, n, 0)
	thief.hello()
	late := rawDial(t, n, 0)
	late.hello()

	// b and late queue for duels with a; b's token gets used twice, late's
	// token is used after it expired, and the thief tries b's token.
	done := make(chan error, 1)
	go func() { _, err := a.Play(ctxT(t, 15*time.Second), "duel"); done <- err }()
	b.send(&arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_FindMatch{FindMatch: &arbiterv1.FindMatch{Mode: "duel"}}})
	found := b.until(15*time.Second, func(m *arbiterv1.ServerMessage) bool { return m.GetMatchFound() != nil }).GetMatchFound()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	join := &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_JoinRoom{JoinRoom: &arbiterv1.JoinRoom{JoinToken: found.GetJoinToken()}}}
	thief.send(join)
	thief.expectError(arbiterv1.ErrorCode_ERROR_CODE_TOKEN_INVALID, 0)
	b.send(join)
	b.until(5*time.Second, func(m *arbiterv1.ServerMessage) bool { return m.GetJoined() != nil })
	b.send(&arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_LeaveRoom{LeaveRoom: &arbiterv1.LeaveRoom{}}})
	b.until(5*time.Second, func(m *arbiterv1.ServerMessage) bool { return m.GetRoomClosed() != nil })
	b.send(join)
	b.expectError(arbiterv1.ErrorCode_ERROR_CODE_TOKEN_REUSED, 0)

	// a is in a room now; a second duel pairs late with a fresh player.
	c := dial(t, n, "c", client.Options{})
	go func() { _, err := c.Play(ctxT(t, 15*time.Second), "duel"); done <- err }()
	late.send(&arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_FindMatch{FindMatch: &arbiterv1.FindMatch{Mode: "duel"}}})
	lf := late.until(15*time.Second, func(m *arbiterv1.ServerMessage) bool { return m.GetMatchFound() != nil }).GetMatchFound()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond) // past the 2 s join TTL
	late.send(&arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_JoinRoom{JoinRoom: &arbiterv1.JoinRoom{JoinToken: lf.GetJoinToken()}}})
	late.expectError(arbiterv1.ErrorCode_ERROR_CODE_TOKEN_EXPIRED, 0)
}

// Bad clients inside a room: each is answered and, where it persists,
// closed; the well-behaved player in the same room gets every snapshot.
func TestBadClientsInARoomDoNotCostOthers(t *testing.T) {
	n := badNode(t)
	var w watch
	good := dial(t, n, "watcher", w.opts())
	must[*arbiterv1.PartyState](t)(good.PartyCreate(ctxT(t, 5*time.Second)))
	bads := make([]*client.Client, 3)
	for i := range bads {
		bads[i] = dial(t, n, "bad", client.Options{})
		must[*arbiterv1.PartyState](t)(bads[i].PartyJoin(ctxT(t, 5*time.Second), good.Party().GetCode()))
	}
	nr := rawDial(t, n, 4096)
	nr.hello()
	nr.send(&arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_PartyJoin{PartyJoin: &arbiterv1.PartyJoin{Code: good.Party().GetCode()}}})
	nr.until(5*time.Second, func(m *arbiterv1.ServerMessage) bool { return len(m.GetParty().GetMembers()) == 5 })

	var wg sync.WaitGroup
	for _, b := range bads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := b.WaitMatch(ctxT(t, 15*time.Second))
			if err == nil {
				_, err = b.JoinRoom(ctxT(t, 5*time.Second), f.GetJoinToken())
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	must[*arbiterv1.Joined](t)(good.Play(ctxT(t, 15*time.Second), "arena"))
	f := nr.until(5*time.Second, func(m *arbiterv1.ServerMessage) bool { return m.GetMatchFound() != nil }).GetMatchFound()
	nr.send(&arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_JoinRoom{JoinRoom: &arbiterv1.JoinRoom{JoinToken: f.GetJoinToken()}}})
	nr.until(5*time.Second, func(m *arbiterv1.ServerMessage) bool { return m.GetJoined() != nil })
	wg.Wait()
	// From here on the raw client never reads again.

	d := drive([]*client.Client{good}, 30)
	defer d.halt()
	sessions := n.Gateway().SessionCount()
	floodIn, floodChat, badValues := bads[0], bads[1], bads[2]

	// Input flood: far above the rate limit, until the server closes it.
	go func() {
		for seq := uint32(1); seq < 100000; seq++ {
			if _, err := floodIn.SendInput(context.Background(), inputSeq(seq)); err != nil {
				return
			}
		}
	}()
	// Chat flood.
	go func() {
		for i := 0; i < 100000; i++ {
			if floodChat.Chat(context.Background(), "spam", arbiterv1.ChatScope_CHAT_SCOPE_ROOM) != nil {
				return
			}
		}
	}()
	// Out-of-range input values.
	_ = badValues.Send(ctxT(t, 5*time.Second), &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Input{Input: &arbiterv1.Input{Seq: 1, MoveX: 500, Aim: 70000}}})

	for _, c := range []struct {
		who    *client.Client
		code   arbiterv1.ErrorCode
		status websocket.StatusCode
	}{
		{floodIn, arbiterv1.ErrorCode_ERROR_CODE_RATE_LIMITED, websocket.StatusPolicyViolation},
		{floodChat, arbiterv1.ErrorCode_ERROR_CODE_RATE_LIMITED, websocket.StatusPolicyViolation},
	} {
		select {
		case <-c.who.Done():
		case <-time.After(20 * time.Second):
			t.Fatalf("flooder not closed")
		}
		if st := c.who.CloseStatus(); st != c.status {
			t.Errorf("flooder closed with %v, want %v", st, c.status)
		}
		if !hasError(c.who, c.code) {
			t.Errorf("flooder got no %v", c.code)
		}
	}
	eventually(t, 5*time.Second, "INVALID_INPUT", func() bool { return hasError(badValues, arbiterv1.ErrorCode_ERROR_CODE_INVALID_INPUT) })
	if badValues.State().AckSeq != 0 {
		t.Error("an out-of-range input was applied")
	}
	if got := good.State().ChatsReceived; got > 12 {
		t.Errorf("the chat flood reached the others: %d lines", got)
	}
	// The never-reading client fills its buffers and is closed by the write
	// deadline; the server holds nothing more for it.
	eventually(t, 30*time.Second, "the non-reader closed", func() bool { return n.Gateway().SessionCount() <= sessions-3 })

	missed, seen := w.missed()
	if seen < 60 {
		t.Fatalf("watcher saw only %d snapshots", seen)
	}
	if missed*100 > seen {
		t.Errorf("watcher missed %d of %d snapshots while bad clients played", missed, seen)
	}
	t.Logf("watcher: %d snapshots, %d missed", seen, missed)
}

func hasError(c *client.Client, code arbiterv1.ErrorCode) bool {
	for _, e := range c.Errors() {
		if e.GetCode() == code {
			return true
		}
	}
	return false
}
