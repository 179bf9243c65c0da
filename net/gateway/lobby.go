package gateway

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/arbiter-gg/arbiter/game"
	"github.com/arbiter-gg/arbiter/matchmaking"
	"github.com/arbiter-gg/arbiter/net/token"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// maxNameRunes bounds display names.
const maxNameRunes = 24

// cleanName trims a requested display name to printable runes; it falls
// back to a guest name.
func cleanName(n, player string) string {
	n = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, n)
	n = strings.TrimSpace(n)
	if !utf8.ValidString(n) || n == "" {
		return "guest-" + player[:4]
	}
	if utf8.RuneCountInString(n) > maxNameRunes {
		n = string([]rune(n)[:maxNameRunes])
	}
	return n
}

func (ss *session) onHello(h *arbiterv1.Hello) {
	srv := ss.srv
	if v := h.GetProtocolVersion(); v != 0 && v != ProtocolVersion {
		ss.fail(arbiterv1.ErrorCode_ERROR_CODE_PROTOCOL_VERSION, "this server speaks protocol version 1", statusPolicy, "protocol_version")
		return
	}
	resumed := false
	if tok := h.GetSessionToken(); tok != "" {
		c, err := srv.deps.Signer.Verify(tok, token.KindSession)
		if err == nil {
			ss.player, resumed = c.Player, true
		} else {
			ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_SESSION_EXPIRED, "session token not accepted ("+err.Error()+"); a new identity was issued")
		}
	}
	if ss.player == "" {
		ss.player = uuid.NewString()
	}
	ss.name = cleanName(h.GetName(), ss.player)
	ss.log = ss.log.With("player", ss.player)
	ss.hello = true
	if old := srv.claim(ss.player, ss); old != nil && old != ss {
		old.fail(arbiterv1.ErrorCode_ERROR_CODE_SESSION_EXPIRED, "this session was resumed on another connection", statusPolicy, "replaced")
	}
	ss.sendMsg(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Welcome{Welcome: &arbiterv1.Welcome{
		PlayerId:     ss.player,
		SessionToken: srv.deps.Signer.Sign(token.Claims{Kind: token.KindSession, Player: ss.player}, srv.cfg.SessionTTL),
		Name:         ss.name,
		Resumed:      resumed,
		Server: &arbiterv1.ServerInfo{
			ProtocolVersion: ProtocolVersion, TickRate: uint32(srv.cfg.TickRate), SnapshotEvery: uint32(srv.cfg.SnapshotEvery),
			Version: srv.cfg.Version, Modes: srv.deps.Modes, NodeId: srv.cfg.NodeID,
		},
	}}})
	if !resumed {
		return
	}
	// Back into the seat the player still holds, if any.
	roomID := srv.seatOf(ss.player)
	if roomID == "" {
		return
	}
	room, ok := srv.deps.Rooms.Room(roomID)
	if !ok {
		srv.setSeat(ss.player, "")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := room.Rejoin(ctx, ss.player, ss.name)
	if err != nil {
		srv.setSeat(ss.player, "")
		ss.sendMsg(&arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_RoomClosed{RoomClosed: &arbiterv1.RoomClosed{
			RoomId: roomID, Reason: arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_LEFT, Message: "your seat is gone: the grace period ran out or the room ended",
		}}})
		return
	}
	ss.enterRoom(res, room, srv.deps.Rooms.ModeOf(room.ID()))
}

func (ss *session) enterRoom(res game.JoinResult, room *game.Room, mode string) {
	ss.member, ss.room, ss.spectating = res.Member, room, nil
	ss.srv.setSeat(ss.player, room.ID())
	ss.send(outItem{join: &joinItem{res: res, room: room, mode: mode}})
}

func (ss *session) onFindMatch(f *arbiterv1.FindMatch) {
	srv := ss.srv
	if srv.Draining() {
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_DRAINING, "the server is draining; try another server")
		return
	}
	if ss.inRoom() {
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_ALREADY_IN_ROOM, "leave the room first")
		return
	}
	players := []matchmaking.Player{{ID: ss.player, Name: ss.name}}
	if members, leader, inParty := srv.deps.Parties.TicketFor(ss.player); inParty {
		if !leader {
			ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_NOT_PARTY_LEADER, "only the party leader can queue the party")
			return
		}
		players = members
	}
	mode := f.GetMode()
	_, err := srv.deps.Matchmaker.Enqueue(matchmaking.Ticket{Mode: mode, Players: players}, srv.deliverUpdate)
	switch {
	case err == nil:
	case errors.Is(err, matchmaking.ErrUnknownMode):
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_UNKNOWN_MODE, "unknown mode "+truncate(mode, 32))
	case errors.Is(err, matchmaking.ErrAlreadyQueued):
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_ALREADY_QUEUED, "already queued")
	case errors.Is(err, matchmaking.ErrDraining):
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_DRAINING, "the server is draining")
	case errors.Is(err, matchmaking.ErrUnavailable):
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_INTERNAL, "matchmaking is unavailable right now; try again")
	default:
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_INVALID_VALUE, err.Error())
	}
}

// deliverUpdate turns a matchmaker update into a message for its player.
// It runs on the matchmaker's goroutine and never blocks.
func (s *Server) deliverUpdate(u matchmaking.Update) {
	if u.State == matchmaking.Found {
		s.met.MatchWait.WithLabelValues(u.Mode).Observe(u.Elapsed.Seconds())
		s.waits.add(u.Mode, u.Elapsed)
		tok := s.deps.Signer.Sign(token.Claims{Kind: token.KindJoin, Player: u.PlayerID, Room: u.RoomID}, s.cfg.JoinTTL)
		endpoint := u.Endpoint
		if endpoint == "" {
			endpoint = s.cfg.Endpoint
		}
		s.sendTo(u.PlayerID, &arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_MatchFound{MatchFound: &arbiterv1.MatchFound{
			RoomId: u.RoomID, JoinToken: tok, Endpoint: endpoint, Mode: u.Mode,
		}}})
		return
	}
	st := &arbiterv1.MatchStatus{
		Mode: u.Mode, ElapsedMs: uint32(u.Elapsed / time.Millisecond), QueueSize: uint32(u.QueueSize),
		RatingWindow: uint32(u.Window), Reason: u.Reason,
	}
	switch u.State {
	case matchmaking.Searching:
		st.State = arbiterv1.MatchState_MATCH_STATE_SEARCHING
	case matchmaking.Cancelled:
		st.State = arbiterv1.MatchState_MATCH_STATE_CANCELLED
	case matchmaking.TimedOut:
		st.State = arbiterv1.MatchState_MATCH_STATE_TIMED_OUT
	default:
		st.State = arbiterv1.MatchState_MATCH_STATE_FAILED
	}
	s.sendTo(u.PlayerID, &arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_MatchStatus{MatchStatus: st}})
}

func (ss *session) onJoinRoom(j *arbiterv1.JoinRoom) {
	srv := ss.srv
	if ss.inRoom() {
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_ALREADY_IN_ROOM, "already in a room")
		return
	}
	c, err := srv.deps.Signer.Verify(j.GetJoinToken(), token.KindJoin)
	switch {
	case errors.Is(err, token.ErrExpired):
		ss.tokenError(arbiterv1.ErrorCode_ERROR_CODE_TOKEN_EXPIRED, "join token expired; find a match again")
		return
	case err != nil || c.Player != ss.player:
		ss.tokenError(arbiterv1.ErrorCode_ERROR_CODE_TOKEN_INVALID, "join token not valid for this player")
		return
	}
	if err := srv.used.Spend(c); err != nil {
		ss.tokenError(arbiterv1.ErrorCode_ERROR_CODE_TOKEN_REUSED, "join token already used")
		return
	}
	room, ok := srv.deps.Rooms.Room(c.Room)
	if !ok {
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_ROOM_CLOSED, "the room has ended")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := room.Join(ctx, ss.player, ss.name)
	switch {
	case errors.Is(err, game.ErrRoomFull):
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_ROOM_FULL, "the room is full")
	case err != nil:
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_ROOM_CLOSED, "the room has ended")
	default:
		srv.deps.Rooms.Claimed(room.ID(), ss.player)
		ss.enterRoom(res, room, srv.deps.Rooms.ModeOf(room.ID()))
	}
}

// tokenError answers a bad join token; forging tokens counts as abuse.
func (ss *session) tokenError(code arbiterv1.ErrorCode, msg string) {
	ss.srv.met.Drops.WithLabelValues("bad_token").Inc()
	ss.abused(ss.srv.deps.Clock.Now(), "bad join tokens")
	ss.sendError(code, msg)
}

func (ss *session) onPartyCreate() {
	p := ss.srv.deps.Parties
	defer ss.partyChanging()()
	if _, err := p.Create(matchmaking.Player{ID: ss.player, Name: ss.name}, ss.srv.partyNotifier(ss.player)); err != nil {
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_INVALID_VALUE, err.Error())
	}
}

func (ss *session) onPartyLeave() {
	defer ss.partyChanging()()
	ss.srv.deps.Parties.Leave(ss.player)
}

// partyChanging is called before the player's party changes; the function
// it returns, called after, fails the queued ticket of every player whose
// party was touched (the party the player was in, and the one it is in
// now), since a ticket stands for the party as it was when queued.
func (ss *session) partyChanging() func() {
	parties := ss.srv.deps.Parties
	before, _ := parties.Of(ss.player)
	return func() {
		after, _ := parties.Of(ss.player)
		mm := ss.srv.deps.Matchmaker
		mm.Fail(ss.player, "party changed")
		for _, p := range append(before.Members, after.Members...) {
			mm.Fail(p.ID, "party changed")
		}
	}
}

func (ss *session) onPartyJoin(j *arbiterv1.PartyJoin) {
	defer ss.partyChanging()()
	err := ss.srv.deps.Parties.Join(strings.ToUpper(strings.TrimSpace(j.GetCode())), matchmaking.Player{ID: ss.player, Name: ss.name}, ss.srv.partyNotifier(ss.player))
	switch {
	case err == nil:
	case errors.Is(err, matchmaking.ErrPartyNotFound):
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_PARTY_NOT_FOUND, "no party has that code")
	case errors.Is(err, matchmaking.ErrPartyFull):
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_PARTY_FULL, "the party is full")
	default:
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_INVALID_VALUE, err.Error())
	}
}

// partyNotifier returns the callback that tells player about its party.
// It runs on whichever goroutine changed the party and never blocks.
func (s *Server) partyNotifier(player string) func(matchmaking.PartyState) {
	return func(st matchmaking.PartyState) {
		m := &arbiterv1.PartyState{Code: st.Code, LeaderId: st.LeaderID}
		for _, p := range st.Members {
			m.Members = append(m.Members, &arbiterv1.PartyMember{PlayerId: p.ID, Name: p.Name})
		}
		s.sendTo(player, &arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_Party{Party: m}})
	}
}

func (ss *session) onSpectate(sp *arbiterv1.Spectate) {
	srv := ss.srv
	if ss.inRoom() {
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_ALREADY_IN_ROOM, "leave the room before watching another")
		return
	}
	room, ok := srv.deps.Rooms.Room(sp.GetRoomId())
	if !ok {
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_ROOM_CLOSED, "no such room")
		return
	}
	mode := srv.deps.Rooms.ModeOf(room.ID())
	if !ss.admin && !srv.cfg.SpectateModes[mode] {
		ss.sendError(arbiterv1.ErrorCode_ERROR_CODE_NOT_ALLOWED, "rooms of this mode cannot be watched")
		return
	}
	ss.spectating, ss.room = room, room
	ss.send(outItem{join: &joinItem{room: room, mode: mode, spectate: true, res: game.JoinResult{Tick: room.Latest().Tick()}}})
}

// waits keeps the most recent match wait times per mode for the dashboard.
type waits struct {
	mu sync.Mutex // guards byMode
	by map[string][]time.Duration
}

const keptWaits = 256

func (w *waits) add(mode string, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.by == nil {
		w.by = map[string][]time.Duration{}
	}
	l := append(w.by[mode], d)
	if len(l) > keptWaits {
		l = l[len(l)-keptWaits:]
	}
	w.by[mode] = l
}

// MatchWaits returns the median and 99th percentile of the recent waits
// from FindMatch to MatchFound in mode.
func (s *Server) MatchWaits(mode string) (p50, p99 time.Duration) {
	s.waits.mu.Lock()
	l := slices.Clone(s.waits.by[mode])
	s.waits.mu.Unlock()
	if len(l) == 0 {
		return 0, 0
	}
	slices.Sort(l)
	// The 99th percentile by nearest rank (ceil(0.99·n)), never below the median.
	return l[len(l)/2], l[(len(l)*99+99)/100-1]
}
