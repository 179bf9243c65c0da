package game

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// A room on a fake clock runs 100,000 ticks with random wake-up jitter and
// stays on schedule: frame n is stamped start + n·dt, lateness is only the
// jitter, and there are no overruns.
func TestRoomNoDriftFakeClock(t *testing.T) {
	h := newHarness(t, Config{TickRate: 60, EmptyTimeout: time.Hour})
	dt := h.room.cfg.TickInterval()
	rng := rand.New(rand.NewPCG(3, 4))
	first := h.room.Latest()
	start := first.Time().Add(-time.Duration(first.Tick()) * dt)
	f := first
	for range 100_000 - int(first.Tick()) {
		f = h.step(time.Duration(rng.Int64N(int64(dt) - 1)))
	}
	if f.Tick() != 100_000 {
		t.Fatalf("tick %d after 100,000 steps", f.Tick())
	}
	if want := start.Add(100_000 * dt); !f.Time().Equal(want) {
		t.Fatalf("tick 100000 stamped %v, want %v", f.Time(), want)
	}
	if drift := h.clock.Now().Sub(f.Time()); drift < 0 || drift >= dt {
		t.Fatalf("clock is %v past the last tick, want under one tick", drift)
	}
	// The room counts a tick just after publishing its frame: wait for the
	// count (the next tick cannot start: its timer has not fired).
	deadline := time.Now().Add(5 * time.Second)
	for h.room.Stats().Ticks < 100_000 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	st := h.room.Stats()
	if st.Overruns != 0 || st.SkippedTicks != 0 || st.Ticks != 100_000 {
		t.Fatalf("stats %+v", st)
	}
	h.obs.mu.Lock()
	defer h.obs.mu.Unlock()
	for i, l := range h.obs.lateness {
		if l < 0 || l >= dt {
			t.Fatalf("tick %d lateness %v", i+1, l)
		}
	}
}

func TestRoomCatchUpCapped(t *testing.T) {
	h := newHarness(t, Config{TickRate: 50, MaxCatchUp: 3})
	dt := h.room.cfg.TickInterval()
	f := h.step(0)
	before := f.Tick()
	// Stall the room's clock ten and a half intervals past the next tick.
	<-h.clock.WaitForTimer()
	at, _ := h.clock.NextTimer()
	h.clock.Set(at.Add(10*dt + dt/2))
	// It runs the due tick and three catch-up ticks, skips seven, then
	// sleeps again.
	<-h.clock.WaitForTimer()
	f = h.room.Latest()
	if got := f.Tick() - before; got != 4 {
		t.Fatalf("ran %d ticks while catching up, want 4", got)
	}
	st := h.room.Stats()
	if st.SkippedTicks != 7 || st.Overruns != 3 {
		t.Fatalf("skipped %d overruns %d, want 7 and 3", st.SkippedTicks, st.Overruns)
	}
	next, _ := h.clock.NextTimer()
	if next.Sub(h.clock.Now()) <= 0 || next.Sub(h.clock.Now()) > dt {
		t.Fatalf("next tick in %v, want within one interval", next.Sub(h.clock.Now()))
	}
}

func TestInputsAppliedInSeqOrderAndAcked(t *testing.T) {
	h := newHarness(t, Config{})
	a := h.mustJoin("a")
	n := h.room.Latest().Tick() + 1
	for _, seq := range []uint32{3, 1, 2} {
		if !a.Member.Submit(Input{Seq: seq, Tick: n, MoveX: 1}) {
			t.Fatal("submit refused")
		}
	}
	f := h.step(0)
	if got := h.game.appliedSeqs(a.Seat); !slices.Equal(got, []uint32{1, 2, 3}) {
		t.Fatalf("applied %v, want [1 2 3]", got)
	}
	if ack := f.Seat(a.Seat).AckSeq; ack != 3 {
		t.Fatalf("ack %d, want 3", ack)
	}
	// Duplicates and stale seqs are ignored and counted.
	for _, seq := range []uint32{3, 2, 4, 4} {
		a.Member.Submit(Input{Seq: seq, Tick: f.Tick() + 1})
	}
	f = h.step(0)
	if got := h.game.appliedSeqs(a.Seat); !slices.Equal(got, []uint32{1, 2, 3, 4}) {
		t.Fatalf("applied %v, want [1 2 3 4]", got)
	}
	if d := h.room.Stats().Dropped[DropStale]; d != 3 {
		t.Fatalf("stale drops %d, want 3", d)
	}
	if f.Seat(a.Seat).AckSeq != 4 {
		t.Fatalf("ack %d", f.Seat(a.Seat).AckSeq)
	}
}

func TestInputsHeldForTheirTickAndLateCounted(t *testing.T) {
	h := newHarness(t, Config{})
	a := h.mustJoin("a")
	n := h.room.Latest().Tick()
	a.Member.Submit(Input{Seq: 1, Tick: n - 1}) // late
	a.Member.Submit(Input{Seq: 2, Tick: n + 1}) // on time
	a.Member.Submit(Input{Seq: 3, Tick: n + 3}) // early: held two ticks
	h.step(0)
	if got := h.game.appliedSeqs(a.Seat); !slices.Equal(got, []uint32{1, 2}) {
		t.Fatalf("applied %v at tick %d, want [1 2]", got, n+1)
	}
	h.step(0)
	if got := h.game.appliedSeqs(a.Seat); len(got) != 2 {
		t.Fatalf("early input applied before its tick: %v", got)
	}
	h.step(0)
	h.game.mu.Lock()
	at := slices.Clone(h.game.appliedAt[a.Seat])
	h.game.mu.Unlock()
	if !slices.Equal(at, []uint32{n + 1, n + 1, n + 3}) {
		t.Fatalf("applied at ticks %v, want [%d %d %d]", at, n+1, n+1, n+3)
	}
	if late := h.room.Stats().InputsLate; late != 1 {
		t.Fatalf("late inputs %d, want 1", late)
	}
}

// A flooding player fills only its own mailbox: its excess is dropped and
// counted, at most MaxInputsPerTick of its inputs apply per tick, and the
// other player's inputs all apply on time.
func TestInputFloodIsolated(t *testing.T) {
	h := newHarness(t, Config{InboxSize: 32, MaxInputsPerTick: 4})
	flood, calm := h.mustJoin("flood"), h.mustJoin("calm")
	n := h.room.Latest().Tick() + 1
	accepted := 0
	for seq := uint32(1); seq <= 1000; seq++ {
		if flood.Member.Submit(Input{Seq: seq, Tick: n}) {
			accepted++
		}
	}
	if accepted != 32 {
		t.Fatalf("accepted %d, want the mailbox size 32", accepted)
	}
	if !calm.Member.Submit(Input{Seq: 1, Tick: n, MoveY: 5}) {
		t.Fatal("calm player's input refused")
	}
	f := h.step(0)
	if got := h.game.appliedSeqs(flood.Seat); !slices.Equal(got, []uint32{29, 30, 31, 32}) {
		t.Fatalf("flooder applied %v, want the newest four [29 30 31 32]", got)
	}
	if got := h.game.appliedSeqs(calm.Seat); !slices.Equal(got, []uint32{1}) {
		t.Fatalf("calm player applied %v", got)
	}
	if f.Seat(calm.Seat).AckSeq != 1 {
		t.Fatal("calm player not acked")
	}
	st := h.room.Stats()
	if st.Dropped[DropInboxFull] != 968 || st.Dropped[DropOverCap] != 28 {
		t.Fatalf("drops %v", st.Dropped)
	}
}

func TestJoinLeaveRejoin(t *testing.T) {
	h := newHarness(t, Config{MaxPlayers: 2, RejoinGrace: time.Second})
	a := h.mustJoin("a")
	b := h.mustJoin("b")
	if a.Seat == b.Seat || a.Resumed || b.Resumed {
		t.Fatalf("seats %d %d resumed %v %v", a.Seat, b.Seat, a.Resumed, b.Resumed)
	}
	if a.Info.Map != "test/flat" {
		t.Fatalf("info %+v", a.Info)
	}
	if _, err := h.join("c"); !errors.Is(err, ErrRoomFull) {
		t.Fatalf("third join: %v, want ErrRoomFull", err)
	}
	// a drops mid-round: the seat and entity stay, the roster says away.
	a.Member.Disconnect()
	h.waitCtl(1)
	f := h.step(0)
	if ro := f.Roster(); len(ro.Players) != 2 || ro.Players[a.Seat].Connected {
		t.Fatalf("roster after disconnect %+v", ro.Players)
	}
	if _, ok := f.Entity(a.EntityID); !ok {
		t.Fatal("entity gone during grace")
	}
	// a comes back within the grace: same seat and entity, inputs from 1.
	a2 := h.mustJoin("a")
	if !a2.Resumed || a2.Seat != a.Seat || a2.EntityID != a.EntityID {
		t.Fatalf("rejoin %+v, want seat %d resumed", a2, a.Seat)
	}
	select {
	case <-a.Member.Gone():
	default:
		t.Fatal("replaced member not ended")
	}
	a2.Member.Submit(Input{Seq: 1, Tick: h.room.Latest().Tick() + 1})
	f = h.step(0)
	if f.Seat(a2.Seat).AckSeq != 1 || !f.Roster().Players[a.Seat].Connected {
		t.Fatalf("after rejoin: ack %d roster %+v", f.Seat(a2.Seat).AckSeq, f.Roster().Players)
	}
	// a drops again and the grace runs out: the seat is freed.
	a2.Member.Disconnect()
	h.waitCtl(1)
	h.step(0)
	for range 35 {
		h.step(0)
	}
	select {
	case <-a2.Member.Gone():
	default:
		t.Fatal("seat kept after the grace period")
	}
	c := make(chan error, 1)
	go func() { _, err := h.room.Rejoin(context.Background(), "a", "a"); c <- err }()
	h.waitCtl(1)
	h.step(0)
	if err := <-c; !errors.Is(err, ErrNoSeat) {
		t.Fatalf("rejoin after the grace: %v, want ErrNoSeat", err)
	}
	if a2.Member.Reason() != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_LEFT {
		t.Fatalf("reason %v", a2.Member.Reason())
	}
	f = h.room.Latest()
	if _, ok := f.Entity(a.EntityID); ok || len(f.Roster().Players) != 1 {
		t.Fatal("entity or roster entry kept after the grace")
	}
	// b leaves at once; a new player then gets a seat.
	b.Member.Leave()
	h.waitCtl(1)
	h.step(0)
	if !slices.Equal(h.game.leaves, []Seat{a.Seat, b.Seat}) {
		t.Fatalf("game saw leaves %v", h.game.leaves)
	}
	if _, err := h.join("c"); err != nil {
		t.Fatal(err)
	}
	if b.Member.Submit(Input{Seq: 9}) {
		t.Fatal("a member who left could still submit")
	}
}

// A panic in one room's game ends that room with ERROR and its stack logged;
// another room keeps ticking.
func TestRoomPanicIsolated(t *testing.T) {
	bad := newHarness(t, Config{})
	good := newHarness(t, Config{})
	p := bad.mustJoin("p")
	good.mustJoin("q")
	bad.game.panicAt = bad.room.Latest().Tick() + 2
	bad.step(0)
	bad.step(0)
	select {
	case <-bad.room.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("panicking room did not end")
	}
	reason, err := bad.room.CloseReason()
	if reason != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_ERROR || err == nil {
		t.Fatalf("reason %v err %v", reason, err)
	}
	if got := <-bad.errc; got == nil || !strings.Contains(got.Error(), "test game exploded") {
		t.Fatalf("Run returned %v", got)
	}
	<-p.Member.Gone()
	if p.Member.Reason() != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_ERROR {
		t.Fatalf("member reason %v", p.Member.Reason())
	}
	logs := bad.logs.String()
	if !strings.Contains(logs, "room panicked") || !strings.Contains(logs, "goroutine") {
		t.Fatalf("panic not logged with a stack:\n%s", logs)
	}
	before := good.room.Latest().Tick()
	for range 5 {
		good.step(0)
	}
	if good.room.Latest().Tick() != before+5 {
		t.Fatal("the other room stopped")
	}
	if _, err := bad.room.Join(context.Background(), "late", "late"); !errors.Is(err, ErrRoomClosed) {
		t.Fatalf("join after end: %v", err)
	}
}

func TestRoomEndsWhenEmpty(t *testing.T) {
	h := newHarness(t, Config{TickRate: 10, EmptyTimeout: time.Second})
	a := h.mustJoin("a")
	a.Member.Leave()
	h.waitCtl(1)
	for i := 0; i < 20; i++ {
		select {
		case <-h.room.Done():
			reason, _ := h.room.CloseReason()
			if reason != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_EMPTY {
				t.Fatalf("reason %v", reason)
			}
			if i < 10 {
				t.Fatalf("ended after %d ticks, before the 1 s timeout", i)
			}
			return
		default:
		}
		h.step(0)
	}
	t.Fatal("empty room did not end")
}

func TestRoomEndsWhenRoundOver(t *testing.T) {
	h := newHarness(t, Config{})
	a := h.mustJoin("a")
	h.game.overAt = h.room.Latest().Tick() + 1
	f := h.step(0)
	<-h.room.Done()
	if reason, _ := h.room.CloseReason(); reason != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_ROUND_OVER {
		t.Fatalf("reason %v", reason)
	}
	if f.Tick() != h.game.overAt {
		t.Fatalf("final frame %d, want %d", f.Tick(), h.game.overAt)
	}
	<-a.Member.Gone()
	select {
	case <-f.Next():
	default:
		t.Fatal("final frame's Next not closed")
	}
}

func TestRoomDrainOnCancel(t *testing.T) {
	h := newHarness(t, Config{})
	a := h.mustJoin("a")
	h.cancel()
	<-h.room.Done()
	if reason, _ := h.room.CloseReason(); reason != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_DRAIN {
		t.Fatalf("reason %v", reason)
	}
	<-a.Member.Gone()
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{TickRate: 9}, {TickRate: 129}, {SnapshotEvery: -1}, {MaxPlayers: 1000}} {
		if err := c.WithDefaults().Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (Config{}).WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
}
