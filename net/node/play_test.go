package node

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/arbiter-gg/arbiter/net/client"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// Sixteen clients ask for arena matches at once and land in two rooms of
// eight; in each room everyone sees everyone else move, every client's
// acked input seq advances, and snapshots arrive at the tick rate.
func TestSixteenPlayersTwoRooms(t *testing.T) {
	n := startNode(t, Config{})
	clients := make([]*client.Client, 16)
	for i := range clients {
		clients[i] = dial(t, n, fmt.Sprintf("p%02d", i), client.Options{})
	}
	var wg sync.WaitGroup
	joined := make([]*arbiterv1.Joined, 16)
	errs := make([]error, 16)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			joined[i], errs[i] = c.Play(ctxT(t, 20*time.Second), "arena")
		}()
	}
	wg.Wait()
	rooms := map[string][]*client.Client{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		rooms[joined[i].GetRoomId()] = append(rooms[joined[i].GetRoomId()], clients[i])
	}
	if len(rooms) != 2 {
		t.Fatalf("%d rooms, want 2", len(rooms))
	}
	for id, cs := range rooms {
		if len(cs) != 8 {
			t.Fatalf("room %s has %d players, want 8", id, len(cs))
		}
	}
	for _, c := range clients {
		if err := c.WaitSynced(ctxT(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}

	d := drive(clients, 30)
	defer d.halt()
	// Let everyone get going (every client's inputs acked), then measure
	// over three seconds.
	eventually(t, 10*time.Second, "every client's inputs acked", func() bool {
		for _, c := range clients {
			if c.State().AckSeq < 5 {
				return false
			}
		}
		return true
	})
	type mark struct {
		snaps uint64
		ack   uint32
		pos   map[uint32][2]int32
	}
	take := func(c *client.Client) mark {
		st := c.State()
		m := mark{snaps: st.SnapshotsReceived, ack: st.AckSeq, pos: map[uint32][2]int32{}}
		for _, e := range st.Entities {
			m.pos[e.ID] = [2]int32{e.X, e.Y}
		}
		return m
	}
	before := make([]mark, 16)
	for i, c := range clients {
		before[i] = take(c)
	}
	start := time.Now()
	time.Sleep(3 * time.Second)
	elapsed := time.Since(start)
	for i, c := range clients {
		after := take(c)
		rate := float64(after.snaps-before[i].snaps) / elapsed.Seconds()
		if rate < 27 || rate > 33 {
			t.Errorf("client %d: %.1f snapshots/s, want 30 ± 10%%", i, rate)
		}
		if after.ack <= before[i].ack+30 {
			t.Errorf("client %d: acked seq went from %d to %d in 3 s", i, before[i].ack, after.ack)
		}
		if len(after.pos) != 8 {
			t.Errorf("client %d sees %d entities, want 8", i, len(after.pos))
		}
		moved := 0
		for id, p := range after.pos {
			if q, ok := before[i].pos[id]; ok && q != p {
				moved++
			}
		}
		if moved < 8 {
			t.Errorf("client %d saw %d of 8 players move", i, moved)
		}
		if st := c.State(); st.DesyncErrors != 0 {
			t.Errorf("client %d: %d desyncs: %v", i, st.DesyncErrors, st.LastDesyncError)
		}
	}
}

// A party lands in one room together.
func TestPartyLandsTogether(t *testing.T) {
	n := startNode(t, Config{})
	lead := dial(t, n, "lead", client.Options{})
	a := dial(t, n, "a", client.Options{})
	b := dial(t, n, "b", client.Options{})
	solo := dial(t, n, "solo", client.Options{})
	ps := must[*arbiterv1.PartyState](t)(lead.PartyCreate(ctxT(t, 5*time.Second)))
	if len(ps.GetCode()) != 6 {
		t.Fatalf("party code %q", ps.GetCode())
	}
	must[*arbiterv1.PartyState](t)(a.PartyJoin(ctxT(t, 5*time.Second), ps.GetCode()))
	got := must[*arbiterv1.PartyState](t)(b.PartyJoin(ctxT(t, 5*time.Second), ps.GetCode()))
	if len(got.GetMembers()) != 3 || got.GetLeaderId() != lead.PlayerID() {
		t.Fatalf("party %v", got)
	}
	// A member may not queue the party.
	if err := a.FindMatch(ctxT(t, 5*time.Second), "arena"); err != nil {
		t.Fatal(err)
	}
	_, err := a.WaitMatch(ctxT(t, 5*time.Second))
	if se, ok := err.(*client.ServerError); !ok || se.Code != arbiterv1.ErrorCode_ERROR_CODE_NOT_PARTY_LEADER {
		t.Fatalf("member queued the party: %v", err)
	}
	var wg sync.WaitGroup
	rooms := make([]string, 3)
	for i, c := range []*client.Client{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := c.WaitMatch(ctxT(t, 15*time.Second))
			if err != nil {
				t.Error(err)
				return
			}
			j, err := c.JoinRoom(ctxT(t, 5*time.Second), f.GetJoinToken())
			if err != nil {
				t.Error(err)
				return
			}
			rooms[i+1] = j.GetRoomId()
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := solo.Play(ctxT(t, 15*time.Second), "arena"); err != nil {
			t.Error(err)
		}
	}()
	j := must[*arbiterv1.Joined](t)(lead.Play(ctxT(t, 15*time.Second), "arena"))
	rooms[0] = j.GetRoomId()
	wg.Wait()
	if rooms[0] == "" || rooms[1] != rooms[0] || rooms[2] != rooms[0] {
		t.Fatalf("party spread over rooms %v", rooms)
	}
}

// A plain WebSocket to the server's root reaches the game, as
// `new WebSocket("ws://localhost:8080")` from any page would.
func TestWebSocketAtRoot(t *testing.T) {
	n := startNode(t, Config{})
	c, err := client.Dial(ctxT(t, 5*time.Second), "ws://"+n.Addr(), client.Options{Name: "root"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.PlayerID() == "" {
		t.Fatal("no Welcome at /")
	}
}

// A queued party whose members change loses its ticket: it stood for the
// party as it was.
func TestPartyChangeFailsTicket(t *testing.T) {
	n := startNode(t, Config{})
	lead := dial(t, n, "lead", client.Options{})
	mate := dial(t, n, "mate", client.Options{})
	code := must[*arbiterv1.PartyState](t)(lead.PartyCreate(ctxT(t, 5*time.Second))).GetCode()
	must[*arbiterv1.PartyState](t)(mate.PartyJoin(ctxT(t, 5*time.Second), code))
	if err := lead.FindMatch(ctxT(t, 5*time.Second), "arena"); err != nil {
		t.Fatal(err)
	}
	// The party of two waits out the arena's fill wait; the mate leaves.
	eventually(t, 5*time.Second, "the ticket queued", func() bool {
		return lead.LastMatchStatus().GetState() == arbiterv1.MatchState_MATCH_STATE_SEARCHING
	})
	if err := mate.PartyLeave(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := lead.WaitMatch(ctxT(t, 5*time.Second))
	var me *client.MatchError
	if !errors.As(err, &me) || me.Status.GetState() != arbiterv1.MatchState_MATCH_STATE_FAILED || me.Status.GetReason() != "party changed" {
		t.Fatalf("leader's wait ended with %v, want FAILED (party changed)", err)
	}
	if got := n.Matchmaker().QueueSizes()["arena"]; got != 0 {
		t.Fatalf("%d players still queued", got)
	}
}
