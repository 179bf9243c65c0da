package game

import "time"

// Frame is the world of one room at one snapshot tick. The room builds it
// once and never changes it afterwards, so any number of goroutines may read
// and encode it at the same time while the room goes on ticking.
type Frame struct {
	tick       uint32
	time       time.Time
	entities   []Entity   // sorted by ID
	seats      []SeatView // indexed by Seat
	events     []Event    // events of ticks [eventsFrom, tick], in order
	eventsFrom uint32     // oldest tick whose events are all in events
	roster     *Roster
	radius     int32         // interest radius, 0 = everything
	next       chan struct{} // closed when a newer frame exists or the room ends
}

// SeatView is what a frame records about one seat.
type SeatView struct {
	// EntityID is the entity the player in the seat controls (0: none).
	EntityID uint32
	// AckSeq is the last input seq the room applied for this seat.
	AckSeq uint32
	// Occupied is true while a player holds the seat.
	Occupied bool
}

// Tick is the tick the frame was taken at.
func (f *Frame) Tick() uint32 { return f.tick }

// Time is when the tick was scheduled to start.
func (f *Frame) Time() time.Time { return f.time }

// Entities returns every entity, sorted by ID. Callers must not modify it.
func (f *Frame) Entities() []Entity { return f.entities }

// Entity returns the entity with the given ID.
func (f *Frame) Entity(id uint32) (Entity, bool) {
	i := searchEntity(f.entities, id)
	if i < len(f.entities) && f.entities[i].ID == id {
		return f.entities[i], true
	}
	return Entity{}, false
}

// Seat returns what the frame records about seat s.
func (f *Frame) Seat(s Seat) SeatView {
	if s < 0 || int(s) >= len(f.seats) {
		return SeatView{}
	}
	return f.seats[s]
}

// Roster returns the roster in force at this frame.
func (f *Frame) Roster() *Roster { return f.roster }

// Events returns the events of ticks after `after` up to the frame's tick,
// and whether they are complete: false when some of them are older than the
// frame keeps. Callers must not modify the slice.
func (f *Frame) Events(after uint32) (events []Event, complete bool) {
	i := 0
	for i < len(f.events) && f.events[i].Tick <= after {
		i++
	}
	return f.events[i:], after+1 >= f.eventsFrom
}

// Next returns a channel that is closed when a newer frame has been
// published or the room has ended.
func (f *Frame) Next() <-chan struct{} { return f.next }

func searchEntity(es []Entity, id uint32) int {
	lo, hi := 0, len(es)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if es[m].ID < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
