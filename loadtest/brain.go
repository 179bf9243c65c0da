package loadtest

import (
	"math"
	"math/rand/v2"

	"github.com/arbiter-gg/arbiter/game"
)

// brain decides a bot's input each tick: wander towards a target that
// changes every few seconds or when the bot is stuck against a wall, aim at
// the nearest living enemy, and fire when one is in range. Owned by the
// bot's sender goroutine.
type brain struct {
	rng          *rand.Rand
	tx, ty       float64 // wander target, position units
	untilNew     int     // ticks until a new target
	stuck        int     // ticks pushing without moving
	lastX, lastY int32
}

// Arena-sized numbers, in position units (1/8 world unit).
const (
	worldW, worldH = 1600 * 8, 1000 * 8
	fireRange      = 600 * 8
)

func newBrain(seed uint64) *brain {
	return &brain{rng: rand.New(rand.NewPCG(seed, seed*0x9e3779b97f4a7c15+1))}
}

// decide returns the input for the next tick given the bot's own entity
// and the others it sees.
func (b *brain) decide(self game.Entity, haveSelf bool, others []game.Entity, tickRate int) game.Input {
	var in game.Input
	if !haveSelf || self.Flags&1 != 0 {
		return in // dead or not spawned: idle
	}
	if b.untilNew <= 0 || b.stuck > tickRate/3 {
		b.tx = 64*8 + b.rng.Float64()*(worldW-128*8)
		b.ty = 64*8 + b.rng.Float64()*(worldH-128*8)
		b.untilNew = tickRate * (2 + b.rng.IntN(3))
		b.stuck = 0
	}
	b.untilNew--
	dx, dy := b.tx-float64(self.X), b.ty-float64(self.Y)
	if d := math.Hypot(dx, dy); d > 16*8 {
		mx, _ := game.QuantizeMove(dx / d)
		my, _ := game.QuantizeMove(dy / d)
		in.MoveX, in.MoveY = mx, my
		if self.X == b.lastX && self.Y == b.lastY {
			b.stuck++
		} else {
			b.stuck = 0
		}
	} else {
		b.untilNew = 0
	}
	b.lastX, b.lastY = self.X, self.Y

	best, bestD := -1, math.MaxFloat64
	for i := range others {
		e := &others[i]
		if e.ID == self.ID || e.Kind != 0 || e.Flags&1 != 0 {
			continue
		}
		if d := math.Hypot(float64(e.X-self.X), float64(e.Y-self.Y)); d < bestD {
			best, bestD = i, d
		}
	}
	if best >= 0 {
		e := others[best]
		in.Aim, _ = game.QuantizeAngle(math.Atan2(float64(e.Y-self.Y), float64(e.X-self.X)))
		if bestD < fireRange {
			in.Buttons = 1
		}
	}
	return in
}
