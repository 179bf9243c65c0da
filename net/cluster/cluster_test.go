package cluster

import (
	"slices"
	"testing"
	"time"

	"github.com/arbiter-gg/arbiter/game"
	"github.com/arbiter-gg/arbiter/matchmaking"
)

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"http://10.0.0.5:8080":           "ws://10.0.0.5:8080/v1/connect",
		"https://eu1.example.com":        "wss://eu1.example.com/v1/connect",
		"https://eu1.example.com/":       "wss://eu1.example.com/v1/connect",
		"wss://edge.example.com/game/ws": "wss://edge.example.com/game/ws",
		"ws://127.0.0.1:1/":              "ws://127.0.0.1:1/v1/connect",
		"http://h:1/ignored?x=1#frag":    "ws://h:1/v1/connect",
		"ftp://nope.example.com":         "",
		"eu1.example.com:8080":           "",
		"":                               "",
	} {
		got, err := Endpoint(in)
		if want == "" {
			if err == nil {
				t.Errorf("Endpoint(%q) = %q, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("Endpoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestNewChecksNames(t *testing.T) {
	alloc := matchmaking.NewLocal(matchmaking.LocalConfig{}, nil, nil)
	defer alloc.Close()
	modes := matchmaking.DefaultModes()
	if _, err := New(Config{NodeID: "a.b", Modes: modes, Alloc: alloc}); err == nil {
		t.Error("a node id with a dot (a NATS subject separator) accepted")
	}
	bad := append(slices.Clone(modes), matchmaking.Mode{Name: "two words", MinPlayers: 1, MaxPlayers: 2})
	if _, err := New(Config{NodeID: "a", Modes: bad, Alloc: alloc}); err == nil {
		t.Error("a mode name with a space accepted")
	}
	if _, err := New(Config{NodeID: "a", Modes: modes}); err == nil {
		t.Error("no allocator accepted")
	}
}

// Placement prefers the least-loaded node with room for the mode, skips
// draining, full and stale nodes, and spreads a burst through the seats it
// placed since each node's last entry.
func TestCandidates(t *testing.T) {
	c, clock := offline(t)
	seen := func(e nodeEntry, ago time.Duration) {
		c.reg.nodes[e.ID] = &seenNode{e: e, at: clock.Now().Add(-ago)}
	}
	seen(nodeEntry{ID: "busy", Players: 60, MaxPlayers: 100}, 0)
	seen(nodeEntry{ID: "quiet", Players: 10, MaxPlayers: 100}, 0)
	seen(nodeEntry{ID: "big", Players: 100}, 0) // uncapped: 100/10000
	seen(nodeEntry{ID: "draining", Draining: true}, 0)
	seen(nodeEntry{ID: "full", Players: 99, MaxPlayers: 100}, 0)
	seen(nodeEntry{ID: "roomcap", Rooms: 4, MaxRooms: 4}, 0)
	seen(nodeEntry{ID: "stale"}, 4*time.Second)
	duel, _ := c.mode("duel")
	ids := func() []string {
		var out []string
		for _, e := range c.placer.candidates(duel) {
			out = append(out, e.ID)
		}
		return out
	}
	if got := ids(); !slices.Equal(got, []string{"big", "quiet", "busy"}) {
		t.Fatalf("candidates %v", got)
	}
	// Seats placed on "big" since its last entry count against it.
	c.placer.extra["big"] = 2000
	if got := ids(); !slices.Equal(got, []string{"quiet", "big", "busy"}) {
		t.Fatalf("after placing on big: %v", got)
	}
	c.placer.refreshed("big")
	if got := ids(); got[0] != "big" {
		t.Fatalf("after big's new entry: %v", got)
	}
}

// A ticket whose matchmaker never answers fails after its mode's timeout
// and a grace period, so nobody waits for ever.
func TestUnansweredTicketExpires(t *testing.T) {
	c, clock := offline(t)
	var got []matchmaking.Update
	pt := &pendingTicket{id: "t1", mode: "duel", players: []string{"p1"}, since: clock.Now(),
		notify: func(u matchmaking.Update) { got = append(got, u) }}
	c.queue.pending["p1"] = pt
	clock.Advance(matchmaking.DefaultTimeout)
	c.queue.expire()
	if len(got) != 0 {
		t.Fatalf("expired at the mode's timeout already: %v", got)
	}
	clock.Advance(answerGrace + time.Second)
	c.queue.expire()
	if len(got) != 1 || got[0].State != matchmaking.Failed || got[0].PlayerID != "p1" || got[0].TicketID != "t1" {
		t.Fatalf("updates %+v", got)
	}
	if _, still := c.queue.pending["p1"]; still {
		t.Fatal("the ticket is still pending")
	}
}

// offline is a Cluster named "self" on a fake clock that was never
// started: its registry, placer and queue work without NATS.
func offline(t *testing.T) (*Cluster, *game.FakeClock) {
	t.Helper()
	clock := game.NewFakeClock(time.Unix(1000, 0))
	alloc := matchmaking.NewLocal(matchmaking.LocalConfig{}, clock, nil)
	t.Cleanup(alloc.Close)
	c, err := New(Config{NodeID: "self", Modes: matchmaking.DefaultModes(), Alloc: alloc, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return c, clock
}
