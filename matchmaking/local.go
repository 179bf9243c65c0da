package matchmaking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/arbiter-gg/arbiter/game"
)

// DefaultReserveTTL is how long a seat reservation lasts by default.
const DefaultReserveTTL = 30 * time.Second

// LocalConfig configures a LocalAllocator.
type LocalConfig struct {
	// MaxRooms caps the rooms running at once; 0 means unlimited.
	MaxRooms int
	// MaxPlayers caps the seats taken across all rooms, occupied or
	// reserved; 0 means unlimited.
	MaxPlayers int
	// ReserveTTL is how long a reserved seat waits for its player
	// (default 30 s).
	ReserveTTL time.Duration
	// NewGame builds the game and room configuration for a new room of a
	// mode. A zero Config.MaxPlayers becomes the mode's MaxPlayers. It is
	// called from Allocate's goroutine without the allocator's lock.
	NewGame func(mode Mode, roomID string) (game.Game, game.Config, error)
	// Observer is passed to every room; nil ignores measurements.
	Observer game.Observer
}

// LocalAllocator runs rooms in this process: each room gets a goroutine
// running game.Room.Run under the allocator's context, and Close cancels
// that context and waits for every one of them.
//
// It is safe for concurrent use. One mutex, mu, guards the room list, the
// seat reservations of every room, and the draining and closed flags;
// nothing slow runs under it (rooms are read through their lock-free
// Latest frame and Done channel).
type LocalAllocator struct {
	// Immutable after NewLocal.
	cfg    LocalConfig
	clock  game.Clock
	log    *slog.Logger
	ctx    context.Context // parent of every room's Run; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // one per room goroutine

	mu       sync.Mutex // guards everything below and localRoom.reserved
	rooms    []*localRoom
	starting int // Allocate calls between the capacity check and the start
	running  int // room goroutines that have not finished
	draining bool
	closed   bool
	onEnd    []func(*game.Room, string)
	onStart  []func(*game.Room, string)
	changed  chan struct{} // closed and replaced whenever running drops
}

// localRoom is a room of a LocalAllocator; it implements Room.
type localRoom struct {
	a       *LocalAllocator
	room    *game.Room
	mode    string
	mapName string
	seats   int
	// reserved maps a player to when the reservation lapses; guarded by
	// a.mu.
	reserved map[string]time.Time
}

// NewLocal returns an allocator that runs rooms in this process on clock,
// logging to log. clock and log may be nil (system clock, discarding
// logger).
func NewLocal(cfg LocalConfig, clock game.Clock, log *slog.Logger) *LocalAllocator {
	if cfg.ReserveTTL <= 0 {
		cfg.ReserveTTL = DefaultReserveTTL
	}
	if clock == nil {
		clock = game.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &LocalAllocator{cfg: cfg, clock: clock, log: log, ctx: ctx, cancel: cancel, changed: make(chan struct{})}
}

// errRefused is what Allocate returns while draining or closed: it matches
// both ErrNoCapacity and ErrDraining.
var errRefused = fmt.Errorf("%w: %w", ErrNoCapacity, ErrDraining)

// Allocate starts a new room for mode and returns it. It fails with an error
// matching ErrNoCapacity when MaxRooms rooms run, when fewer than the
// mode's MinPlayers seats are left under MaxPlayers, or (also matching
// ErrDraining) after Drain or Close.
func (a *LocalAllocator) Allocate(ctx context.Context, mode Mode) (Room, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if a.cfg.NewGame == nil {
		return nil, errors.New("matchmaking: LocalConfig.NewGame is nil")
	}
	now := a.clock.Now()
	a.mu.Lock()
	if err := a.capacityLocked(mode, now); err != nil {
		a.mu.Unlock()
		return nil, err
	}
	a.starting++
	a.mu.Unlock()

	lr, err := a.build(mode)

	a.mu.Lock()
	defer a.mu.Unlock()
	a.starting--
	if err != nil {
		return nil, err
	}
	if a.draining || a.closed {
		return nil, errRefused
	}
	a.rooms = append(a.rooms, lr)
	a.running++
	a.wg.Add(1)
	go a.run(lr)
	for _, f := range a.onStart {
		f(lr.room, lr.mode)
	}
	return lr, nil
}

// OnRoomStart registers f to be called (on the allocating goroutine, with
// the allocator's lock held: f must only note the event) for every room
// that starts.
func (a *LocalAllocator) OnRoomStart(f func(r *game.Room, mode string)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.onStart = append(a.onStart, f)
}

// MapOf names the map of the running room with the given id, or "".
func (a *LocalAllocator) MapOf(id string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, lr := range a.rooms {
		if lr.room.ID() == id {
			return lr.mapName
		}
	}
	return ""
}

// capacityLocked reports why another room of mode cannot open now. a.mu
// must be held.
func (a *LocalAllocator) capacityLocked(mode Mode, now time.Time) error {
	if a.draining || a.closed {
		return errRefused
	}
	if a.cfg.MaxRooms > 0 && len(a.rooms)+a.starting >= a.cfg.MaxRooms {
		return fmt.Errorf("%w: %d rooms running (max %d)", ErrNoCapacity, len(a.rooms)+a.starting, a.cfg.MaxRooms)
	}
	if a.cfg.MaxPlayers > 0 {
		need := max(mode.withDefaults().MinPlayers, 1)
		if used := a.usedLocked(now); a.cfg.MaxPlayers-used < need {
			return fmt.Errorf("%w: %d of %d seats taken", ErrNoCapacity, used, a.cfg.MaxPlayers)
		}
	}
	return nil
}

// build makes the game and room for a new room of mode.
func (a *LocalAllocator) build(mode Mode) (*localRoom, error) {
	id := uuid.NewString()
	g, cfg, err := a.cfg.NewGame(mode, id)
	if err != nil {
		return nil, fmt.Errorf("matchmaking: new %s game: %w", mode.Name, err)
	}
	if cfg.MaxPlayers == 0 {
		cfg.MaxPlayers = mode.MaxPlayers
	}
	r, err := game.New(id, g, cfg, game.Options{Clock: a.clock, Logger: a.log.With("mode", mode.Name), Observer: a.cfg.Observer})
	if err != nil {
		return nil, fmt.Errorf("matchmaking: new %s room: %w", mode.Name, err)
	}
	// Info before Run, while nothing else touches the game.
	return &localRoom{a: a, room: r, mode: mode.Name, mapName: g.Info().Map, seats: r.Config().MaxPlayers, reserved: map[string]time.Time{}}, nil
}

// run is a room's goroutine: it runs the room, takes it off the list, then
// calls the OnRoomEnd callbacks.
func (a *LocalAllocator) run(lr *localRoom) {
	defer a.wg.Done()
	err := lr.room.Run(a.ctx)
	reason, _ := lr.room.CloseReason()
	lvl := slog.LevelInfo
	if err != nil {
		lvl = slog.LevelError
	}
	a.log.Log(context.Background(), lvl, "room finished", "room", lr.room.ID(), "mode", lr.mode, "reason", reason.String(), "error", err)

	a.mu.Lock()
	if i := slices.Index(a.rooms, lr); i >= 0 {
		a.rooms = slices.Delete(a.rooms, i, i+1)
	}
	callbacks := slices.Clone(a.onEnd)
	a.mu.Unlock()

	for _, f := range callbacks {
		f(lr.room, lr.mode)
	}

	a.mu.Lock()
	a.running--
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
}

// Rooms returns the running rooms of mode that have a free seat, oldest
// first. It returns nil after Drain: a draining server takes no new
// players.
func (a *LocalAllocator) Rooms(mode string) []Room {
	now := a.clock.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.draining || a.closed {
		return nil
	}
	a.usedLocked(now) // prune every room once, so the counts below are exact
	var out []Room
	for _, lr := range a.rooms {
		if lr.mode == mode && lr.freeLocked(now) > 0 {
			out = append(out, lr)
		}
	}
	return out
}

// Room returns the running room with the given id (for joining it).
func (a *LocalAllocator) Room(id string) (*game.Room, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, lr := range a.rooms {
		if lr.room.ID() == id {
			return lr.room, true
		}
	}
	return nil, false
}

// Claimed drops player's reservation in room: the player has taken the
// seat (the gateway calls it when a join succeeds), so the seat counts as
// occupied from the roster from now on, and frees as soon as the player
// leaves instead of when the reservation would have lapsed.
func (a *LocalAllocator) Claimed(room, player string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, lr := range a.rooms {
		if lr.room.ID() == room {
			delete(lr.reserved, player)
		}
	}
}

// ModeOf returns the mode of the running room with the given id, or "".
func (a *LocalAllocator) ModeOf(id string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, lr := range a.rooms {
		if lr.room.ID() == id {
			return lr.mode
		}
	}
	return ""
}

// All returns every room that has not been taken off the list yet, oldest
// first.
func (a *LocalAllocator) All() []*game.Room {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*game.Room, len(a.rooms))
	for i, lr := range a.rooms {
		out[i] = lr.room
	}
	return out
}

// OnRoomEnd registers f to be called, from the room's goroutine, after a
// room's Run has returned and the room has left the list; mode is the
// room's mode name. Register callbacks before the first Allocate. f must
// not call Close or Wait (they wait for the goroutine running f).
func (a *LocalAllocator) OnRoomEnd(f func(r *game.Room, mode string)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.onEnd = append(a.onEnd, f)
}

// Drain makes Allocate refuse new rooms (ErrNoCapacity and ErrDraining) and
// Rooms return nothing; running rooms go on. Idempotent.
func (a *LocalAllocator) Drain() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.draining = true
}

// Close drains, cancels every room (they end with reason DRAIN at their
// next tick) and waits for all their goroutines, OnRoomEnd callbacks
// included. Idempotent.
func (a *LocalAllocator) Close() {
	a.mu.Lock()
	a.draining = true
	a.closed = true
	a.mu.Unlock()
	a.cancel()
	a.wg.Wait()
}

// Wait blocks until no room is running (their OnRoomEnd callbacks done) or
// ctx is done, and returns ctx's error in the latter case.
func (a *LocalAllocator) Wait(ctx context.Context) error {
	for {
		a.mu.Lock()
		idle := a.running == 0 && a.starting == 0
		ch := a.changed
		a.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// usedLocked prunes every room's reservations and returns the seats
// occupied or reserved across all rooms. a.mu must be held.
func (a *LocalAllocator) usedLocked(now time.Time) int {
	n := 0
	for _, lr := range a.rooms {
		n += lr.pruneLocked(now)
	}
	return n
}

// countLocked is usedLocked without pruning (see localRoom.countLocked).
// a.mu must be held.
func (a *LocalAllocator) countLocked(now time.Time) int {
	n := 0
	for _, lr := range a.rooms {
		n += lr.countLocked(now)
	}
	return n
}

// ID is the room's id.
func (r *localRoom) ID() string { return r.room.ID() }

// Mode is the room's mode name.
func (r *localRoom) Mode() string { return r.mode }

// FreeSeats is the number of seats neither occupied nor reserved, further
// limited by the allocator's MaxPlayers; 0 once the room has ended.
func (r *localRoom) FreeSeats() int {
	now := r.a.clock.Now()
	r.a.mu.Lock()
	defer r.a.mu.Unlock()
	return r.freeLocked(now)
}

// Reserve reserves a seat for each player not already seated or reserved
// (refreshing existing reservations), all or none.
func (r *localRoom) Reserve(playerIDs []string) bool {
	now := r.a.clock.Now()
	a := r.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.ended() || a.closed {
		return false
	}
	seated := r.seated()
	need := 0
	seen := map[string]bool{}
	for _, id := range playerIDs {
		if seen[id] || seated[id] {
			continue
		}
		seen[id] = true
		if _, ok := r.reserved[id]; !ok {
			need++
		}
	}
	if r.freeLocked(now) < need {
		return false
	}
	until := now.Add(a.cfg.ReserveTTL)
	for id := range seen {
		r.reserved[id] = until
	}
	return true
}

// freeLocked is FreeSeats; a.mu must be held. It prunes this room's
// reservations; the allocator-wide MaxPlayers limit uses the cheap count
// of the other rooms (see countLocked).
func (r *localRoom) freeLocked(now time.Time) int {
	if r.ended() {
		return 0
	}
	free := r.seats - r.pruneLocked(now)
	if limit := r.a.cfg.MaxPlayers; limit > 0 {
		free = min(free, limit-r.a.countLocked(now))
	}
	return max(free, 0)
}

// pruneLocked forgets the room's reservations that lapsed or whose player
// is now seated, and returns the seats occupied or reserved. a.mu must be
// held.
func (r *localRoom) pruneLocked(now time.Time) int {
	if r.ended() {
		return 0
	}
	seated := r.seated()
	for id, until := range r.reserved {
		if seated[id] || !now.Before(until) {
			delete(r.reserved, id)
		}
	}
	return len(seated) + len(r.reserved)
}

// countLocked is the seats occupied or reserved in the room, without the
// cost of reading the roster into a map: a seated player whose reservation
// has not been pruned yet counts twice, which errs on the side of refusing.
// a.mu must be held.
func (r *localRoom) countLocked(now time.Time) int {
	if r.ended() {
		return 0
	}
	n := 0
	for _, until := range r.reserved {
		if now.Before(until) {
			n++
		}
	}
	if f := r.room.Latest(); f != nil && f.Roster() != nil {
		n += len(f.Roster().Players)
	}
	return n
}

// seated returns the players in the room's latest roster.
func (r *localRoom) seated() map[string]bool {
	f := r.room.Latest()
	if f == nil || f.Roster() == nil {
		return nil
	}
	out := make(map[string]bool, len(f.Roster().Players))
	for _, p := range f.Roster().Players {
		out[p.PlayerID] = true
	}
	return out
}

func (r *localRoom) ended() bool {
	select {
	case <-r.room.Done():
		return true
	default:
		return false
	}
}

// Find returns the running room with the given id as the matchmaker sees
// it (for a reservation asked by another node's matchmaker).
func (a *LocalAllocator) Find(id string) (Room, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, lr := range a.rooms {
		if lr.room.ID() == id {
			return lr, true
		}
	}
	return nil, false
}

// OpenRoom is a running room with free seats, as Load lists it.
type OpenRoom struct {
	ID   string `json:"id"`
	Mode string `json:"mode"`
	Free int    `json:"free"`
}

// Load is what the allocator holds now: running rooms, seats taken
// (occupied or reserved) across them, and the rooms that have free seats,
// oldest first (none while draining).
type Load struct {
	Rooms    int
	Seats    int
	Open     []OpenRoom
	Draining bool
}

// Load reports the allocator's load, for a cluster's node registry.
func (a *LocalAllocator) Load() Load {
	now := a.clock.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	l := Load{Rooms: len(a.rooms) + a.starting, Seats: a.usedLocked(now), Draining: a.draining || a.closed}
	if l.Draining {
		return l
	}
	for _, lr := range a.rooms {
		if free := lr.freeLocked(now); free > 0 {
			l.Open = append(l.Open, OpenRoom{ID: lr.room.ID(), Mode: lr.mode, Free: free})
		}
	}
	return l
}
