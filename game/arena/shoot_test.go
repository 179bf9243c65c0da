package arena

import (
	"slices"
	"testing"

	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

const (
	evShot  = arbiterv1.EventType_EVENT_TYPE_SHOT
	evHit   = arbiterv1.EventType_EVENT_TYPE_HIT
	evKill  = arbiterv1.EventType_EVENT_TYPE_KILL
	evSpawn = arbiterv1.EventType_EVENT_TYPE_SPAWN
)

// duel returns an arena with seat 0 at (400, 500) and seat 1 at (800, 500),
// both vulnerable and recorded in history.
func duel(extra ...Rect) *Arena {
	a := newTestArena(openMap(extra...), 2)
	step(a)
	a.place(0, 400, 500)
	a.place(1, 800, 500)
	step(a)
	return a
}

func TestShotHitsTargetInLine(t *testing.T) {
	a := duel()
	a.Apply(0, a.fireInput(aimRight))
	evs := step(a)
	shots, hits := ofType(evs, evShot), ofType(evs, evHit)
	if len(shots) != 1 || len(hits) != 1 {
		t.Fatalf("events %+v", evs)
	}
	s, h := shots[0], hits[0]
	if s.Actor != 1 || s.X != U(400) || s.Y != U(500) || s.X2 != U(800)-a.mp.HalfSize || s.Y2 != U(500) || s.Tick != a.tick {
		t.Errorf("shot %+v", s)
	}
	if h.Actor != 1 || h.Target != 2 || h.Value != Damage || h.X != s.X2 || h.Y != s.Y2 {
		t.Errorf("hit %+v", h)
	}
	if got := a.players[1].health; got != MaxHealth-Damage {
		t.Errorf("target health %d", got)
	}
	ents := a.AppendEntities(nil)
	if ents[0].Flags&FlagFiring == 0 || ents[1].Flags&FlagFiring != 0 {
		t.Errorf("firing flags %d %d", ents[0].Flags, ents[1].Flags)
	}
	if ents[0].Timer != a.cooldownTicks-1 || ents[0].Angle != aimRight {
		t.Errorf("shooter entity %+v", ents[0])
	}
	step(a)
	if ents = a.AppendEntities(ents[:0]); ents[0].Flags&FlagFiring != 0 {
		t.Errorf("firing flag still set a tick later")
	}
	// Aiming slightly off still hits inside the box; aiming away misses.
	a.place(0, 400, 500)
	a.Apply(0, a.fireInput(AngleTurn-60)) // ~0.33° up: 2.3 units at 400
	if hits := ofType(step(a), evHit); len(hits) != 1 {
		t.Errorf("near-miss aim: hits %+v", hits)
	}
	a.place(0, 400, 500)
	a.Apply(0, a.fireInput(aimLeft))
	evs = step(a)
	if hits := ofType(evs, evHit); len(hits) != 0 {
		t.Errorf("shot away hit %+v", hits)
	}
	if s := ofType(evs, evShot)[0]; s.X2 != U(16) || s.Y2 != U(500) {
		t.Errorf("shot away stopped at %d,%d, want the left border", s.X2, s.Y2)
	}
}

func TestWallBlocksShot(t *testing.T) {
	a := duel(rectU(590, 300, 610, 700))
	a.Apply(0, a.fireInput(aimRight))
	evs := step(a)
	if hits := ofType(evs, evHit); len(hits) != 0 {
		t.Fatalf("shot through a wall hit %+v", hits)
	}
	if s := ofType(evs, evShot)[0]; s.X2 != U(590) || s.Y2 != U(500) {
		t.Errorf("shot stopped at %d,%d, want the wall face %d,%d", s.X2, s.Y2, U(590), U(500))
	}
	if a.players[1].health != MaxHealth {
		t.Errorf("target lost health behind a wall")
	}
}

func TestFireRateLimit(t *testing.T) {
	for _, rate := range []int{30, 60} {
		a := New(Config{Map: openMap(), TickRate: rate, RoundSeconds: 100})
		a.Join(0)
		step(a)
		var ticks []uint32
		for range 2 * rate {
			a.Apply(0, a.fireInput(aimUp))
			for _, e := range ofType(step(a), evShot) {
				ticks = append(ticks, e.Tick)
			}
		}
		if len(ticks) != 2*FireRate {
			t.Errorf("rate %d: %d shots in 2 s, want %d", rate, len(ticks), 2*FireRate)
		}
		for i := 1; i < len(ticks); i++ {
			if d := ticks[i] - ticks[i-1]; d != uint32(rate/FireRate) {
				t.Errorf("rate %d: shots at ticks %v", rate, ticks)
				break
			}
		}
		// Two inputs in one tick fire at most once.
		for range rate {
			step(a)
		}
		a.Apply(0, a.fireInput(aimUp))
		a.Apply(0, a.fireInput(aimUp))
		if n := len(ofType(step(a), evShot)); n != 1 {
			t.Errorf("rate %d: %d shots from two inputs in one tick", rate, n)
		}
	}
}

func TestKillDeathRespawn(t *testing.T) {
	a := duel()
	var kill game.Event
	shots := 0
	for kill.Type == 0 {
		a.Apply(0, a.fireInput(aimRight))
		for _, e := range step(a) {
			switch e.Type {
			case evShot:
				shots++
			case evKill:
				kill = e
			}
		}
		if shots > 10 {
			t.Fatal("no kill after 10 shots")
		}
	}
	if shots != MaxHealth/Damage {
		t.Errorf("killed after %d shots, want %d", shots, MaxHealth/Damage)
	}
	if kill.Actor != 1 || kill.Target != 2 || kill.Tick != a.tick {
		t.Errorf("kill %+v", kill)
	}
	shooter, victim := a.players[0], a.players[1]
	if shooter.kills != 1 || shooter.score != 1 || shooter.deaths != 0 || victim.deaths != 1 || victim.kills != 0 || !victim.dead || victim.health != 0 {
		t.Errorf("shooter %+v victim %+v", shooter, victim)
	}
	ents := a.AppendEntities(nil)
	if e := ents[1]; e.Flags&FlagDead == 0 || e.Timer != a.respawnTicks-1 || e.Deaths != 1 || e.Health != 0 {
		t.Errorf("victim entity %+v", e)
	}
	if e := ents[0]; e.Kills != 1 || e.Score != 1 {
		t.Errorf("shooter entity %+v", e)
	}

	// The dead can neither shoot nor move, and cannot be hit.
	deadAt := a.players[1].body
	for range 10 {
		a.Apply(1, game.Input{Buttons: ButtonFire, MoveX: 127, MoveY: 50, Aim: aimLeft, RenderTime: a.tick * SubTick})
		a.Apply(0, a.fireInput(aimRight))
		for _, e := range step(a) {
			if e.Actor == 2 || e.Type == evHit {
				t.Fatalf("event %+v while seat 1 is dead", e)
			}
		}
	}
	if a.players[1].body != deadAt {
		t.Errorf("dead body moved from %+v to %+v", deadAt, a.players[1].body)
	}

	// Respawn exactly RespawnSeconds after the death tick.
	var spawn game.Event
	for a.tick < kill.Tick+uint32(a.respawnTicks)+5 && spawn.Type == 0 {
		for _, e := range step(a) {
			if e.Type == evSpawn {
				spawn = e
			}
		}
	}
	if want := kill.Tick + uint32(DefaultRespawnSeconds*DefaultTickRate); spawn.Tick != want || spawn.Actor != 2 {
		t.Fatalf("spawn %+v, want at tick %d", spawn, want)
	}
	if !slices.Contains(a.m.Spawns, Point{spawn.X, spawn.Y}) {
		t.Errorf("respawned at %d,%d, not a spawn point", spawn.X, spawn.Y)
	}
	// The farthest spawn from the shooter at (400, 500) is one of the right corners.
	if spawn.X != U(1500) {
		t.Errorf("respawned at %d,%d, not the safest spawn", spawn.X, spawn.Y)
	}
	ents = a.AppendEntities(ents[:0])
	if e := ents[1]; e.Flags != FlagInvulnerable || e.Health != MaxHealth || e.X != spawn.X || e.Y != spawn.Y || e.Deaths != 1 {
		t.Errorf("respawned entity %+v", e)
	}
}

func TestSpawnInvulnerability(t *testing.T) {
	a := duel()
	a.players[1].invuln = a.invulnTicks
	a.Apply(0, a.fireInput(aimRight))
	evs := step(a)
	hits := ofType(evs, evHit)
	if len(hits) != 1 || hits[0].Value != 0 || a.players[1].health != MaxHealth {
		t.Errorf("invulnerable target: events %+v health %d", evs, a.players[1].health)
	}
	// Firing ends one's own protection.
	a.Apply(1, a.fireInput(aimUp))
	step(a)
	if a.players[1].invuln != 0 {
		t.Errorf("still invulnerable after firing")
	}
	// Protection wears off after InvulnerableSeconds.
	a.Join(0)
	ents := a.AppendEntities(nil)
	if ents[0].Flags&FlagInvulnerable == 0 {
		t.Fatalf("fresh player not invulnerable: %+v", ents[0])
	}
	for range InvulnerableSeconds*DefaultTickRate - 1 {
		step(a)
	}
	if ents = a.AppendEntities(ents[:0]); ents[0].Flags&FlagInvulnerable == 0 {
		t.Errorf("protection ended early")
	}
	step(a)
	if ents = a.AppendEntities(ents[:0]); ents[0].Flags&FlagInvulnerable != 0 {
		t.Errorf("protection lasted too long")
	}
}

func TestSegmentRect(t *testing.T) {
	r := Rect{10, 10, 20, 20}
	for _, tc := range []struct {
		sx, sy, dx, dy int64
		ok             bool
		t              frac
	}{
		{0, 15, 40, 0, true, frac{10, 40}},
		{0, 15, 5, 0, false, frac{}},
		{30, 15, -40, 0, true, frac{10, 40}},
		{15, 15, 40, 0, true, frac{0, 1}},
		{0, 0, 40, 40, true, frac{10, 40}},
		{0, 25, 40, 0, false, frac{}},
		{15, 0, 0, 40, true, frac{10, 40}},
		{0, 0, 40, 2, false, frac{}},
	} {
		got, ok := segmentRect(tc.sx, tc.sy, tc.dx, tc.dy, r)
		if ok != tc.ok || ok && (got.less(tc.t) || tc.t.less(got)) {
			t.Errorf("segment %+v: %v %v", tc, got, ok)
		}
	}
}

func TestAimDir(t *testing.T) {
	for _, tc := range []struct {
		aim    uint32
		dx, dy int64
	}{
		{aimRight, dirOne, 0}, {aimDown, 0, dirOne}, {aimLeft, -dirOne, 0}, {aimUp, 0, -dirOne},
		{AngleTurn / 8, 46341, 46341},
	} {
		dx, dy := aimDir(tc.aim)
		if abs(dx-tc.dx) > 1 || abs(dy-tc.dy) > 1 {
			t.Errorf("aimDir(%d) = %d,%d, want %d,%d", tc.aim, dx, dy, tc.dx, tc.dy)
		}
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
