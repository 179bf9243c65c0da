package game

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// Errors returned by Room.Join.
var (
	ErrRoomFull   = errors.New("game: room is full")
	ErrRoomClosed = errors.New("game: room has ended")
	ErrNoSeat     = errors.New("game: player holds no seat in this room")
)

// Options are a room's collaborators. Nil fields get defaults: the system
// clock, a logger that discards, an observer that ignores.
type Options struct {
	Clock    Clock
	Logger   *slog.Logger
	Observer Observer
}

// Room runs one Game. The goroutine that calls Run owns the room's state and
// the game; every other goroutine talks to it through Join, Member methods
// and Close, which go through bounded channels, and reads its output through
// Latest, which returns immutable frames.
type Room struct {
	id    string
	cfg   Config
	game  Game
	clock Clock
	log   *slog.Logger
	obs   Observer

	ctl    chan request          // seat changes and close requests, drained once per tick
	latest atomic.Pointer[Frame] // newest published frame
	sched  atomic.Pointer[schedule]
	done   chan struct{} // closed when Run has returned
	reason atomic.Int32  // arbiterv1.RoomCloseReason, set before done closes
	err    error         // why the room failed; written before done closes
	stats  counters
	ran    atomic.Bool

	// Owned by the room goroutine.
	seats      []*seatState
	occupied   int
	recent     []Event // events of the last EventWindow ticks
	scratch    []Event
	roster     *Roster
	rosterGen  uint32
	dirty      bool // roster changed since the last frame
	emptySince time.Time
}

// seatState is the room goroutine's record of one seat.
type seatState struct {
	player, name string
	entity       uint32
	member       *Member
	connected    bool
	graceUntil   time.Time
	lastSeq      uint32
	pending      []Input // sorted by seq, waiting for their tick
}

type reqKind int

const (
	reqJoin reqKind = iota
	reqLeave
	reqDisconnect
	reqClose
)

type request struct {
	kind   reqKind
	player string
	name   string
	member *Member
	reason arbiterv1.RoomCloseReason
	reply  chan joinReply
	resume bool // join only if the player already holds a seat
}

type joinReply struct {
	res JoinResult
	err error
}

// JoinResult describes a granted seat.
type JoinResult struct {
	Member   *Member
	Seat     Seat
	EntityID uint32
	// Tick is the tick at which the player was admitted.
	Tick uint32
	// Resumed is true when the player got back a seat it already held.
	Resumed bool
	Info    Info
}

// New makes a room that will run g with cfg once Run is called.
func New(id string, g Game, cfg Config, opt Options) (*Room, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opt.Clock == nil {
		opt.Clock = SystemClock{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Observer == nil {
		opt.Observer = nopObserver{}
	}
	r := &Room{
		id:     id,
		cfg:    cfg,
		game:   g,
		clock:  opt.Clock,
		log:    opt.Logger.With("room", id),
		obs:    opt.Observer,
		ctl:    make(chan request, 4*cfg.MaxPlayers+16),
		done:   make(chan struct{}),
		seats:  make([]*seatState, cfg.MaxPlayers),
		roster: &Roster{},
	}
	return r, nil
}

// ID is the room's id.
func (r *Room) ID() string { return r.id }

// Config is the room's configuration with defaults applied.
func (r *Room) Config() Config { return r.cfg }

// Latest returns the newest published frame, or nil before the first.
func (r *Room) Latest() *Frame { return r.latest.Load() }

// Done is closed when the room has ended.
func (r *Room) Done() <-chan struct{} { return r.done }

// CloseReason says why the room ended, and the failure for ERROR. Valid
// once Done is closed.
func (r *Room) CloseReason() (arbiterv1.RoomCloseReason, error) {
	return arbiterv1.RoomCloseReason(r.reason.Load()), r.err
}

// Stats returns the room's counters.
func (r *Room) Stats() Stats { return r.stats.snapshot() }

// TickPercentile is the q quantile (0 to 1) of the room's last 256 tick
// durations, e.g. 0.99 for the p99 the dashboard shows.
func (r *Room) TickPercentile(q float64) time.Duration { return r.stats.tickPercentile(q) }

// Started is when Run began (zero before).
func (r *Room) Started() time.Time {
	if s := r.sched.Load(); s != nil {
		return s.start.Add(s.dt)
	}
	return time.Time{}
}

// Close asks the room to end at its next tick with the given reason. It does
// not wait; watch Done.
func (r *Room) Close(reason arbiterv1.RoomCloseReason) {
	r.send(request{kind: reqClose, reason: reason})
}

// TickPosition places t on the room's tick clock: the tick running at t and
// how far into it, in 1/65536 tick. It is zero before Run starts.
func (r *Room) TickPosition(t time.Time) (tick, fraction uint32) {
	s := r.sched.Load()
	if s == nil {
		return 0, 0
	}
	return s.position(t)
}

// Join asks for a seat for player. It returns once the room has admitted
// the player at the start of its next tick. A player who already holds a
// seat (connected, or within the rejoin grace) gets the same seat back and
// the previous Member ends.
func (r *Room) Join(ctx context.Context, player, name string) (JoinResult, error) {
	return r.join(ctx, request{kind: reqJoin, player: player, name: name})
}

// Rejoin is Join for a player coming back: it fails with ErrNoSeat instead
// of granting a new seat when the player's seat is gone (the grace ran out).
func (r *Room) Rejoin(ctx context.Context, player, name string) (JoinResult, error) {
	return r.join(ctx, request{kind: reqJoin, player: player, name: name, resume: true})
}

func (r *Room) join(ctx context.Context, req request) (JoinResult, error) {
	reply := make(chan joinReply, 1)
	req.reply = reply
	select {
	case r.ctl <- req:
	case <-r.done:
		return JoinResult{}, ErrRoomClosed
	case <-ctx.Done():
		return JoinResult{}, ctx.Err()
	}
	select {
	case rep := <-reply:
		return rep.res, rep.err
	case <-r.done:
		// The room may have answered just before it ended.
		select {
		case rep := <-reply:
			return rep.res, rep.err
		default:
		}
		return JoinResult{}, ErrRoomClosed
	case <-ctx.Done():
		return JoinResult{}, ctx.Err()
	}
}

// send delivers a request unless the room has ended.
func (r *Room) send(req request) {
	select {
	case r.ctl <- req:
	case <-r.done:
	}
}

func (r *Room) drop(reason DropReason) {
	r.stats.dropped[reason].Add(1)
	r.obs.InputDropped(reason)
}

// Run runs the room until the game is over, it stays empty for
// EmptyTimeout, Close is called, the game panics, or ctx is done (reason
// DRAIN). It must be called once; the caller's goroutine becomes the room
// goroutine. It returns the failure for a room that ended in error.
func (r *Room) Run(ctx context.Context) error {
	if r.ran.Swap(true) {
		return errors.New("game: Room.Run called twice")
	}
	dt := r.cfg.TickInterval()
	now := r.clock.Now()
	// Tick 1 is due at once.
	s := &schedule{start: now.Add(-dt), dt: dt, maxCatch: r.cfg.MaxCatchUp}
	r.sched.Store(s)
	r.emptySince = now
	r.log.Info("room started", "tick_rate", r.cfg.TickRate, "max_players", r.cfg.MaxPlayers)
	// Frame 0, the world before the first tick, so that Latest is never nil
	// once a join can have succeeded.
	r.publish(0, now)

	for next := uint32(1); ; next++ {
		due := s.due(next)
		now = r.clock.Now()
		for now.Before(due) {
			t := r.clock.NewTimer(due.Sub(now))
			select {
			case <-ctx.Done():
				t.Stop()
				return r.end(arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_DRAIN, nil)
			case <-t.C():
			}
			now = r.clock.Now()
		}
		select {
		case <-ctx.Done():
			return r.end(arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_DRAIN, nil)
		default:
		}
		shiftBefore := s.shift
		late, skipped := s.admit(next, now)
		if s.shift != shiftBefore {
			cp := *s
			s = &cp
			r.sched.Store(s)
		}
		if late >= dt {
			r.stats.overruns.Add(1)
			r.stats.skipped.Add(uint64(skipped))
			r.obs.Overrun(int(skipped))
		}
		reason, err := r.safeTick(next, now)
		took := r.clock.Now().Sub(now)
		r.stats.ticks.Add(1)
		r.stats.lastTick.Store(int64(took))
		r.stats.recordTick(took)
		if int64(took) > r.stats.maxTick.Load() {
			r.stats.maxTick.Store(int64(took))
		}
		r.obs.TickDone(took, late)
		if reason != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_UNSPECIFIED {
			return r.end(reason, err)
		}
	}
}

// safeTick runs one tick and turns a panic into an ERROR ending.
func (r *Room) safeTick(n uint32, now time.Time) (reason arbiterv1.RoomCloseReason, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("game: room %s panicked at tick %d: %v", r.id, n, p)
			reason = arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_ERROR
			r.log.Error("room panicked", "tick", n, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	return r.tick(n, now), nil
}

// tick runs tick n: seat changes, inputs, one game step, and a frame on
// snapshot ticks. It returns a close reason when the room must end.
func (r *Room) tick(n uint32, now time.Time) arbiterv1.RoomCloseReason {
	if reason := r.handleRequests(n, now); reason != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_UNSPECIFIED {
		return reason
	}
	r.expireGrace(now)
	r.applyInputs(n)

	r.scratch = r.game.Step(n, r.scratch[:0])
	r.keepEvents(n)
	over := r.game.Over()
	if over || n%uint32(r.cfg.SnapshotEvery) == 0 || r.dirty {
		r.publish(n, now)
	}
	if over {
		return arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_ROUND_OVER
	}

	r.stats.players.Store(int64(r.occupied))
	if r.occupied > 0 {
		r.emptySince = time.Time{}
	} else if r.emptySince.IsZero() {
		r.emptySince = now
	} else if now.Sub(r.emptySince) >= r.cfg.EmptyTimeout {
		return arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_EMPTY
	}
	return arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_UNSPECIFIED
}

// handleRequests drains the control mailbox once.
func (r *Room) handleRequests(n uint32, now time.Time) arbiterv1.RoomCloseReason {
	for range len(r.ctl) {
		req := <-r.ctl
		switch req.kind {
		case reqJoin:
			res, err := r.seat(req.player, req.name, req.resume, n)
			req.reply <- joinReply{res, err}
		case reqLeave:
			if st := r.holding(req.member); st != nil {
				r.free(req.member.seat, arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_LEFT)
			}
		case reqDisconnect:
			if st := r.holding(req.member); st != nil && st.connected {
				st.connected = false
				st.graceUntil = now.Add(r.cfg.RejoinGrace)
				r.dirty = true
				r.log.Info("player disconnected", "seat", req.member.seat, "player", st.player, "tick", n)
			}
		case reqClose:
			return req.reason
		}
	}
	return arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_UNSPECIFIED
}

// holding returns the seat state if m still holds its seat.
func (r *Room) holding(m *Member) *seatState {
	st := r.seats[m.seat]
	if st == nil || st.member != m {
		return nil
	}
	return st
}

// seat admits player: back into its seat if it holds one, else into the
// first free seat unless resumeOnly.
func (r *Room) seat(player, name string, resumeOnly bool, n uint32) (JoinResult, error) {
	for i, st := range r.seats {
		if st != nil && st.player == player {
			old := st.member
			st.member = r.newMember(Seat(i), player)
			st.connected = true
			st.graceUntil = time.Time{}
			st.lastSeq = 0 // a rejoining client numbers its inputs from 1 again
			st.pending = st.pending[:0]
			st.name = name
			old.end(arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_LEFT)
			r.dirty = true
			r.log.Info("player rejoined", "seat", i, "player", player, "tick", n)
			return JoinResult{Member: st.member, Seat: Seat(i), EntityID: st.entity, Tick: n, Resumed: true, Info: r.game.Info()}, nil
		}
	}
	if resumeOnly {
		return JoinResult{}, ErrNoSeat
	}
	for i, st := range r.seats {
		if st != nil {
			continue
		}
		s := Seat(i)
		st = &seatState{player: player, name: name, member: r.newMember(s, player), connected: true}
		r.seats[i] = st
		r.occupied++
		st.entity = r.game.Join(s)
		r.dirty = true
		r.log.Info("player joined", "seat", i, "player", player, "tick", n)
		return JoinResult{Member: st.member, Seat: s, EntityID: st.entity, Tick: n, Info: r.game.Info()}, nil
	}
	return JoinResult{}, ErrRoomFull
}

func (r *Room) newMember(s Seat, player string) *Member {
	return &Member{room: r, seat: s, player: player, inbox: make(chan Input, r.cfg.InboxSize), gone: make(chan struct{})}
}

// free empties seat s and tells the game.
func (r *Room) free(s Seat, reason arbiterv1.RoomCloseReason) {
	st := r.seats[s]
	r.seats[s] = nil
	r.occupied--
	r.game.Leave(s)
	st.member.end(reason)
	r.dirty = true
	r.log.Info("player left", "seat", s, "player", st.player)
}

func (r *Room) expireGrace(now time.Time) {
	for i, st := range r.seats {
		if st != nil && !st.connected && !now.Before(st.graceUntil) {
			r.free(Seat(i), arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_LEFT)
		}
	}
}

// applyInputs drains each seat's mailbox once and applies, in seq order,
// the inputs whose tick has come, at most MaxInputsPerTick per seat.
func (r *Room) applyInputs(n uint32) {
	maxPending := 2 * r.cfg.InboxSize
	for i, st := range r.seats {
		if st == nil {
			continue
		}
	drain:
		for {
			select {
			case in := <-st.member.inbox:
				var dup bool
				if st.pending, dup = insertBySeq(st.pending, in); dup {
					r.drop(DropStale)
				}
			default:
				break drain
			}
		}
		// Duplicates and seqs already applied.
		k := 0
		for k < len(st.pending) && st.pending[k].Seq <= st.lastSeq {
			k++
		}
		for range k {
			r.drop(DropStale)
		}
		st.pending = dropFront(st.pending, k)
		if extra := len(st.pending) - maxPending; extra > 0 {
			for range extra {
				r.drop(DropPendingFull)
			}
			st.pending = dropFront(st.pending, extra)
		}
		// The inputs due now: those naming this tick or earlier, or a tick
		// implausibly far ahead.
		due := 0
		for due < len(st.pending) {
			t := st.pending[due].Tick
			if t > n && t-n <= uint32(r.cfg.MaxInputLead) {
				break
			}
			due++
		}
		if extra := due - r.cfg.MaxInputsPerTick; extra > 0 {
			for range extra {
				r.drop(DropOverCap)
			}
			st.pending = dropFront(st.pending, extra)
			due -= extra
		}
		for _, in := range st.pending[:due] {
			if in.Tick < n {
				r.stats.late.Add(1)
				r.obs.InputLate()
			}
			r.game.Apply(Seat(i), in)
			st.lastSeq = in.Seq
			r.stats.applied.Add(1)
		}
		st.pending = dropFront(st.pending, due)
	}
}

// insertBySeq inserts in into the seq-sorted slice; it reports a duplicate
// seq, which it leaves out.
func insertBySeq(p []Input, in Input) ([]Input, bool) {
	i := len(p)
	for i > 0 && p[i-1].Seq > in.Seq {
		i--
	}
	if i > 0 && p[i-1].Seq == in.Seq {
		return p, true
	}
	return slices.Insert(p, i, in), false
}

func dropFront(p []Input, k int) []Input {
	if k == 0 {
		return p
	}
	n := copy(p, p[k:])
	return p[:n]
}

// keepEvents appends this tick's events to the recent log and forgets
// those older than the event window.
func (r *Room) keepEvents(n uint32) {
	for i := range r.scratch {
		r.scratch[i].Tick = n
	}
	r.recent = append(r.recent, r.scratch...)
	from := eventsFrom(n, r.cfg.EventWindow)
	k := 0
	for k < len(r.recent) && r.recent[k].Tick < from {
		k++
	}
	if k > 0 {
		m := copy(r.recent, r.recent[k:])
		clear(r.recent[m:])
		r.recent = r.recent[:m]
	}
}

func eventsFrom(n uint32, window int) uint32 {
	if n < uint32(window) {
		return 0
	}
	return n - uint32(window) + 1
}

// publish builds the frame for tick n and makes it the latest.
func (r *Room) publish(n uint32, now time.Time) {
	prev := r.latest.Load()
	hint := 0
	if prev != nil {
		hint = len(prev.entities)
	}
	ents := r.game.AppendEntities(make([]Entity, 0, hint))
	for i := 1; i < len(ents); i++ {
		if ents[i-1].ID >= ents[i].ID {
			panic(fmt.Sprintf("game: AppendEntities not sorted by unique ID at index %d (%d then %d)", i, ents[i-1].ID, ents[i].ID))
		}
	}
	if r.dirty {
		r.rebuildRoster()
	}
	f := &Frame{
		tick:       n,
		time:       r.sched.Load().due(n),
		entities:   ents,
		seats:      make([]SeatView, len(r.seats)),
		roster:     r.roster,
		radius:     r.cfg.InterestRadius,
		eventsFrom: eventsFrom(n, r.cfg.EventWindow),
		next:       make(chan struct{}),
	}
	if len(r.recent) > 0 {
		f.events = slices.Clone(r.recent)
	}
	for i, st := range r.seats {
		if st != nil {
			f.seats[i] = SeatView{EntityID: st.entity, AckSeq: st.lastSeq, Occupied: true}
		}
	}
	r.latest.Store(f)
	if prev != nil {
		close(prev.next)
	}
}

func (r *Room) rebuildRoster() {
	r.rosterGen++
	ro := &Roster{Version: r.rosterGen}
	for i, st := range r.seats {
		if st != nil {
			ro.Players = append(ro.Players, RosterEntry{Seat: Seat(i), PlayerID: st.player, Name: st.name, EntityID: st.entity, Connected: st.connected})
		}
	}
	r.roster = ro
	r.dirty = false
}

// end finishes the room: every member is told, waiting writers wake up.
func (r *Room) end(reason arbiterv1.RoomCloseReason, err error) error {
	for _, st := range r.seats {
		if st != nil {
			st.member.end(reason)
		}
	}
	r.err = err
	r.reason.Store(int32(reason))
	// Answer joins that raced with the end.
	for range len(r.ctl) {
		if req := <-r.ctl; req.kind == reqJoin {
			req.reply <- joinReply{err: ErrRoomClosed}
		}
	}
	if f := r.latest.Load(); f != nil {
		close(f.next)
	}
	r.log.Info("room ended", "reason", reason.String(), "ticks", r.stats.ticks.Load(), "error", err)
	close(r.done)
	return err
}
