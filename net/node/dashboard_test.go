package node

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/arbiter-gg/arbiter/net/client"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

func readHealth(t *testing.T, conn *websocket.Conn) *arbiterv1.Health {
	t.Helper()
	_, b, err := conn.Read(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var h arbiterv1.Health
	if err := proto.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return &h
}

// The health stream sends a full state, then updates; a room starting shows
// up at once with its players.
func TestHealthStream(t *testing.T) {
	n := startNode(t, Config{})
	conn, _, err := websocket.Dial(ctxT(t, 5*time.Second), "ws://"+n.AdminAddr()+"/dashboard/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	first := readHealth(t, conn)
	if !first.GetFull() || first.GetReason() != arbiterv1.HealthReason_HEALTH_REASON_CONNECTED || first.GetNode().GetRooms() != 0 || !first.GetNode().GetReady() {
		t.Fatalf("first message %v", first)
	}
	if len(first.GetQueues()) != 2 {
		t.Fatalf("queues %v", first.GetQueues())
	}
	a, b, _ := pair(t, n)
	_ = a
	_ = b
	deadline := time.Now().Add(5 * time.Second)
	var h *arbiterv1.Health
	for {
		h = readHealth(t, conn)
		if h.GetFull() {
			t.Fatal("a second full message")
		}
		if len(h.GetRooms()) == 1 && h.GetRooms()[0].GetPlayers() == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("room never appeared: %v", h)
		}
	}
	if h.GetNode().GetPlayers() != 2 || h.GetNode().GetSessions() != 2 || h.GetRooms()[0].GetMode() != "duel" {
		t.Fatalf("state %v", h)
	}
	// Per-second points arrive in updates.
	points := 0
	for range 6 {
		points += len(readHealth(t, conn).GetPoints())
	}
	if points == 0 {
		t.Fatal("no chart points in three seconds of updates")
	}
}

// An admin address off loopback needs a token, and refuses requests
// without it.
func TestAdminTokenOffLoopback(t *testing.T) {
	if _, err := New(Config{Addr: "127.0.0.1:0", AdminAddr: "0.0.0.0:0"}); err == nil {
		t.Fatal("a non-loopback admin address without a token was accepted")
	}
	n, err := New(Config{Addr: "127.0.0.1:0", AdminAddr: "0.0.0.0:0", AdminToken: "s3cret-token", DrainTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	_, port, _ := splitPort(n.AdminAddr())
	base := "127.0.0.1:" + port
	if _, resp, err := websocket.Dial(ctxT(t, 5*time.Second), "ws://"+base+"/dashboard/ws", nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dashboard stream without token: %v %v", err, resp)
	}
	resp, err := http.Get("http://" + base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/metrics without token: %d", resp.StatusCode)
	}
	conn, _, err := websocket.Dial(ctxT(t, 5*time.Second), "ws://"+base+"/dashboard/ws?token=s3cret-token", nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := readHealth(t, conn); !h.GetFull() {
		t.Fatal("no full state with the token")
	}
	conn.CloseNow()
}

// A spectator gets snapshots of a room, is not a player, and an Input from
// it is an Error, not a crash. Players may not watch a duel; the admin
// connection may.
func TestSpectator(t *testing.T) {
	n := startNode(t, Config{})
	a, b, ja := pair(t, n)
	d := drive([]*client.Client{a, b}, 30)
	defer d.halt()

	player := dial(t, n, "nosy", client.Options{})
	_ = player.Send(ctxT(t, 5*time.Second), &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Spectate{Spectate: &arbiterv1.Spectate{RoomId: ja.GetRoomId()}}})
	eventually(t, 5*time.Second, "NOT_ALLOWED", func() bool { return hasError(player, arbiterv1.ErrorCode_ERROR_CODE_NOT_ALLOWED) })

	spec, err := client.Dial(ctxT(t, 5*time.Second), "ws://"+n.AdminAddr()+"/dashboard/spectate", client.Options{Name: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	defer spec.Close()
	if err := spec.Send(ctxT(t, 5*time.Second), &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Spectate{Spectate: &arbiterv1.Spectate{RoomId: ja.GetRoomId()}}}); err != nil {
		t.Fatal(err)
	}
	j, err := spec.WaitJoined(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !j.GetSpectator() || j.GetRoomId() != ja.GetRoomId() || j.GetMap() != "arena/yard" {
		t.Fatalf("joined %v", j)
	}
	if err := spec.WaitSynced(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	st0 := spec.State()
	time.Sleep(time.Second)
	st1 := spec.State()
	if st1.SnapshotsReceived-st0.SnapshotsReceived < 20 || len(st1.Entities) != 2 {
		t.Fatalf("spectator got %d snapshots, sees %d entities", st1.SnapshotsReceived-st0.SnapshotsReceived, len(st1.Entities))
	}
	if ro := a.State().Roster; len(ro.GetPlayers()) != 2 {
		t.Fatalf("spectator visible in the roster: %v", ro)
	}
	if _, err := spec.SendInput(ctxT(t, 5*time.Second), inputSeq(1)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "SPECTATOR error", func() bool { return hasError(spec, arbiterv1.ErrorCode_ERROR_CODE_SPECTATOR) })
	if _, _, err := spec.Ping(ctxT(t, 5*time.Second)); err != nil {
		t.Fatalf("spectator connection broken after an input: %v", err)
	}
	if got := n.Gateway().Spectators()[ja.GetRoomId()]; got != 1 {
		t.Fatalf("%d spectators counted", got)
	}
}

// The dashboard's drain button starts the same drain as SIGTERM.
func TestDrainButton(t *testing.T) {
	n := startNode(t, Config{})
	resp, err := http.Post("http://"+n.AdminAddr()+"/dashboard/drain", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case <-n.DrainRequested():
	case <-time.After(time.Second):
		t.Fatal("drain not requested")
	}
	resp, err = http.Get("http://" + n.Addr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz %d after the drain button", resp.StatusCode)
	}
}
