package gateway

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/arbiter-gg/arbiter/game"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// Rate-limit classes of client messages.
const (
	kindInput = iota
	kindChat
	kindMatch
	kindPing
	kindOther
	numKinds
)

var kindNames = [numKinds]string{"input", "chat", "match", "ping", "other"}

func (ss *session) initBuckets() {
	c := ss.srv.cfg
	ss.buckets[kindInput] = newBucket(c.InputRate, c.InputRate/2)
	ss.buckets[kindChat] = newBucket(c.ChatRate, 5)
	ss.buckets[kindMatch] = newBucket(c.MatchRate, 2*c.MatchRate)
	ss.buckets[kindPing] = newBucket(c.PingRate, 2*c.PingRate)
	ss.buckets[kindOther] = newBucket(5, 10)
	ss.abuse = newBucket(c.AbuseLimit/10, c.AbuseLimit)
}

// readLoop reads and handles client messages until the connection ends or
// a handler asks to close; it returns the close reason for metrics.
func (ss *session) readLoop() string {
	cfg := ss.srv.cfg
	// The idle watchdog: Hello must come within HelloTimeout, then any
	// message within IdleTimeout of the last.
	idle := time.AfterFunc(cfg.HelloTimeout, func() {
		code, what := arbiterv1.ErrorCode_ERROR_CODE_IDLE, "no message within the idle timeout"
		ss.fail(code, what, statusPolicy, "idle")
		// The reader is blocked in Read; give the writer time to deliver.
		time.AfterFunc(cfg.WriteTimeout, func() { ss.closeNow("idle") })
	})
	defer idle.Stop()
	var msg arbiterv1.ClientMessage
	for !ss.failing.Load() {
		typ, r, err := ss.conn.Reader(context.Background())
		if err != nil {
			return readCloseReason(err)
		}
		if typ != websocket.MessageBinary {
			ss.fail(arbiterv1.ErrorCode_ERROR_CODE_UNSUPPORTED_DATA, "text messages are not accepted; send binary protobuf", statusUnsupported, "text_frame")
			return "text_frame"
		}
		b, tooBig, err := readAtMost(r, ss.inbuf[:0], cfg.ReadLimit)
		ss.inbuf = b[:0]
		if tooBig {
			ss.fail(arbiterv1.ErrorCode_ERROR_CODE_TOO_BIG, "message over the read limit", statusTooBig, "too_big")
			return "too_big"
		}
		if err != nil {
			return readCloseReason(err)
		}
		ss.srv.met.BytesIn.Add(float64(len(b)))
		msg.Reset()
		if err := proto.Unmarshal(b, &msg); err != nil {
			ss.srv.met.Drops.WithLabelValues("bad_message").Inc()
			ss.fail(arbiterv1.ErrorCode_ERROR_CODE_BAD_MESSAGE, "not a ClientMessage: "+err.Error(), statusPolicy, "bad_message")
			return "bad_message"
		}
		ss.handle(&msg)
		if ss.hello {
			idle.Reset(cfg.IdleTimeout)
		}
	}
	return "failed"
}

// readAtMost reads a whole message into buf, or reports that it is longer
// than limit.
func readAtMost(r io.Reader, buf []byte, limit int) ([]byte, bool, error) {
	for {
		if len(buf) == cap(buf) {
			if len(buf) > limit {
				return buf, true, nil
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return buf, true, nil
		}
		if err == io.EOF {
			return buf, false, nil
		}
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				return buf, true, nil
			}
			return buf, false, err
		}
	}
}

func readCloseReason(err error) string {
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway:
		return "client_closed"
	case -1:
		return "connection_lost"
	default:
		return "client_error"
	}
}

// limited applies the rate limit of kind k; on excess it drops the message,
// counts it, tells the client at most once a second, and closes a session
// that keeps at it.
func (ss *session) limited(k int) bool {
	now := ss.srv.deps.Clock.Now()
	if ss.buckets[k].allow(now) {
		return false
	}
	ss.srv.met.Drops.WithLabelValues("rate_" + kindNames[k]).Inc()
	ss.abused(now, "rate limit exceeded for "+kindNames[k]+" messages")
	if now.Sub(ss.lastLimitErr) >= time.Second {
		ss.lastLimitErr = now
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_RATE_LIMITED, "too many "+kindNames[k]+" messages; excess dropped")
	}
	return true
}

// abused counts one bad message against the session's abuse budget.
func (ss *session) abused(now time.Time, why string) {
	if !ss.abuse.allow(now) {
		ss.fail(arbiterv1.ErrorCode_ERROR_CODE_RATE_LIMITED, "closing: "+why, statusPolicy, "abuse")
	}
}

// handle dispatches one decoded client message.
func (ss *session) handle(m *arbiterv1.ClientMessage) {
	if !ss.hello {
		h := m.GetHello()
		if h == nil {
			ss.srv.met.MessagesIn.WithLabelValues("before_hello").Inc()
			ss.fail(arbiterv1.ErrorCode_ERROR_CODE_HELLO_REQUIRED, "the first message must be Hello", statusPolicy, "hello_required")
			return
		}
		ss.srv.met.MessagesIn.WithLabelValues("hello").Inc()
		ss.onHello(h)
		return
	}
	switch v := m.GetMsg().(type) {
	case *arbiterv1.ClientMessage_Input:
		ss.srv.met.inputIn.Inc()
		if !ss.limited(kindInput) {
			ss.onInput(v.Input)
		}
	case *arbiterv1.ClientMessage_Ping:
		ss.route("ping", kindPing, func() { ss.onPing(v.Ping) })
	case *arbiterv1.ClientMessage_Chat:
		ss.route("chat", kindChat, func() { ss.onChat(v.Chat) })
	case *arbiterv1.ClientMessage_FindMatch:
		ss.route("find_match", kindMatch, func() { ss.onFindMatch(v.FindMatch) })
	case *arbiterv1.ClientMessage_CancelMatch:
		ss.route("cancel_match", kindMatch, func() { ss.srv.deps.Matchmaker.Cancel(ss.player) })
	case *arbiterv1.ClientMessage_PartyCreate:
		ss.route("party_create", kindMatch, ss.onPartyCreate)
	case *arbiterv1.ClientMessage_PartyJoin:
		ss.route("party_join", kindMatch, func() { ss.onPartyJoin(v.PartyJoin) })
	case *arbiterv1.ClientMessage_PartyLeave:
		ss.route("party_leave", kindMatch, ss.onPartyLeave)
	case *arbiterv1.ClientMessage_JoinRoom:
		ss.route("join_room", kindMatch, func() { ss.onJoinRoom(v.JoinRoom) })
	case *arbiterv1.ClientMessage_LeaveRoom:
		ss.route("leave_room", kindOther, ss.onLeaveRoom)
	case *arbiterv1.ClientMessage_Spectate:
		ss.route("spectate", kindMatch, func() { ss.onSpectate(v.Spectate) })
	case *arbiterv1.ClientMessage_Hello:
		ss.srv.met.MessagesIn.WithLabelValues("hello").Inc()
		ss.abused(ss.srv.deps.Clock.Now(), "repeated Hello")
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_HELLO_REQUIRED, "Hello was already received")
	default:
		// A message this server does not know, perhaps from a newer
		// client: refuse it and go on.
		ss.srv.met.MessagesIn.WithLabelValues("unknown").Inc()
		ss.srv.met.Drops.WithLabelValues("unknown_message").Inc()
		ss.abused(ss.srv.deps.Clock.Now(), "unknown messages")
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "unknown message")
	}
}

// route counts a message of the given kind and handles it unless its rate
// limit says to drop it. (Inputs, the hot path, do the same without a
// closure.)
func (ss *session) route(label string, k int, handle func()) {
	ss.srv.met.MessagesIn.WithLabelValues(label).Inc()
	if !ss.limited(k) {
		handle()
	}
}

func (ss *session) onLeaveRoom() {
	switch {
	case ss.spectating != nil:
		ss.spectating = nil
		ss.send(outItem{join: &joinItem{leave: true}})
	case ss.inRoom():
		ss.member.Leave()
	case ss.member != nil:
		// The room ended first (round over, drain, ...): its RoomClosed,
		// with the room's reason, answers this LeaveRoom. A client cannot
		// avoid that race, so it is not an error.
	default:
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_NOT_IN_ROOM, "not in a room")
	}
}

func (ss *session) inRoom() bool {
	if ss.member == nil {
		return false
	}
	select {
	case <-ss.member.Gone():
		return false
	default:
		return true
	}
}

func (ss *session) onInput(p *arbiterv1.Input) {
	if ss.spectating != nil && !ss.inRoom() {
		ss.srv.met.Drops.WithLabelValues("input_spectator").Inc()
		now := ss.srv.deps.Clock.Now()
		ss.abused(now, "inputs while spectating")
		if now.Sub(ss.lastLimitErr) >= time.Second {
			ss.lastLimitErr = now
			ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_SPECTATOR, "spectators cannot send input")
		}
		return
	}
	if !ss.inRoom() {
		ss.srv.met.Drops.WithLabelValues("input_not_in_room").Inc()
		return // inputs racing a leave are normal; no error
	}
	in, err := game.InputFromProto(p)
	if err != nil {
		ss.srv.met.Drops.WithLabelValues("invalid_input").Inc()
		now := ss.srv.deps.Clock.Now()
		ss.abused(now, "invalid inputs")
		if now.Sub(ss.lastLimitErr) >= time.Second {
			ss.lastLimitErr = now
			ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_INVALID_INPUT, err.Error())
		}
		return
	}
	ss.member.Submit(in)
}

func (ss *session) onPing(p *arbiterv1.Ping) {
	now := ss.srv.deps.Clock.Now()
	pong := &arbiterv1.Pong{Id: p.GetId(), ClientTimeUs: p.GetClientTimeUs(), ServerTimeUs: uint64(now.UnixMicro())}
	if ss.inRoom() {
		pong.Tick, pong.TickFraction = ss.room.TickPosition(now)
	}
	ss.sendMsg(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Pong{Pong: pong}})
}

func (ss *session) onChat(c *arbiterv1.ChatSend) {
	text := strings.TrimSpace(c.GetText())
	switch {
	case !utf8.ValidString(text) || text == "":
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_INVALID_VALUE, "chat text must be non-empty UTF-8")
		return
	case utf8.RuneCountInString(text) > ss.srv.cfg.ChatMaxRunes:
		ss.srv.met.Drops.WithLabelValues("chat_too_long").Inc()
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_CHAT_TOO_LONG, "chat line longer than the limit")
		return
	}
	scope := c.GetScope()
	if scope == arbiterv1.ChatScope_CHAT_SCOPE_UNSPECIFIED {
		scope = arbiterv1.ChatScope_CHAT_SCOPE_ROOM
	}
	var to []string
	switch scope {
	case arbiterv1.ChatScope_CHAT_SCOPE_ROOM:
		if !ss.inRoom() {
			ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_NOT_IN_ROOM, "room chat outside a room")
			return
		}
		if f := ss.room.Latest(); f != nil {
			for _, p := range f.Roster().Players {
				to = append(to, p.PlayerID)
			}
		}
	case arbiterv1.ChatScope_CHAT_SCOPE_PARTY:
		st, ok := ss.srv.deps.Parties.Of(ss.player)
		if !ok {
			ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_PARTY_NOT_FOUND, "not in a party")
			return
		}
		for _, p := range st.Members {
			to = append(to, p.ID)
		}
	default:
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_INVALID_VALUE, "unknown chat scope")
		return
	}
	line := &arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Chat{Chat: &arbiterv1.Chat{
		FromPlayerId: ss.player, FromName: ss.name, Text: text, Scope: scope,
		ServerTimeUs: uint64(ss.srv.deps.Clock.Now().UnixMicro()),
	}}}
	for _, p := range to {
		if !ss.srv.sendTo(p, line) && scope == arbiterv1.ChatScope_CHAT_SCOPE_PARTY && ss.srv.deps.Relay != nil {
			ss.srv.deps.Relay(p, line) // a party member on another node
		}
	}
}
