package game

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// The hand-written encoder uses field numbers as constants; they must match
// the schema.
func TestEncoderFieldNumbersMatchSchema(t *testing.T) {
	check := func(md protoreflect.MessageDescriptor, want map[string]int) {
		t.Helper()
		for name, num := range want {
			fd := md.Fields().ByName(protoreflect.Name(name))
			if fd == nil {
				t.Errorf("%s has no field %s", md.FullName(), name)
				continue
			}
			if int(fd.Number()) != num {
				t.Errorf("%s.%s is field %d, encoder uses %d", md.FullName(), name, fd.Number(), num)
			}
		}
	}
	check((&arbiterv1.ServerMessage{}).ProtoReflect().Descriptor(), map[string]int{"snapshot": fServerSnapshot})
	check((&arbiterv1.Snapshot{}).ProtoReflect().Descriptor(), map[string]int{
		"tick": fSnapTick, "base_age": fSnapBaseAge, "ack_seq": fSnapAckSeq, "server_time_us": fSnapServerTimeUS,
		"created": fSnapCreated, "updated": fSnapUpdated, "removed": fSnapRemoved, "events": fSnapEvents, "moved": fSnapMoved,
	})
	check((&arbiterv1.Entity{}).ProtoReflect().Descriptor(), map[string]int{
		"id": fEntID, "kind": fEntKind, "x": fEntX, "y": fEntY, "vx": fEntVX, "vy": fEntVY, "angle": fEntAngle,
		"health": fEntHealth, "flags": fEntFlags, "kills": fEntKills, "deaths": fEntDeaths, "score": fEntScore, "timer": fEntTimer,
	})
	check((&arbiterv1.Event{}).ProtoReflect().Descriptor(), map[string]int{
		"type": fEvType, "tick": fEvTick, "actor": fEvActor, "target": fEvTarget, "x": fEvX, "y": fEvY,
		"x2": fEvX2, "y2": fEvY2, "value": fEvValue, "result": fEvResult,
	})
	check((&arbiterv1.RoundResult{}).ProtoReflect().Descriptor(), map[string]int{"round": fResRound, "standings": fResStandings})
	check((&arbiterv1.Standing{}).ProtoReflect().Descriptor(), map[string]int{
		"seat": fStSeat, "entity_id": fStEntity, "kills": fStKills, "deaths": fStDeaths, "score": fStScore, "rank": fStRank,
	})
	if n := (&arbiterv1.Entity{}).ProtoReflect().Descriptor().Fields().Len(); n*6 > maxEntityBytes || n > 13 {
		t.Errorf("Entity has %d fields; the one-byte length in appendEntity* needs rechecking", n)
	}
}

// world is a random evolving set of entities used to make frames.
type world struct {
	rng    *rand.Rand
	ents   map[uint32]Entity
	nextID uint32
	tick   uint32
	seats  int
	radius int32
	events []Event
}

func newWorld(seed uint64, seats int, radius int32) *world {
	w := &world{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ents: map[uint32]Entity{}, nextID: 1, seats: seats, radius: radius}
	for range seats {
		w.spawn()
	}
	return w
}

func (w *world) spawn() {
	r := w.rng
	w.ents[w.nextID] = Entity{ID: w.nextID, Kind: uint32(r.IntN(3)), X: r.Int32N(16000) - 8000, Y: r.Int32N(16000) - 8000, Health: 100}
	w.nextID++
}

// advance moves the world one tick with random changes, including extreme
// values that exercise wrapping differences.
func (w *world) advance() *Frame {
	r := w.rng
	w.tick++
	for id, e := range w.ents {
		switch r.IntN(12) {
		case 0:
			if id > uint32(w.seats) {
				delete(w.ents, id)
				continue
			}
		case 1:
			e.Health -= r.Int32N(30)
			e.Flags ^= 1 << r.IntN(3)
			e.Kills += r.Int32N(2)
			e.Timer = r.Int32N(90)
		case 2:
			e.X = int32(r.Uint32()) // anything, even ±2^31
		case 3, 4:
			// Steady running: only the position changes.
			e.X += e.VX + 1
			e.Y += e.VY
		case 5, 6, 7, 8:
			e.VX, e.VY = r.Int32N(120)-60, r.Int32N(120)-60
			e.X += e.VX
			e.Y += e.VY
			e.Angle = r.Int32N(65536)
		}
		w.ents[id] = e
	}
	if r.IntN(4) == 0 {
		w.spawn()
	}
	w.events = w.events[:0]
	if r.IntN(3) == 0 {
		w.events = append(w.events, Event{Type: arbiterv1.EventType_EVENT_TYPE_HIT, Tick: w.tick, Actor: 1, Target: 2, Value: 25, X: -5, Y2: 7})
	}
	if r.IntN(50) == 0 {
		w.events = append(w.events, Event{Type: arbiterv1.EventType_EVENT_TYPE_ROUND_END, Tick: w.tick, Result: &RoundResult{Round: 1, Standings: []Standing{{Seat: 0, EntityID: 1, Kills: 3, Score: 3, Rank: 1}, {Seat: 1, EntityID: 2, Deaths: 3, Rank: 2}}}})
	}
	ents := make([]Entity, 0, len(w.ents))
	for _, e := range w.ents {
		ents = append(ents, e)
	}
	slices.SortFunc(ents, func(a, b Entity) int { return int(a.ID) - int(b.ID) })
	seats := make([]SeatView, w.seats)
	for i := range seats {
		seats[i] = SeatView{EntityID: uint32(i) + 1, AckSeq: w.tick * 2, Occupied: true}
	}
	return &Frame{
		tick: w.tick, time: epoch.Add(time.Duration(w.tick) * 33 * time.Millisecond),
		entities: ents, seats: seats, radius: w.radius, roster: &Roster{},
		events: slices.Clone(w.events), eventsFrom: w.tick, next: make(chan struct{}),
	}
}

// expectedView is what a viewer should hold for frame f.
func expectedView(f *Frame, viewer Seat) []Entity {
	in := newInterest(f, viewer)
	var out []Entity
	for i := range f.entities {
		if in.sees(&f.entities[i]) {
			out = append(out, f.entities[i])
		}
	}
	return out
}

func decodeSnapshot(t testing.TB, b []byte) *arbiterv1.Snapshot {
	t.Helper()
	var m arbiterv1.ServerMessage
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	s := m.GetSnapshot()
	if s == nil {
		t.Fatalf("not a snapshot: %v", &m)
	}
	return s
}

// roundTrip runs frames through the encoder and a View the way a session
// writer and a client would, skipping frames at random, and checks after
// every snapshot that the view equals the full snapshot of that frame.
func roundTrip(t testing.TB, seed uint64, frames int, radius int32) {
	w := newWorld(seed, 1+int(seed%8), radius)
	viewer := Seat(seed % uint64(w.seats))
	var enc Encoder
	v := NewView()
	var base *Frame
	for i := 0; i < frames; i++ {
		f := w.advance()
		if base != nil && w.rng.IntN(3) == 0 {
			continue // a slow writer skips to a newer frame
		}
		useBase := base
		if w.rng.IntN(40) == 0 {
			useBase = nil // resume: full snapshot
		}
		s := decodeSnapshot(t, enc.AppendSnapshot(nil, f, useBase, viewer))
		if (useBase == nil) != (s.GetBaseAge() == 0) {
			t.Fatalf("tick %d: base_age %d with base %v", f.tick, s.GetBaseAge(), useBase != nil)
		}
		if err := v.Apply(s); err != nil {
			t.Fatalf("seed %d tick %d: %v", seed, f.tick, err)
		}
		if got, want := v.Entities(), expectedView(f, viewer); !slices.Equal(got, want) {
			t.Fatalf("seed %d tick %d: view\n%v\nwant\n%v", seed, f.tick, got, want)
		}
		full := NewView()
		if err := full.Apply(decodeSnapshot(t, enc.AppendSnapshot(nil, f, nil, viewer))); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(v.Entities(), full.Entities()) {
			t.Fatalf("seed %d tick %d: delta-built view differs from full snapshot", seed, f.tick)
		}
		if v.AckSeq() != f.Seat(viewer).AckSeq || v.Tick() != f.tick {
			t.Fatalf("ack %d tick %d", v.AckSeq(), v.Tick())
		}
		if len(v.Events()) != len(f.events) {
			t.Fatalf("tick %d: %d events, frame has %d", f.tick, len(v.Events()), len(f.events))
		}
		for k, ev := range v.Events() {
			if ev.Type != f.events[k].Type || ev.Value != f.events[k].Value || (ev.Result == nil) != (f.events[k].Result == nil) {
				t.Fatalf("event %d: %+v want %+v", k, ev, f.events[k])
			}
		}
		base = f
	}
}

func TestDeltaRoundTripProperty(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		radius := int32(0)
		if seed%2 == 0 {
			radius = 6000
		}
		roundTrip(t, seed, 150, radius)
	}
}

func FuzzDeltaRoundTrip(f *testing.F) {
	f.Add(uint64(1), uint16(50), int32(0))
	f.Add(uint64(7), uint16(300), int32(4000))
	f.Fuzz(func(t *testing.T, seed uint64, frames uint16, radius int32) {
		if radius < 0 {
			radius = -radius
		}
		if radius < 0 {
			radius = 0
		}
		roundTrip(t, seed, int(frames%400), radius)
	})
}

// Arbitrary bytes never panic the decoder, and a View refuses deltas it
// cannot apply instead of inventing state.
func FuzzViewApply(f *testing.F) {
	var enc Encoder
	w := newWorld(3, 4, 0)
	a := w.advance()
	b := w.advance()
	f.Add(enc.AppendSnapshot(nil, a, nil, 0), enc.AppendSnapshot(nil, b, a, 0))
	f.Add([]byte{0x0a, 0x02, 0x08, 0x01}, []byte{0x0a, 0x04, 0x08, 0x02, 0x10, 0x01})
	f.Fuzz(func(t *testing.T, first, second []byte) {
		v := NewView()
		for _, raw := range [][]byte{first, second} {
			var m arbiterv1.ServerMessage
			if proto.Unmarshal(raw, &m) != nil || m.GetSnapshot() == nil {
				continue
			}
			_ = v.Apply(m.GetSnapshot())
		}
	})
}

func TestViewRefusesMismatchedDelta(t *testing.T) {
	var enc Encoder
	w := newWorld(5, 3, 0)
	a, b, c := w.advance(), w.advance(), w.advance()
	v := NewView()
	if err := v.Apply(decodeSnapshot(t, enc.AppendSnapshot(nil, b, a, 0))); err == nil {
		t.Fatal("delta applied to an empty view")
	}
	if err := v.Apply(decodeSnapshot(t, enc.AppendSnapshot(nil, a, nil, 0))); err != nil {
		t.Fatal(err)
	}
	if err := v.Apply(decodeSnapshot(t, enc.AppendSnapshot(nil, c, b, 0))); err == nil {
		t.Fatal("delta based on tick 2 applied to a view at tick 1")
	}
	if v.Synced() {
		t.Fatal("view still claims to be synced")
	}
}

// Steady-state delta encoding reuses the Encoder's buffers.
func TestDeltaEncodeAllocations(t *testing.T) {
	w := newWorld(11, 8, 0)
	frames := make([]*Frame, 64)
	for i := range frames {
		frames[i] = w.advance()
	}
	var enc Encoder
	buf := make([]byte, 0, 4096)
	i := 0
	enc.AppendSnapshot(buf[:0], frames[1], frames[0], 0)
	allocs := testing.AllocsPerRun(200, func() {
		k := 1 + i%(len(frames)-1)
		buf = enc.AppendSnapshot(buf[:0], frames[k], frames[k-1], Seat(i%8))
		i++
	})
	if allocs > 2 {
		t.Fatalf("%.1f allocations per delta encode, want at most 2", allocs)
	}
}

func TestEventsCompleteAfterLongSkip(t *testing.T) {
	w := newWorld(9, 2, 0)
	base := w.advance()
	var f *Frame
	for range 5 {
		f = w.advance()
	}
	if EventsComplete(f, base) {
		t.Fatal("frame keeps only its own tick's events, yet a 5-tick gap counts as complete")
	}
	if !EventsComplete(f, nil) {
		t.Fatal("a full snapshot never misses events")
	}
}
