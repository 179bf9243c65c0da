package matchmaking

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

// partyInbox records the PartyStates each player receives.
type partyInbox struct {
	mu   sync.Mutex
	seen map[string][]PartyState
}

func (b *partyInbox) for_(player string) func(PartyState) {
	return func(s PartyState) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.seen == nil {
			b.seen = map[string][]PartyState{}
		}
		b.seen[player] = append(b.seen[player], s)
	}
}

func (b *partyInbox) last(player string) PartyState {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.seen[player]
	if len(s) == 0 {
		return PartyState{Code: "<none>"}
	}
	return s[len(s)-1]
}

func memberIDs(s PartyState) []string {
	var ids []string
	for _, m := range s.Members {
		ids = append(ids, m.ID)
	}
	return ids
}

func TestPartyLifecycle(t *testing.T) {
	p := NewParties(3, nil)
	in := &partyInbox{}
	code, err := p.Create(Player{ID: "lead", Name: "Lead"}, in.for_("lead"))
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != CodeLength || strings.Trim(code, CodeAlphabet) != "" {
		t.Fatalf("code %q", code)
	}
	if s := in.last("lead"); s.Code != code || s.LeaderID != "lead" || !slices.Equal(memberIDs(s), []string{"lead"}) {
		t.Fatalf("leader state %+v", s)
	}
	if err := p.Join(strings.ToLower(code), Player{ID: "m1"}, in.for_("m1")); err != nil {
		t.Fatal(err)
	}
	if err := p.Join(code, Player{ID: "m2"}, in.for_("m2")); err != nil {
		t.Fatal(err)
	}
	if s := in.last("lead"); !slices.Equal(memberIDs(s), []string{"lead", "m1", "m2"}) {
		t.Fatalf("leader sees %v", memberIDs(s))
	}
	if err := p.Join(code, Player{ID: "m3"}, nil); !errors.Is(err, ErrPartyFull) {
		t.Fatalf("join full party: %v", err)
	}
	if err := p.Join(code, Player{ID: "m1"}, in.for_("m1")); err != nil {
		t.Fatalf("rejoin own party: %v", err)
	}
	if err := p.Join("ZZZZZZ", Player{ID: "m3"}, nil); !errors.Is(err, ErrPartyNotFound) {
		t.Fatalf("join unknown code: %v", err)
	}

	players, leader, inParty := p.TicketFor("lead")
	if !inParty || !leader || len(players) != 3 {
		t.Fatalf("TicketFor(lead) = %v %v %v", players, leader, inParty)
	}
	if _, leader, inParty := p.TicketFor("m1"); !inParty || leader {
		t.Fatal("m1 should be a member, not the leader")
	}
	if _, _, inParty := p.TicketFor("stranger"); inParty {
		t.Fatal("stranger in a party")
	}

	// The leader leaves: m1, who joined first, leads.
	p.Leave("lead")
	if s := in.last("lead"); s.Code != "" {
		t.Fatalf("leaver got %+v, want empty state", s)
	}
	s, ok := p.Of("m2")
	if !ok || s.LeaderID != "m1" || !slices.Equal(memberIDs(s), []string{"m1", "m2"}) {
		t.Fatalf("after leader left: %+v", s)
	}
	if got := in.last("m2"); got.LeaderID != "m1" {
		t.Fatalf("m2 was told %+v", got)
	}
	if _, ok := p.Of("lead"); ok {
		t.Fatal("leaver still in the party")
	}

	// m2 creates its own party: it leaves the first one.
	code2, err := p.Create(Player{ID: "m2"}, in.for_("m2"))
	if err != nil || code2 == code {
		t.Fatalf("second party: %q, %v", code2, err)
	}
	if s, _ := p.Of("m1"); !slices.Equal(memberIDs(s), []string{"m1"}) || s.LeaderID != "m1" {
		t.Fatalf("first party after m2 left: %+v", s)
	}
	// The last member leaving dissolves it.
	p.Leave("m1")
	p.Leave("m1")
	if err := p.Join(code, Player{ID: "x"}, nil); !errors.Is(err, ErrPartyNotFound) {
		t.Fatalf("join dissolved party: %v", err)
	}
	if _, err := p.Create(Player{}, nil); !errors.Is(err, ErrBadPlayer) {
		t.Fatalf("create without id: %v", err)
	}
}

func TestPartyCodesUnique(t *testing.T) {
	p := NewParties(0, nil)
	seen := map[string]bool{}
	for i := range 2000 {
		code, err := p.Create(Player{ID: string(rune('a'+i%26)) + strings.Repeat("x", i/26)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if seen[code] || strings.ContainsAny(code, "0O1I") {
			t.Fatalf("code %q repeated or ambiguous", code)
		}
		seen[code] = true
	}
}

// cycleReader yields its bytes over and over.
type cycleReader struct {
	b []byte
	i int
}

func (r *cycleReader) Read(p []byte) (int, error) {
	for k := range p {
		p[k] = r.b[r.i%len(r.b)]
		r.i++
	}
	return len(p), nil
}

func TestPartyCodeCollisionsRetry(t *testing.T) {
	// AAAAAA, AAAAAA again (taken), then BBBBBB.
	r := &cycleReader{b: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}}
	p := NewParties(2, r)
	c1, err := p.Create(Player{ID: "a"}, nil)
	if err != nil || c1 != "AAAAAA" {
		t.Fatalf("first code %q, %v", c1, err)
	}
	c2, err := p.Create(Player{ID: "b"}, nil)
	if err != nil || c2 != "BBBBBB" {
		t.Fatalf("second code %q, %v", c2, err)
	}
	// A source that only ever repeats a taken code fails instead of looping.
	p2 := NewParties(2, &cycleReader{b: []byte{5}})
	if _, err := p2.Create(Player{ID: "a"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Create(Player{ID: "b"}, nil); err == nil {
		t.Fatal("no error when every code is taken")
	}
}

func TestPartyTicketQueuesTogether(t *testing.T) {
	p := NewParties(0, nil)
	code, _ := p.Create(Player{ID: "l"}, nil)
	for _, id := range []string{"m1", "m2"} {
		if err := p.Join(code, Player{ID: id}, nil); err != nil {
			t.Fatal(err)
		}
	}
	players, isLeader, _ := p.TicketFor("l")
	if !isLeader {
		t.Fatal("not leader")
	}
	m := New(Config{}, &fakeAlloc{}, nil, nil)
	rec := &recorder{}
	if _, err := m.Enqueue(Ticket{Mode: "arena", Players: players}, rec.notify); err != nil {
		t.Fatal(err)
	}
	if len(rec.all()) != 3 || m.QueueSizes()["arena"] != 3 {
		t.Fatalf("updates %v, queue %v", rec.all(), m.QueueSizes())
	}
	if !m.Cancel("m2") {
		t.Fatal("member could not cancel the party ticket")
	}
	for _, id := range []string{"l", "m1", "m2"} {
		if u, _ := rec.last(id); u.State != Cancelled {
			t.Fatalf("%s: %+v", id, u)
		}
	}
}
