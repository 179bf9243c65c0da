package arena

// fnv1a is a 64-bit FNV-1a hash fed little-endian integers.
type fnv1a uint64

func (h *fnv1a) u64(v uint64) {
	x := uint64(*h)
	for range 8 {
		x ^= v & 0xff
		x *= 1099511628211
		v >>= 8
	}
	*h = fnv1a(x)
}

func (h *fnv1a) i32(v int32) { h.u64(uint64(uint32(v))) }

func (h *fnv1a) bool(v bool) {
	if v {
		h.u64(1)
	} else {
		h.u64(0)
	}
}

// Hash returns a 64-bit FNV-1a hash of the arena's whole mutable state, in
// a fixed order: clock and round, random generator, every seat (including
// position history), then the buffered events. Two arenas fed the same calls
// have the same Hash; it is meant for determinism tests.
func (a *Arena) Hash() uint64 {
	h := fnv1a(14695981039346656037)
	h.u64(uint64(a.tick))
	h.bool(a.started)
	h.bool(a.over)
	h.u64(uint64(a.roundEnd))
	h.u64(a.rng)
	h.u64(uint64(a.lastRewind))
	for i := range a.players {
		p := &a.players[i]
		h.bool(p.present)
		h.u64(uint64(p.id))
		h.i32(p.body.X)
		h.i32(p.body.Y)
		h.i32(p.body.VX)
		h.i32(p.body.VY)
		h.i32(p.aim)
		h.i32(p.health)
		h.bool(p.dead)
		h.bool(p.fired)
		h.bool(p.firedShown)
		h.i32(p.invuln)
		h.i32(p.kills)
		h.i32(p.deaths)
		h.i32(p.score)
		h.i32(p.cooldown)
		h.i32(p.respawn)
		for j := range p.hist {
			e := &p.hist[j]
			h.u64(uint64(e.tick))
			h.i32(e.x)
			h.i32(e.y)
			h.bool(e.valid)
			h.bool(e.alive)
		}
	}
	h.u64(uint64(len(a.pending)))
	for i := range a.pending {
		e := &a.pending[i]
		h.u64(uint64(e.Type))
		h.u64(uint64(e.Tick))
		h.u64(uint64(e.Actor))
		h.u64(uint64(e.Target))
		h.i32(e.X)
		h.i32(e.Y)
		h.i32(e.X2)
		h.i32(e.Y2)
		h.i32(e.Value)
	}
	return uint64(h)
}
