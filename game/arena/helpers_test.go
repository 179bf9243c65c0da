package arena

import (
	"testing"

	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// splitmix is the tests' deterministic input generator.
type splitmix uint64

func (s *splitmix) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n).
func (s *splitmix) intn(n int) int { return int(s.next() % uint64(n)) }

// stick returns a stick value in [-127, 127].
func (s *splitmix) stick() int32 { return int32(s.intn(255)) - 127 }

// openMap is a 1600×1000 yard with only its border walls, plus extra walls,
// and spawns in the four corners.
func openMap(extra ...Rect) *Map {
	m := DefaultMap()
	m.Name = "test/open"
	m.Walls = append(m.Walls[:4:4], extra...)
	m.Spawns = []Point{pointU(100, 100), pointU(1500, 100), pointU(100, 900), pointU(1500, 900)}
	return m
}

// newTestArena returns an arena on m with seats 0..n-1 joined.
func newTestArena(m *Map, n int) *Arena {
	a := New(Config{Map: m, MaxPlayers: max(n, 2), RoundSeconds: 1000})
	for s := range n {
		a.Join(game.Seat(s))
	}
	return a
}

// step runs the next Step and returns its events.
func step(a *Arena) []game.Event { return a.Step(a.tick+1, nil) }

// place puts seat s at world position (x, y), at rest, vulnerable and with
// a ready weapon. History is not rewritten: Step records it.
func (a *Arena) place(s int, x, y int32) {
	p := &a.players[s]
	p.body = Body{X: U(x), Y: U(y)}
	p.invuln = 0
	p.cooldown = 0
}

// fireInput is a fire input aimed at aim, rendering the latest tick.
func (a *Arena) fireInput(aim uint32) game.Input {
	return game.Input{Buttons: ButtonFire, Aim: aim, RenderTime: a.tick * SubTick}
}

// ofType returns the events of type typ.
func ofType(evs []game.Event, typ arbiterv1.EventType) []game.Event {
	var out []game.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// checkClear fails if any present player's box overlaps a wall.
func checkClear(t testing.TB, a *Arena) {
	t.Helper()
	h := a.mp.HalfSize
	for i := range a.players {
		p := &a.players[i]
		if !p.present {
			continue
		}
		for _, w := range a.m.Walls {
			if Overlaps(p.body.X, p.body.Y, h, w) {
				t.Fatalf("tick %d: seat %d at %+v overlaps wall %+v", a.tick, i, p.body, w)
			}
		}
	}
}

const (
	aimRight = 0
	aimDown  = AngleTurn / 4
	aimLeft  = AngleTurn / 2
	aimUp    = 3 * AngleTurn / 4
)
