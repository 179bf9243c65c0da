package arena

import "github.com/arbiter-gg/arbiter/game"

// Movement constants, in world units.
const (
	// MaxSpeedUnits is a player's top speed in world units per second.
	MaxSpeedUnits = 220
	// HalfSizeUnits is half the side of a player's square box.
	HalfSizeUnits = 14
	// accelTenths is the time to reach top speed from rest, in tenths of
	// a second.
	accelTenths = 1
)

// Body is the kinematic state of one player: the centre of its square box
// and its velocity, in fixed-point units (1/Scale world unit, per tick for
// velocities).
type Body struct {
	X, Y   int32
	VX, VY int32
}

// MoveParams are the movement constants for one tick rate, all in fixed
// point units. Derive them with [NewMoveParams]; the golden vectors in
// testdata record them so that a port need not re-derive them.
type MoveParams struct {
	// MaxSpeed is the top speed per axis and overall, per tick.
	MaxSpeed int32
	// Accel is the largest change of each velocity component per tick
	// while the stick is pushed.
	Accel int32
	// Friction is the largest change of each velocity component per tick
	// while the stick is released (both components zero).
	Friction int32
	// HalfSize is half the side of a player's box.
	HalfSize int32
}

// NewMoveParams derives the movement constants for tickRate ticks per second
// (tickRate >= 1), with integer arithmetic only:
//
//	MaxSpeed = 220*Scale / tickRate            (truncating)
//	n        = max(1, tickRate*accelTenths/10)  ticks to top speed
//	Accel    = ceil(MaxSpeed / n) = (MaxSpeed + n - 1) / n
//	Friction = Accel
//	HalfSize = 14*Scale
//
// At 30 ticks/s that is MaxSpeed 58, Accel 20 (top speed after 3 ticks); at
// 60 ticks/s MaxSpeed 29, Accel 5 (after 6 ticks).
func NewMoveParams(tickRate int) MoveParams {
	if tickRate < 1 {
		tickRate = 1
	}
	tr := int32(tickRate)
	maxSpeed := MaxSpeedUnits * Scale / tr
	n := tr * accelTenths / 10
	if n < 1 {
		n = 1
	}
	accel := (maxSpeed + n - 1) / n
	return MoveParams{
		MaxSpeed: maxSpeed,
		Accel:    accel,
		Friction: accel,
		HalfSize: HalfSizeUnits * Scale,
	}
}

// Move runs one movement step: the body b under stick input (in.MoveX,
// in.MoveY), among static walls. Only in.MoveX and in.MoveY are read. It
// uses 32-bit integer arithmetic only (every intermediate stays far below
// 2^31), and every division truncates towards zero (Go's /, JavaScript's
// Math.trunc(a / b)). The exact order of operations, which a port must
// follow, is:
//
//  1. Clamp: mx = clamp(in.MoveX, -127, 127), my = clamp(in.MoveY, -127, 127).
//  2. Normalise: n = mx*mx + my*my; if n > 127*127 then l = ceil(sqrt(n))
//     computed as r = isqrt(n) = floor(sqrt(n)), l = r + 1 if r*r < n else
//     r; then mx = mx*127/l and my = my*127/l (both from the clamped
//     values). Rounding the length up and the components towards zero keeps
//     the stick vector no longer than 127.
//  3. Desired velocity: dx = mx*MaxSpeed/127, dy = my*MaxSpeed/127.
//  4. Rate limit: lim = Friction if mx == 0 and my == 0, else Accel;
//     VX += clamp(dx-VX, -lim, lim); VY += clamp(dy-VY, -lim, lim).
//  5. X axis, only if VX != 0: nx = X + VX. For each wall w (order does not
//     matter) whose Y range overlaps the box, i.e. Y-h < w.MaxY and
//     Y+h > w.MinY with h = HalfSize:
//     if VX > 0, X+h <= w.MinX and nx+h > w.MinX then nx = w.MinX - h;
//     if VX < 0, X-h >= w.MaxX and nx-h < w.MaxX then nx = w.MaxX + h.
//     Then X = nx, and VX = 0 if any wall clamped nx.
//  6. Y axis, only if VY != 0, the same with the axes swapped, using the X
//     from step 5: walls with X-h < w.MaxX and X+h > w.MinX;
//     if VY > 0, Y+h <= w.MinY and ny+h > w.MinY then ny = w.MinY - h;
//     if VY < 0, Y-h >= w.MaxY and ny-h < w.MaxY then ny = w.MaxY + h.
//     Then Y = ny, and VY = 0 if any wall clamped ny.
//
// The box is the open square (X-h, X+h) × (Y-h, Y+h): touching a wall is
// not overlapping it. Steps 5 and 6 are a swept test, so a body never passes
// through a wall however thin, and a body that starts clear of every wall
// ends clear of every wall. Moving diagonally into a wall zeroes only the
// blocked component, so the body slides along the wall.
func Move(b Body, in game.Input, p MoveParams, walls []Rect) Body {
	const m = game.MoveMax
	mx := clamp32(in.MoveX, -m, m)
	my := clamp32(in.MoveY, -m, m)
	if n := mx*mx + my*my; n > m*m {
		l := isqrt(int64(n))
		if l*l < n {
			l++
		}
		mx = mx * m / l
		my = my * m / l
	}
	dx := mx * p.MaxSpeed / m
	dy := my * p.MaxSpeed / m
	lim := p.Accel
	if mx == 0 && my == 0 {
		lim = p.Friction
	}
	b.VX += clamp32(dx-b.VX, -lim, lim)
	b.VY += clamp32(dy-b.VY, -lim, lim)

	h := p.HalfSize
	if b.VX != 0 {
		nx := b.X + b.VX
		hit := false
		for i := range walls {
			w := &walls[i]
			if b.Y-h >= w.MaxY || b.Y+h <= w.MinY {
				continue
			}
			if b.VX > 0 {
				if b.X+h <= w.MinX && nx+h > w.MinX {
					nx, hit = w.MinX-h, true
				}
			} else if b.X-h >= w.MaxX && nx-h < w.MaxX {
				nx, hit = w.MaxX+h, true
			}
		}
		b.X = nx
		if hit {
			b.VX = 0
		}
	}
	if b.VY != 0 {
		ny := b.Y + b.VY
		hit := false
		for i := range walls {
			w := &walls[i]
			if b.X-h >= w.MaxX || b.X+h <= w.MinX {
				continue
			}
			if b.VY > 0 {
				if b.Y+h <= w.MinY && ny+h > w.MinY {
					ny, hit = w.MinY-h, true
				}
			} else if b.Y-h >= w.MaxY && ny-h < w.MaxY {
				ny, hit = w.MaxY+h, true
			}
		}
		b.Y = ny
		if hit {
			b.VY = 0
		}
	}
	return b
}

// Overlaps reports whether the open box of half-size h centred on (x, y)
// overlaps wall w (touching does not count).
func Overlaps(x, y, h int32, w Rect) bool {
	return x-h < w.MaxX && x+h > w.MinX && y-h < w.MaxY && y+h > w.MinY
}
