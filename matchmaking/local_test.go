package matchmaking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

func newLocal(t *testing.T, cfg LocalConfig, clock game.Clock) *LocalAllocator {
	t.Helper()
	if cfg.NewGame == nil {
		cfg.NewGame = newTinyGame
	}
	a := NewLocal(cfg, clock, nil)
	t.Cleanup(a.Close)
	return a
}

// pairMode is an unrated two-seat mode without backfill or fill wait.
var pairMode = Mode{Name: "pair", MinPlayers: 2, MaxPlayers: 2}

func TestArenaSixteenTicketsTwoRoomsOfEight(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	alloc := newLocal(t, LocalConfig{}, clock)
	m := New(Config{Modes: []Mode{arenaMode()}}, alloc, clock, nil)
	rec := &recorder{}
	// One ticket every 300 ms, a pass every 100 ms: the first room opens
	// with 7 players when the oldest has waited FillWait (2 s), the 8th is
	// backfilled into it, and the same again for the second room.
	queued := 0
	sawPartial := false
	for step := 0; step < 100 && len(rec.found(t)) < 16; step++ {
		if step%3 == 0 && queued < 16 {
			mustEnqueue(t, m, solo("arena", fmt.Sprintf("p%02d", queued), 0), rec)
			queued++
		}
		passAt(m, clock, 100*time.Millisecond)
		if rs := alloc.Rooms("arena"); len(rs) == 1 && rs[0].FreeSeats() == 1 {
			sawPartial = true
		}
	}
	rooms := byRoom(rec.found(t))
	if len(rooms) != 2 {
		t.Fatalf("players in %d rooms, want 2: %v", len(rooms), rooms)
	}
	for id, ps := range rooms {
		if len(ps) != 8 {
			t.Errorf("room %s has %d players, want 8", id, len(ps))
		}
		if r, ok := alloc.Room(id); !ok || r.Config().MaxPlayers != 8 {
			t.Errorf("room %s not running with 8 seats", id)
		}
	}
	if n := len(alloc.All()); n != 2 {
		t.Fatalf("allocator runs %d rooms, want 2", n)
	}
	if rs := alloc.Rooms("arena"); len(rs) != 0 {
		t.Fatalf("full rooms listed for backfill: %d", len(rs))
	}
	if !sawPartial {
		t.Fatal("never saw a room of 7 waiting for backfill")
	}
}

func TestSixteenAtOnce(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	alloc := newLocal(t, LocalConfig{}, clock)
	m := New(Config{Modes: []Mode{arenaMode()}}, alloc, clock, nil)
	rec := &recorder{}
	for i := range 16 {
		mustEnqueue(t, m, solo("arena", fmt.Sprint("p", i), 0), rec)
	}
	passAt(m, clock, 100*time.Millisecond)
	rooms := byRoom(rec.found(t))
	if len(rooms) != 2 {
		t.Fatalf("%d rooms: %v", len(rooms), rooms)
	}
	for _, ps := range rooms {
		if len(ps) != 8 {
			t.Fatalf("rooms %v", rooms)
		}
	}
}

func TestPartyTooBigForFreeSeatsWaitsForNewRoom(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	alloc := newLocal(t, LocalConfig{}, clock)
	m := New(Config{Modes: []Mode{arenaMode()}}, alloc, clock, nil)
	rec := &recorder{}
	for i := range 6 {
		mustEnqueue(t, m, solo("arena", fmt.Sprint("s", i), 0), rec)
	}
	passAt(m, clock, 2*time.Second) // a room of 6 opens after FillWait
	first := byRoom(rec.found(t))
	if len(first) != 1 {
		t.Fatalf("rooms %v", first)
	}
	party := Ticket{Mode: "arena", Players: []Player{{ID: "a"}, {ID: "b"}, {ID: "c"}}}
	mustEnqueue(t, m, party, rec)
	mustEnqueue(t, m, solo("arena", "late", 0), rec)
	passAt(m, clock, 100*time.Millisecond)
	found := rec.found(t)
	if len(found) != 7 || found["late"] != found["s0"] {
		t.Fatalf("late solo not backfilled: %v", found)
	}
	if _, ok := found["a"]; ok {
		t.Fatal("party of 3 placed in a room with 1 free seat")
	}
	passAt(m, clock, 1800*time.Millisecond) // party has waited 1.9 s
	if len(rec.found(t)) != 7 {
		t.Fatal("party placed before FillWait")
	}
	passAt(m, clock, 100*time.Millisecond)
	found = rec.found(t)
	if len(found) != 10 || found["a"] != found["b"] || found["b"] != found["c"] || found["a"] == found["s0"] {
		t.Fatalf("party not together in a new room: %v", found)
	}
}

func TestMaxRoomsQueuesUntilARoomEnds(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	alloc := newLocal(t, LocalConfig{MaxRooms: 1}, clock)
	var mu sync.Mutex
	var ended []string
	alloc.OnRoomEnd(func(r *game.Room, mode string) {
		mu.Lock()
		defer mu.Unlock()
		reason, _ := r.CloseReason()
		ended = append(ended, mode+"/"+reason.String())
	})
	m := New(Config{Modes: []Mode{pairMode}}, alloc, clock, nil)
	rec := &recorder{}
	for i := range 4 {
		mustEnqueue(t, m, solo("pair", fmt.Sprint("p", i), 0), rec)
	}
	passAt(m, clock, 100*time.Millisecond)
	passAt(m, clock, 100*time.Millisecond)
	found := rec.found(t)
	if len(found) != 2 || found["p0"] != found["p1"] {
		t.Fatalf("found %v, want p0 and p1 in one room", found)
	}
	if q := m.QueueSizes()["pair"]; q != 2 {
		t.Fatalf("queue %d, want 2 waiting for capacity", q)
	}
	if _, err := alloc.Allocate(context.Background(), pairMode); !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("second room: %v", err)
	}

	r, ok := alloc.Room(found["p0"])
	if !ok {
		t.Fatal("room not listed")
	}
	r.Close(arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_ROUND_OVER)
	eventually(t, "the room to end and leave the list", func() bool {
		clock.Advance(100 * time.Millisecond)
		return len(alloc.All()) == 0
	})
	if err := alloc.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if !slices.Equal(ended, []string{"pair/ROOM_CLOSE_REASON_ROUND_OVER"}) {
		t.Fatalf("OnRoomEnd got %v", ended)
	}
	mu.Unlock()

	passAt(m, clock, 100*time.Millisecond)
	found = rec.found(t)
	if len(found) != 4 || found["p2"] != found["p3"] || found["p2"] == found["p0"] {
		t.Fatalf("second pair: %v", found)
	}
}

// join seats player in r, advancing the fake clock until the room answers.
func join(t *testing.T, clock *game.FakeClock, r *game.Room, player string) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := r.Join(context.Background(), player, "name-"+player)
		errc <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case err := <-errc:
			if err != nil {
				t.Fatal(err)
			}
			// Join answers before the tick publishes its frame.
			eventually(t, player+" in the roster", func() bool {
				f := r.Latest()
				return f != nil && slices.ContainsFunc(f.Roster().Players, func(e game.RosterEntry) bool { return e.PlayerID == player })
			})
			return
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("join never answered")
		}
		clock.Advance(100 * time.Millisecond)
	}
}

func TestLocalReservations(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	alloc := newLocal(t, LocalConfig{MaxPlayers: 5, ReserveTTL: 10 * time.Second}, clock)
	quad := Mode{Name: "quad", MinPlayers: 2, MaxPlayers: 4}
	ctx := context.Background()

	r1, err := alloc.Allocate(ctx, quad)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Mode() != "quad" || r1.FreeSeats() != 4 {
		t.Fatalf("new room: mode %q, %d free", r1.Mode(), r1.FreeSeats())
	}
	if !r1.Reserve([]string{"a", "b", "c"}) || r1.FreeSeats() != 1 {
		t.Fatalf("after reserving 3: %d free", r1.FreeSeats())
	}
	if r1.Reserve([]string{"d", "e"}) || r1.FreeSeats() != 1 {
		t.Fatal("reserved 2 seats of 1 (must be all or nothing)")
	}
	if !r1.Reserve([]string{"a"}) || r1.FreeSeats() != 1 {
		t.Fatal("re-reserving a reserved player took a seat")
	}

	// MaxPlayers counts across rooms.
	r2, err := alloc.Allocate(ctx, quad)
	if err != nil {
		t.Fatal(err)
	}
	if f := r2.FreeSeats(); f != 2 {
		t.Fatalf("second room: %d free, want 2 (5 allowed, 3 reserved)", f)
	}
	if r2.Reserve([]string{"x", "y", "z"}) || !r2.Reserve([]string{"x", "y"}) {
		t.Fatal("global limit not applied")
	}
	if _, err := alloc.Allocate(ctx, quad); !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("allocate with every seat taken: %v", err)
	}
	if rs := alloc.Rooms("quad"); len(rs) != 0 {
		t.Fatalf("%d rooms listed with no seat left", len(rs))
	}

	// A reserved player who sits down keeps exactly one seat.
	g1, _ := alloc.Room(r1.ID())
	join(t, clock, g1, "a")
	if f := r1.FreeSeats(); f != 0 {
		t.Fatalf("after a sat down: %d free, want 0", f)
	}

	// Reservations lapse after ReserveTTL; seated players stay.
	clock.Advance(10 * time.Second)
	if f := r1.FreeSeats(); f != 3 {
		t.Fatalf("after TTL: room 1 has %d free, want 3", f)
	}
	if f := r2.FreeSeats(); f != 4 {
		t.Fatalf("after TTL: room 2 has %d free, want 4", f)
	}
	if !r1.Reserve([]string{"b", "c", "d"}) {
		t.Fatal("reserve after TTL")
	}
	rs := alloc.Rooms("quad")
	if len(rs) != 1 || rs[0].ID() != r2.ID() || len(alloc.Rooms("other")) != 0 {
		t.Fatalf("Rooms lists %d rooms, want only room 2", len(rs))
	}

	// Drain: no new rooms, running ones go on.
	alloc.Drain()
	if _, err := alloc.Allocate(ctx, quad); !errors.Is(err, ErrNoCapacity) || !errors.Is(err, ErrDraining) {
		t.Fatalf("allocate while draining: %v", err)
	}
	if alloc.Rooms("quad") != nil {
		t.Fatal("rooms offered for backfill while draining")
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := alloc.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait with rooms running: %v", err)
	}
	alloc.Close()
	for _, r := range []Room{r1, r2} {
		g, ok := alloc.Room(r.ID())
		if ok {
			t.Fatalf("room %s still listed after Close", g.ID())
		}
		if r.FreeSeats() != 0 || r.Reserve([]string{"q"}) {
			t.Fatal("ended room offers seats")
		}
	}
	if err := alloc.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := alloc.Allocate(ctx, quad); !errors.Is(err, ErrDraining) {
		t.Fatalf("allocate after close: %v", err)
	}
}

func TestCloseEndsRoomsWithDrain(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	alloc := newLocal(t, LocalConfig{}, clock)
	var rooms []*game.Room
	for range 3 {
		if _, err := alloc.Allocate(context.Background(), pairMode); err != nil {
			t.Fatal(err)
		}
	}
	rooms = alloc.All()
	alloc.Close()
	alloc.Close()
	for _, r := range rooms {
		select {
		case <-r.Done():
		default:
			t.Fatal("room still running after Close")
		}
		if reason, _ := r.CloseReason(); reason != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_DRAIN {
			t.Fatalf("reason %v, want DRAIN", reason)
		}
	}
}

func TestNewGameErrors(t *testing.T) {
	alloc := newLocal(t, LocalConfig{NewGame: func(Mode, string) (game.Game, game.Config, error) {
		return nil, game.Config{}, errors.New("no such map")
	}}, game.NewFakeClock(epoch))
	if _, err := alloc.Allocate(context.Background(), pairMode); err == nil || errors.Is(err, ErrNoCapacity) {
		t.Fatalf("allocate with a failing NewGame: %v", err)
	}
	if len(alloc.All()) != 0 {
		t.Fatal("failed room listed")
	}
}

// TestEndToEndRealClock runs the matchmaker goroutine and real rooms on the
// system clock with short intervals.
func TestEndToEndRealClock(t *testing.T) {
	alloc := newLocal(t, LocalConfig{}, nil)
	m := New(Config{PassInterval: 5 * time.Millisecond, StatusInterval: 20 * time.Millisecond}, alloc, nil, nil)
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }()
	rec := &recorder{}
	for i, r := range []float64{1200, 1210, 1800, 1790} {
		mustEnqueue(t, m, solo("duel", fmt.Sprint("d", i), r), rec)
	}
	eventually(t, "both duels to be found", func() bool { return len(rec.found(t)) == 4 })
	found := rec.found(t)
	if found["d0"] != found["d1"] || found["d2"] != found["d3"] || found["d0"] == found["d2"] {
		t.Fatalf("pairs %v", found)
	}
	r, ok := alloc.Room(found["d0"])
	if !ok {
		t.Fatal("room missing")
	}
	if _, err := r.Join(context.Background(), "d0", "D0"); err != nil {
		t.Fatal(err)
	}
	m.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	alloc.Drain()
	alloc.Close()
}

// TestConcurrentEnqueueCancel queues and cancels from many goroutines while
// the matchmaker runs: every player ends with exactly one final update, and
// nothing follows it.
func TestConcurrentEnqueueCancel(t *testing.T) {
	alloc := newLocal(t, LocalConfig{}, nil)
	arena := arenaMode()
	arena.FillWait = 10 * time.Millisecond
	m := New(Config{Modes: []Mode{arena, duelMode()}, PassInterval: time.Millisecond, StatusInterval: 2 * time.Millisecond}, alloc, nil, nil)
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }()
	rec := &recorder{}
	var wg sync.WaitGroup
	const n = 64
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("c", i)
			mode := "arena"
			if i%2 == 0 {
				mode = "duel"
			}
			if _, err := m.Enqueue(solo(mode, id, 1500+float64(i)), rec.notify); err != nil {
				t.Error(err)
				return
			}
			if i%3 == 0 {
				m.Cancel(id)
			}
		}()
	}
	wg.Wait()
	eventually(t, "every ticket to be settled", func() bool {
		q := m.QueueSizes()
		return q["arena"] <= 1 && q["duel"] <= 1 // an odd one out may wait
	})
	m.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := range n {
		us := rec.of(fmt.Sprint("c", i))
		if len(us) == 0 || us[0].State != Searching {
			t.Fatalf("c%d: %+v", i, us)
		}
		finals := 0
		for k, u := range us {
			if u.State != Searching {
				finals++
				if k != len(us)-1 {
					t.Fatalf("c%d: update after final: %+v", i, us)
				}
			}
		}
		if finals != 1 {
			t.Fatalf("c%d: %d final updates: %+v", i, finals, us)
		}
	}
}

// A player who took a reserved seat and left frees it at once, not when the
// reservation would have lapsed.
func TestClaimedReservationFreesOnLeave(t *testing.T) {
	clock := game.NewFakeClock(epoch)
	alloc := newLocal(t, LocalConfig{ReserveTTL: 30 * time.Second}, clock)
	r, err := alloc.Allocate(context.Background(), pairMode)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Reserve([]string{"p"}) || r.FreeSeats() != 1 {
		t.Fatalf("after reserving: %d free", r.FreeSeats())
	}
	// p joins (the gateway reports the claim) and leaves before any pass
	// looked at the roster.
	alloc.Claimed(r.ID(), "p")
	if f := r.FreeSeats(); f != 2 {
		t.Fatalf("after the claim and leave: %d free, want 2", f)
	}
}
