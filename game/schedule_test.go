package game

import (
	"math/rand/v2"
	"testing"
	"time"
)

// The schedule computes each tick's time from its number, so wake-up jitter
// never accumulates: after 100,000 ticks of random oversleep, tick n is still
// due at exactly start + n·dt and no tick was skipped.
func TestScheduleNoDrift(t *testing.T) {
	dt := time.Second / 30
	s := &schedule{start: epoch, dt: dt, maxCatch: 3}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := uint32(1); n <= 100_000; n++ {
		now := s.due(n).Add(time.Duration(rng.Int64N(int64(dt))))
		late, skipped := s.admit(n, now)
		if skipped != 0 || late >= dt {
			t.Fatalf("tick %d: late %v skipped %d", n, late, skipped)
		}
	}
	if got, want := s.due(100_000), epoch.Add(100_000*dt); !got.Equal(want) {
		t.Fatalf("tick 100000 due at %v, want %v (drift %v)", got, want, got.Sub(want))
	}
}

func TestScheduleCatchUpCap(t *testing.T) {
	dt := 10 * time.Millisecond
	s := &schedule{start: epoch, dt: dt, maxCatch: 3}
	// Tick 5 runs 10.5 intervals late: 10 more ticks are due after it, only
	// 3 may be caught up, so 7 are skipped.
	now := s.due(5).Add(10*dt + dt/2)
	late, skipped := s.admit(5, now)
	if skipped != 7 {
		t.Fatalf("skipped %d, want 7", skipped)
	}
	if late != 3*dt+dt/2 {
		t.Fatalf("late %v after skipping, want %v", late, 3*dt+dt/2)
	}
	// Ticks 6, 7, 8 are overdue and run back to back; tick 8 is the last
	// late one, tick 9 is in the future.
	for n := uint32(6); n <= 8; n++ {
		if _, sk := s.admit(n, now); sk != 0 {
			t.Fatalf("tick %d skipped %d more", n, sk)
		}
	}
	if !s.due(9).After(now) {
		t.Fatalf("tick 9 due %v, not after now %v", s.due(9), now)
	}
	tick, frac := s.position(now)
	if tick != 8 || frac != 32768 {
		t.Fatalf("position = %d + %d/65536, want 8 + 32768/65536", tick, frac)
	}
}
