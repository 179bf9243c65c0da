package arena

import (
	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// frac is the fraction num/den with den > 0: a parameter along a shot's
// segment, compared exactly with integer arithmetic.
type frac struct{ num, den int64 }

// less reports a < b.
func (a frac) less(b frac) bool { return a.num*b.den < b.num*a.den }

// slab narrows [enter, exit] to the parameters t at which s + t*d lies in
// [lo, hi], and reports whether the interval is still non-empty.
func slab(s, d, lo, hi int64, enter, exit *frac) bool {
	if d == 0 {
		return lo <= s && s <= hi
	}
	var t0, t1 frac
	if d > 0 {
		t0, t1 = frac{lo - s, d}, frac{hi - s, d}
	} else {
		t0, t1 = frac{s - hi, -d}, frac{s - lo, -d}
	}
	if enter.less(t0) {
		*enter = t0
	}
	if t1.less(*exit) {
		*exit = t1
	}
	return !exit.less(*enter)
}

// segmentRect returns the parameter t in [0, 1] at which the segment from
// (sx, sy) to (sx+dx, sy+dy) first touches the closed rectangle r (0 if it
// starts inside), and whether it touches it at all.
func segmentRect(sx, sy, dx, dy int64, r Rect) (frac, bool) {
	enter, exit := frac{0, 1}, frac{1, 1}
	if !slab(sx, dx, int64(r.MinX), int64(r.MaxX), &enter, &exit) ||
		!slab(sy, dy, int64(r.MinY), int64(r.MaxY), &enter, &exit) {
		return frac{}, false
	}
	return enter, true
}

// fire shoots the weapon of the player in seat s, who is alive and whose
// cooldown is over: a hitscan ray from the player's centre along its aim,
// up to RangeUnits, stopped by the first wall or by the first other living
// player's box as it was at the resolved render time (see [MaxRewind]). A
// wall and a player at the same distance: the wall wins; two players: the
// lower seat. Firing ends spawn invulnerability. The SHOT, HIT and KILL
// events are buffered for the next Step.
func (a *Arena) fire(s int, in game.Input) {
	p := &a.players[s]
	p.cooldown = a.cooldownTicks
	p.fired = true
	p.invuln = 0

	at, rewind := a.resolveTime(in.RenderTime)
	a.lastRewind = rewind

	sx, sy := int64(p.body.X), int64(p.body.Y)
	cx, cy := aimDir(uint32(p.aim))
	dx, dy := a.rangeFixed*cx/dirOne, a.rangeFixed*cy/dirOne

	best, target := frac{1, 1}, -1
	walls := a.m.Walls
	for i := range walls {
		if t, ok := segmentRect(sx, sy, dx, dy, walls[i]); ok && t.less(best) {
			best = t
		}
	}
	h := a.mp.HalfSize
	for j := range a.players {
		q := &a.players[j]
		if j == s || !q.present || q.dead {
			continue
		}
		x, y, ok := a.positionAt(q, at)
		if !ok {
			continue
		}
		if t, ok := segmentRect(sx, sy, dx, dy, Rect{x - h, y - h, x + h, y + h}); ok && t.less(best) {
			best, target = t, j
		}
	}
	ex := int32(sx + dx*best.num/best.den)
	ey := int32(sy + dy*best.num/best.den)
	a.pending = append(a.pending, game.Event{
		Type: arbiterv1.EventType_EVENT_TYPE_SHOT, Actor: p.id,
		X: p.body.X, Y: p.body.Y, X2: ex, Y2: ey,
	})
	if target < 0 {
		return
	}
	q := &a.players[target]
	dmg := int32(Damage)
	if q.invuln > 0 {
		dmg = 0
	}
	a.pending = append(a.pending, game.Event{
		Type: arbiterv1.EventType_EVENT_TYPE_HIT, Actor: p.id, Target: q.id,
		X: ex, Y: ey, Value: dmg,
	})
	q.health -= dmg
	if q.health > 0 {
		return
	}
	q.health = 0
	q.dead = true
	q.deaths++
	q.respawn = a.respawnTicks
	q.cooldown = 0
	q.invuln = 0
	q.body.VX, q.body.VY = 0, 0
	p.kills++
	p.score++
	a.pending = append(a.pending, game.Event{
		Type: arbiterv1.EventType_EVENT_TYPE_KILL, Actor: p.id, Target: q.id,
		X: q.body.X, Y: q.body.Y,
	})
}
