package arena

import (
	"testing"

	"github.com/arbiter-gg/arbiter/game"
)

func TestMoveParams(t *testing.T) {
	for _, tc := range []struct {
		rate int
		want MoveParams
	}{
		{30, MoveParams{MaxSpeed: 58, Accel: 20, Friction: 20, HalfSize: 112}},
		{60, MoveParams{MaxSpeed: 29, Accel: 5, Friction: 5, HalfSize: 112}},
		{1, MoveParams{MaxSpeed: 1760, Accel: 1760, Friction: 1760, HalfSize: 112}},
	} {
		if got := NewMoveParams(tc.rate); got != tc.want {
			t.Errorf("NewMoveParams(%d) = %+v, want %+v", tc.rate, got, tc.want)
		}
	}
}

func TestIsqrtExact(t *testing.T) {
	for _, n := range []int64{0, 1, 2, 3, 4, 15, 16, 17, 32258, 1<<40 - 1, 1 << 39, 999999999999} {
		r := int64(isqrt(n))
		if r*r > n || (r+1)*(r+1) <= n {
			t.Errorf("isqrt(%d) = %d", n, r)
		}
	}
	// Every stick vector (the only use in Move).
	for n := int64(0); n <= 2*127*127; n++ {
		r := int64(isqrt(n))
		if r*r > n || (r+1)*(r+1) <= n {
			t.Fatalf("isqrt(%d) = %d", n, r)
		}
	}
}

func TestMoveAcceleratesAndCaps(t *testing.T) {
	for _, rate := range []int{30, 60} {
		p := NewMoveParams(rate)
		b := Body{X: U(800), Y: U(500)}
		ticksToMax := -1
		prev := int32(0)
		for i := 1; i <= 3*rate; i++ {
			x := b.X
			b = Move(b, game.Input{MoveX: 127}, p, nil)
			if b.X-x != b.VX {
				t.Fatalf("rate %d step %d: moved %d with velocity %d", rate, i, b.X-x, b.VX)
			}
			if b.VX < prev || b.VX > p.MaxSpeed || b.VY != 0 {
				t.Fatalf("rate %d step %d: velocity %d,%d after %d", rate, i, b.VX, b.VY, prev)
			}
			if b.VX == p.MaxSpeed && ticksToMax < 0 {
				ticksToMax = i
			}
			prev = b.VX
		}
		if want := rate / 10; ticksToMax != want {
			t.Errorf("rate %d: top speed after %d ticks, want %d (0.1 s)", rate, ticksToMax, want)
		}
		// Releasing the stick stops the body just as fast.
		for i := 1; i <= rate/10; i++ {
			b = Move(b, game.Input{}, p, nil)
		}
		if b.VX != 0 {
			t.Errorf("rate %d: velocity %d 0.1 s after release", rate, b.VX)
		}
	}
}

func TestMoveDiagonalNotFaster(t *testing.T) {
	p := NewMoveParams(30)
	maxSq := int64(p.MaxSpeed) * int64(p.MaxSpeed)
	for mx := int32(-127); mx <= 127; mx++ {
		for my := int32(-127); my <= 127; my++ {
			b := Body{}
			for range 10 {
				b = Move(b, game.Input{MoveX: mx, MoveY: my}, p, nil)
			}
			if sq := int64(b.VX)*int64(b.VX) + int64(b.VY)*int64(b.VY); sq > maxSq {
				t.Fatalf("stick %d,%d: speed² %d > %d", mx, my, sq, maxSq)
			}
		}
	}
	b := Body{}
	for range 10 {
		b = Move(b, game.Input{MoveX: 127, MoveY: 127}, p, nil)
	}
	if b.VX != 40 || b.VY != 40 {
		t.Errorf("full diagonal velocity %d,%d, want 40,40", b.VX, b.VY)
	}
	// Out-of-range sticks are clamped like in-range ones.
	if got, want := Move(Body{}, game.Input{MoveX: 1000, MoveY: -1000}, p, nil),
		Move(Body{}, game.Input{MoveX: 127, MoveY: -127}, p, nil); got != want {
		t.Errorf("clamped stick: %+v, want %+v", got, want)
	}
}

func TestMoveSlidesAlongWall(t *testing.T) {
	p := NewMoveParams(30)
	wall := Rect{MinX: U(100), MinY: U(0), MaxX: U(120), MaxY: U(1000)}
	walls := []Rect{wall}
	// Touching the wall's right face, pushing down-left into it.
	b := Body{X: wall.MaxX + p.HalfSize, Y: U(200)}
	for i := range 50 {
		y := b.Y
		b = Move(b, game.Input{MoveX: -127, MoveY: 127}, p, walls)
		if b.X != wall.MaxX+p.HalfSize || b.VX != 0 {
			t.Fatalf("step %d: body %+v left the wall face", i, b)
		}
		if b.Y <= y || b.Y-y != b.VY {
			t.Fatalf("step %d: body %+v did not slide down from y %d", i, b, y)
		}
	}
	if b.VY != 40 {
		t.Errorf("sliding speed %d, want the diagonal component 40", b.VY)
	}
	// Approaching the wall from afar stops exactly at its face.
	b = Body{X: U(300), Y: U(200)}
	for range 60 {
		b = Move(b, game.Input{MoveX: -127, MoveY: 40}, p, walls)
	}
	if b.X != wall.MaxX+p.HalfSize || b.VX != 0 || b.VY == 0 {
		t.Errorf("after approach: %+v", b)
	}
	// A thin wall is not tunnelled through even at top speed.
	thin := []Rect{{MinX: U(500), MinY: 0, MaxX: U(500) + 1, MaxY: U(1000)}}
	b = Body{X: U(400), Y: U(200)}
	for range 60 {
		b = Move(b, game.Input{MoveX: 127}, p, thin)
	}
	if b.X != U(500)-p.HalfSize {
		t.Errorf("thin wall: body at %d, want %d", b.X, U(500)-p.HalfSize)
	}
}

func TestDefaultMapValid(t *testing.T) {
	m := DefaultMap()
	if m.Name != "arena/yard" || m.Width != U(1600) || m.Height != U(1000) {
		t.Fatalf("map %q %dx%d", m.Name, m.Width, m.Height)
	}
	h := NewMoveParams(30).HalfSize
	for _, s := range m.Spawns {
		for _, w := range m.Walls {
			if Overlaps(s.X, s.Y, h, w) {
				t.Errorf("spawn %+v overlaps wall %+v", s, w)
			}
		}
		if s.X-h < 0 || s.Y-h < 0 || s.X+h > m.Width || s.Y+h > m.Height {
			t.Errorf("spawn %+v outside the map", s)
		}
	}
	if len(m.Spawns) != 8 || len(m.Walls) < 12 {
		t.Errorf("%d spawns, %d walls", len(m.Spawns), len(m.Walls))
	}
}

// TestMoveNeverInsideWall moves bodies from every spawn with random inputs
// at both tick rates and checks no box ever overlaps a wall or leaves the
// map.
func TestMoveNeverInsideWall(t *testing.T) {
	m := DefaultMap()
	rng := splitmix(7)
	for _, rate := range []int{30, 60} {
		p := NewMoveParams(rate)
		for _, s := range m.Spawns {
			b := Body{X: s.X, Y: s.Y}
			var in game.Input
			for i := range 5000 {
				if rng.intn(8) == 0 {
					in = game.Input{MoveX: rng.stick(), MoveY: rng.stick()}
					if rng.intn(3) == 0 {
						in.MoveX, in.MoveY = int32(rng.intn(3)-1)*127, int32(rng.intn(3)-1)*127
					}
				}
				b = Move(b, in, p, m.Walls)
				for _, w := range m.Walls {
					if Overlaps(b.X, b.Y, p.HalfSize, w) {
						t.Fatalf("rate %d step %d: %+v overlaps %+v", rate, i, b, w)
					}
				}
				if b.X-p.HalfSize < 0 || b.Y-p.HalfSize < 0 || b.X+p.HalfSize > m.Width || b.Y+p.HalfSize > m.Height {
					t.Fatalf("rate %d step %d: %+v left the map", rate, i, b)
				}
			}
		}
	}
}
