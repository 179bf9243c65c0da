package node

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/arbiter-gg/arbiter/game"
	"github.com/arbiter-gg/arbiter/net/client"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// testCluster is a real NATS server with JetStream, embedded in the test
// process on a loopback port, and the nodes started on it.
type testCluster struct {
	t     *testing.T
	nats  *natsserver.Server
	nodes []*Node
}

func newTestCluster(t *testing.T) *testCluster {
	t.Helper()
	s, err := startEmbedded("127.0.0.1:0", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs after every node's shutdown.
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return &testCluster{t: t, nats: s}
}

// node starts a cluster node named id.
func (tc *testCluster) node(id string, cfg Config) *Node {
	tc.t.Helper()
	cfg.NATS, cfg.NodeID, cfg.Secret = tc.nats.ClientURL(), id, []byte("a shared secret of the test cluster")
	n := startNode(tc.t, cfg)
	tc.nodes = append(tc.nodes, n)
	return n
}

// settled waits until every given node sees exactly these nodes and every
// mode's lease is held by one of them.
func (tc *testCluster) settled(nodes ...*Node) {
	tc.t.Helper()
	eventually(tc.t, 10*time.Second, "the cluster to settle", func() bool {
		for _, n := range nodes {
			st := n.Cluster().Status()
			if len(st.Nodes) != len(nodes) {
				return false
			}
		}
		for _, m := range []string{"arena", "duel"} {
			if holderOf(m, nodes...) == nil {
				return false
			}
		}
		return true
	})
}

// holderOf is the node running mode's matchmaker, or nil.
func holderOf(mode string, nodes ...*Node) *Node {
	for _, n := range nodes {
		if n.Cluster().Holds(mode) {
			return n
		}
	}
	return nil
}

// hostOf is the node running the room, or nil.
func hostOf(room string, nodes ...*Node) *Node {
	for _, n := range nodes {
		if _, ok := n.Allocator().Room(room); ok {
			return n
		}
	}
	return nil
}

func sameHost(endpoint string, n *Node) bool {
	u, err := url.Parse(endpoint)
	return err == nil && u.Host == n.Addr()
}

// lobbyOpts keeps a lobby connection alive while the game runs elsewhere.
var lobbyOpts = client.Options{KeepAlive: 5 * time.Second}

// player is one test player: its lobby connection and the connection its
// room runs on (the lobby's own when the room is on the same node).
type player struct {
	home        *Node
	lobby, room *client.Client
	joined      *arbiterv1.Joined
}

// matchAll queues every player for its mode at once and joins the rooms
// found, following endpoints.
func matchAll(t *testing.T, players []*player, mode func(i int) string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(players))
	for i, p := range players {
		wg.Add(1)
		go func() {
			defer wg.Done()
			room, j, err := p.lobby.Match(ctxT(t, 30*time.Second), mode(i), client.Options{})
			if err != nil {
				errs <- fmt.Errorf("player %d (%s): %w", i, p.home.cfg.NodeID, err)
				return
			}
			p.room, p.joined = room, j
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	for _, p := range players {
		if p.room != p.lobby {
			t.Cleanup(func() { _ = p.room.Close() })
		}
	}
}

// Three nodes, 48 players spread over them: everyone is matched, rooms
// land on all three nodes, and each player plays on its room's node.
func TestClusterPlaysAcrossNodes(t *testing.T) {
	tc := newTestCluster(t)
	nodes := []*Node{tc.node("n1", Config{}), tc.node("n2", Config{}), tc.node("n3", Config{})}
	tc.settled(nodes...)

	players := make([]*player, 48)
	for i := range players {
		home := nodes[i%3]
		players[i] = &player{home: home, lobby: dial(t, home, fmt.Sprintf("p%02d", i), lobbyOpts)}
	}
	matchAll(t, players, func(i int) string {
		if i%2 == 0 {
			return "duel"
		}
		return "arena"
	})

	roomsOn := map[*Node]map[string]bool{}
	followed := 0
	for i, p := range players {
		id := p.joined.GetRoomId()
		host := hostOf(id, nodes...)
		if host == nil {
			t.Fatalf("player %d: room %s runs on no node", i, id)
		}
		if roomsOn[host] == nil {
			roomsOn[host] = map[string]bool{}
		}
		roomsOn[host][id] = true
		switch {
		case host == p.home && p.room != p.lobby:
			t.Errorf("player %d: room on its own node, yet a second connection to %s", i, p.room.URL())
		case host != p.home && !sameHost(p.room.URL(), host):
			t.Errorf("player %d: room on %s, playing over %s", i, host.Addr(), p.room.URL())
		case host != p.home:
			followed++
		}
	}
	for _, n := range nodes {
		if len(roomsOn[n]) == 0 {
			t.Errorf("no room on node %s", n.cfg.NodeID)
		}
		t.Logf("node %s: %d rooms", n.cfg.NodeID, len(roomsOn[n]))
	}
	if followed == 0 {
		t.Error("no player followed an endpoint to another node")
	}

	// Everyone plays: inputs sent on the room's connection are applied
	// there and acknowledged.
	for i, p := range players {
		if err := p.room.WaitSynced(ctxT(t, 10*time.Second)); err != nil {
			t.Fatalf("player %d: %v", i, err)
		}
		if _, err := p.room.SendInput(ctxT(t, 5*time.Second), game.Input{Tick: p.room.State().Tick + 1, MoveX: 100}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "every player's input acknowledged on its room's node", func() bool {
		for _, p := range players {
			if p.room.State().AckSeq < 1 {
				return false
			}
		}
		return true
	})
}

// Killing the node that runs a mode's matchmaker: another node takes the
// lease within 5 s and the ticket that was waiting is matched.
func TestClusterLeaseTakeover(t *testing.T) {
	tc := newTestCluster(t)
	nodes := []*Node{tc.node("n1", Config{}), tc.node("n2", Config{}), tc.node("n3", Config{})}
	tc.settled(nodes...)
	holder := holderOf("duel", nodes...)
	var others []*Node
	for _, n := range nodes {
		if n != holder {
			others = append(others, n)
		}
	}
	x := dial(t, others[0], "x", lobbyOpts)
	if err := x.FindMatch(ctxT(t, 5*time.Second), "duel"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the ticket queued at the lease holder", func() bool {
		return holder.Cluster().QueueSizes()["duel"] == 1
	})
	// A finished duel, reported from another node, reaches the holder.
	others[0].Cluster().ReportResult("duel", [][]string{{x.PlayerID()}, {"someone-else"}})
	eventually(t, 5*time.Second, "x's duel rating stored by the holder", func() bool {
		r, ok := others[1].Cluster().Rating(x.PlayerID())
		return ok && r > 1500
	})

	killed := time.Now()
	holder.Kill()
	var next *Node
	eventually(t, 5*time.Second, "another node to take the duel lease", func() bool {
		next = holderOf("duel", others...)
		return next != nil
	})
	t.Logf("lease taken over %v after the kill", time.Since(killed).Round(time.Millisecond))
	eventually(t, 5*time.Second, "the waiting ticket to reach the new matchmaker", func() bool {
		return next.Cluster().QueueSizes()["duel"] == 1
	})

	// Ratings live in the cluster, not in the matchmaker's memory: a
	// result reported before the kill counts after it.
	if r, ok := next.Cluster().Rating(x.PlayerID()); !ok || r <= 1500 {
		t.Fatalf("x's rating after the kill: %v %v", r, ok)
	}

	y := dial(t, others[1], "y", lobbyOpts)
	yRoom, yj, err := y.Match(ctxT(t, 15*time.Second), "duel", client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if yRoom != y {
		t.Cleanup(func() { _ = yRoom.Close() })
	}
	f, err := x.WaitMatch(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatalf("the ticket queued before the kill: %v", err)
	}
	xRoom, xj, err := x.Join(ctxT(t, 10*time.Second), f, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if xRoom != x {
		t.Cleanup(func() { _ = xRoom.Close() })
	}
	if xj.GetRoomId() != yj.GetRoomId() {
		t.Fatalf("x in %s, y in %s", xj.GetRoomId(), yj.GetRoomId())
	}
}

// Killing the node that hosts a room: its players, whose sockets are on
// another node, are told within 5 s and can queue again.
func TestClusterHostLost(t *testing.T) {
	tc := newTestCluster(t)
	// a cannot host a duel (one seat): both players' rooms land on b.
	a := tc.node("a", Config{MaxPlayers: 1})
	b := tc.node("b", Config{})
	tc.settled(a, b)
	players := []*player{{home: a, lobby: dial(t, a, "p1", lobbyOpts)}, {home: a, lobby: dial(t, a, "p2", lobbyOpts)}}
	matchAll(t, players, func(int) string { return "duel" })
	for _, p := range players {
		if !sameHost(p.room.URL(), b) || hostOf(p.joined.GetRoomId(), a, b) != b {
			t.Fatalf("room %s played over %s, want node b", p.joined.GetRoomId(), p.room.URL())
		}
	}

	// A player connected to b itself (not in a room).
	onB := dial(t, b, "p3", client.Options{})

	killed := time.Now()
	b.Kill()
	for _, p := range players {
		rc, err := p.lobby.WaitRoomClosed(ctxT(t, 5*time.Second))
		if err != nil {
			t.Fatalf("no RoomClosed on the lobby connection within 5 s: %v", err)
		}
		if rc.GetReason() != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_NODE_LOST || rc.GetRoomId() != p.joined.GetRoomId() {
			t.Fatalf("RoomClosed %v", rc)
		}
	}
	t.Logf("players told %v after the kill", time.Since(killed).Round(time.Millisecond))
	// The player whose socket was on b reconnects to another node and finds
	// its session: session tokens verify on every node.
	<-onB.Done()
	back, err := client.Reconnect(ctxT(t, 5*time.Second), wsURL(a), onB, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = back.Close() })
	if !back.Welcome().GetResumed() || back.PlayerID() != onB.PlayerID() {
		t.Fatalf("reconnect to a: resumed %v, player %s want %s", back.Welcome().GetResumed(), back.PlayerID(), onB.PlayerID())
	}

	// Queue again: a third node takes the room.
	c := tc.node("c", Config{})
	tc.settled(a, c)
	for _, p := range players {
		p.room, p.joined = nil, nil
	}
	matchAll(t, players, func(int) string { return "duel" })
	for _, p := range players {
		if hostOf(p.joined.GetRoomId(), a, c) != c {
			t.Fatalf("second room %s not on node c", p.joined.GetRoomId())
		}
		if err := p.room.WaitSynced(ctxT(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
}

// A draining node takes no new rooms and its running rooms finish.
func TestClusterDrain(t *testing.T) {
	tc := newTestCluster(t)
	a := tc.node("a", Config{MaxPlayers: 1})
	b := tc.node("b", Config{RoundSeconds: 3, DrainTimeout: 20 * time.Second})
	tc.settled(a, b)
	first := []*player{{home: a, lobby: dial(t, a, "p1", lobbyOpts)}, {home: a, lobby: dial(t, a, "p2", lobbyOpts)}}
	matchAll(t, first, func(int) string { return "duel" })
	if hostOf(first[0].joined.GetRoomId(), b) != b {
		t.Fatal("the first room is not on b")
	}
	c := tc.node("c", Config{})
	tc.settled(a, b, c)

	drained := make(chan error, 1)
	go func() { drained <- b.Shutdown(ctxT(t, 30*time.Second)) }()
	eventually(t, 5*time.Second, "b draining in a's registry view", func() bool {
		for _, n := range a.Cluster().Status().Nodes {
			if n.ID == "b" {
				return n.Draining
			}
		}
		return false
	})
	// New rooms go elsewhere while b's room plays on.
	second := []*player{{home: a, lobby: dial(t, a, "p3", lobbyOpts)}, {home: a, lobby: dial(t, a, "p4", lobbyOpts)}}
	matchAll(t, second, func(int) string { return "duel" })
	if hostOf(second[0].joined.GetRoomId(), a, b, c) != c {
		t.Fatalf("a room opened on a draining node")
	}
	eventually(t, time.Second, "the draining node to give up its leases", func() bool {
		return holderOf("duel", b) == nil && holderOf("arena", b) == nil
	})
	// b's room finishes its round: its players see the round end, not a
	// drain.
	for _, p := range first {
		rc, err := p.room.WaitRoomClosed(ctxT(t, 15*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if rc.GetReason() != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_ROUND_OVER {
			t.Errorf("room on the draining node closed with %v", rc.GetReason())
		}
	}
	if err := <-drained; err != nil {
		t.Fatalf("drain: %v", err)
	}
	eventually(t, 5*time.Second, "b gone from the registry", func() bool {
		for _, n := range a.Cluster().Status().Nodes {
			if n.ID == "b" {
				return false
			}
		}
		return true
	})
}

// Cluster mode refuses to start without a shared secret, and announces a
// node's endpoint from its public URL.
func TestClusterConfig(t *testing.T) {
	if _, err := New(Config{NATS: "nats://127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Fatalf("New without a secret: %v", err)
	}
	tc := newTestCluster(t)
	n := tc.node("pub", Config{PublicURL: "https://play.example.com"})
	st := n.Cluster().Status()
	if len(st.Nodes) != 1 || st.Nodes[0].Endpoint != "wss://play.example.com/v1/connect" {
		t.Fatalf("status %+v", st)
	}
	c := dial(t, n, "w", client.Options{})
	if got := c.Welcome().GetServer().GetNodeId(); got != "pub" {
		t.Fatalf("Welcome node id %q", got)
	}
}

// A party spans nodes: a player on another node joins by code, only the
// leader queues, both land in one room, a member's cancel ends the whole
// ticket, and leaving shows on the leader's node.
func TestClusterPartyAcrossNodes(t *testing.T) {
	tc := newTestCluster(t)
	a, b := tc.node("a", Config{}), tc.node("b", Config{})
	tc.settled(a, b)
	lead := &player{home: a, lobby: dial(t, a, "lead", lobbyOpts)}
	mate := &player{home: b, lobby: dial(t, b, "mate", lobbyOpts)}
	ps := must[*arbiterv1.PartyState](t)(lead.lobby.PartyCreate(ctxT(t, 5*time.Second)))
	joined := must[*arbiterv1.PartyState](t)(mate.lobby.PartyJoin(ctxT(t, 5*time.Second), ps.GetCode()))
	if len(joined.GetMembers()) != 2 || joined.GetLeaderId() != lead.lobby.PlayerID() {
		t.Fatalf("member's party state %v", joined)
	}
	eventually(t, 5*time.Second, "the leader's party showing the member", func() bool {
		return len(lead.lobby.Party().GetMembers()) == 2
	})
	// Party chat reaches the member on the other node.
	if err := lead.lobby.Chat(ctxT(t, 5*time.Second), "ready?", arbiterv1.ChatScope_CHAT_SCOPE_PARTY); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the party chat line on b", func() bool {
		return mate.lobby.State().ChatsReceived == 1
	})
	if err := mate.lobby.FindMatch(ctxT(t, 5*time.Second), "arena"); err == nil {
		if _, err = mate.lobby.WaitMatch(ctxT(t, 5*time.Second)); err == nil || !strings.Contains(err.Error(), "NOT_PARTY_LEADER") {
			t.Fatalf("a member's FindMatch: %v", err)
		}
	}

	// A member's cancel ends the party's ticket for the leader too.
	if err := lead.lobby.FindMatch(ctxT(t, 5*time.Second), "arena"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the member told its party is searching", func() bool {
		return mate.lobby.LastMatchStatus().GetState() == arbiterv1.MatchState_MATCH_STATE_SEARCHING
	})
	if err := mate.lobby.CancelMatch(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := lead.lobby.WaitMatch(ctxT(t, 5*time.Second)); err == nil || !strings.Contains(err.Error(), "CANCELLED") {
		t.Fatalf("the leader after the member cancelled: %v", err)
	}
	if _, err := mate.lobby.WaitMatch(ctxT(t, 5*time.Second)); err == nil || !strings.Contains(err.Error(), "CANCELLED") {
		t.Fatalf("the member after cancelling: %v", err)
	}

	// The leader queues the party: both land in the same room.
	var wg sync.WaitGroup
	var mateErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		f, err := mate.lobby.WaitMatch(ctxT(t, 15*time.Second))
		if err == nil {
			mate.room, mate.joined, err = mate.lobby.Join(ctxT(t, 5*time.Second), f, client.Options{})
		}
		mateErr = err
	}()
	room, j, err := lead.lobby.Match(ctxT(t, 15*time.Second), "arena", client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lead.room, lead.joined = room, j
	wg.Wait()
	if mateErr != nil {
		t.Fatalf("the member: %v", mateErr)
	}
	for _, p := range []*player{lead, mate} {
		if p.room != p.lobby {
			t.Cleanup(func() { _ = p.room.Close() })
		}
	}
	if lead.joined.GetRoomId() != mate.joined.GetRoomId() {
		t.Fatalf("leader in %s, member in %s", lead.joined.GetRoomId(), mate.joined.GetRoomId())
	}

	// Leaving on b shows on a.
	if err := mate.lobby.PartyLeave(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the leader's party without the member", func() bool {
		return len(lead.lobby.Party().GetMembers()) == 1
	})
}

// NATS going away stops matchmaking, not the game: rooms play on, queueing
// fails at once with an error instead of hanging, and when NATS is back
// (same address and data) the cluster forms again and matches.
func TestClusterSurvivesNATSRestart(t *testing.T) {
	tc := newTestCluster(t)
	a, b := tc.node("a", Config{MaxPlayers: 1}), tc.node("b", Config{})
	tc.settled(a, b)
	players := []*player{{home: a, lobby: dial(t, a, "p1", lobbyOpts)}, {home: a, lobby: dial(t, a, "p2", lobbyOpts)}}
	matchAll(t, players, func(int) string { return "duel" })

	addr, dir := tc.nats.Addr().String(), tc.nats.StoreDir()
	tc.nats.Shutdown()
	tc.nats.WaitForShutdown()
	eventually(t, 5*time.Second, "the nodes to see NATS gone", func() bool {
		return !a.Cluster().Status().Connected && !b.Cluster().Status().Connected
	})
	// The room on b plays on.
	tick := players[0].room.State().Tick
	if err := players[0].room.WaitTick(ctxT(t, 5*time.Second), tick+30); err != nil {
		t.Fatalf("the room stopped with NATS: %v", err)
	}
	// Queueing answers, with an error, instead of hanging.
	q := dial(t, a, "q", lobbyOpts)
	start := time.Now()
	if err := q.FindMatch(ctxT(t, 5*time.Second), "arena"); err != nil {
		t.Fatal(err)
	}
	if _, err := q.WaitMatch(ctxT(t, 10*time.Second)); err == nil || !strings.Contains(err.Error(), "INTERNAL") {
		t.Fatalf("FindMatch without NATS: %v", err)
	}
	t.Logf("FindMatch without NATS answered in %v", time.Since(start).Round(time.Millisecond))

	host, port, _ := splitPort(addr)
	restarted, err := startEmbedded(host+":"+port, strings.TrimSuffix(dir, "/jetstream"))
	if err != nil {
		t.Fatal(err)
	}
	tc.nats = restarted
	t.Cleanup(func() { restarted.Shutdown(); restarted.WaitForShutdown() })
	tc.settled(a, b)
	again := []*player{{home: a, lobby: dial(t, a, "p3", lobbyOpts)}, {home: a, lobby: dial(t, a, "p4", lobbyOpts)}}
	matchAll(t, again, func(int) string { return "duel" })
	if hostOf(again[0].joined.GetRoomId(), b) != b {
		t.Fatal("the match after the restart did not land on b")
	}
	// Nobody was told their room was lost: NATS going away is not a node
	// dying.
	for _, p := range players {
		if rc := p.lobby.State().RoomClosed; rc != nil {
			t.Errorf("player told %v during the NATS outage", rc)
		}
	}
}

// GET /v1/rooms on any node lists the cluster's watchable rooms; a room on
// another node names that node's endpoint, where a player's connection
// watches it.
func TestClusterWatchAcrossNodes(t *testing.T) {
	tc := newTestCluster(t)
	a, b := tc.node("a", Config{MaxPlayers: 1}), tc.node("b", Config{})
	tc.settled(a, b)
	players := []*player{{home: a, lobby: dial(t, a, "p1", lobbyOpts)}, {home: a, lobby: dial(t, a, "p2", lobbyOpts)}}
	matchAll(t, players, func(int) string { return "arena" })
	id := players[0].joined.GetRoomId()
	if hostOf(id, a, b) != b {
		t.Fatal("the arena room is not on b")
	}
	list := func(n *Node) []watchableRoom {
		resp, err := http.Get("http://" + n.Addr() + "/v1/rooms")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rooms []watchableRoom
		if err := json.NewDecoder(resp.Body).Decode(&rooms); err != nil {
			t.Fatal(err)
		}
		return rooms
	}
	var fromA []watchableRoom
	eventually(t, 5*time.Second, "a listing b's room with both players", func() bool {
		fromA = list(a)
		return len(fromA) == 1 && fromA[0].Players == 2
	})
	if fromA[0].ID != id || !sameHost(fromA[0].Endpoint, b) {
		t.Fatalf("a lists %+v", fromA)
	}
	if fromB := list(b); len(fromB) != 1 || fromB[0].ID != id || fromB[0].Endpoint != "" {
		t.Fatalf("b lists %+v (its own room, without an endpoint)", fromB)
	}
	// A player of a watches it on b, as the same player.
	fan := dial(t, a, "fan", lobbyOpts)
	watch, err := client.Dial(ctxT(t, 5*time.Second), fromA[0].Endpoint, client.Options{SessionToken: fan.SessionToken()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = watch.Close() })
	if watch.PlayerID() != fan.PlayerID() {
		t.Fatal("the watching connection is another player")
	}
	if err := watch.Send(ctxT(t, 5*time.Second), &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Spectate{Spectate: &arbiterv1.Spectate{RoomId: id}}}); err != nil {
		t.Fatal(err)
	}
	if j := must[*arbiterv1.Joined](t)(watch.WaitJoined(ctxT(t, 5*time.Second))); !j.GetSpectator() || j.GetRoomId() != id {
		t.Fatalf("joined %v", j)
	}
	if err := watch.WaitSynced(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := len(watch.State().Entities); got != 2 {
		t.Fatalf("the watcher sees %d entities", got)
	}
}
