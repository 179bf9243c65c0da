package node

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"testing/fstest"
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
	pair(t, n)
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
	eventually(t, 5*time.Second, "20 more snapshots for the spectator", func() bool {
		return spec.State().SnapshotsReceived-st0.SnapshotsReceived >= 20
	})
	if got := len(spec.State().Entities); got != 2 {
		t.Fatalf("spectator sees %d entities, want 2", got)
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

// The dashboard's spectator view draws the room's map: the admin address
// serves it too (the page cannot read the public address, another origin),
// behind the admin token like everything there.
func TestDashboardMap(t *testing.T) {
	n := startNode(t, Config{})
	resp, err := http.Get("http://" + n.AdminAddr() + "/dashboard/maps/arena/yard")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Name  string     `json:"name"`
		Walls [][4]int32 `json:"walls"`
	}
	err = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || m.Name != "arena/yard" || len(m.Walls) < 4 {
		t.Fatalf("%d %+v %v", resp.StatusCode, m, err)
	}
	resp, err = http.Get("http://" + n.AdminAddr() + "/dashboard/maps/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown map: %d", resp.StatusCode)
	}
}

// With an admin token, the dashboard page and its built assets load
// without it (a browser opened on /dashboard/?token=... cannot pass the
// token on to them; they are the public web build), and nothing else does.
func TestAdminTokenDashboardFiles(t *testing.T) {
	web := fstest.MapFS{
		"index.html":               {Data: []byte("game")},
		"dashboard.html":           {Data: []byte("<!doctype html>dashboard")},
		"assets/dashboard-abc.js":  {Data: []byte("console.log(1)")},
		"assets/dashboard-abc.css": {Data: []byte("body{}")},
		"assets/shared-abc.js":     {Data: []byte("export{}")},
	}
	n, err := New(Config{Addr: "127.0.0.1:0", AdminAddr: "0.0.0.0:0", AdminToken: "s3cret-token", DrainTimeout: time.Second, Web: web})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	_, port, _ := splitPort(n.AdminAddr())
	base := "http://127.0.0.1:" + port
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for path, want := range map[string]string{
		"/dashboard/":                         "<!doctype html>dashboard",
		"/dashboard/?token=s3cret-token":      "<!doctype html>dashboard",
		"/dashboard/assets/dashboard-abc.js":  "console.log(1)",
		"/dashboard/assets/dashboard-abc.css": "body{}",
		"/dashboard/assets/shared-abc.js":     "export{}",
	} {
		if code, body := get("GET", path); code != http.StatusOK || body != want {
			t.Errorf("GET %s without the token: %d %q", path, code, body)
		}
	}
	if code, _ := get("GET", "/dashboard?token=s3cret-token"); code != http.StatusFound {
		t.Errorf("GET /dashboard: %d", code)
	}
	for _, tc := range []struct{ method, path string }{
		{"GET", "/dashboard/ws"},
		{"GET", "/dashboard/spectate"},
		{"GET", "/dashboard/maps/arena/yard"},
		{"POST", "/dashboard/drain"},
		{"POST", "/dashboard/"},
		{"GET", "/metrics"},
		{"GET", "/debug/pprof/"},
		{"GET", "/dashboard/assets/../../metrics"},
		{"GET", "/dashboard/assets/%2e%2e/%2e%2e/metrics"},
		{"GET", "/dashboard/assets/"},
		{"GET", "/dashboard/index.html"},
	} {
		if code, _ := get(tc.method, tc.path); code != http.StatusUnauthorized {
			t.Errorf("%s %s without the token: %d, want 401", tc.method, tc.path, code)
		}
	}
	if code, _ := get("GET", "/dashboard/maps/arena/yard?token=s3cret-token"); code != http.StatusOK {
		t.Errorf("map with the token: %d", code)
	}
	select {
	case <-n.DrainRequested():
		t.Fatal("a drain without the token")
	default:
	}
}

// Players may watch rooms of modes that allow it: GET /v1/rooms lists them,
// and Spectate from a player's connection works there.
func TestPlayerWatchesArena(t *testing.T) {
	n := startNode(t, Config{})
	lead := dial(t, n, "lead", client.Options{})
	mate := dial(t, n, "mate", client.Options{})
	code := must[*arbiterv1.PartyState](t)(lead.PartyCreate(ctxT(t, 5*time.Second))).GetCode()
	must[*arbiterv1.PartyState](t)(mate.PartyJoin(ctxT(t, 5*time.Second), code))
	done := make(chan error, 1)
	go func() {
		f, err := mate.WaitMatch(ctxT(t, 15*time.Second))
		if err == nil {
			_, err = mate.JoinRoom(ctxT(t, 5*time.Second), f.GetJoinToken())
		}
		done <- err
	}()
	j := must[*arbiterv1.Joined](t)(lead.Play(ctxT(t, 15*time.Second), "arena"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var rooms []watchableRoom
	eventually(t, 5*time.Second, "the room listed with its two players", func() bool {
		resp, err := http.Get("http://" + n.Addr() + "/v1/rooms")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		rooms = nil
		_ = json.NewDecoder(resp.Body).Decode(&rooms)
		return len(rooms) == 1 && rooms[0].Players == 2
	})
	if rooms[0].ID != j.GetRoomId() || rooms[0].Mode != "arena" || rooms[0].MaxPlayers != 8 {
		t.Fatalf("rooms %+v", rooms)
	}
	eventually(t, 5*time.Second, "the lead's roster with both players", func() bool {
		return len(lead.State().Roster.GetPlayers()) == 2
	})
	before := lead.State().Roster
	fan := dial(t, n, "fan", client.Options{})
	if err := fan.Send(ctxT(t, 5*time.Second), &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Spectate{Spectate: &arbiterv1.Spectate{RoomId: j.GetRoomId()}}}); err != nil {
		t.Fatal(err)
	}
	jf := must[*arbiterv1.Joined](t)(fan.WaitJoined(ctxT(t, 5*time.Second)))
	if !jf.GetSpectator() {
		t.Fatalf("joined %v", jf)
	}
	if err := fan.WaitSynced(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := len(fan.State().Entities); got != 2 {
		t.Fatalf("the watcher sees %d entities", got)
	}
	// The lead has seen every frame the watcher has: a roster change for the
	// watcher would have reached it by now.
	if err := lead.WaitTick(ctxT(t, 5*time.Second), fan.State().Tick+1); err != nil {
		t.Fatal(err)
	}
	if ro := lead.State().Roster; ro.GetVersion() != before.GetVersion() || len(ro.GetPlayers()) != 2 {
		t.Fatalf("the watcher changed the players' roster: %v, was %v", ro, before)
	}
}
