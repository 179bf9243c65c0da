package matchmaking

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/arbiter-gg/arbiter/game"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// tinyGame is the smallest game.Game: one entity per seat, nothing moves.
// It is over once over is set.
type tinyGame struct {
	seats map[game.Seat]bool // room goroutine only
	over  atomic.Bool
}

func (g *tinyGame) Join(s game.Seat) uint32     { g.seats[s] = true; return uint32(s) + 1 }
func (g *tinyGame) Leave(s game.Seat)           { delete(g.seats, s) }
func (g *tinyGame) Apply(game.Seat, game.Input) {}
func (g *tinyGame) Step(_ uint32, ev []game.Event) []game.Event {
	return ev
}
func (g *tinyGame) AppendEntities(dst []game.Entity) []game.Entity {
	for s := range game.Seat(game.MaxSeats) {
		if g.seats[s] {
			dst = append(dst, game.Entity{ID: uint32(s) + 1})
		}
	}
	return dst
}
func (g *tinyGame) Info() game.Info { return game.Info{Map: "tiny"} }
func (g *tinyGame) Over() bool      { return g.over.Load() }

func newTinyGame(Mode, string) (game.Game, game.Config, error) {
	return &tinyGame{seats: map[game.Seat]bool{}}, game.Config{TickRate: 10}, nil
}

// recorder collects updates from any goroutine.
type recorder struct {
	mu  sync.Mutex
	ups []Update
}

func (r *recorder) notify(u Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ups = append(r.ups, u)
}

func (r *recorder) all() []Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ups)
}

// of returns the updates for one player.
func (r *recorder) of(player string) []Update {
	var out []Update
	for _, u := range r.all() {
		if u.PlayerID == player {
			out = append(out, u)
		}
	}
	return out
}

// last returns the newest update for player.
func (r *recorder) last(player string) (Update, bool) {
	us := r.of(player)
	if len(us) == 0 {
		return Update{}, false
	}
	return us[len(us)-1], true
}

// found returns room id per player for every Found update, failing on a
// player found twice.
func (r *recorder) found(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, u := range r.all() {
		if u.State != Found {
			continue
		}
		if _, dup := out[u.PlayerID]; dup {
			t.Fatalf("player %s found twice", u.PlayerID)
		}
		if u.RoomID == "" {
			t.Fatalf("Found without room for %s", u.PlayerID)
		}
		out[u.PlayerID] = u.RoomID
	}
	return out
}

// byRoom inverts a player→room map.
func byRoom(found map[string]string) map[string][]string {
	out := map[string][]string{}
	for p, r := range found {
		out[r] = append(out[r], p)
	}
	for _, ps := range out {
		slices.Sort(ps)
	}
	return out
}

// fakeAlloc is an Allocator without real rooms, for matching-logic tests.
type fakeAlloc struct {
	mu       sync.Mutex
	maxRooms int // 0 = unlimited
	rooms    []*fakeRoom
}

type fakeRoom struct {
	id, mode string
	seats    int
	mu       sync.Mutex
	reserved []string
}

func (a *fakeAlloc) Allocate(_ context.Context, mode Mode) (Room, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.maxRooms > 0 && len(a.rooms) >= a.maxRooms {
		return nil, ErrNoCapacity
	}
	r := &fakeRoom{id: fmt.Sprintf("room-%d", len(a.rooms)+1), mode: mode.Name, seats: mode.MaxPlayers}
	a.rooms = append(a.rooms, r)
	return r, nil
}

func (a *fakeAlloc) Rooms(mode string) []Room {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Room
	for _, r := range a.rooms {
		if r.mode == mode && r.FreeSeats() > 0 {
			out = append(out, r)
		}
	}
	return out
}

func (a *fakeAlloc) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.rooms)
}

func (r *fakeRoom) ID() string   { return r.id }
func (r *fakeRoom) Mode() string { return r.mode }
func (r *fakeRoom) FreeSeats() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seats - len(r.reserved)
}
func (r *fakeRoom) Reserve(ids []string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seats-len(r.reserved) < len(ids) {
		return false
	}
	r.reserved = append(r.reserved, ids...)
	return true
}

// solo is a one-player ticket.
func solo(mode, id string, rating float64) Ticket {
	return Ticket{Mode: mode, Players: []Player{{ID: id, Name: "name-" + id, Rating: rating}}}
}

func mustEnqueue(t *testing.T, m *Matchmaker, tk Ticket, rec *recorder) string {
	t.Helper()
	id, err := m.Enqueue(tk, rec.notify)
	if err != nil {
		t.Fatalf("enqueue %v: %v", tk.Players, err)
	}
	return id
}

// passAt advances the clock by d and runs one matching pass, as the Run
// goroutine would.
func passAt(m *Matchmaker, clock *game.FakeClock, d time.Duration) {
	clock.Advance(d)
	m.pass(context.Background(), clock.Now())
}

// eventually polls cond until it holds or 5 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitTimer waits until some goroutine sleeps on the fake clock.
func waitTimer(t *testing.T, clock *game.FakeClock) {
	t.Helper()
	select {
	case <-clock.WaitForTimer():
	case <-time.After(5 * time.Second):
		t.Fatal("nobody is waiting on the fake clock")
	}
}
