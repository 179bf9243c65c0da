package matchmaking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/arbiter-gg/arbiter/game"
)

func duelMode() Mode {
	for _, md := range DefaultModes() {
		if md.Name == "duel" {
			return md
		}
	}
	panic("no duel")
}

func arenaMode() Mode {
	for _, md := range DefaultModes() {
		if md.Name == "arena" {
			return md
		}
	}
	panic("no arena")
}

func TestDuelPairsClosestRatingsAsWindowsGrow(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	alloc := &fakeAlloc{}
	m := New(Config{}, alloc, clock, nil)
	rec := &recorder{}
	for _, r := range []float64{1000, 1010, 1500, 2000} {
		mustEnqueue(t, m, solo("duel", fmt.Sprint(r), r), rec)
	}
	if u, _ := rec.last("1500"); u.State != Searching || u.Window != 100 || u.QueueSize != 3 {
		t.Fatalf("first update %+v, want searching, window 100, queue 3", u)
	}

	passAt(m, clock, 100*time.Millisecond)
	got := byRoom(rec.found(t))
	if len(got) != 1 || !slices.Equal(got["room-1"], []string{"1000", "1010"}) {
		t.Fatalf("first pass placed %v, want 1000 with 1010 in room-1", got)
	}

	// 1500 and 2000 need both windows to reach 500: 100 + 50·s ≥ 500 at s = 8.
	for clock.Now().Sub(epoch) < 8*time.Second-100*time.Millisecond {
		passAt(m, clock, 100*time.Millisecond)
		if n := len(rec.found(t)); n != 2 {
			t.Fatalf("at %v: %d players found, want still 2", clock.Now().Sub(epoch), n)
		}
	}
	m.status(clock.Now())
	if u, _ := rec.last("2000"); u.State != Searching || u.Window >= 500 || u.Window < 490 || u.QueueSize != 2 {
		t.Fatalf("status before the pair: %+v", u)
	}
	passAt(m, clock, 100*time.Millisecond) // 8 s
	found := rec.found(t)
	if len(found) != 4 || found["1500"] != found["2000"] || found["1500"] == found["1000"] {
		t.Fatalf("after 8 s: %v", found)
	}
	if alloc.count() != 2 {
		t.Fatalf("%d rooms, want 2", alloc.count())
	}
	if u, _ := rec.last("2000"); u.Elapsed != 8*time.Second || u.Mode != "duel" {
		t.Fatalf("found update %+v", u)
	}
	if q := m.QueueSizes(); q["duel"] != 0 || q["arena"] != 0 {
		t.Fatalf("queues %v", q)
	}
}

func TestRatedClosestPairFirst(t *testing.T) {
	// A (1000) and B (1500) are old enough to accept each other, but B and
	// C (1490, new) are closer: B pairs with C, A waits.
	md := duelMode()
	a := &ticket{seq: 1, mode: md, players: []Player{{ID: "a"}}, rating: 1000, enqueued: epoch}
	b := &ticket{seq: 2, mode: md, players: []Player{{ID: "b"}}, rating: 1500, enqueued: epoch}
	c := &ticket{seq: 3, mode: md, players: []Player{{ID: "c"}}, rating: 1490, enqueued: epoch.Add(10 * time.Second)}
	gs := formGroups(md, []*ticket{a, b, c}, epoch.Add(10*time.Second))
	if len(gs) != 1 || !slices.Equal(gs[0].tickets, []*ticket{b, c}) {
		t.Fatalf("groups %v", gs)
	}
}

func TestUnratedGroupsSkipPartiesThatDoNotFit(t *testing.T) {
	md := Mode{Name: "m", MinPlayers: 2, MaxPlayers: 8, FillWait: time.Second}.withDefaults()
	mk := func(seq uint64, n int) *ticket {
		ps := make([]Player, n)
		return &ticket{seq: seq, mode: md, players: ps, enqueued: epoch}
	}
	t5, t4a, t4b := mk(1, 5), mk(2, 4), mk(3, 4)
	gs := formGroups(md, []*ticket{t5, t4a, t4b}, epoch)
	if len(gs) != 1 || !slices.Equal(gs[0].tickets, []*ticket{t4a, t4b}) {
		t.Fatalf("groups %+v, want the two fours", gs)
	}
	// Once FillWait (0 here) allows partial rooms the five opens too.
	md.FillWait = 0
	if gs := formGroups(md, []*ticket{t5, t4a, t4b}, epoch); len(gs) != 2 {
		t.Fatalf("%d groups, want 2", len(gs))
	}
}

func TestArenaFillWait(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	alloc := &fakeAlloc{}
	m := New(Config{Modes: []Mode{arenaMode()}}, alloc, clock, nil)
	rec := &recorder{}
	mustEnqueue(t, m, solo("arena", "p1", 0), rec)
	passAt(m, clock, 1900*time.Millisecond)
	mustEnqueue(t, m, solo("arena", "p2", 0), rec)
	passAt(m, clock, 0)
	if alloc.count() != 0 {
		t.Fatal("room opened before the oldest ticket waited FillWait")
	}
	passAt(m, clock, 100*time.Millisecond)
	if found := rec.found(t); len(found) != 2 || found["p1"] != found["p2"] {
		t.Fatalf("after FillWait: %v", found)
	}
}

func TestPartyTicketLandsTogether(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	alloc := &fakeAlloc{}
	m := New(Config{Modes: []Mode{arenaMode()}}, alloc, clock, nil)
	rec := &recorder{}
	mustEnqueue(t, m, solo("arena", "s1", 0), rec)
	party := Ticket{Mode: "arena", Players: []Player{{ID: "a"}, {ID: "b"}, {ID: "c"}}}
	mustEnqueue(t, m, party, rec)
	for i := range 3 {
		mustEnqueue(t, m, solo("arena", fmt.Sprint("s", i+2), 0), rec)
	}
	if _, err := m.Enqueue(solo("arena", "b", 0), rec.notify); !errors.Is(err, ErrAlreadyQueued) {
		t.Fatalf("party member queued twice: %v", err)
	}
	passAt(m, clock, 100*time.Millisecond)
	if alloc.count() != 0 {
		t.Fatal("a room of 7 opened before FillWait")
	}
	mustEnqueue(t, m, solo("arena", "s6", 0), rec)
	passAt(m, clock, 100*time.Millisecond)
	found := rec.found(t)
	if len(found) != 8 || found["a"] != found["b"] || found["b"] != found["c"] || found["a"] != found["s6"] {
		t.Fatalf("found %v", found)
	}
	for _, p := range []string{"a", "b", "c"} {
		if us := rec.of(p); len(us) != 2 || us[0].State != Searching || us[1].State != Found {
			t.Fatalf("party member %s got %+v", p, us)
		}
	}
}

func TestCancelAndTimeout(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	md := duelMode()
	md.Timeout = 5 * time.Second
	m := New(Config{Modes: []Mode{md}}, &fakeAlloc{}, clock, nil)
	rec := &recorder{}
	mustEnqueue(t, m, solo("duel", "lone", 1000), rec)
	mustEnqueue(t, m, solo("duel", "quitter", 3000), rec)
	if !m.Cancel("quitter") {
		t.Fatal("cancel of a queued player failed")
	}
	if m.Cancel("quitter") || m.Cancel("nobody") {
		t.Fatal("cancel of a player not queued succeeded")
	}
	if u, _ := rec.last("quitter"); u.State != Cancelled || u.QueueSize != 1 {
		t.Fatalf("quitter got %+v", u)
	}
	for clock.Now().Sub(epoch) < 4900*time.Millisecond {
		passAt(m, clock, 100*time.Millisecond)
	}
	if u, _ := rec.last("lone"); u.State != Searching {
		t.Fatalf("timed out early: %+v", u)
	}
	passAt(m, clock, 100*time.Millisecond)
	u, _ := rec.last("lone")
	if u.State != TimedOut || u.Elapsed != 5*time.Second || u.Reason == "" || u.QueueSize != 0 {
		t.Fatalf("lone got %+v, want timed out after 5 s", u)
	}
	// Queueing again after a timeout works.
	mustEnqueue(t, m, solo("duel", "lone", 1000), rec)
}

func TestRunSendsStatusAndTimesOut(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	md := duelMode()
	md.Timeout = 3 * time.Second
	m := New(Config{Modes: []Mode{md}}, &fakeAlloc{}, clock, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()

	rec := &recorder{}
	mustEnqueue(t, m, solo("duel", "a", 1000), rec)
	step := func() {
		waitTimer(t, clock)
		clock.Advance(100 * time.Millisecond)
		waitTimer(t, clock) // Run has handled the tick and sleeps again
	}
	for range 15 {
		step()
	}
	mustEnqueue(t, m, solo("duel", "b", 2000), rec) // at 1.5 s
	for range 15 {
		step()
	}
	var elapsed []time.Duration
	var sizes []int
	for _, u := range rec.of("a") {
		if u.State == Searching {
			elapsed = append(elapsed, u.Elapsed)
			sizes = append(sizes, u.QueueSize)
		}
	}
	// a: queued at 0, status at 1 s and 2 s, timed out at 3 s.
	if want := []time.Duration{0, time.Second, 2 * time.Second}; !slices.Equal(elapsed, want) {
		t.Fatalf("searching elapsed %v, want %v", elapsed, want)
	}
	if !slices.Equal(sizes, []int{1, 1, 2}) {
		t.Fatalf("queue sizes %v, want [1 1 2]", sizes)
	}
	if u, _ := rec.last("a"); u.State != TimedOut {
		t.Fatalf("a: %+v, want timed out at 3 s", u)
	}
	// b: queued at 1.5 s, status at 2 s and 3 s (after a timed out).
	if us := rec.of("b"); len(us) != 3 || us[1].Window != 100+50*0.5 || us[1].Elapsed != 500*time.Millisecond || us[2].QueueSize != 1 {
		t.Fatalf("b: %+v", us)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Run failed the remaining ticket and refuses new ones.
	if u, _ := rec.last("b"); u.State != Failed || u.Reason != DrainReason {
		t.Fatalf("b after Run: %+v", u)
	}
	if _, err := m.Enqueue(solo("duel", "c", 0), nil); !errors.Is(err, ErrDraining) {
		t.Fatalf("enqueue after Run: %v", err)
	}
}

func TestStopFailsQueuedAndRefusesNew(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	m := New(Config{}, &fakeAlloc{}, clock, nil)
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }()
	rec := &recorder{}
	mustEnqueue(t, m, solo("duel", "a", 1000), rec)
	mustEnqueue(t, m, Ticket{Mode: "arena", Players: []Player{{ID: "b"}, {ID: "c"}}}, rec)
	m.Stop()
	m.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Stop")
	}
	for _, p := range []string{"a", "b", "c"} {
		if u, _ := rec.last(p); u.State != Failed || u.Reason != DrainReason {
			t.Fatalf("%s: %+v", p, u)
		}
	}
	if _, err := m.Enqueue(solo("duel", "d", 0), nil); !errors.Is(err, ErrDraining) {
		t.Fatalf("enqueue after Stop: %v", err)
	}
	if q := m.QueueSizes(); q["duel"]+q["arena"] != 0 {
		t.Fatalf("queues after stop %v", q)
	}
}

func TestEnqueueErrors(t *testing.T) {
	m := New(Config{}, &fakeAlloc{}, game.NewFakeClock(epoch), nil)
	cases := []struct {
		tk   Ticket
		want error
	}{
		{solo("chess", "a", 0), ErrUnknownMode},
		{Ticket{Mode: "arena"}, ErrBadTicket},
		{Ticket{Mode: "duel", Players: []Player{{ID: "a"}, {ID: "b"}, {ID: "c"}}}, ErrBadTicket},
		{Ticket{Mode: "arena", Players: []Player{{ID: "a"}, {ID: "a"}}}, ErrBadTicket},
		{Ticket{Mode: "arena", Players: []Player{{ID: ""}}}, ErrBadTicket},
	}
	for _, c := range cases {
		if _, err := m.Enqueue(c.tk, nil); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.tk, err, c.want)
		}
	}
	if _, err := m.Enqueue(solo("arena", "x", 0), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Enqueue(solo("duel", "x", 0), nil); !errors.Is(err, ErrAlreadyQueued) {
		t.Fatalf("second ticket: %v", err)
	}
}

func TestNoCapacityKeepsTicketsQueued(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	alloc := &fakeAlloc{maxRooms: 1}
	m := New(Config{}, alloc, clock, nil)
	rec := &recorder{}
	for i, r := range []float64{1000, 1001, 1002, 1003} {
		mustEnqueue(t, m, solo("duel", fmt.Sprint("p", i), r), rec)
	}
	passAt(m, clock, 100*time.Millisecond)
	if n := len(rec.found(t)); n != 2 {
		t.Fatalf("%d found, want 2", n)
	}
	if q := m.QueueSizes()["duel"]; q != 2 {
		t.Fatalf("queue %d, want 2", q)
	}
	alloc.mu.Lock()
	alloc.maxRooms = 2
	alloc.mu.Unlock()
	passAt(m, clock, 100*time.Millisecond)
	if n := len(rec.found(t)); n != 4 {
		t.Fatalf("%d found, want 4", n)
	}
}

func TestEloTwoPlayers(t *testing.T) {
	m := New(Config{}, &fakeAlloc{}, game.NewFakeClock(epoch), nil)
	m.ReportResult("duel", [][]string{{"w"}, {"l"}})
	w, l := m.Rating("w"), m.Rating("l")
	if w != 1516 || l != 1484 {
		t.Fatalf("equal players: winner %v loser %v, want 1516 and 1484", w, l)
	}
	m.ReportResult("duel", [][]string{{"w"}, {"l"}})
	w2, l2 := m.Rating("w"), m.Rating("l")
	if w2 <= w || l2 >= l || w2-w >= 16 {
		t.Fatalf("second win: %v→%v, %v→%v", w, w2, l, l2)
	}
	if sum := w2 + l2; sum < 3000-1e-9 || sum > 3000+1e-9 {
		t.Fatalf("sum %v, want 3000", sum)
	}
	// Unrated modes leave ratings alone.
	m.ReportResult("arena", [][]string{{"l"}, {"w"}})
	if m.Rating("w") != w2 {
		t.Fatal("arena result changed a rating")
	}
	// A tie between equals changes nothing; a multi-player result conserves the sum.
	m.ReportResult("duel", [][]string{{"x", "y"}})
	if m.Rating("x") != DefaultRating {
		t.Fatal("tie between equals changed a rating")
	}
	m.ReportResult("duel", [][]string{{"a"}, {"b", "c"}, {"d"}})
	sum := m.Rating("a") + m.Rating("b") + m.Rating("c") + m.Rating("d")
	if sum < 6000-1e-9 || sum > 6000+1e-9 || m.Rating("a") <= 1500 || m.Rating("d") >= 1500 || m.Rating("b") != m.Rating("c") {
		t.Fatalf("four players: a %v b %v c %v d %v", m.Rating("a"), m.Rating("b"), m.Rating("c"), m.Rating("d"))
	}
}

func TestEnqueueUsesStoredRating(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	m := New(Config{}, &fakeAlloc{}, clock, nil)
	for range 20 {
		m.ReportResult("duel", [][]string{{"strong"}, {"weak"}})
	}
	rec := &recorder{}
	mustEnqueue(t, m, solo("duel", "strong", 0), rec)
	mustEnqueue(t, m, solo("duel", "weak", 0), rec)
	passAt(m, clock, 100*time.Millisecond)
	if n := len(rec.found(t)); n != 0 {
		t.Fatalf("players %v apart matched at once", m.Rating("strong")-m.Rating("weak"))
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Searching: "searching", Found: "found", Cancelled: "cancelled", TimedOut: "timed_out", Failed: "failed", 0: "unspecified", 99: "unknown"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", int(s), s.String(), want)
		}
	}
}

func TestModeValidate(t *testing.T) {
	for _, md := range DefaultModes() {
		if err := md.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	bad := []Mode{{}, {Name: "x"}, {Name: "x", MaxPlayers: 2, MinPlayers: 3}, {Name: "x", MaxPlayers: 2, Rated: true, Window: -1}}
	for _, md := range bad {
		if md.Validate() == nil {
			t.Errorf("%+v validated", md)
		}
	}
	duel := duelMode()
	if w := duel.window(time.Hour); w != 1000 {
		t.Fatalf("window capped at %v, want 1000", w)
	}
}
