package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

const (
	statusGoingAway   = websocket.StatusGoingAway
	statusPolicy      = websocket.StatusPolicyViolation
	statusTooBig      = websocket.StatusMessageTooBig
	statusUnsupported = websocket.StatusUnsupportedData
	statusInternal    = websocket.StatusInternalError
)

// session is one client connection. Its reader runs on the HTTP handler
// goroutine (serveWS) and owns the fields marked "reader"; its writer runs
// on a goroutine serveWS starts and waits for, and owns the connection's
// write side and the snapshot baseline. They talk through out, a bounded
// queue of reliable messages: the reader (and the matchmaker, parties and
// other sessions, through Server.sendTo) put, the writer takes. Snapshots do
// not go through the queue: the writer takes the room's newest frame itself.
type session struct {
	srv  *Server
	conn *websocket.Conn
	log  *slog.Logger

	out        chan outItem
	closing    chan struct{} // closed once, by closeNow, when the session ends
	writerDone chan struct{} // closed when the writer has returned
	closeOnce  sync.Once
	failing    atomic.Bool // an Error-then-close is queued; the reader stops
	wt         *time.Timer // write deadline: closes the connection when it fires

	admin bool // accepted on the admin address: may spectate any room

	// reader
	spectating   *game.Room
	player, name string
	hello        bool
	member       *game.Member
	room         *game.Room
	buckets      [numKinds]bucket
	abuse        bucket
	lastLimitErr time.Time
	inbuf        []byte
}

// outItem is one entry of a session's reliable queue.
type outItem struct {
	msg *arbiterv1.ServerMessage
	// join switches the writer to a room: it sends Joined, the roster and a
	// full snapshot, then deltas.
	join *joinItem
	// closeStatus, when set, closes the connection after msg is written.
	closeStatus websocket.StatusCode
	reason      string
}

type joinItem struct {
	res  game.JoinResult
	room *game.Room
	mode string
	// spectate: watch room without a seat (res is empty).
	spectate bool
	// leave: stop spectating.
	leave bool
}

// serveWS accepts a WebSocket and runs the session's reader on this
// goroutine until the connection ends.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) { s.serve(w, r, false) }

// ServeAdminWS serves a session for the operator's dashboard: the same
// protocol, allowed to spectate any room. Mount it on the admin address
// only, behind its authentication.
func (s *Server) ServeAdminWS(w http.ResponseWriter, r *http.Request) { s.serve(w, r, true) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request, admin bool) {
	if s.closed.Load() {
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	origins := s.cfg.AllowedOrigins
	if s.deps.Origins != nil {
		origins = append(slices.Clip(origins), s.deps.Origins()...)
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OriginPatterns: origins,
		// Compression off: snapshots are small, already compact binary
		// deltas that deflate barely shrinks, and per-message deflate costs
		// CPU and a compressor's memory for every connection.
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		s.met.Closes.WithLabelValues("handshake").Inc()
		return
	}
	// One byte over our limit, so that we see the oversize message and can
	// answer it with an Error before closing with 1009.
	conn.SetReadLimit(int64(s.cfg.ReadLimit) + 1)
	ss := &session{
		admin:      admin,
		srv:        s,
		conn:       conn,
		log:        s.log.With("remote", r.RemoteAddr),
		out:        make(chan outItem, s.cfg.QueueSize),
		closing:    make(chan struct{}),
		writerDone: make(chan struct{}),
		inbuf:      make([]byte, 0, 512),
	}
	ss.wt = time.AfterFunc(time.Hour, func() { ss.closeNow("write_timeout") })
	ss.wt.Stop()
	ss.initBuckets()
	if !s.add(ss) {
		_ = conn.Close(statusGoingAway, "server is shutting down")
		return
	}
	defer s.remove(ss)
	go ss.writeLoop()

	reason := ss.readLoop()
	if !ss.failing.Load() {
		ss.closeNow(reason)
	}
	<-ss.writerDone
	ss.closeNow(reason)
	ss.wt.Stop()
	ss.cleanup()
}

// send queues a reliable message; a full queue means the client does not
// read fast enough, and the session is closed as a slow consumer.
func (ss *session) send(it outItem) bool {
	select {
	case <-ss.closing:
		return false
	default:
	}
	select {
	case ss.out <- it:
		return true
	default:
		ss.log.Warn("closing slow consumer", "player", ss.player)
		ss.closeNow("slow_consumer")
		return false
	}
}

// sendMsg queues m.
func (ss *session) sendMsg(m *arbiterv1.ServerMessage) bool { return ss.send(outItem{msg: m}) }

// sendError queues an Error without closing.
func (ss *session) sendError(code arbiterv1.ErrorCode, msg string) {
	ss.srv.met.Errors.WithLabelValues(code.String()).Inc()
	ss.sendMsg(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Error{Error: &arbiterv1.Error{Code: code, Message: msg}}})
}

// fail queues an Error and then a close with status; the reader stops.
func (ss *session) fail(code arbiterv1.ErrorCode, msg string, status websocket.StatusCode, reason string) {
	if ss.failing.Swap(true) {
		return
	}
	ss.srv.met.Errors.WithLabelValues(code.String()).Inc()
	ss.send(outItem{
		msg:         &arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Error{Error: &arbiterv1.Error{Code: code, Message: msg}}},
		closeStatus: status,
		reason:      reason,
	})
}

// closeNow ends the session at once, counting why.
func (ss *session) closeNow(reason string) {
	ss.closeOnce.Do(func() {
		if reason == "" {
			reason = "closed"
		}
		ss.srv.met.Closes.WithLabelValues(reason).Inc()
		close(ss.closing)
		_ = ss.conn.CloseNow()
	})
}

// cleanup runs on the reader goroutine after both loops have ended.
func (ss *session) cleanup() {
	if ss.member != nil {
		select {
		case <-ss.member.Gone():
		default:
			// Keep the seat for the grace period: the client may come back.
			ss.member.Disconnect()
		}
	}
	if ss.player != "" && ss.srv.ownedBy(ss.player, ss) {
		ss.srv.deps.Matchmaker.Cancel(ss.player)
		ss.srv.deps.Parties.Leave(ss.player)
	}
}

// ownedBy reports whether ss is still the player's session.
func (s *Server) ownedBy(player string, ss *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.byPlayer[player]
	return !ok || cur == ss
}

// write writes one binary message with the write deadline.
func (ss *session) write(b []byte, kind string) error {
	ss.wt.Reset(ss.srv.cfg.WriteTimeout)
	err := ss.conn.Write(context.Background(), websocket.MessageBinary, b)
	ss.wt.Stop()
	if err != nil {
		return err
	}
	ss.srv.met.BytesOut.Add(float64(len(b)))
	if kind == "snapshot" {
		ss.srv.met.snapOut.Inc()
	} else {
		ss.srv.met.MessagesOut.WithLabelValues(kind).Inc()
	}
	return nil
}

// writeLoop is the session's writer goroutine.
func (ss *session) writeLoop() {
	defer close(ss.writerDone)
	w := writer{ss: ss}
	defer func() {
		if w.spect {
			ss.srv.spectator(w.room.ID(), -1)
		}
	}()
	for {
		select {
		case <-ss.closing:
			return
		case it := <-ss.out:
			if !w.item(it) {
				return
			}
		case <-w.next:
			if !w.frame() {
				return
			}
		case <-w.gone:
			if !w.left() {
				return
			}
		}
	}
}

// writer is the writer goroutine's state.
type writer struct {
	ss     *session
	enc    game.Encoder
	buf    []byte
	member *game.Member
	room   *game.Room
	viewer game.Seat       // the member's seat; -1 for a spectator
	spect  bool            // watching, not playing
	base   *game.Frame     // the last frame written to this client
	roster *game.Roster    // the last roster written
	next   <-chan struct{} // base's Next: a newer frame exists
	gone   <-chan struct{}
	mopt   proto.MarshalOptions
}

func (w *writer) msg(m *arbiterv1.ServerMessage, kind string) bool {
	var err error
	w.buf, err = w.mopt.MarshalAppend(w.buf[:0], m)
	if err == nil {
		err = w.ss.write(w.buf, kind)
	}
	if err != nil {
		w.ss.closeNow("write_error")
		return false
	}
	return true
}

func (w *writer) item(it outItem) bool {
	if j := it.join; j != nil && j.leave {
		if w.spect {
			w.ss.srv.spectator(w.room.ID(), -1)
			roomID := w.room.ID()
			w.reset()
			if !w.msg(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_RoomClosed{RoomClosed: &arbiterv1.RoomClosed{
				RoomId: roomID, Reason: arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_LEFT, Message: "you stopped watching",
			}}}, "room_closed") {
				return false
			}
		}
	} else if j != nil {
		if w.spect {
			w.ss.srv.spectator(w.room.ID(), -1)
		}
		w.reset()
		w.room, w.spect = j.room, j.spectate
		if j.spectate {
			w.viewer, w.gone = -1, j.room.Done()
			w.ss.srv.spectator(j.room.ID(), +1)
		} else {
			w.member, w.viewer, w.gone = j.res.Member, j.res.Member.Seat(), j.res.Member.Gone()
		}
		info := j.res.Info
		if j.spectate {
			info.Map = w.ss.srv.deps.Rooms.MapOf(j.room.ID())
		}
		cfg := j.room.Config()
		ok := w.msg(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Joined{Joined: &arbiterv1.Joined{
			RoomId: j.room.ID(), Mode: j.mode, Seat: uint32(max(w.viewer, 0)), Tick: j.res.Tick,
			TickRate: uint32(cfg.TickRate), SnapshotEvery: uint32(cfg.SnapshotEvery),
			RoundEndTick: info.RoundEndTick, Map: info.Map, Spectator: j.spectate,
		}}}, "joined")
		if !ok {
			return false
		}
		if f := j.room.Latest(); f != nil {
			if !w.snapshot(f) {
				return false
			}
		}
	}
	if it.msg != nil && !w.msg(it.msg, kindOf(it.msg)) {
		return false
	}
	if it.closeStatus != 0 {
		msg := ""
		if e := it.msg.GetError(); e != nil {
			msg = e.GetMessage()
		}
		w.ss.srv.met.Closes.WithLabelValues(it.reason).Inc()
		w.ss.closeOnce.Do(func() { close(w.ss.closing) })
		_ = w.ss.conn.Close(it.closeStatus, truncate(msg, 120))
		return false
	}
	return true
}

// frame writes the room's newest frame, skipping any the client missed.
func (w *writer) frame() bool {
	f := w.room.Latest()
	if f == w.base {
		w.next = nil // the room has ended; gone follows
		return true
	}
	if w.base != nil {
		every := uint32(w.room.Config().SnapshotEvery)
		if missed := (f.Tick()-w.base.Tick())/every - 1; missed > 0 && missed < 1<<20 {
			w.ss.srv.met.SnapshotSkips.Add(float64(missed))
		}
	}
	return w.snapshot(f)
}

func (w *writer) snapshot(f *game.Frame) bool {
	if r := f.Roster(); r != w.roster {
		if !w.msg(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Roster{Roster: r.Proto()}}, "roster") {
			return false
		}
		w.roster = r
	}
	if !game.EventsComplete(f, w.base) {
		w.ss.srv.met.EventsLost.Inc()
	}
	w.buf = w.enc.AppendSnapshot(w.buf[:0], f, w.base, w.viewer)
	if err := w.ss.write(w.buf, "snapshot"); err != nil {
		w.ss.closeNow("write_error")
		return false
	}
	w.base = f
	w.next = f.Next()
	return true
}

// reset forgets the writer's room.
func (w *writer) reset() {
	w.member, w.room, w.base, w.roster, w.next, w.gone, w.spect, w.viewer = nil, nil, nil, nil, nil, nil, false, 0
}

// left handles the end of the writer's seat: the player left, the grace ran
// out, another connection took the seat over, or the room ended (for a
// spectator, only the last).
func (w *writer) left() bool {
	roomID := w.room.ID()
	var reason arbiterv1.RoomCloseReason
	if w.spect {
		reason, _ = w.room.CloseReason()
		w.ss.srv.spectator(roomID, -1)
	} else {
		reason = w.member.Reason()
		w.ss.srv.clearSeat(w.member.PlayerID(), roomID, w.ss)
	}
	w.reset()
	return w.msg(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_RoomClosed{RoomClosed: &arbiterv1.RoomClosed{
		RoomId: roomID, Reason: reason, Message: closeMessage(reason),
	}}}, "room_closed")
}

// clearSeat forgets a player's seat in room, unless another session of the
// player has taken it over.
func (s *Server) clearSeat(player, room string, ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seats[player] == room && s.byPlayer[player] == ss {
		delete(s.seats, player)
	}
}

func closeMessage(r arbiterv1.RoomCloseReason) string {
	switch r {
	case arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_ROUND_OVER:
		return "the round is over"
	case arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_EMPTY:
		return "the room emptied"
	case arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_DRAIN:
		return "the server is shutting down"
	case arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_ERROR:
		return "the room failed"
	default:
		return "you left the room"
	}
}

func kindOf(m *arbiterv1.ServerMessage) string {
	switch m.GetMsg().(type) {
	case *arbiterv1.ServerMessage_Pong:
		return "pong"
	case *arbiterv1.ServerMessage_Welcome:
		return "welcome"
	case *arbiterv1.ServerMessage_MatchStatus:
		return "match_status"
	case *arbiterv1.ServerMessage_MatchFound:
		return "match_found"
	case *arbiterv1.ServerMessage_Party:
		return "party"
	case *arbiterv1.ServerMessage_RoomClosed:
		return "room_closed"
	case *arbiterv1.ServerMessage_Chat:
		return "chat"
	case *arbiterv1.ServerMessage_Error:
		return "error"
	default:
		return "other"
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
