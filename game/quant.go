package game

import (
	"errors"
	"math"
)

// The wire's fixed-point units (see arbiter.v1.Snapshot).
const (
	// PositionScale is the number of position units per world unit.
	PositionScale = 8
	// AngleUnits is the number of angle units per turn.
	AngleUnits = 65536
	// MaxCoord bounds positions, in position units (±2^24, i.e. ±2 097 152
	// world units), so that sums and squared distances stay exact.
	MaxCoord = 1 << 24
)

// ErrNotFinite is returned when quantizing NaN or an infinity.
var ErrNotFinite = errors.New("game: value is NaN or infinite")

// QuantizePosition converts world units to position units, rounding to the
// nearest unit and clamping to ±MaxCoord.
func QuantizePosition(world float64) (int32, error) {
	if math.IsNaN(world) || math.IsInf(world, 0) {
		return 0, ErrNotFinite
	}
	return int32(clampF(math.Round(world*PositionScale), -MaxCoord, MaxCoord)), nil
}

// QuantizeAngle converts radians (0 along +x, growing towards +y) to
// 1/65536 turn in [0, 65535], wrapping whole turns.
func QuantizeAngle(radians float64) (uint32, error) {
	if math.IsNaN(radians) || math.IsInf(radians, 0) {
		return 0, ErrNotFinite
	}
	turns := radians / (2 * math.Pi)
	turns -= math.Floor(turns)
	return uint32(math.Round(turns*AngleUnits)) % AngleUnits, nil
}

// QuantizeMove converts one axis of a movement stick in [-1, 1] to
// [-MoveMax, MoveMax], clamping values outside.
func QuantizeMove(axis float64) (int32, error) {
	if math.IsNaN(axis) || math.IsInf(axis, 0) {
		return 0, ErrNotFinite
	}
	return int32(clampF(math.Round(axis*MoveMax), -MoveMax, MoveMax)), nil
}

// AngleRadians converts 1/65536 turn back to radians.
func AngleRadians(a uint32) float64 { return float64(a%AngleUnits) * 2 * math.Pi / AngleUnits }

func clampF(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
