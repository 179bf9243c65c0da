package game

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testGame is a minimal Game: one entity per seat that moves by its inputs'
// MoveX/MoveY. It records what the room asked of it.
type testGame struct {
	mu        sync.Mutex // guards applied for the test goroutine
	pos       map[Seat]*Entity
	applied   map[Seat][]Input
	appliedAt map[Seat][]uint32
	tick      uint32
	joins     []Seat
	leaves    []Seat
	panicAt   uint32 // Step panics at this tick when non-zero
	overAt    uint32 // Over after this tick when non-zero
}

func newTestGame() *testGame {
	return &testGame{pos: map[Seat]*Entity{}, applied: map[Seat][]Input{}, appliedAt: map[Seat][]uint32{}}
}

func (g *testGame) Join(s Seat) uint32 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.joins = append(g.joins, s)
	g.pos[s] = &Entity{ID: uint32(s) + 1, Health: 100}
	return uint32(s) + 1
}

func (g *testGame) Leave(s Seat) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.leaves = append(g.leaves, s)
	delete(g.pos, s)
}

func (g *testGame) Apply(s Seat, in Input) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.applied[s] = append(g.applied[s], in)
	g.appliedAt[s] = append(g.appliedAt[s], g.tick+1)
	e := g.pos[s]
	e.X += in.MoveX
	e.Y += in.MoveY
}

func (g *testGame) Step(tick uint32, ev []Event) []Event {
	if g.panicAt != 0 && tick == g.panicAt {
		panic("test game exploded")
	}
	g.mu.Lock()
	g.tick = tick
	g.mu.Unlock()
	if tick%10 == 0 {
		ev = append(ev, Event{Type: arbiterv1.EventType_EVENT_TYPE_SPAWN, Actor: 1, Value: int32(tick)})
	}
	return ev
}

func (g *testGame) AppendEntities(dst []Entity) []Entity {
	g.mu.Lock()
	defer g.mu.Unlock()
	for s := Seat(0); s < MaxSeats; s++ {
		if e, ok := g.pos[s]; ok {
			dst = append(dst, *e)
		}
	}
	return dst
}

func (g *testGame) Info() Info { return Info{Map: "test/flat"} }

func (g *testGame) Over() bool { return g.overAt != 0 && g.tick >= g.overAt }

func (g *testGame) appliedSeqs(s Seat) []uint32 {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []uint32
	for _, in := range g.applied[s] {
		out = append(out, in.Seq)
	}
	return out
}

// harness runs a room on a fake clock and steps it one tick at a time.
type harness struct {
	t      *testing.T
	clock  *FakeClock
	room   *Room
	game   *testGame
	cancel context.CancelFunc
	errc   chan error
	logs   *syncBuffer
	obs    *recordingObserver
}

var epoch = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, clock: NewFakeClock(epoch), game: newTestGame(), errc: make(chan error, 1), logs: &syncBuffer{}, obs: &recordingObserver{}}
	log := slog.New(slog.NewTextHandler(h.logs, nil))
	r, err := New("room-1", h.game, cfg, Options{Clock: h.clock, Logger: log, Observer: h.obs})
	if err != nil {
		t.Fatal(err)
	}
	h.room = r
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.errc <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.Done():
		case <-time.After(5 * time.Second):
			t.Error("room did not stop")
		}
	})
	h.waitFrame(nil)
	return h
}

// waitFrame waits until a frame newer than f is published (or the room ends).
func (h *harness) waitFrame(f *Frame) *Frame {
	h.t.Helper()
	deadline := time.After(5 * time.Second)
	if f == nil {
		for h.room.Latest() == nil {
			select {
			case <-deadline:
				h.t.Fatal("no first frame")
			case <-time.After(time.Millisecond):
			}
		}
		return h.room.Latest()
	}
	select {
	case <-f.Next():
	case <-deadline:
		h.t.Fatalf("no frame after tick %d", f.Tick())
	}
	return h.room.Latest()
}

// step advances the fake clock to the room's next timer (plus jitter) and
// waits for the tick to publish its frame.
func (h *harness) step(jitter time.Duration) *Frame {
	h.t.Helper()
	f := h.room.Latest()
	select {
	case <-h.clock.WaitForTimer():
	case <-h.room.Done():
		return f
	case <-time.After(5 * time.Second):
		h.t.Fatal("room never waited for its next tick")
	}
	at, _ := h.clock.NextTimer()
	h.clock.Set(at.Add(jitter))
	return h.waitFrame(f)
}

// join asks for a seat and steps the room until it answers.
func (h *harness) join(player string) (JoinResult, error) {
	h.t.Helper()
	type out struct {
		res JoinResult
		err error
	}
	c := make(chan out, 1)
	before := len(h.room.ctl)
	go func() {
		res, err := h.room.Join(context.Background(), player, "name-"+player)
		c <- out{res, err}
	}()
	h.waitCtl(before + 1)
	h.step(0)
	o := <-c
	return o.res, o.err
}

// waitCtl waits until the control mailbox holds n requests.
func (h *harness) waitCtl(n int) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(h.room.ctl) < n {
		if time.Now().After(deadline) {
			h.t.Fatal("request never reached the room")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func (h *harness) mustJoin(player string) JoinResult {
	h.t.Helper()
	res, err := h.join(player)
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type recordingObserver struct {
	mu        sync.Mutex
	lateness  []time.Duration
	overruns  int
	skipped   int
	drops     map[DropReason]int
	lateInput int
}

func (o *recordingObserver) TickDone(_, late time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lateness = append(o.lateness, late)
}

func (o *recordingObserver) Overrun(skipped int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.overruns++
	o.skipped += skipped
}

func (o *recordingObserver) InputDropped(r DropReason) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.drops == nil {
		o.drops = map[DropReason]int{}
	}
	o.drops[r]++
}

func (o *recordingObserver) InputLate() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lateInput++
}
