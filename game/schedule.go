package game

import "time"

// schedule is the room's drift-free tick clock: tick n is due at
// start + (n + shift)·dt, computed from n every time rather than by adding
// dt to the previous wake-up, so sleep overshoot never accumulates. shift
// grows only when the room falls further behind than it may catch up and
// skips ticks; the skipped ticks are never simulated.
//
// A schedule is owned by the room goroutine.
type schedule struct {
	start    time.Time
	dt       time.Duration
	maxCatch int
	shift    int64 // ticks skipped so far
}

// due returns when tick n is due.
func (s *schedule) due(n uint32) time.Time {
	return s.start.Add(time.Duration(int64(n)+s.shift) * s.dt)
}

// admit is called when tick n is about to run at now (now ≥ due(n)). It
// returns how late the tick starts after applying the catch-up cap, and how
// many ticks it skipped to honour that cap. A tick that starts one tick
// interval or more late is an overrun: the room runs the missed ticks back
// to back, at most maxCatch of them, and skips the rest.
func (s *schedule) admit(n uint32, now time.Time) (late time.Duration, skipped int64) {
	late = now.Sub(s.due(n))
	if late < 0 {
		return 0, 0
	}
	behind := int64(late / s.dt) // ticks due after n, not counting n
	if behind > int64(s.maxCatch) {
		skipped = behind - int64(s.maxCatch)
		s.shift += skipped
		late = now.Sub(s.due(n))
	}
	return late, skipped
}

// position places t on the tick clock: the tick whose interval contains t
// and how far into it t is, in 1/65536 tick.
func (s *schedule) position(t time.Time) (tick uint32, frac uint32) {
	d := t.Sub(s.start) - time.Duration(s.shift)*s.dt
	if d < 0 {
		return 0, 0
	}
	n := d / s.dt
	rem := d - n*s.dt
	return uint32(n), uint32(int64(rem) * 65536 / int64(s.dt))
}
