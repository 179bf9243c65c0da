package arena

import (
	"math"
	"testing"

	"github.com/arbiter-gg/arbiter/game"
)

// simResult summarises one simulation run.
type simResult struct {
	checkpoints []uint64 // Hash every 1000 ticks
	kills       int
	spawns      int
	hits        int
	joins       int
	leaves      int
}

// simulate runs 8 seats for ticks ticks of random inputs drawn from
// inputSeed (joins and leaves midway, 0 to 2 inputs per seat per tick, firing
// half of the time, often aimed at another player) on an arena seeded with
// arenaSeed, checking after every Step that nobody is inside a wall.
func simulate(t testing.TB, inputSeed, arenaSeed uint64, ticks int) simResult {
	const seats = 8
	rng := splitmix(inputSeed)
	a := New(Config{Seed: arenaSeed, RoundSeconds: 1000})
	var r simResult
	present := make([]bool, seats)
	for s := range 6 {
		a.Join(game.Seat(s))
		present[s] = true
		r.joins++
	}
	var events []game.Event
	var ents []game.Entity
	for tick := uint32(1); tick <= uint32(ticks); tick++ {
		// Seat changes.
		if rng.intn(60) == 0 {
			s := rng.intn(seats)
			if present[s] {
				a.Leave(game.Seat(s))
				r.leaves++
			} else {
				a.Join(game.Seat(s))
				r.joins++
			}
			present[s] = !present[s]
		}
		for s := range seats {
			if !present[s] {
				continue
			}
			n := 1
			switch rng.intn(10) {
			case 0:
				n = 0
			case 1:
				n = 2
			}
			for range n {
				in := game.Input{
					MoveX:      rng.stick(),
					MoveY:      rng.stick(),
					Aim:        uint32(rng.intn(AngleTurn)),
					RenderTime: (tick-1)*SubTick - uint32(rng.intn(12*SubTick)),
				}
				if rng.intn(2) == 0 {
					in.Buttons = ButtonFire
				}
				if o := rng.intn(seats); o != s && present[o] && rng.intn(3) > 0 {
					me, _ := a.Body(game.Seat(s))
					them, _ := a.Body(game.Seat(o))
					ang := math.Atan2(float64(them.Y-me.Y), float64(them.X-me.X))
					in.Aim = uint32(int64(ang/(2*math.Pi)*AngleTurn)) & (AngleTurn - 1)
				}
				a.Apply(game.Seat(s), in)
			}
		}
		events = a.Step(tick, events[:0])
		for _, e := range events {
			switch e.Type {
			case evKill:
				r.kills++
			case evSpawn:
				r.spawns++
			case evHit:
				r.hits++
			}
		}
		ents = a.AppendEntities(ents[:0])
		for i := 1; i < len(ents); i++ {
			if ents[i].ID <= ents[i-1].ID {
				t.Fatalf("tick %d: entities not sorted by ID", tick)
			}
		}
		checkClear(t, a)
		if tick%1000 == 0 {
			r.checkpoints = append(r.checkpoints, a.Hash())
		}
	}
	return r
}

func TestDeterminism(t *testing.T) {
	const ticks = 10000
	r1 := simulate(t, 42, 1, ticks)
	r2 := simulate(t, 42, 1, ticks)
	if r1.kills < 10 || r1.spawns < r1.joins+r1.kills/2 || r1.leaves < 5 {
		t.Errorf("simulation too quiet: %+v", r1)
	}
	t.Logf("joins %d leaves %d hits %d kills %d spawns %d", r1.joins, r1.leaves, r1.hits, r1.kills, r1.spawns)
	for i := range r1.checkpoints {
		if r1.checkpoints[i] != r2.checkpoints[i] {
			t.Fatalf("runs diverge by tick %d: %x vs %x", (i+1)*1000, r1.checkpoints[i], r2.checkpoints[i])
		}
	}
	final := r1.checkpoints[len(r1.checkpoints)-1]
	if r := simulate(t, 43, 1, ticks); r.checkpoints[len(r.checkpoints)-1] == final {
		t.Errorf("different input seed, same hash %x", final)
	}
	if r := simulate(t, 42, 2, ticks); r.checkpoints[len(r.checkpoints)-1] == final {
		t.Errorf("different arena seed, same hash %x", final)
	}
}
