package arena

import "math"

// Scale is the number of fixed-point position units per world unit: a
// position of 8 is one world unit (one CSS pixel at zoom 1). Velocities are in
// the same units per tick.
const Scale = 8

// AngleTurn is one full turn in angle units: angles are in 1/65536 turn, 0 is
// +x and angles grow towards +y (clockwise on screen, since +y is down).
const AngleTurn = 65536

// SubTick is the number of render-time units per tick: Input.RenderTime is in
// 1/256 tick (tick*256 + fraction).
const SubTick = 256

// U converts whole world units to fixed-point units.
func U(worldUnits int32) int32 { return worldUnits * Scale }

// isqrt returns floor(sqrt(n)) for 0 <= n < 2^40. For such n the float64
// conversion is exact and the correctly rounded square root never reaches the
// next integer, so the result is exact and equal to JavaScript's
// Math.floor(Math.sqrt(n)).
func isqrt(n int64) int32 {
	return int32(math.Sqrt(float64(n)))
}

// clamp32 limits v to [lo, hi].
func clamp32(v, lo, hi int32) int32 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
