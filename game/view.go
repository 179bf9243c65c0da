package game

import (
	"fmt"
	"slices"

	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// View is a client's copy of a room's world, kept by applying the snapshots
// the server sends, in order. The Go client and the bots use it; the browser
// client implements the same rules in TypeScript. A View belongs to one
// goroutine.
type View struct {
	tick     uint32
	ackSeq   uint32
	synced   bool
	entities map[uint32]Entity
	events   []Event
}

// NewView returns an empty view that waits for a full snapshot.
func NewView() *View { return &View{entities: make(map[uint32]Entity)} }

// Tick is the tick of the last applied snapshot.
func (v *View) Tick() uint32 { return v.tick }

// AckSeq is the last input seq the room had applied at that tick.
func (v *View) AckSeq() uint32 { return v.ackSeq }

// Synced reports whether the view has applied a full snapshot.
func (v *View) Synced() bool { return v.synced }

// Len is the number of entities.
func (v *View) Len() int { return len(v.entities) }

// Entity returns the entity with the given ID.
func (v *View) Entity(id uint32) (Entity, bool) {
	e, ok := v.entities[id]
	return e, ok
}

// Entities returns every entity sorted by ID, in a new slice.
func (v *View) Entities() []Entity {
	out := make([]Entity, 0, len(v.entities))
	for _, e := range v.entities {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entity) int { return int(a.ID) - int(b.ID) })
	return out
}

// AppendEntities appends every entity to dst in no particular order,
// without allocating when dst has room (Entities sorts into a new slice).
func (v *View) AppendEntities(dst []Entity) []Entity {
	for _, e := range v.entities {
		dst = append(dst, e)
	}
	return dst
}

// Events are the events carried by the last applied snapshot.
func (v *View) Events() []Event { return v.events }

// Apply applies one snapshot. A full snapshot replaces the view; a delta
// must be based on the view's current tick. On error the view is left
// unsynced and needs a full snapshot (a reconnect) to recover.
func (v *View) Apply(s *arbiterv1.Snapshot) error {
	if err := v.apply(s); err != nil {
		v.synced = false
		return err
	}
	return nil
}

func (v *View) apply(s *arbiterv1.Snapshot) error {
	if s.GetBaseAge() == 0 {
		clear(v.entities)
	} else {
		if !v.synced {
			return fmt.Errorf("game: delta for tick %d before any full snapshot", s.GetTick())
		}
		if s.GetTick()-s.GetBaseAge() != v.tick || s.GetBaseAge() > s.GetTick() {
			return fmt.Errorf("game: delta for tick %d based on tick %d, view is at %d", s.GetTick(), s.GetTick()-s.GetBaseAge(), v.tick)
		}
	}
	for _, id := range s.GetRemoved() {
		if _, ok := v.entities[id]; !ok {
			return fmt.Errorf("game: snapshot %d removes unknown entity %d", s.GetTick(), id)
		}
		delete(v.entities, id)
	}
	for _, c := range s.GetCreated() {
		if _, ok := v.entities[c.GetId()]; ok {
			return fmt.Errorf("game: snapshot %d creates existing entity %d", s.GetTick(), c.GetId())
		}
		v.entities[c.GetId()] = Entity{
			ID: c.GetId(), Kind: c.GetKind(),
			X: c.GetX(), Y: c.GetY(), VX: c.GetVx(), VY: c.GetVy(), Angle: c.GetAngle(),
			Health: c.GetHealth(), Flags: c.GetFlags(),
			Kills: c.GetKills(), Deaths: c.GetDeaths(), Score: c.GetScore(), Timer: c.GetTimer(),
		}
	}
	for _, u := range s.GetUpdated() {
		e, ok := v.entities[u.GetId()]
		if !ok {
			return fmt.Errorf("game: snapshot %d updates unknown entity %d", s.GetTick(), u.GetId())
		}
		if u.Kind != nil && u.GetKind() != e.Kind {
			return fmt.Errorf("game: snapshot %d changes the kind of entity %d", s.GetTick(), u.GetId())
		}
		// Wrapping int32 addition undoes the encoder's wrapping difference.
		e.X += u.GetX()
		e.Y += u.GetY()
		e.VX += u.GetVx()
		e.VY += u.GetVy()
		e.Angle += u.GetAngle()
		e.Health += u.GetHealth()
		if u.Flags != nil {
			e.Flags = u.GetFlags()
		}
		e.Kills += u.GetKills()
		e.Deaths += u.GetDeaths()
		e.Score += u.GetScore()
		e.Timer += u.GetTimer()
		v.entities[e.ID] = e
	}
	if mv := s.GetMoved(); len(mv) > 0 {
		if len(mv)%3 != 0 {
			return fmt.Errorf("game: snapshot %d has %d moved values, not triplets", s.GetTick(), len(mv))
		}
		id := uint32(0)
		for i := 0; i < len(mv); i += 3 {
			id += uint32(mv[i])
			e, ok := v.entities[id]
			if !ok {
				return fmt.Errorf("game: snapshot %d moves unknown entity %d", s.GetTick(), id)
			}
			e.X += mv[i+1]
			e.Y += mv[i+2]
			v.entities[id] = e
		}
	}
	v.events = v.events[:0]
	for _, pe := range s.GetEvents() {
		v.events = append(v.events, EventFromProto(pe))
	}
	v.tick = s.GetTick()
	v.ackSeq = s.GetAckSeq()
	v.synced = true
	return nil
}

// EventFromProto converts a wire event.
func EventFromProto(pe *arbiterv1.Event) Event {
	ev := Event{
		Type: pe.GetType(), Tick: pe.GetTick(), Actor: pe.GetActor(), Target: pe.GetTarget(),
		X: pe.GetX(), Y: pe.GetY(), X2: pe.GetX2(), Y2: pe.GetY2(), Value: pe.GetValue(),
	}
	if r := pe.GetResult(); r != nil {
		ev.Result = &RoundResult{Round: r.GetRound()}
		for _, s := range r.GetStandings() {
			ev.Result.Standings = append(ev.Result.Standings, Standing{
				Seat: Seat(s.GetSeat()), EntityID: s.GetEntityId(),
				Kills: s.GetKills(), Deaths: s.GetDeaths(), Score: s.GetScore(), Rank: s.GetRank(),
			})
		}
	}
	return ev
}
