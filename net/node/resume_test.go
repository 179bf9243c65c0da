package node

import (
	"testing"
	"time"

	"github.com/arbiter-gg/arbiter/net/client"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

func pair(t *testing.T, n *Node) (*client.Client, *client.Client, *arbiterv1.Joined) {
	t.Helper()
	a := dial(t, n, "a", client.Options{})
	b := dial(t, n, "b", client.Options{})
	done := make(chan error, 1)
	go func() { _, err := b.Play(ctxT(t, 15*time.Second), "duel"); done <- err }()
	ja := must[*arbiterv1.Joined](t)(a.Play(ctxT(t, 15*time.Second), "duel"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := a.WaitSynced(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	return a, b, ja
}

// A client that loses its connection mid-round and comes back with its
// session token within the grace period gets the same seat and a full
// snapshot; after the grace period the seat is gone.
func TestReconnectResumesSeat(t *testing.T) {
	n := startNode(t, Config{RejoinGrace: 1500 * time.Millisecond})
	a, b, ja := pair(t, n)
	d := drive([]*client.Client{a, b}, 30)
	eventually(t, 5*time.Second, "a playing", func() bool { return a.State().AckSeq >= 5 })
	d.halt()

	a.Drop()
	var fullAfterResume bool
	var seen int
	a2, err := client.Reconnect(ctxT(t, 5*time.Second), wsURL(n), a, client.Options{
		Name: "a",
		OnMessage: func(m *arbiterv1.ServerMessage) {
			if s := m.GetSnapshot(); s != nil {
				if seen == 0 {
					fullAfterResume = s.GetBaseAge() == 0
				}
				seen++
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a2.Close() })
	if !a2.Welcome().GetResumed() || a2.PlayerID() != a.PlayerID() {
		t.Fatalf("welcome %v", a2.Welcome())
	}
	j2 := must[*arbiterv1.Joined](t)(a2.WaitJoined(ctxT(t, 5*time.Second)))
	if j2.GetRoomId() != ja.GetRoomId() || j2.GetSeat() != ja.GetSeat() {
		t.Fatalf("resumed into room %s seat %d, want %s seat %d", j2.GetRoomId(), j2.GetSeat(), ja.GetRoomId(), ja.GetSeat())
	}
	if err := a2.WaitSynced(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if !fullAfterResume {
		t.Fatal("the first snapshot after the resume was not full")
	}
	// Inputs count from 1 again and are acked.
	d = drive([]*client.Client{a2}, 30)
	eventually(t, 5*time.Second, "acks after resume", func() bool { return a2.State().AckSeq >= 5 })
	d.halt()

	// Drop again and stay away past the grace period.
	a2.Drop()
	eventually(t, 5*time.Second, "seat freed", func() bool {
		ro := b.State().Roster
		return ro != nil && len(ro.GetPlayers()) == 1
	})
	a3, err := client.Reconnect(ctxT(t, 5*time.Second), wsURL(n), a2, client.Options{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a3.Close() })
	if !a3.Welcome().GetResumed() || a3.PlayerID() != a.PlayerID() {
		t.Fatal("identity not resumed")
	}
	rc, err := a3.WaitRoomClosed(ctxT(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if rc.GetReason() != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_LEFT || a3.Joined() != nil {
		t.Fatalf("after the grace: %v joined=%v", rc, a3.Joined())
	}
}

// A LeaveRoom that crosses the room's end is answered by the room's own
// RoomClosed, not by an Error: a client cannot avoid that race. A
// connection that has never been in a room still gets NOT_IN_ROOM.
func TestLeaveRoomAfterTheRoomEnded(t *testing.T) {
	n := startNode(t, Config{RoundSeconds: 1})
	closed := make(chan *arbiterv1.RoomClosed, 1)
	a := dial(t, n, "a", client.Options{OnRoomClosed: func(m *arbiterv1.RoomClosed) { closed <- m }})
	b := dial(t, n, "b", client.Options{})
	done := make(chan error, 1)
	go func() { _, err := b.Play(ctxT(t, 15*time.Second), "duel"); done <- err }()
	if _, err := a.Play(ctxT(t, 15*time.Second), "duel"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-closed:
		if m.GetReason() != arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_ROUND_OVER {
			t.Fatalf("room closed with %v", m.GetReason())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the 1 s round did not end")
	}
	if err := a.LeaveRoom(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	// The Pong is queued after anything the LeaveRoom produced.
	if _, _, err := a.Ping(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if errs := a.Errors(); len(errs) != 0 {
		t.Fatalf("LeaveRoom after the round ended answered %v", errs)
	}

	c := dial(t, n, "c", client.Options{})
	if err := c.LeaveRoom(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Ping(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if errs := c.Errors(); len(errs) != 1 || errs[0].GetCode() != arbiterv1.ErrorCode_ERROR_CODE_NOT_IN_ROOM {
		t.Fatalf("LeaveRoom outside any room answered %v", errs)
	}
}
