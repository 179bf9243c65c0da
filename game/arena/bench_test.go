package arena

import (
	"testing"

	"github.com/arbiter-gg/arbiter/game"
)

// benchTick measures one full tick with n players: one input each (moving,
// turning, firing every third tick, rendering 2 ticks back), Step, and
// AppendEntities into a reused slice.
func benchTick(b *testing.B, n int) {
	a := New(Config{MaxPlayers: n, RoundSeconds: -1})
	for s := range n {
		a.Join(game.Seat(s))
	}
	rng := splitmix(1)
	const patterns = 256
	moves := make([][2]int32, patterns)
	for i := range moves {
		moves[i] = [2]int32{rng.stick(), rng.stick()}
	}
	events := make([]game.Event, 0, 16*n)
	ents := make([]game.Entity, 0, n)
	tick := uint32(0)
	hits := 0
	run := func() {
		tick++
		for s := range n {
			mv := moves[(int(tick)/20+s*7)%patterns]
			in := game.Input{
				MoveX: mv[0], MoveY: mv[1],
				Aim:        (tick*311 + uint32(s)*8191) % AngleTurn,
				RenderTime: (tick - min(tick, 3)) * SubTick,
			}
			if (int(tick)+s)%3 == 0 {
				in.Buttons = ButtonFire
			}
			a.Apply(game.Seat(s), in)
		}
		events = a.Step(tick, events[:0])
		ents = a.AppendEntities(ents[:0])
		for i := range events {
			if events[i].Type == evHit {
				hits++
			}
		}
	}
	for range 300 { // past spawn protection, into steady state
		run()
	}
	b.ReportAllocs()
	hits = 0
	ticks := 0
	for b.Loop() {
		run()
		ticks++
	}
	b.ReportMetric(float64(hits)/float64(ticks), "hits/op")
	if len(ents) != n {
		b.Fatalf("%d entities", len(ents))
	}
}

func BenchmarkStep8(b *testing.B)  { benchTick(b, 8) }
func BenchmarkStep64(b *testing.B) { benchTick(b, 64) }
