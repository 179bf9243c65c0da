package arena

import (
	"testing"

	"github.com/arbiter-gg/arbiter/game"
)

func TestHistoryCoversMaxRewind(t *testing.T) {
	for _, rate := range []int{20, 30, 60, 64} {
		need := (int(maxRewindSub(rate))+SubTick-1)/SubTick + 2
		if got := historyLen(rate); got < need {
			t.Errorf("rate %d: history %d ticks < %d", rate, got, need)
		}
	}
	if got := maxRewindSub(30); got != 1920 {
		t.Errorf("maxRewindSub(30) = %d, want 1920 (7.5 ticks)", got)
	}
}

// lagScenario runs a target (seat 1) from rest rightwards along y = 300 at
// full stick for 30 ticks, then puts a shooter (seat 0) at y = 800 directly
// below where the target was aimBack/256 ticks ago and fires straight up
// with a render time renderBack/256 ticks ago. It reports whether the shot
// hit and the rewind the arena resolved.
func lagScenario(t *testing.T, aimBack, renderBack uint32) (hit bool, rewind uint32) {
	t.Helper()
	a := newTestArena(openMap(), 2)
	a.place(0, 200, 800)
	a.place(1, 200, 300)
	xs := map[uint32]int32{}
	for range 30 {
		a.Apply(1, game.Input{MoveX: 127})
		step(a)
		xs[a.tick] = a.players[1].body.X
	}
	p := &a.players[1]
	if p.body.VX != a.mp.MaxSpeed || p.body.Y != U(300) {
		t.Fatalf("target not at top speed: %+v", p.body)
	}
	// Where the target was aimBack ago, from the test's own record.
	at := a.tick*SubTick - aimBack
	x0, x1 := xs[at/SubTick], xs[at/SubTick+1]
	x := x0 + (x1-x0)*int32(at%SubTick)/SubTick
	now := a.tick * SubTick
	a.players[0].body = Body{X: x, Y: U(800)}
	a.Apply(0, game.Input{Buttons: ButtonFire, Aim: aimUp, RenderTime: now - renderBack})
	evs := step(a)
	if len(ofType(evs, evShot)) != 1 {
		t.Fatalf("no shot: %+v", evs)
	}
	for _, e := range ofType(evs, evHit) {
		if e.Target == 2 {
			hit = true
		}
	}
	return hit, a.lastRewind
}

func TestLagCompensation(t *testing.T) {
	// At 30 ticks/s, 100 ms is 3 ticks (768) and the target moves 58 per
	// tick: 174 in 100 ms, more than its half-size of 112.
	const (
		ms100 = 3 * SubTick
		ms250 = 1920 // 7.5 ticks
		ms400 = 12 * SubTick
	)
	if hit, rewind := lagScenario(t, ms100, ms100); !hit || rewind != ms100 {
		t.Errorf("aimed where the target was 100 ms ago, rendering then: hit %v rewind %d", hit, rewind)
	}
	if hit, rewind := lagScenario(t, ms100, 0); hit || rewind != 0 {
		t.Errorf("same aim without rewind: hit %v rewind %d", hit, rewind)
	}
	// 400 ms back is clamped to 250 ms, where the target was 4.5 ticks
	// (261) further right: the shot misses.
	if hit, rewind := lagScenario(t, ms400, ms400); hit || rewind != ms250 {
		t.Errorf("aimed 400 ms back: hit %v rewind %d, want miss at %d", hit, rewind, ms250)
	}
	// Aiming where the target was 250 ms ago (interpolated half-way between
	// two ticks) with a 400 ms render time hits.
	if hit, rewind := lagScenario(t, ms250, ms400); !hit || rewind != ms250 {
		t.Errorf("aimed 250 ms back, rendering 400 ms back: hit %v rewind %d", hit, rewind)
	}
	// A render time in the future resolves to now.
	if hit, rewind := lagScenario(t, 0, 0); !hit || rewind != 0 {
		t.Errorf("aimed now: hit %v rewind %d", hit, rewind)
	}
}

func TestResolveTime(t *testing.T) {
	a := New(Config{})
	a.tick = 100
	now := uint32(100 * SubTick)
	for _, tc := range []struct{ render, at, rewind uint32 }{
		{now, now, 0},
		{now + 500, now, 0},
		{now - 300, now - 300, 300},
		{now - 1920, now - 1920, 1920},
		{now - 5000, now - 1920, 1920},
		{0, now - 1920, 1920},
	} {
		if at, rewind := a.resolveTime(tc.render); at != tc.at || rewind != tc.rewind {
			t.Errorf("resolveTime(%d) = %d,%d, want %d,%d", tc.render, at, rewind, tc.at, tc.rewind)
		}
	}
	a.tick = 2 // less history than MaxRewind
	if at, rewind := a.resolveTime(0); at != 0 || rewind != 2*SubTick {
		t.Errorf("early resolveTime(0) = %d,%d", at, rewind)
	}
}
