package client

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// fakeServer is a scripted Arbiter server: it speaks just enough of the
// protocol for the client's tests, deterministically. Every Input produces
// one delta snapshot that acknowledges it, so tests need no clock.
//
// Script (by message):
//   - Hello: name "reject" → Error{PROTOCOL_VERSION} and close 1008; name
//     "expired" → Error{SESSION_EXPIRED} then a new Welcome; a known
//     session token → Welcome{resumed} and, if the player held a seat,
//     Joined, Roster and a full Snapshot; otherwise a new identity.
//   - FindMatch: mode "nope" → Error{UNKNOWN_MODE}; "slow" → SEARCHING then
//     TIMED_OUT; "hold" → SEARCHING only; anything else → SEARCHING then
//     MatchFound.
//   - CancelMatch → MatchStatus{CANCELLED}.
//   - JoinRoom: token "bad" → Error{TOKEN_INVALID}; else Joined, Roster and a
//     full Snapshot at tick 100 with entities 1 (the player) and 2.
//   - Input → a delta: tick+1, entity 1 moves by (move_x, move_y), ack_seq =
//     the highest seq seen; seq 1 adds a SPAWN event, seq 2 creates entity 3,
//     seq 3 removes entity 2.
//   - Ping → Pong. LeaveRoom → RoomClosed{LEFT}.
//   - Chat: "close1008" → Error{RATE_LIMITED} and close 1008; "desync" → a
//     delta with a wrong base; "roundend" → a delta with ROUND_END and
//     RoomClosed{ROUND_OVER}; anything else is echoed as Chat.
//   - PartyCreate/PartyJoin "ABCD" → PartyState; another code →
//     Error{PARTY_NOT_FOUND}; PartyLeave → an empty PartyState.
//   - A text message → Error{UNSUPPORTED_DATA} and close 1003.
type fakeServer struct {
	t   *testing.T
	srv *httptest.Server
	url string
	wg  sync.WaitGroup

	mu      sync.Mutex
	hellos  []*arbiterv1.Hello
	headers []http.Header
	players int
	held    map[string]*room // player id → seat still held
}

// room is the fake world of one seated player.
type room struct {
	tick   uint32
	ackSeq uint32
	ents   []fakeEntity // sorted by id
}

type fakeEntity struct {
	id     uint32
	x, y   int32
	health int32
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	fs := &fakeServer{t: t, held: make(map[string]*room)}
	fs.srv = httptest.NewServer(http.HandlerFunc(fs.handle))
	fs.url = "ws" + strings.TrimPrefix(fs.srv.URL, "http") + "/v1/connect"
	t.Cleanup(func() {
		fs.srv.Close()
		fs.wg.Wait()
	})
	return fs
}

func (fs *fakeServer) lastHello() *arbiterv1.Hello {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.hellos) == 0 {
		return nil
	}
	return fs.hellos[len(fs.hellos)-1]
}

func (fs *fakeServer) handle(w http.ResponseWriter, r *http.Request) {
	fs.wg.Add(1)
	defer fs.wg.Done()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer ws.CloseNow()
	fs.mu.Lock()
	fs.headers = append(fs.headers, r.Header.Clone())
	fs.mu.Unlock()
	sc := &serverConn{fs: fs, ws: ws}
	ctx := context.Background()
	for {
		typ, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageBinary {
			sc.sendError(arbiterv1.ErrorCode_ERROR_CODE_UNSUPPORTED_DATA, "text message")
			ws.Close(websocket.StatusUnsupportedData, "text message")
			return
		}
		var m arbiterv1.ClientMessage
		if err := proto.Unmarshal(b, &m); err != nil {
			sc.sendError(arbiterv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, err.Error())
			continue
		}
		if !sc.handle(&m) {
			return
		}
	}
}

// serverConn is one connection of the fake server; its handler goroutine
// owns it.
type serverConn struct {
	fs       *fakeServer
	ws       *websocket.Conn
	playerID string
	name     string
	room     *room // nil outside a room
}

func (sc *serverConn) send(m *arbiterv1.ServerMessage) {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = sc.ws.Write(ctx, websocket.MessageBinary, b)
}

func (sc *serverConn) sendError(code arbiterv1.ErrorCode, msg string) {
	sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Error{Error: &arbiterv1.Error{Code: code, Message: msg}}})
}

// handle answers one message; false ends the connection.
func (sc *serverConn) handle(m *arbiterv1.ClientMessage) bool {
	fs := sc.fs
	switch x := m.Msg.(type) {
	case *arbiterv1.ClientMessage_Hello:
		h := x.Hello
		fs.mu.Lock()
		fs.hellos = append(fs.hellos, h)
		fs.mu.Unlock()
		return sc.hello(h)

	case *arbiterv1.ClientMessage_FindMatch:
		mode := x.FindMatch.GetMode()
		if mode == "nope" {
			sc.sendError(arbiterv1.ErrorCode_ERROR_CODE_UNKNOWN_MODE, "no such mode")
			return true
		}
		sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_MatchStatus{MatchStatus: &arbiterv1.MatchStatus{
			State: arbiterv1.MatchState_MATCH_STATE_SEARCHING, Mode: mode, QueueSize: 1,
		}}})
		switch mode {
		case "hold":
		case "slow":
			sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_MatchStatus{MatchStatus: &arbiterv1.MatchStatus{
				State: arbiterv1.MatchState_MATCH_STATE_TIMED_OUT, Mode: mode, ElapsedMs: 30000, Reason: "nobody came",
			}}})
		default:
			sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_MatchFound{MatchFound: &arbiterv1.MatchFound{
				RoomId: "r1", JoinToken: "jt-" + sc.playerID, Mode: mode,
			}}})
		}

	case *arbiterv1.ClientMessage_CancelMatch:
		sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_MatchStatus{MatchStatus: &arbiterv1.MatchStatus{
			State: arbiterv1.MatchState_MATCH_STATE_CANCELLED,
		}}})

	case *arbiterv1.ClientMessage_JoinRoom:
		if x.JoinRoom.GetJoinToken() == "bad" {
			sc.sendError(arbiterv1.ErrorCode_ERROR_CODE_TOKEN_INVALID, "bad signature")
			return true
		}
		sc.room = &room{tick: 100, ents: []fakeEntity{{id: 1, x: 800, y: 800, health: 100}, {id: 2, x: 1600, y: 0, health: 100}}}
		sc.saveRoom()
		sc.sendJoin()

	case *arbiterv1.ClientMessage_Input:
		if sc.room == nil {
			sc.sendError(arbiterv1.ErrorCode_ERROR_CODE_NOT_IN_ROOM, "not in a room")
			return true
		}
		sc.input(x.Input)

	case *arbiterv1.ClientMessage_Ping:
		sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Pong{Pong: &arbiterv1.Pong{
			Id: x.Ping.GetId(), ClientTimeUs: x.Ping.GetClientTimeUs(), ServerTimeUs: uint64(time.Now().UnixMicro()),
		}}})

	case *arbiterv1.ClientMessage_LeaveRoom:
		sc.closeRoom(arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_LEFT)

	case *arbiterv1.ClientMessage_Chat:
		switch text := x.Chat.GetText(); text {
		case "close1008":
			sc.sendError(arbiterv1.ErrorCode_ERROR_CODE_RATE_LIMITED, "slow down")
			sc.ws.Close(websocket.StatusPolicyViolation, "rate limited")
			return false
		case "desync":
			r := sc.room
			sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Snapshot{Snapshot: &arbiterv1.Snapshot{
				Tick: r.tick + 10, BaseAge: 5, AckSeq: r.ackSeq,
			}}})
		case "roundend":
			r := sc.room
			r.tick++
			sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Snapshot{Snapshot: &arbiterv1.Snapshot{
				Tick: r.tick, BaseAge: 1, AckSeq: r.ackSeq,
				Events: []*arbiterv1.Event{{
					Type: arbiterv1.EventType_EVENT_TYPE_ROUND_END, Tick: r.tick, Value: 1,
					Result: &arbiterv1.RoundResult{Round: 1, Standings: []*arbiterv1.Standing{{Seat: 0, EntityId: 1, Kills: 3, Rank: 1}}},
				}},
			}}})
			sc.closeRoom(arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_ROUND_OVER)
		default:
			sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Chat{Chat: &arbiterv1.Chat{
				FromPlayerId: sc.playerID, FromName: sc.name, Text: text, Scope: x.Chat.GetScope(),
			}}})
		}

	case *arbiterv1.ClientMessage_PartyCreate:
		sc.sendParty("ABCD")
	case *arbiterv1.ClientMessage_PartyJoin:
		if x.PartyJoin.GetCode() != "ABCD" {
			sc.sendError(arbiterv1.ErrorCode_ERROR_CODE_PARTY_NOT_FOUND, "no party "+x.PartyJoin.GetCode())
			return true
		}
		sc.sendParty("ABCD")
	case *arbiterv1.ClientMessage_PartyLeave:
		sc.sendParty("")

	default:
		sc.sendError(arbiterv1.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "unknown message")
	}
	return true
}

func (sc *serverConn) hello(h *arbiterv1.Hello) bool {
	fs := sc.fs
	if h.GetName() == "reject" {
		sc.sendError(arbiterv1.ErrorCode_ERROR_CODE_PROTOCOL_VERSION, "go away")
		sc.ws.Close(websocket.StatusPolicyViolation, "protocol version")
		return false
	}
	resumed := false
	var held *room
	fs.mu.Lock()
	if tok, ok := strings.CutPrefix(h.GetSessionToken(), "tok-"); ok {
		sc.playerID, resumed = tok, true
		held = fs.held[tok]
	} else {
		fs.players++
		sc.playerID = fmt.Sprintf("p%d", fs.players)
	}
	fs.mu.Unlock()
	sc.name = h.GetName()
	if h.GetName() == "expired" {
		sc.sendError(arbiterv1.ErrorCode_ERROR_CODE_SESSION_EXPIRED, "new identity issued")
	}
	sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Welcome{Welcome: &arbiterv1.Welcome{
		PlayerId: sc.playerID, SessionToken: "tok-" + sc.playerID, Name: sc.name, Resumed: resumed,
		Server: &arbiterv1.ServerInfo{ProtocolVersion: 1, TickRate: 30, SnapshotEvery: 1, Version: "test", Modes: []string{"arena"}},
	}}})
	if held != nil {
		sc.room = held
		sc.room.tick++
		sc.room.ackSeq = 0 // a rejoin starts seqs at 1 again
		sc.sendJoin()
	}
	return true
}

// saveRoom records the seat so that a resumed session gets it back.
func (sc *serverConn) saveRoom() {
	sc.fs.mu.Lock()
	defer sc.fs.mu.Unlock()
	if sc.room == nil {
		delete(sc.fs.held, sc.playerID)
		return
	}
	r := *sc.room
	r.ents = slices.Clone(r.ents)
	sc.fs.held[sc.playerID] = &r
}

func (sc *serverConn) sendJoin() {
	r := sc.room
	sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Joined{Joined: &arbiterv1.Joined{
		RoomId: "r1", Mode: "arena", Seat: 0, Tick: r.tick, TickRate: 30, SnapshotEvery: 1, Map: "arena/yard",
	}}})
	sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Roster{Roster: &arbiterv1.Roster{
		Version: 1, Players: []*arbiterv1.RosterEntry{{Seat: 0, PlayerId: sc.playerID, Name: sc.name, EntityId: 1, Connected: true}},
	}}})
	full := &arbiterv1.Snapshot{Tick: r.tick, AckSeq: r.ackSeq, ServerTimeUs: uint64(time.Now().UnixMicro())}
	for _, e := range r.ents {
		full.Created = append(full.Created, fullEntity(e))
	}
	sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Snapshot{Snapshot: full}})
}

func fullEntity(e fakeEntity) *arbiterv1.Entity {
	return &arbiterv1.Entity{Id: e.id, Kind: proto.Uint32(0), X: proto.Int32(e.x), Y: proto.Int32(e.y), Health: proto.Int32(e.health)}
}

func (sc *serverConn) input(in *arbiterv1.Input) {
	r := sc.room
	r.tick++
	r.ackSeq = max(r.ackSeq, in.GetSeq())
	s := &arbiterv1.Snapshot{Tick: r.tick, BaseAge: 1, AckSeq: r.ackSeq}
	if dx, dy := in.GetMoveX(), in.GetMoveY(); dx != 0 || dy != 0 {
		r.ents[0].x += dx
		r.ents[0].y += dy
		u := &arbiterv1.Entity{Id: 1}
		if dx != 0 {
			u.X = proto.Int32(dx)
		}
		if dy != 0 {
			u.Y = proto.Int32(dy)
		}
		s.Updated = append(s.Updated, u)
	}
	switch in.GetSeq() {
	case 1:
		s.Events = append(s.Events, &arbiterv1.Event{Type: arbiterv1.EventType_EVENT_TYPE_SPAWN, Tick: r.tick, Actor: 1, X: 800, Y: 800})
	case 2:
		if !slices.ContainsFunc(r.ents, func(e fakeEntity) bool { return e.id == 3 }) {
			e := fakeEntity{id: 3, x: 40, y: 48, health: 50}
			r.ents = append(r.ents, e)
			s.Created = append(s.Created, fullEntity(e))
		}
	case 3:
		if i := slices.IndexFunc(r.ents, func(e fakeEntity) bool { return e.id == 2 }); i >= 0 {
			r.ents = slices.Delete(r.ents, i, i+1)
			s.Removed = append(s.Removed, 2)
		}
	}
	sc.saveRoom()
	sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Snapshot{Snapshot: s}})
}

func (sc *serverConn) closeRoom(reason arbiterv1.RoomCloseReason) {
	sc.room = nil
	sc.saveRoom()
	sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_RoomClosed{RoomClosed: &arbiterv1.RoomClosed{
		RoomId: "r1", Reason: reason,
	}}})
}

func (sc *serverConn) sendParty(code string) {
	ps := &arbiterv1.PartyState{Code: code}
	if code != "" {
		ps.LeaderId = sc.playerID
		ps.Members = []*arbiterv1.PartyMember{{PlayerId: sc.playerID, Name: sc.name}}
	}
	sc.send(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Party{Party: ps}})
}
