package client

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testCtx is a context that ends before the test binary's deadline would.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial connects to fs and closes the client when the test ends.
func dial(t *testing.T, fs *fakeServer, opt Options) *Client {
	t.Helper()
	c, err := Dial(testCtx(t), fs.url, opt)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// play dials and joins the fake room, waiting for the full snapshot.
func play(t *testing.T, fs *fakeServer, opt Options) *Client {
	t.Helper()
	c := dial(t, fs, opt)
	ctx := testCtx(t)
	if _, err := c.Play(ctx, "arena"); err != nil {
		t.Fatalf("Play: %v", err)
	}
	if err := c.WaitSynced(ctx); err != nil {
		t.Fatalf("WaitSynced: %v", err)
	}
	return c
}

func TestDialWelcome(t *testing.T) {
	fs := newFakeServer(t)
	c := dial(t, fs, Options{Name: "alice", Header: http.Header{"Origin": {"http://example.com"}}})

	if got := c.PlayerID(); got != "p1" {
		t.Errorf("PlayerID = %q, want p1", got)
	}
	if got := c.SessionToken(); got != "tok-p1" {
		t.Errorf("SessionToken = %q, want tok-p1", got)
	}
	if w := c.Welcome(); w.GetName() != "alice" || w.GetServer().GetTickRate() != 30 || w.GetResumed() {
		t.Errorf("Welcome = %v", w)
	}
	h := fs.lastHello()
	if h.GetProtocolVersion() != 1 || h.GetName() != "alice" || h.GetClient() != "arbiter-go" || h.GetSessionToken() != "" {
		t.Errorf("server got Hello %v", h)
	}
	fs.mu.Lock()
	origin := fs.headers[0].Get("Origin")
	fs.mu.Unlock()
	if origin != "http://example.com" {
		t.Errorf("handshake Origin = %q", origin)
	}
	if c.Joined() != nil || c.Party() != nil || c.LastMatchStatus() != nil || c.CloseStatus() != -1 {
		t.Errorf("fresh client has state: joined %v party %v status %v close %v", c.Joined(), c.Party(), c.LastMatchStatus(), c.CloseStatus())
	}
	st := c.State()
	if st.MessagesOut != 1 || st.MessagesIn != 1 || st.BytesIn == 0 || st.BytesOut == 0 {
		t.Errorf("counters after Dial: %+v", st)
	}
}

func TestDialServerError(t *testing.T) {
	fs := newFakeServer(t)
	c, err := Dial(testCtx(t), fs.url, Options{Name: "reject"})
	if err == nil {
		c.Close()
		t.Fatal("Dial succeeded, want a server error")
	}
	var se *ServerError
	if !errors.As(err, &se) || se.Code != arbiterv1.ErrorCode_ERROR_CODE_PROTOCOL_VERSION || se.Message != "go away" {
		t.Fatalf("Dial error = %v, want *ServerError PROTOCOL_VERSION", err)
	}
}

func TestDialSessionExpiredStillWelcomes(t *testing.T) {
	fs := newFakeServer(t)
	c := dial(t, fs, Options{Name: "expired"})
	if c.PlayerID() == "" {
		t.Fatal("no player id")
	}
	errs := c.Errors()
	if len(errs) != 1 || errs[0].GetCode() != arbiterv1.ErrorCode_ERROR_CODE_SESSION_EXPIRED {
		t.Fatalf("Errors = %v, want one SESSION_EXPIRED", errs)
	}
}

func TestPlaySnapshotsAndAcks(t *testing.T) {
	fs := newFakeServer(t)
	var (
		mu        sync.Mutex
		snapTicks []uint32
		events    []game.Event
		acked     []uint32
		latencies []time.Duration
		rosters   int
		statuses  []arbiterv1.MatchState
	)
	opt := Options{
		Name: "bob",
		OnSnapshot: func(v *game.View) {
			mu.Lock()
			snapTicks = append(snapTicks, v.Tick())
			mu.Unlock()
		},
		OnEvent: func(ev game.Event) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		},
		OnAck: func(seq uint32, latency time.Duration) {
			mu.Lock()
			acked = append(acked, seq)
			latencies = append(latencies, latency)
			mu.Unlock()
		},
		OnRoster: func(*arbiterv1.Roster) {
			mu.Lock()
			rosters++
			mu.Unlock()
		},
		OnMatchStatus: func(m *arbiterv1.MatchStatus) {
			mu.Lock()
			statuses = append(statuses, m.GetState())
			mu.Unlock()
		},
	}
	c := dial(t, fs, opt)
	ctx := testCtx(t)

	j, err := c.Play(ctx, "arena")
	if err != nil {
		t.Fatalf("Play: %v", err)
	}
	if j.GetRoomId() != "r1" || j.GetTick() != 100 || j.GetTickRate() != 30 {
		t.Errorf("Joined = %v", j)
	}
	if got := c.LastMatchStatus().GetState(); got != arbiterv1.MatchState_MATCH_STATE_SEARCHING {
		t.Errorf("LastMatchStatus = %v, want SEARCHING", got)
	}
	if err := c.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	st := c.State()
	want := []game.Entity{{ID: 1, X: 800, Y: 800, Health: 100}, {ID: 2, X: 1600, Health: 100}}
	if st.Tick != 100 || !st.Synced || !slices.Equal(st.Entities, want) {
		t.Fatalf("after the full snapshot: tick %d synced %v entities %v", st.Tick, st.Synced, st.Entities)
	}
	if st.Joined != c.Joined() || st.Roster.GetPlayers()[0].GetEntityId() != 1 {
		t.Errorf("State Joined %v Roster %v", st.Joined, st.Roster)
	}

	for i, move := range []int32{8, -16, 24} {
		seq, err := c.SendInput(ctx, game.Input{MoveX: move, Aim: 100})
		if err != nil {
			t.Fatalf("SendInput: %v", err)
		}
		if seq != uint32(i+1) {
			t.Errorf("input %d got seq %d", i, seq)
		}
	}
	if err := c.WaitTick(ctx, 103); err != nil {
		t.Fatalf("WaitTick: %v", err)
	}
	st = c.State()
	want = []game.Entity{{ID: 1, X: 816, Y: 800, Health: 100}, {ID: 3, X: 40, Y: 48, Health: 50}}
	if st.Tick != 103 || st.AckSeq != 3 || st.LastSeq != 3 || !slices.Equal(st.Entities, want) {
		t.Fatalf("after 3 deltas: tick %d ack %d last seq %d entities %v", st.Tick, st.AckSeq, st.LastSeq, st.Entities)
	}
	if st.SnapshotsReceived != 4 || st.DesyncErrors != 0 || st.InputsSent != 3 || st.InputsAcked != 3 {
		t.Errorf("counters: %+v", st)
	}
	if st.EventCounts[arbiterv1.EventType_EVENT_TYPE_SPAWN] != 1 {
		t.Errorf("EventCounts = %v", st.EventCounts)
	}
	if st.FirstSnapshotAt.IsZero() || st.LastSnapshotAt.Before(st.FirstSnapshotAt) {
		t.Errorf("snapshot times %v %v", st.FirstSnapshotAt, st.LastSnapshotAt)
	}
	c.ReadView(func(v *game.View) {
		if e, ok := v.Entity(3); !ok || e.Health != 50 {
			t.Errorf("ReadView entity 3 = %v, %v", e, ok)
		}
	})

	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(snapTicks, []uint32{100, 101, 102, 103}) {
		t.Errorf("OnSnapshot ticks = %v", snapTicks)
	}
	if len(events) != 1 || events[0].Type != arbiterv1.EventType_EVENT_TYPE_SPAWN || events[0].Tick != 101 {
		t.Errorf("OnEvent got %v", events)
	}
	if !slices.Equal(acked, []uint32{1, 2, 3}) {
		t.Errorf("OnAck seqs = %v, want [1 2 3]", acked)
	}
	for i, l := range latencies {
		if l <= 0 || l > 5*time.Second {
			t.Errorf("ack latency %d = %v", i, l)
		}
	}
	if rosters != 1 {
		t.Errorf("OnRoster called %d times", rosters)
	}
	if !slices.Equal(statuses, []arbiterv1.MatchState{arbiterv1.MatchState_MATCH_STATE_SEARCHING}) {
		t.Errorf("OnMatchStatus states = %v", statuses)
	}
}

func TestMatchmakingFailures(t *testing.T) {
	fs := newFakeServer(t)
	c := dial(t, fs, Options{})
	ctx := testCtx(t)

	if err := c.FindMatch(ctx, "nope"); err != nil {
		t.Fatal(err)
	}
	_, err := c.WaitMatch(ctx)
	var se *ServerError
	if !errors.As(err, &se) || se.Code != arbiterv1.ErrorCode_ERROR_CODE_UNKNOWN_MODE {
		t.Fatalf("WaitMatch(nope) = %v, want UNKNOWN_MODE", err)
	}

	if err := c.FindMatch(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
	_, err = c.WaitMatch(ctx)
	var me *MatchError
	if !errors.As(err, &me) || me.Status.GetState() != arbiterv1.MatchState_MATCH_STATE_TIMED_OUT || me.Status.GetReason() != "nobody came" {
		t.Fatalf("WaitMatch(slow) = %v, want TIMED_OUT", err)
	}

	if err := c.FindMatch(ctx, "hold"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = c.WaitMatch(short)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitMatch while queued = %v, want deadline exceeded", err)
	}
	if got := c.LastMatchStatus().GetState(); got != arbiterv1.MatchState_MATCH_STATE_SEARCHING {
		t.Errorf("LastMatchStatus = %v", got)
	}
	if err := c.CancelMatch(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = c.WaitMatch(ctx)
	if !errors.As(err, &me) || me.Status.GetState() != arbiterv1.MatchState_MATCH_STATE_CANCELLED {
		t.Fatalf("WaitMatch after CancelMatch = %v, want CANCELLED", err)
	}

	// Old outcomes are not returned again.
	found, err := c.Play(ctx, "arena")
	if err != nil || found.GetRoomId() != "r1" {
		t.Fatalf("Play after failures = %v, %v", found, err)
	}
}

func TestJoinRoomError(t *testing.T) {
	fs := newFakeServer(t)
	c := dial(t, fs, Options{})
	ctx := testCtx(t)
	// An unrelated error (an input outside a room) does not answer JoinRoom.
	if _, err := c.SendInput(ctx, game.Input{}); err != nil {
		t.Fatal(err)
	}
	_, err := c.JoinRoom(ctx, "bad")
	var se *ServerError
	if !errors.As(err, &se) || se.Code != arbiterv1.ErrorCode_ERROR_CODE_TOKEN_INVALID {
		t.Fatalf("JoinRoom(bad) = %v, want TOKEN_INVALID", err)
	}
	if c.Joined() != nil {
		t.Error("Joined set after a refused join")
	}
	if errs := c.Errors(); len(errs) != 2 || errs[0].GetCode() != arbiterv1.ErrorCode_ERROR_CODE_NOT_IN_ROOM {
		t.Errorf("Errors = %v", errs)
	}
	j, err := c.JoinRoom(ctx, "good")
	if err != nil || j.GetRoomId() != "r1" {
		t.Fatalf("JoinRoom(good) = %v, %v", j, err)
	}
}

func TestPing(t *testing.T) {
	fs := newFakeServer(t)
	c := dial(t, fs, Options{})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			rtt, pong, err := c.Ping(ctx)
			if err != nil {
				t.Errorf("Ping: %v", err)
				return
			}
			if rtt <= 0 || pong.GetId() == 0 || pong.GetServerTimeUs() == 0 || pong.GetClientTimeUs() == 0 {
				t.Errorf("Ping = %v, %v", rtt, pong)
			}
		})
	}
	wg.Wait()
	if c.State().RTT <= 0 {
		t.Error("State.RTT not recorded")
	}
}

func TestServerClosesWithPolicyViolation(t *testing.T) {
	fs := newFakeServer(t)
	var onErr []arbiterv1.ErrorCode
	var mu sync.Mutex
	c := play(t, fs, Options{OnError: func(e *arbiterv1.Error) {
		mu.Lock()
		onErr = append(onErr, e.GetCode())
		mu.Unlock()
	}})
	ctx := testCtx(t)
	waitErr := make(chan error, 1)
	go func() { waitErr <- c.WaitTick(ctx, 1000) }()

	if err := c.Chat(ctx, "close1008", arbiterv1.ChatScope_CHAT_SCOPE_ROOM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("connection did not end")
	}
	if got := c.CloseStatus(); got != websocket.StatusPolicyViolation {
		t.Errorf("CloseStatus = %v, want 1008", got)
	}
	if errs := c.Errors(); len(errs) != 1 || errs[0].GetCode() != arbiterv1.ErrorCode_ERROR_CODE_RATE_LIMITED {
		t.Errorf("Errors = %v", errs)
	}
	mu.Lock()
	if !slices.Equal(onErr, []arbiterv1.ErrorCode{arbiterv1.ErrorCode_ERROR_CODE_RATE_LIMITED}) {
		t.Errorf("OnError got %v", onErr)
	}
	mu.Unlock()
	err := <-waitErr
	if !errors.Is(err, ErrClosed) || websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("pending WaitTick = %v, want ErrClosed with status 1008", err)
	}
	if _, err := c.SendInput(ctx, game.Input{}); !errors.Is(err, ErrClosed) {
		t.Errorf("SendInput after close = %v, want ErrClosed", err)
	}
	if _, _, err := c.Ping(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping after close = %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close after the server closed = %v", err)
	}
}

func TestTextMessageIsUnsupported(t *testing.T) {
	fs := newFakeServer(t)
	c := dial(t, fs, Options{})
	if err := c.SendRaw(testCtx(t), websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if got := c.CloseStatus(); got != websocket.StatusUnsupportedData {
		t.Errorf("CloseStatus = %v, want 1003", got)
	}
}

func TestCloseAndDrop(t *testing.T) {
	fs := newFakeServer(t)
	c := dial(t, fs, Options{})
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	if got := c.CloseStatus(); got != websocket.StatusNormalClosure {
		t.Errorf("CloseStatus after Close = %v, want 1000", got)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	c.Drop()

	d := dial(t, fs, Options{})
	d.Drop()
	if got := d.CloseStatus(); got != -1 {
		t.Errorf("CloseStatus after Drop = %v, want -1", got)
	}
	if d.Err() == nil {
		t.Error("Err nil after Drop")
	}
}

func TestReconnectResumesSeat(t *testing.T) {
	fs := newFakeServer(t)
	c := play(t, fs, Options{Name: "carol"})
	ctx := testCtx(t)
	for range 3 {
		if _, err := c.SendInput(ctx, game.Input{MoveY: 8}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitTick(ctx, 103); err != nil {
		t.Fatal(err)
	}
	before := c.State().Entities

	var acked []uint32
	var mu sync.Mutex
	r, err := Reconnect(ctx, fs.url, c, Options{OnAck: func(seq uint32, _ time.Duration) {
		mu.Lock()
		acked = append(acked, seq)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatalf("Reconnect: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	select {
	case <-c.Done():
	default:
		t.Error("old client still connected after Reconnect")
	}
	if h := fs.lastHello(); h.GetSessionToken() != "tok-p1" || h.GetName() != "carol" {
		t.Errorf("reconnect Hello = %v", h)
	}
	if !r.Welcome().GetResumed() || r.PlayerID() != c.PlayerID() {
		t.Errorf("Welcome = %v", r.Welcome())
	}
	if err := r.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if r.Joined().GetRoomId() != "r1" {
		t.Errorf("Joined after resume = %v", r.Joined())
	}
	st := r.State()
	if st.Tick != 104 || !slices.Equal(st.Entities, before) || st.Roster == nil {
		t.Errorf("resumed view: tick %d entities %v (want %v) roster %v", st.Tick, st.Entities, before, st.Roster)
	}
	seq, err := r.SendInput(ctx, game.Input{MoveX: 1})
	if err != nil || seq != 1 {
		t.Fatalf("first input after resume: seq %d, %v", seq, err)
	}
	if err := r.WaitTick(ctx, 105); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(acked, []uint32{1}) {
		t.Errorf("acks after resume = %v", acked)
	}
}

func TestDesyncIsRecorded(t *testing.T) {
	fs := newFakeServer(t)
	c := play(t, fs, Options{})
	ctx := testCtx(t)
	if err := c.Chat(ctx, "desync", arbiterv1.ChatScope_CHAT_SCOPE_ROOM); err != nil {
		t.Fatal(err)
	}
	err := c.WaitTick(ctx, 1000)
	if err == nil {
		t.Fatal("WaitTick succeeded on a broken view")
	}
	st := c.State()
	if st.DesyncErrors != 1 || st.LastDesyncError == nil || st.Synced {
		t.Errorf("after a bad delta: desyncs %d (%v) synced %v", st.DesyncErrors, st.LastDesyncError, st.Synced)
	}
	if err := c.WaitSynced(ctx); err == nil {
		t.Error("WaitSynced succeeded on a broken view")
	}
}

func TestPartyAndChat(t *testing.T) {
	fs := newFakeServer(t)
	chats := make(chan *arbiterv1.Chat, 1)
	c := dial(t, fs, Options{Name: "dave", OnChat: func(m *arbiterv1.Chat) { chats <- m }})
	ctx := testCtx(t)
	ps, err := c.PartyCreate(ctx)
	if err != nil || ps.GetCode() != "ABCD" || ps.GetLeaderId() != c.PlayerID() {
		t.Fatalf("PartyCreate = %v, %v", ps, err)
	}
	if c.Party() != ps {
		t.Errorf("Party = %v", c.Party())
	}
	_, err = c.PartyJoin(ctx, "ZZZZ")
	var se *ServerError
	if !errors.As(err, &se) || se.Code != arbiterv1.ErrorCode_ERROR_CODE_PARTY_NOT_FOUND {
		t.Fatalf("PartyJoin(ZZZZ) = %v", err)
	}
	if ps, err := c.PartyJoin(ctx, "ABCD"); err != nil || ps.GetCode() != "ABCD" {
		t.Fatalf("PartyJoin(ABCD) = %v, %v", ps, err)
	}
	if err := c.PartyLeave(ctx); err != nil {
		t.Fatal(err)
	}
	// The server answers in order: once the chat echo is back, so is the
	// answer to PartyLeave.
	if err := c.Chat(ctx, "hello", arbiterv1.ChatScope_CHAT_SCOPE_PARTY); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-chats:
		if m.GetText() != "hello" || m.GetScope() != arbiterv1.ChatScope_CHAT_SCOPE_PARTY || m.GetFromPlayerId() != c.PlayerID() {
			t.Errorf("chat = %v", m)
		}
	case <-ctx.Done():
		t.Fatal("no chat echo")
	}
	if c.Party() != nil {
		t.Errorf("Party after PartyLeave = %v", c.Party())
	}
	if got := c.State().ChatsReceived; got != 1 {
		t.Errorf("ChatsReceived = %d", got)
	}
}

func TestRoomClosed(t *testing.T) {
	fs := newFakeServer(t)
	var closed []*arbiterv1.RoomClosed
	var mu sync.Mutex
	c := play(t, fs, Options{OnRoomClosed: func(m *arbiterv1.RoomClosed) {
		mu.Lock()
		closed = append(closed, m)
		mu.Unlock()
	}})
	ctx := testCtx(t)
	if err := c.Chat(ctx, "roundend", arbiterv1.ChatScope_CHAT_SCOPE_ROOM); err != nil {
		t.Fatal(err)
	}
	rc, err := c.WaitRoomClosed(ctx)
	if err != nil || rc.GetReason() != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_ROUND_OVER {
		t.Fatalf("WaitRoomClosed = %v, %v", rc, err)
	}
	st := c.State()
	if st.Joined != nil || st.RoomClosed != rc || st.RoundResult == nil || st.RoundResult.Standings[0].Kills != 3 {
		t.Errorf("after round end: joined %v closed %v result %v", st.Joined, st.RoomClosed, st.RoundResult)
	}

	// A new room, left on purpose.
	if _, err := c.Play(ctx, "arena"); err != nil {
		t.Fatal(err)
	}
	if c.State().RoomClosed != nil {
		t.Error("RoomClosed not cleared by Joined")
	}
	if err := c.LeaveRoom(ctx); err != nil {
		t.Fatal(err)
	}
	rc, err = c.WaitRoomClosed(ctx)
	if err != nil || rc.GetReason() != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_LEFT {
		t.Fatalf("WaitRoomClosed after LeaveRoom = %v, %v", rc, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(closed) != 2 {
		t.Errorf("OnRoomClosed called %d times", len(closed))
	}
}

func TestConcurrentInputs(t *testing.T) {
	fs := newFakeServer(t)
	var mu sync.Mutex
	acked := map[uint32]int{}
	c := play(t, fs, Options{OnAck: func(seq uint32, _ time.Duration) {
		mu.Lock()
		acked[seq]++
		mu.Unlock()
	}})
	ctx := testCtx(t)
	const senders, each = 4, 25
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for range each {
				if _, err := c.SendInput(ctx, game.Input{MoveX: 1}); err != nil {
					t.Errorf("SendInput: %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			_ = c.State()
			_ = c.Joined()
		}
	})
	wg.Wait()
	if err := c.WaitTick(ctx, 100+senders*each); err != nil {
		t.Fatal(err)
	}
	st := c.State()
	if st.AckSeq != senders*each || st.LastSeq != senders*each || st.Entities[0].X != 800+senders*each {
		t.Errorf("after %d inputs: ack %d last seq %d entity %v", senders*each, st.AckSeq, st.LastSeq, st.Entities[0])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acked) != senders*each {
		t.Errorf("OnAck saw %d distinct seqs, want %d", len(acked), senders*each)
	}
	for seq, n := range acked {
		if n != 1 || seq == 0 || seq > senders*each {
			t.Errorf("seq %d acked %d times", seq, n)
		}
	}
}

func TestAckLocked(t *testing.T) {
	c := &Client{}
	for seq := uint32(1); seq <= 300; seq++ {
		c.seq = seq
		c.sent[seq%ringSize] = sentInput{seq: seq, at: time.Duration(seq)}
	}
	got := c.ackLocked(300, 1000, nil)
	if len(got) != ringSize || got[0].seq != 300-ringSize+1 || got[len(got)-1].seq != 300 || got[0].latency != 1000-time.Duration(300-ringSize+1) {
		t.Fatalf("ack of 300 after 300 sends: %d acks, first %v last %v", len(got), got[0], got[len(got)-1])
	}
	if got := c.ackLocked(300, 2000, nil); len(got) != 0 {
		t.Errorf("repeated ack measured %v", got)
	}
	// An ack beyond what was sent (a previous connection's) measures nothing.
	c2 := &Client{}
	c2.seq = 2
	c2.sent[1] = sentInput{seq: 1, at: 1}
	c2.sent[2] = sentInput{seq: 2, at: 1}
	if got := c2.ackLocked(50, 10, nil); len(got) != 2 || c2.acked != 2 {
		t.Errorf("ack 50 with 2 sent: %v, acked %d", got, c2.acked)
	}
}

func TestDialContextBoundsOnlyTheHandshake(t *testing.T) {
	fs := newFakeServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := Dial(ctx, fs.url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cancel()
	if _, _, err := c.Ping(testCtx(t)); err != nil {
		t.Fatalf("Ping after Dial's context ended: %v", err)
	}
}
