package matchmaking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/arbiter-gg/arbiter/game"
)

// Errors returned by Enqueue.
var (
	ErrUnknownMode   = errors.New("matchmaking: unknown mode")
	ErrAlreadyQueued = errors.New("matchmaking: player already queued")
	ErrDraining      = errors.New("matchmaking: draining")
	ErrBadTicket     = errors.New("matchmaking: bad ticket")
	// ErrUnavailable: the ticket could not be queued now (in a cluster,
	// the ticket stream did not answer); the player may try again.
	ErrUnavailable = errors.New("matchmaking: unavailable")
)

// DrainReason is the Reason of the Failed update sent to every queued
// player when matchmaking stops.
const DrainReason = "server draining"

// Defaults for Config.
const (
	DefaultPassInterval   = 100 * time.Millisecond
	DefaultStatusInterval = time.Second
)

// Config configures a Matchmaker. Zero fields get defaults.
type Config struct {
	// Modes are the modes players can queue for (default DefaultModes()).
	Modes []Mode
	// PassInterval is how often the matching pass runs (default 100 ms).
	PassInterval time.Duration
	// StatusInterval is how often every queued player gets a Searching
	// update (default 1 s).
	StatusInterval time.Duration
	// Ratings keeps the players' ratings (default: in this process's
	// memory). A cluster shares one store between its nodes.
	Ratings Ratings
}

// Matchmaker queues tickets and places them into rooms.
//
// Ownership: the goroutine that calls Run (the matchmaker goroutine) runs
// every matching pass, status round and timeout; it is the only goroutine
// from which the Matchmaker calls the Allocator and Room.Reserve. Enqueue,
// Cancel, Fail, Stop, QueueSizes, Rating and ReportResult are safe to call
// from any goroutine. The queues are guarded by one mutex (mu); ratings by
// another (ratingMu).
//
// Notifications: each ticket's notify func is called with one Update per
// player of the ticket, from the matchmaker goroutine, or from the goroutine
// calling Enqueue, Cancel, Fail or Stop for the updates those cause. notify
// MUST NOT block and MUST NOT call back into the Matchmaker: deliveries are
// serialised (so every player sees its updates in the order the ticket
// changed, e.g. never Searching after Cancelled), and a slow notify delays
// everyone's updates. The queue lock is never held while notify or the
// Allocator runs.
type Matchmaker struct {
	// Immutable after New.
	modes       []Mode // in Config order
	passEvery   time.Duration
	statusEvery time.Duration
	alloc       Allocator
	clock       game.Clock
	log         *slog.Logger

	mu       sync.Mutex // guards queues (and their tickets' removed), byPlayer, draining, seq
	queues   map[string]*queue
	byPlayer map[string]*ticket // every queued player → its ticket
	draining bool
	seq      uint64

	// sendMu orders deliveries: it is taken while mu is held, then mu is
	// released and the notify funcs run under sendMu alone. Lock order: mu,
	// then sendMu.
	sendMu sync.Mutex

	ratingMu sync.Mutex // serialises ReportResult's read-modify-write of ratings
	ratings  Ratings

	stopOnce sync.Once
	stop     chan struct{} // closed by Stop
	running  atomic.Bool   // Run has been called

	// Owned by the matchmaker goroutine.
	allocErr map[string]string // last allocation error per mode, to log changes only
}

// New returns a Matchmaker for cfg that opens rooms with alloc. clock and
// log may be nil (system clock, discarding logger). It panics if a mode is
// invalid (see Mode.Validate) or two modes share a name: modes are program
// configuration, not user input. Call Run to start matching.
func New(cfg Config, alloc Allocator, clock game.Clock, log *slog.Logger) *Matchmaker {
	if alloc == nil {
		panic("matchmaking: New with a nil Allocator")
	}
	if len(cfg.Modes) == 0 {
		cfg.Modes = DefaultModes()
	}
	if cfg.PassInterval <= 0 {
		cfg.PassInterval = DefaultPassInterval
	}
	if cfg.StatusInterval <= 0 {
		cfg.StatusInterval = DefaultStatusInterval
	}
	if cfg.Ratings == nil {
		cfg.Ratings = NewMemoryRatings()
	}
	if clock == nil {
		clock = game.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Matchmaker{
		passEvery:   cfg.PassInterval,
		statusEvery: cfg.StatusInterval,
		alloc:       alloc,
		clock:       clock,
		log:         log,
		queues:      make(map[string]*queue),
		byPlayer:    make(map[string]*ticket),
		ratings:     cfg.Ratings,
		stop:        make(chan struct{}),
		allocErr:    make(map[string]string),
	}
	for _, md := range cfg.Modes {
		if err := md.Validate(); err != nil {
			panic(err)
		}
		md = md.withDefaults()
		if _, dup := m.queues[md.Name]; dup {
			panic(fmt.Sprintf("matchmaking: mode %q configured twice", md.Name))
		}
		m.modes = append(m.modes, md)
		m.queues[md.Name] = &queue{mode: md}
	}
	return m
}

// Modes returns the configured modes, defaults applied.
func (m *Matchmaker) Modes() []Mode { return append([]Mode(nil), m.modes...) }

// mode returns the named mode. queues is only read here, never written after
// New, so no lock is needed.
func (m *Matchmaker) mode(name string) (Mode, bool) {
	q, ok := m.queues[name]
	if !ok {
		return Mode{}, false
	}
	return q.mode, true
}

// Enqueue queues a ticket and sends each of its players an immediate
// Searching update (from the caller's goroutine). A player's Rating of zero
// is replaced by the matchmaker's rating for the player. Errors:
// ErrDraining after Stop, ErrUnknownMode, ErrBadTicket (no players, more
// than the mode's MaxPlayers, an empty or repeated player ID, a NaN or
// infinite rating), ErrAlreadyQueued (a player is in another ticket). A nil
// notify discards updates.
func (m *Matchmaker) Enqueue(t Ticket, notify func(Update)) (ticketID string, err error) {
	md, ok := m.mode(t.Mode)
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownMode, t.Mode)
	}
	players, rating, err := m.checkTicket(md, t)
	if err != nil {
		return "", err
	}
	if notify == nil {
		notify = func(Update) {}
	}

	m.mu.Lock()
	if m.draining {
		m.mu.Unlock()
		return "", ErrDraining
	}
	for _, p := range players {
		if _, dup := m.byPlayer[p.ID]; dup {
			m.mu.Unlock()
			return "", fmt.Errorf("%w: %s", ErrAlreadyQueued, p.ID)
		}
	}
	m.seq++
	now := m.clock.Now()
	enqueued := now
	if !t.Since.IsZero() && t.Since.Before(now) {
		enqueued = t.Since
	}
	tk := &ticket{
		id:       uuid.NewString(),
		seq:      m.seq,
		mode:     md,
		players:  players,
		rating:   rating,
		enqueued: enqueued,
		notify:   notify,
	}
	q := m.queues[md.Name]
	q.add(tk)
	for _, p := range players {
		m.byPlayer[p.ID] = tk
	}
	age := now.Sub(enqueued)
	ds := tk.updates(nil, Update{State: Searching, Elapsed: age, QueueSize: q.players, Window: md.window(age)})
	m.unlockAndSend(ds)
	m.log.Debug("ticket queued", "ticket", tk.id, "mode", md.Name, "players", len(players), "rating", rating)
	return tk.id, nil
}

// checkTicket validates t for md and returns a copy of its players with
// ratings filled in, and the ticket's rating (their mean).
func (m *Matchmaker) checkTicket(md Mode, t Ticket) ([]Player, float64, error) {
	if len(t.Players) == 0 {
		return nil, 0, fmt.Errorf("%w: no players", ErrBadTicket)
	}
	if len(t.Players) > md.MaxPlayers {
		return nil, 0, fmt.Errorf("%w: %d players for a mode of %d", ErrBadTicket, len(t.Players), md.MaxPlayers)
	}
	players := make([]Player, len(t.Players))
	seen := make(map[string]bool, len(t.Players))
	sum := 0.0
	for i, p := range t.Players {
		if p.ID == "" || seen[p.ID] {
			return nil, 0, fmt.Errorf("%w: empty or repeated player id %q", ErrBadTicket, p.ID)
		}
		seen[p.ID] = true
		if math.IsNaN(p.Rating) || math.IsInf(p.Rating, 0) {
			return nil, 0, fmt.Errorf("%w: rating of %s is not finite", ErrBadTicket, p.ID)
		}
		if p.Rating == 0 {
			p.Rating = m.Rating(p.ID)
		}
		players[i] = p
		sum += p.Rating
	}
	return players, sum / float64(len(players)), nil
}

// Cancel removes the ticket that playerID is in and sends Cancelled to each
// of its players. It reports false if the player is not queued (for
// instance because a room was just found).
func (m *Matchmaker) Cancel(playerID string) bool {
	return m.dropPlayer(playerID, Update{State: Cancelled, Reason: "cancelled by " + playerID})
}

// Fail removes the ticket that playerID is in and sends Failed with reason
// to each of its players (for instance when the party changed). It reports
// false if the player is not queued.
func (m *Matchmaker) Fail(playerID, reason string) bool {
	return m.dropPlayer(playerID, Update{State: Failed, Reason: reason})
}

func (m *Matchmaker) dropPlayer(playerID string, u Update) bool {
	now := m.clock.Now()
	m.mu.Lock()
	tk := m.byPlayer[playerID]
	if tk == nil {
		m.mu.Unlock()
		return false
	}
	ds := m.dropLocked(tk, now, u, nil)
	m.unlockAndSend(ds)
	m.log.Debug("ticket dropped", "ticket", tk.id, "mode", tk.mode.Name, "state", u.State.String(), "player", playerID)
	return true
}

// Stop stops matchmaking for a drain: Enqueue returns ErrDraining from now
// on, every queued player gets Failed (Reason DrainReason), and Run
// returns. It does not wait for Run. Idempotent.
func (m *Matchmaker) Stop() {
	m.stopOnce.Do(func() { close(m.stop) })
	m.failAll(DrainReason)
}

// failAll refuses new tickets and fails every queued one.
func (m *Matchmaker) failAll(reason string) {
	now := m.clock.Now()
	m.mu.Lock()
	m.draining = true
	var ds []delivery
	for _, md := range m.modes {
		for _, t := range m.queues[md.Name].snapshot() {
			ds = m.dropLocked(t, now, Update{State: Failed, Reason: reason}, ds)
		}
	}
	n := len(ds)
	m.unlockAndSend(ds)
	if n > 0 {
		m.log.Info("matchmaking stopped", "failed_players", n, "reason", reason)
	}
}

// QueueSizes returns the number of players waiting per mode (every mode is
// present, possibly with 0).
func (m *Matchmaker) QueueSizes() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int, len(m.queues))
	for name, q := range m.queues {
		out[name] = q.players
	}
	return out
}

// Run is the matchmaker goroutine: every PassInterval it runs a matching
// pass (backfill, new rooms, timeouts), and every StatusInterval it sends
// Searching to every queued player. It returns nil when ctx is done or Stop
// is called, after failing every queued ticket (Reason DrainReason) and
// refusing new ones. It must be called once.
func (m *Matchmaker) Run(ctx context.Context) error {
	if m.running.Swap(true) {
		return errors.New("matchmaking: Run called twice")
	}
	defer m.failAll(DrainReason)
	now := m.clock.Now()
	nextPass, nextStatus := now.Add(m.passEvery), now.Add(m.statusEvery)
	for {
		due := nextPass
		if nextStatus.Before(due) {
			due = nextStatus
		}
		if d := due.Sub(now); d > 0 {
			t := m.clock.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-m.stop:
				t.Stop()
				return nil
			case <-t.C():
			}
		}
		if m.stopped(ctx) {
			return nil
		}
		now = m.clock.Now()
		if !now.Before(nextPass) {
			m.pass(ctx, now)
			nextPass = nextDue(nextPass, m.passEvery, now)
		}
		if !now.Before(nextStatus) {
			m.status(now)
			nextStatus = nextDue(nextStatus, m.statusEvery, now)
		}
		now = m.clock.Now()
	}
}

// nextDue is the next due time after due on a period of every, skipping
// whatever was missed while the goroutine was behind.
func nextDue(due time.Time, every time.Duration, now time.Time) time.Time {
	due = due.Add(every)
	if !due.After(now) {
		due = now.Add(every)
	}
	return due
}

func (m *Matchmaker) stopped(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	case <-m.stop:
		return true
	default:
		return false
	}
}

// pass runs one matching pass over every mode, then times out old tickets.
// Matchmaker goroutine only.
func (m *Matchmaker) pass(ctx context.Context, now time.Time) {
	for _, md := range m.modes {
		if m.stopped(ctx) {
			return
		}
		m.matchMode(ctx, md, now)
	}
	m.expire(m.clock.Now())
}

// matchMode places the waiting tickets of one mode: backfill first, then
// new rooms for the groups that are ready. An allocation error ends the
// mode's pass; the tickets stay queued for the next one.
func (m *Matchmaker) matchMode(ctx context.Context, md Mode, now time.Time) {
	m.mu.Lock()
	waiting := m.queues[md.Name].snapshot()
	m.mu.Unlock()
	if len(waiting) == 0 {
		return
	}
	if md.Backfill {
		waiting = m.backfill(ctx, md, waiting)
	}
	for _, g := range formGroups(md, waiting, now) {
		if _, err := m.place(ctx, md, nil, g.tickets); err != nil {
			if ctx.Err() != nil {
				return // shutting down
			}
			if msg := err.Error(); m.allocErr[md.Name] != msg {
				m.allocErr[md.Name] = msg
				lvl := slog.LevelWarn
				if errors.Is(err, ErrNoCapacity) {
					lvl = slog.LevelInfo
				}
				m.log.Log(ctx, lvl, "cannot open a room; tickets stay queued", "mode", md.Name, "error", err)
			}
			return
		}
		delete(m.allocErr, md.Name)
	}
}

// backfill places waiting tickets, oldest first and whole, into running
// rooms with enough free seats (the fullest room that fits), and returns
// the tickets it did not place.
func (m *Matchmaker) backfill(ctx context.Context, md Mode, waiting []*ticket) []*ticket {
	rooms := m.alloc.Rooms(md.Name)
	if len(rooms) == 0 {
		return waiting
	}
	// Free seats per room, read once per pass and kept up to date here;
	// Reserve has the final word.
	free := make([]int, len(rooms))
	for i, r := range rooms {
		free[i] = r.FreeSeats()
	}
	var rest []*ticket
	for _, t := range waiting {
		best := -1
		for i := range rooms {
			if free[i] >= t.size() && (best < 0 || free[i] < free[best]) {
				best = i
			}
		}
		if best >= 0 {
			if ok, _ := m.place(ctx, md, rooms[best], []*ticket{t}); ok {
				free[best] -= t.size()
				continue
			}
			free[best] = rooms[best].FreeSeats()
		}
		rest = append(rest, t)
	}
	return rest
}

// place puts the tickets into room, or into a new room from the allocator
// when room is nil: it reserves their seats, drops the tickets from the
// queue and sends Found to every player. It reports whether they were
// placed; the error is the allocator's (tickets stay queued).
//
// A ticket cancelled while this runs is left out. If that leaves a new room
// with fewer than MinPlayers, nobody is placed and the room stays empty (the
// allocator lists it for backfill; otherwise it ends on its empty timeout).
// A ticket cancelled between Reserve and the final check keeps its
// reservation until it expires.
func (m *Matchmaker) place(ctx context.Context, md Mode, room Room, tickets []*ticket) (bool, error) {
	if len(m.live(tickets)) < len(tickets) {
		return false, nil // changed since the snapshot; the next pass sees it
	}
	fresh := room == nil
	if fresh {
		r, err := m.alloc.Allocate(ctx, md)
		if err != nil {
			return false, err
		}
		room = r
	}
	live := m.live(tickets)
	var ids []string
	for _, t := range live {
		ids = append(ids, t.playerIDs()...)
	}
	if len(live) == 0 || (fresh && len(live) < len(tickets) && len(ids) < md.MinPlayers) {
		return false, nil
	}
	if !room.Reserve(ids) {
		m.log.Debug("reservation refused", "room", room.ID(), "mode", md.Name, "players", len(ids), "new_room", fresh)
		return false, nil
	}

	now := m.clock.Now()
	m.mu.Lock()
	q := m.queues[md.Name]
	var found []*ticket
	for _, t := range live {
		if m.removeLocked(t) {
			found = append(found, t)
		}
	}
	var ds []delivery
	for _, t := range found {
		wait := now.Sub(t.enqueued)
		ds = t.updates(ds, Update{State: Found, Elapsed: wait, QueueSize: q.players, Window: md.window(wait), RoomID: room.ID()})
	}
	m.unlockAndSend(ds)
	m.log.Info("match found", "mode", md.Name, "room", room.ID(), "tickets", len(found), "players", len(ds), "new_room", fresh)
	return true, nil
}

// live returns the tickets still queued.
func (m *Matchmaker) live(tickets []*ticket) []*ticket {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*ticket, 0, len(tickets))
	for _, t := range tickets {
		if !t.removed {
			out = append(out, t)
		}
	}
	return out
}

// expire times out the tickets that have waited their mode's Timeout.
func (m *Matchmaker) expire(now time.Time) {
	m.mu.Lock()
	var ds []delivery
	var gone []*ticket
	for _, md := range m.modes {
		for _, t := range m.queues[md.Name].snapshot() {
			if now.Sub(t.enqueued) >= md.Timeout {
				ds = m.dropLocked(t, now, Update{State: TimedOut, Reason: fmt.Sprintf("no match within %v", md.Timeout)}, ds)
				gone = append(gone, t)
			}
		}
	}
	m.unlockAndSend(ds)
	for _, t := range gone {
		m.log.Info("ticket timed out", "ticket", t.id, "mode", t.mode.Name, "players", t.size())
	}
}

// status sends Searching to every queued player.
func (m *Matchmaker) status(now time.Time) {
	m.mu.Lock()
	var ds []delivery
	for _, md := range m.modes {
		q := m.queues[md.Name]
		for _, t := range q.tickets {
			wait := now.Sub(t.enqueued)
			ds = t.updates(ds, Update{State: Searching, Elapsed: wait, QueueSize: q.players, Window: md.window(wait)})
		}
	}
	m.unlockAndSend(ds)
}

// removeLocked takes t out of its queue and the player index. mu must be
// held. It reports false if t was already gone.
func (m *Matchmaker) removeLocked(t *ticket) bool {
	if !m.queues[t.mode.Name].remove(t) {
		return false
	}
	for _, p := range t.players {
		if m.byPlayer[p.ID] == t {
			delete(m.byPlayer, p.ID)
		}
	}
	return true
}

// dropLocked removes t and appends u, completed, for each of its players.
// mu must be held.
func (m *Matchmaker) dropLocked(t *ticket, now time.Time, u Update, ds []delivery) []delivery {
	if !m.removeLocked(t) {
		return ds
	}
	u.Elapsed = now.Sub(t.enqueued)
	u.QueueSize = m.queues[t.mode.Name].players
	u.Window = t.mode.window(u.Elapsed)
	return t.updates(ds, u)
}

// unlockAndSend releases mu and delivers ds in order. It takes sendMu
// before releasing mu, so deliveries from different goroutines happen in
// the order of the changes made under mu. mu must be held.
func (m *Matchmaker) unlockAndSend(ds []delivery) {
	if len(ds) == 0 {
		m.mu.Unlock()
		return
	}
	m.sendMu.Lock()
	m.mu.Unlock()
	defer m.sendMu.Unlock()
	for _, d := range ds {
		d.notify(d.u)
	}
}
