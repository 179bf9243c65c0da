package game

import (
	"slices"
	"sync/atomic"
	"time"
)

// DropReason says why an input was not applied.
type DropReason int

// Reasons an input is dropped.
const (
	// DropInboxFull: the seat's mailbox was full (the client sends faster
	// than the room drains).
	DropInboxFull DropReason = iota
	// DropStale: a duplicate, or a seq at or below the last applied one.
	DropStale
	// DropOverCap: more inputs were due in one tick than MaxInputsPerTick.
	DropOverCap
	// DropPendingFull: too many inputs held for future ticks.
	DropPendingFull
	// DropNotSeated: the member had already lost its seat.
	DropNotSeated
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{"inbox_full", "stale", "over_cap", "pending_full", "not_seated"}

// String returns the reason as a metric label, e.g. "inbox_full".
func (d DropReason) String() string {
	if d < 0 || d >= numDropReasons {
		return "unknown"
	}
	return dropReasonNames[d]
}

// DropReasons lists every DropReason, for metrics that pre-register labels.
func DropReasons() []DropReason {
	out := make([]DropReason, numDropReasons)
	for i := range out {
		out[i] = DropReason(i)
	}
	return out
}

// Observer receives a room's measurements as they happen, typically to feed
// Prometheus. Methods are called from the room goroutine (InputDropped also
// from whichever goroutine submits the input) and must not block.
type Observer interface {
	// TickDone reports one tick: how long it ran and how late it started
	// after its scheduled time.
	TickDone(duration, lateness time.Duration)
	// Overrun reports a tick that started one interval or more late, and how
	// many ticks were skipped because catching up was capped.
	Overrun(skipped int)
	// InputDropped reports one input that was not applied.
	InputDropped(reason DropReason)
	// InputLate reports one input applied after the tick it named.
	InputLate()
}

type nopObserver struct{}

func (nopObserver) TickDone(time.Duration, time.Duration) {}
func (nopObserver) Overrun(int)                           {}
func (nopObserver) InputDropped(DropReason)               {}
func (nopObserver) InputLate()                            {}

// Stats are a room's counters since it started.
type Stats struct {
	Ticks         uint64
	Overruns      uint64
	SkippedTicks  uint64
	InputsApplied uint64
	InputsLate    uint64
	Dropped       [numDropReasons]uint64
	// Players is the number of occupied seats at the last tick.
	Players int
	// LastTick is how long the last tick ran; MaxTick the longest so far.
	LastTick, MaxTick time.Duration
}

// counters is the lock-free store behind Stats. Written by the room
// goroutine (and submitters for drops), read by anyone.
type counters struct {
	ticks, overruns, skipped, applied, late atomic.Uint64
	dropped                                 [numDropReasons]atomic.Uint64
	players                                 atomic.Int64
	lastTick, maxTick                       atomic.Int64
	recent                                  [recentTicks]atomic.Int64 // last tick durations, ring
	recentN                                 atomic.Uint64
}

// recentTicks is how many tick durations a room keeps for its percentile.
const recentTicks = 256

func (c *counters) recordTick(d time.Duration) {
	n := c.recentN.Add(1) - 1
	c.recent[n%recentTicks].Store(int64(d))
}

// tickPercentile is the q quantile (0..1) of the recent tick durations.
func (c *counters) tickPercentile(q float64) time.Duration {
	n := min(c.recentN.Load(), recentTicks)
	if n == 0 {
		return 0
	}
	ds := make([]int64, n)
	for i := range ds {
		ds[i] = c.recent[i].Load()
	}
	slices.Sort(ds)
	return time.Duration(ds[int(q*float64(n-1))])
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Ticks:         c.ticks.Load(),
		Overruns:      c.overruns.Load(),
		SkippedTicks:  c.skipped.Load(),
		InputsApplied: c.applied.Load(),
		InputsLate:    c.late.Load(),
		Players:       int(c.players.Load()),
		LastTick:      time.Duration(c.lastTick.Load()),
		MaxTick:       time.Duration(c.maxTick.Load()),
	}
	for i := range s.Dropped {
		s.Dropped[i] = c.dropped[i].Load()
	}
	return s
}
