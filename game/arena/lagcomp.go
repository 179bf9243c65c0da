package arena

import "time"

// MaxRewind is how far back lag compensation goes: a shot resolves against
// the other players as they were at the shooter's Input.RenderTime, but
// never more than MaxRewind before the latest simulated tick, and never
// after it.
const MaxRewind = 250 * time.Millisecond

// histEntry is one player's recorded position at one tick.
type histEntry struct {
	tick  uint32
	x, y  int32
	valid bool // the entry was recorded (the player was present)
	alive bool
}

// maxRewindSub is MaxRewind in 1/SubTick tick at tickRate (1920 at 30
// ticks/s).
func maxRewindSub(tickRate int) uint32 {
	return uint32(int64(MaxRewind) * int64(tickRate) * SubTick / int64(time.Second))
}

// historyLen is the number of ticks of history kept per player: enough for
// MaxRewind plus the two ticks that bracket the oldest render time, plus one
// spare.
func historyLen(tickRate int) int {
	return int((maxRewindSub(tickRate)+SubTick-1)/SubTick) + 3
}

// resolveTime clamps a shooter's render time (1/SubTick tick) to the window
// lag compensation covers: no later than the last simulated tick and no
// earlier than MaxRewind before it. It returns the time used and how far it
// lies behind the last tick.
func (a *Arena) resolveTime(renderTime uint32) (at, rewind uint32) {
	now := a.tick * SubTick
	at = min(renderTime, now)
	if oldest := now - min(now, a.maxRewind); at < oldest {
		at = oldest
	}
	return at, now - at
}

// record stores p's position at the current tick in its history.
func (a *Arena) record(p *player) {
	e := &p.hist[int(a.tick%uint32(len(p.hist)))]
	*e = histEntry{tick: a.tick, x: p.body.X, y: p.body.Y, valid: true, alive: !p.dead}
}

// clearHistory forgets p's recorded positions.
func clearHistory(p *player) {
	clear(p.hist)
}

// positionAt returns where p was at time at (1/SubTick tick), interpolated
// linearly between the two recorded ticks that bracket it. ok is false if
// p was absent or dead at either of them.
func (a *Arena) positionAt(p *player, at uint32) (x, y int32, ok bool) {
	n := uint32(len(p.hist))
	t0, f := at/SubTick, int64(at%SubTick)
	e0 := &p.hist[t0%n]
	if !e0.valid || !e0.alive || e0.tick != t0 {
		return 0, 0, false
	}
	if f == 0 {
		return e0.x, e0.y, true
	}
	e1 := &p.hist[(t0+1)%n]
	if !e1.valid || !e1.alive || e1.tick != t0+1 {
		return 0, 0, false
	}
	x = e0.x + int32(int64(e1.x-e0.x)*f/SubTick)
	y = e0.y + int32(int64(e1.y-e0.y)*f/SubTick)
	return x, y, true
}
