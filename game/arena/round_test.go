package arena

import (
	"testing"

	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

func TestRoundEnds(t *testing.T) {
	a := New(Config{RoundSeconds: 2, MaxPlayers: 6})
	for s := range 6 {
		a.Join(game.Seat(s))
	}
	if info := a.Info(); info.Map != "arena/yard" || info.RoundEndTick != 61 {
		t.Errorf("info before start %+v", info)
	}
	a.Leave(4)
	evs := a.Step(10, nil)
	if evs[0].Type != arbiterv1.EventType_EVENT_TYPE_ROUND_START || evs[0].Tick != 10 || evs[0].Value != 1 {
		t.Errorf("first event %+v", evs[0])
	}
	if n := len(ofType(evs, evSpawn)); n != 6 {
		t.Errorf("%d SPAWN events for 6 joins", n)
	}
	if info := a.Info(); info.RoundEndTick != 70 {
		t.Errorf("info %+v, want round end 70", info)
	}
	// Standings: score desc, kills desc, deaths asc, seat asc.
	stats := []struct{ kills, deaths, score int32 }{
		{1, 2, 1}, // seat 0
		{3, 0, 3}, // seat 1: first
		{1, 2, 1}, // seat 2: ties seat 0
		{2, 5, 1}, // seat 3: more kills than seats 0 and 2
		{9, 0, 9}, // seat 4: left, not ranked
		{1, 1, 1}, // seat 5: fewer deaths than seats 0 and 2
	}
	for s, st := range stats {
		p := &a.players[s]
		p.kills, p.deaths, p.score = st.kills, st.deaths, st.score
	}
	var end *game.Event
	for tick := uint32(11); tick <= 70; tick++ {
		if a.Over() {
			t.Fatalf("over at tick %d", tick)
		}
		for _, e := range a.Step(tick, nil) {
			if e.Type == arbiterv1.EventType_EVENT_TYPE_ROUND_END {
				end = &e
			}
		}
		if end != nil && tick != 70 {
			t.Fatalf("round ended at tick %d, want 70", tick)
		}
	}
	if end == nil || !a.Over() {
		t.Fatalf("no ROUND_END by tick 70; over %v", a.Over())
	}
	if end.Tick != 70 || end.Value != 1 || end.Result == nil || end.Result.Round != 1 {
		t.Fatalf("round end %+v", end)
	}
	wantSeats := []game.Seat{1, 3, 5, 0, 2}
	if len(end.Result.Standings) != len(wantSeats) {
		t.Fatalf("standings %+v", end.Result.Standings)
	}
	for i, st := range end.Result.Standings {
		s := wantSeats[i]
		if st.Seat != s || st.Rank != uint32(i+1) || st.EntityID != uint32(s)+1 ||
			st.Kills != stats[s].kills || st.Deaths != stats[s].deaths || st.Score != stats[s].score {
			t.Errorf("standing %d: %+v, want seat %d", i, st, s)
		}
	}
	// Nothing happens after the end.
	h := a.Hash()
	a.Apply(0, game.Input{MoveX: 127, Buttons: ButtonFire})
	if evs := a.Step(71, nil); len(evs) != 0 || a.Hash() != h || !a.Over() {
		t.Errorf("after the end: events %+v, state changed %v", evs, a.Hash() != h)
	}
}

func TestNoRoundLimit(t *testing.T) {
	a := New(Config{RoundSeconds: -1})
	a.Join(0)
	for tick := uint32(1); tick < 20000; tick++ {
		a.Step(tick, nil)
	}
	if a.Over() || a.Info().RoundEndTick != 0 {
		t.Errorf("unlimited round: over %v info %+v", a.Over(), a.Info())
	}
}

func TestJoinLeaveSeats(t *testing.T) {
	a := New(Config{MaxPlayers: 3})
	if id := a.Join(3); id != 0 {
		t.Errorf("Join(3) of 3 seats = %d", id)
	}
	if id := a.Join(-1); id != 0 {
		t.Errorf("Join(-1) = %d", id)
	}
	if id := a.Join(2); id != 3 {
		t.Errorf("Join(2) = %d", id)
	}
	a.Join(0)
	step(a)
	ents := a.AppendEntities(nil)
	if len(ents) != 2 || ents[0].ID != 1 || ents[1].ID != 3 || ents[0].Kind != KindPlayer || ents[0].Health != MaxHealth {
		t.Fatalf("entities %+v", ents)
	}
	if ents[0].X == ents[1].X && ents[0].Y == ents[1].Y {
		t.Errorf("two players spawned on the same point")
	}
	a.Leave(2)
	a.Leave(1) // empty seat: no-op
	a.Apply(2, game.Input{MoveX: 127})
	if _, ok := a.Body(2); ok {
		t.Errorf("seat 2 still has a body after Leave")
	}
	if ents = a.AppendEntities(ents[:0]); len(ents) != 1 || ents[0].ID != 1 {
		t.Errorf("entities after leave %+v", ents)
	}
}
