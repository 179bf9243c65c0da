package game

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of the wire schema (proto/arbiter/v1/snapshot.proto and
// envelope.proto). encode_test.go checks them against the generated
// descriptors, so a schema change cannot silently break the encoder.
const (
	fServerSnapshot = 1

	fSnapTick         = 1
	fSnapBaseAge      = 2
	fSnapAckSeq       = 3
	fSnapServerTimeUS = 4
	fSnapCreated      = 5
	fSnapUpdated      = 6
	fSnapRemoved      = 7
	fSnapEvents       = 8
	fSnapMoved        = 9

	fEntID     = 1
	fEntKind   = 2
	fEntX      = 3
	fEntY      = 4
	fEntVX     = 5
	fEntVY     = 6
	fEntAngle  = 7
	fEntHealth = 8
	fEntFlags  = 9
	fEntKills  = 10
	fEntDeaths = 11
	fEntScore  = 12
	fEntTimer  = 13

	fEvType   = 1
	fEvTick   = 2
	fEvActor  = 3
	fEvTarget = 4
	fEvX      = 5
	fEvY      = 6
	fEvX2     = 7
	fEvY2     = 8
	fEvValue  = 9
	fEvResult = 10

	fResRound     = 1
	fResStandings = 2

	fStSeat   = 1
	fStEntity = 2
	fStKills  = 3
	fStDeaths = 4
	fStScore  = 5
	fStRank   = 6
)

// Encoder writes Snapshot messages, full or delta, for one viewer at a
// time. It keeps scratch buffers between calls so that steady-state
// encoding does not allocate. An Encoder belongs to one goroutine (a
// session's writer); Frames may be shared by any number of Encoders.
type Encoder struct {
	body, created, updated, removed, moved, ev, res []byte
}

// AppendSnapshot appends to dst one ServerMessage carrying the Snapshot of
// frame f as seen by the player in seat viewer. When base is a frame of the
// same room older than f, the snapshot is a delta against it, and base must
// be the frame of the last snapshot written to this viewer; when base is
// nil (after a join or resume) it is full.
//
// Only entities within the room's interest radius of the viewer's own
// entity are included; an entity that leaves it is removed, one that enters
// is created. Events are those of the ticks after base (or of f's tick for a
// full snapshot); EventsComplete tells whether all of them were still held.
func (e *Encoder) AppendSnapshot(dst []byte, f, base *Frame, viewer Seat) []byte {
	if base != nil && (base.tick >= f.tick) {
		base = nil
	}
	b := e.body[:0]
	b = appendVarintField(b, fSnapTick, uint64(f.tick))
	if base != nil {
		b = appendVarintField(b, fSnapBaseAge, uint64(f.tick-base.tick))
	}
	sv := f.Seat(viewer)
	if sv.AckSeq != 0 {
		b = appendVarintField(b, fSnapAckSeq, uint64(sv.AckSeq))
	}
	if base == nil {
		if us := f.time.UnixMicro(); us > 0 {
			b = appendVarintField(b, fSnapServerTimeUS, uint64(us))
		}
	}

	cur := newInterest(f, viewer)
	cr, up, rm, mv := e.created[:0], e.updated[:0], e.removed[:0], e.moved[:0]
	var lastMoved uint32
	if base == nil {
		for i := range f.entities {
			if cur.sees(&f.entities[i]) {
				cr = appendEntityFull(cr, &f.entities[i])
			}
		}
	} else {
		old := newInterest(base, viewer)
		be, fe := base.entities, f.entities
		i, j := 0, 0
		for i < len(be) || j < len(fe) {
			switch {
			case j == len(fe) || (i < len(be) && be[i].ID < fe[j].ID):
				if old.sees(&be[i]) {
					rm = protowire.AppendVarint(rm, uint64(be[i].ID))
				}
				i++
			case i == len(be) || fe[j].ID < be[i].ID:
				if cur.sees(&fe[j]) {
					cr = appendEntityFull(cr, &fe[j])
				}
				j++
			default:
				was, is := old.sees(&be[i]), cur.sees(&fe[j])
				switch {
				case was && is && be[i].Kind == fe[j].Kind:
					if onlyMoved(&be[i], &fe[j]) {
						mv = protowire.AppendVarint(mv, protowire.EncodeZigZag(int64(fe[j].ID-lastMoved)))
						mv = protowire.AppendVarint(mv, protowire.EncodeZigZag(int64(fe[j].X-be[i].X)))
						mv = protowire.AppendVarint(mv, protowire.EncodeZigZag(int64(fe[j].Y-be[i].Y)))
						lastMoved = fe[j].ID
					} else {
						up = appendEntityDelta(up, &be[i], &fe[j])
					}
				default:
					if was {
						rm = protowire.AppendVarint(rm, uint64(be[i].ID))
					}
					if is {
						cr = appendEntityFull(cr, &fe[j])
					}
				}
				i++
				j++
			}
		}
	}
	b = append(b, cr...)
	b = append(b, up...)
	if len(rm) > 0 {
		b = protowire.AppendTag(b, fSnapRemoved, protowire.BytesType)
		b = protowire.AppendBytes(b, rm)
	}
	after := f.tick - 1
	if base != nil {
		after = base.tick
	}
	evs, _ := f.Events(after)
	for k := range evs {
		b = e.appendEvent(b, &evs[k])
	}
	if len(mv) > 0 {
		b = protowire.AppendTag(b, fSnapMoved, protowire.BytesType)
		b = protowire.AppendBytes(b, mv)
	}
	e.body, e.created, e.updated, e.removed, e.moved = b, cr, up, rm, mv

	dst = protowire.AppendTag(dst, fServerSnapshot, protowire.BytesType)
	return protowire.AppendBytes(dst, b)
}

// EventsComplete reports whether a delta from base to f carries every event
// in between: false when the writer fell further behind than the room's
// event window (the events in the gap are lost, and should be counted).
func EventsComplete(f, base *Frame) bool {
	if base == nil || base.tick >= f.tick {
		return true
	}
	_, ok := f.Events(base.tick)
	return ok
}

// interest decides what one viewer sees in one frame.
type interest struct {
	radius int32
	self   uint32
	x, y   int64
	ok     bool // the viewer has an entity in the frame to measure from
}

func newInterest(f *Frame, viewer Seat) interest {
	in := interest{radius: f.radius}
	if f.radius == 0 {
		return in
	}
	in.self = f.Seat(viewer).EntityID
	if e, ok := f.Entity(in.self); ok && in.self != 0 {
		in.x, in.y, in.ok = int64(e.X), int64(e.Y), true
	}
	return in
}

func (in *interest) sees(e *Entity) bool {
	if in.radius == 0 || !in.ok || e.ID == in.self {
		return true
	}
	dx, dy, r := int64(e.X)-in.x, int64(e.Y)-in.y, int64(in.radius)
	return dx*dx+dy*dy <= r*r
}

// An encoded entity is at most 13 fields of 1 tag byte and 5 value bytes:
// 78 bytes, so its length always fits the one byte reserved for it.
const maxEntityBytes = 13 * 6

func appendEntityFull(b []byte, e *Entity) []byte {
	b = protowire.AppendTag(b, fSnapCreated, protowire.BytesType)
	at := len(b)
	b = append(b, 0)
	b = appendVarintField(b, fEntID, uint64(e.ID))
	if e.Kind != 0 {
		b = appendVarintField(b, fEntKind, uint64(e.Kind))
	}
	b = appendSint(b, fEntX, e.X)
	b = appendSint(b, fEntY, e.Y)
	b = appendSint(b, fEntVX, e.VX)
	b = appendSint(b, fEntVY, e.VY)
	b = appendSint(b, fEntAngle, e.Angle)
	b = appendSint(b, fEntHealth, e.Health)
	if e.Flags != 0 {
		b = appendVarintField(b, fEntFlags, uint64(e.Flags))
	}
	b = appendSint(b, fEntKills, e.Kills)
	b = appendSint(b, fEntDeaths, e.Deaths)
	b = appendSint(b, fEntScore, e.Score)
	b = appendSint(b, fEntTimer, e.Timer)
	b[at] = byte(len(b) - at - 1)
	return b
}

// onlyMoved reports whether x or y changed and nothing else did.
func onlyMoved(o, n *Entity) bool {
	if o.X == n.X && o.Y == n.Y {
		return false
	}
	a, b := *o, *n
	a.X, a.Y, b.X, b.Y = 0, 0, 0, 0
	return a == b
}

// appendEntityDelta appends an update carrying the fields that differ,
// each sint32 as the wrapping difference new-old, flags as the new value.
// It appends nothing when nothing changed.
func appendEntityDelta(b []byte, o, n *Entity) []byte {
	if *o == *n {
		return b
	}
	b = protowire.AppendTag(b, fSnapUpdated, protowire.BytesType)
	at := len(b)
	b = append(b, 0)
	b = appendVarintField(b, fEntID, uint64(n.ID))
	b = appendSint(b, fEntX, n.X-o.X)
	b = appendSint(b, fEntY, n.Y-o.Y)
	b = appendSint(b, fEntVX, n.VX-o.VX)
	b = appendSint(b, fEntVY, n.VY-o.VY)
	b = appendSint(b, fEntAngle, n.Angle-o.Angle)
	b = appendSint(b, fEntHealth, n.Health-o.Health)
	if n.Flags != o.Flags {
		// Present even when zero: presence is what says "changed".
		b = protowire.AppendTag(b, fEntFlags, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(n.Flags))
	}
	b = appendSint(b, fEntKills, n.Kills-o.Kills)
	b = appendSint(b, fEntDeaths, n.Deaths-o.Deaths)
	b = appendSint(b, fEntScore, n.Score-o.Score)
	b = appendSint(b, fEntTimer, n.Timer-o.Timer)
	b[at] = byte(len(b) - at - 1)
	return b
}

func (e *Encoder) appendEvent(b []byte, ev *Event) []byte {
	m := e.ev[:0]
	m = appendVarintField(m, fEvType, uint64(ev.Type))
	m = appendVarintField(m, fEvTick, uint64(ev.Tick))
	m = appendVarintField(m, fEvActor, uint64(ev.Actor))
	m = appendVarintField(m, fEvTarget, uint64(ev.Target))
	m = appendSint(m, fEvX, ev.X)
	m = appendSint(m, fEvY, ev.Y)
	m = appendSint(m, fEvX2, ev.X2)
	m = appendSint(m, fEvY2, ev.Y2)
	m = appendSint(m, fEvValue, ev.Value)
	if ev.Result != nil {
		r := e.res[:0]
		r = appendVarintField(r, fResRound, uint64(ev.Result.Round))
		for _, s := range ev.Result.Standings {
			var st [48]byte
			sb := appendVarintField(st[:0], fStSeat, uint64(s.Seat))
			sb = appendVarintField(sb, fStEntity, uint64(s.EntityID))
			sb = appendSint(sb, fStKills, s.Kills)
			sb = appendSint(sb, fStDeaths, s.Deaths)
			sb = appendSint(sb, fStScore, s.Score)
			sb = appendVarintField(sb, fStRank, uint64(s.Rank))
			r = protowire.AppendTag(r, fResStandings, protowire.BytesType)
			r = protowire.AppendBytes(r, sb)
		}
		m = protowire.AppendTag(m, fEvResult, protowire.BytesType)
		m = protowire.AppendBytes(m, r)
		e.res = r
	}
	e.ev = m
	b = protowire.AppendTag(b, fSnapEvents, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

// appendVarintField appends a non-zero varint field (zero is the default
// and is left out).
func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendSint appends a non-zero sint32 field in zigzag encoding.
func appendSint(b []byte, num protowire.Number, v int32) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, protowire.EncodeZigZag(int64(v)))
}
