package arena

import "math"

// Weapon and health constants. Every player carries the same hitscan rifle.
const (
	// ButtonFire is the Input.Buttons bit that fires the weapon.
	ButtonFire = 1
	// FireRate is the most shots a player fires per second; the cooldown
	// is ceil(TickRate/FireRate) ticks.
	FireRate = 6
	// RangeUnits is how far a shot reaches, in world units.
	RangeUnits = 900
	// Damage is the health one hit takes.
	Damage = 25
	// MaxHealth is a player's health at spawn.
	MaxHealth = 100
	// InvulnerableSeconds is how long a player is invulnerable after
	// spawning, unless they fire first.
	InvulnerableSeconds = 1
)

// cooldownTicks is the number of ticks between two shots of one player at
// tickRate: ceil(tickRate/FireRate), at least 1.
func cooldownTicks(tickRate int) int32 {
	c := int32((tickRate + FireRate - 1) / FireRate)
	if c < 1 {
		c = 1
	}
	return c
}

// dirOne is the length of the unit vector [aimDir] returns.
const dirOne = 1 << 16

// sinTable holds round(sin(2πi/1024) * dirOne) for i in [0, 1024]. It is
// computed once from a pure function and never modified.
var sinTable = buildSinTable()

func buildSinTable() (t [1025]int32) {
	for i := range t {
		t[i] = int32(math.Round(math.Sin(2*math.Pi*float64(i)/1024) * dirOne))
	}
	// Pin the exact values at the quarter turns.
	t[0], t[256], t[512], t[768], t[1024] = 0, dirOne, 0, -dirOne, 0
	return t
}

// isin returns sin(a) * dirOne for an angle a in 1/65536 turn, linearly
// interpolated between the 1024 table entries (error below one unit).
func isin(a uint32) int64 {
	a &= AngleTurn - 1
	i, f := a>>6, int64(a&63)
	s0, s1 := int64(sinTable[i]), int64(sinTable[i+1])
	return s0 + (s1-s0)*f/64
}

// aimDir returns the direction of aim (1/65536 turn, 0 = +x, growing towards
// +y) as a vector of length about dirOne.
func aimDir(aim uint32) (dx, dy int64) {
	return isin(aim + AngleTurn/4), isin(aim)
}
