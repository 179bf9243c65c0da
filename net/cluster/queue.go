package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/arbiter-gg/arbiter/matchmaking"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// Queue is the gateway's matchmaking queue in cluster mode (it implements
// gateway.Queue): a ticket is published to the mode's ticket stream and
// kept here as pending until the mode's matchmaker, wherever it runs,
// sends its final update to this node; updates reach the players through
// the notify func the gateway gave. Cancel and Fail tell the players at
// once and withdraw the ticket from the matchmaker.
//
// It also remembers, per hosting node, which of this node's players were
// sent to rooms there, so that it can tell them when that node is lost.
type Queue struct {
	c *Cluster

	// mu guards everything below. notify funcs are called with it held:
	// they must not block (the gateway's only queues a message), and this
	// keeps each player's updates in order.
	mu      sync.Mutex
	pending map[string]*pendingTicket      // player → its queued ticket
	away    map[string]map[string][]string // hosting node → room → this node's players sent there
	// members are this node's players in a party ticket queued on another
	// node: player → that ticket.
	members map[string]memberTicket
	// withdrawn are party tickets a member here left (ticket id → when),
	// whose late updates are ignored.
	withdrawn map[string]time.Time
	stopped   bool
}

// memberTicket is a party ticket queued elsewhere that a player here is in.
type memberTicket struct {
	id, mode string
}

type pendingTicket struct {
	id      string
	mode    string
	players []string
	notify  func(matchmaking.Update)
	since   time.Time
}

func newQueue(c *Cluster) *Queue {
	return &Queue{c: c, pending: map[string]*pendingTicket{}, away: map[string]map[string][]string{}, members: map[string]memberTicket{}, withdrawn: map[string]time.Time{}}
}

// Enqueue publishes a ticket to its mode's matchmaker and tells its
// players Searching. Errors are those of matchmaking.Matchmaker.Enqueue,
// plus matchmaking.ErrUnavailable when the ticket stream does not take it.
func (q *Queue) Enqueue(t matchmaking.Ticket, notify func(matchmaking.Update)) (string, error) {
	md, ok := q.c.mode(t.Mode)
	switch {
	case !ok:
		return "", fmt.Errorf("%w: %q", matchmaking.ErrUnknownMode, t.Mode)
	case len(t.Players) == 0 || len(t.Players) > md.MaxPlayers:
		return "", fmt.Errorf("%w: %d players", matchmaking.ErrBadTicket, len(t.Players))
	}
	if notify == nil {
		notify = func(matchmaking.Update) {}
	}
	if q.c.nc == nil || !q.c.nc.IsConnected() {
		return "", fmt.Errorf("%w: not connected to NATS", matchmaking.ErrUnavailable)
	}
	pt := &pendingTicket{id: uuid.NewString(), mode: t.Mode, notify: notify, since: q.c.clock.Now()}
	msg := ticketMsg{ID: pt.id, Origin: q.c.cfg.NodeID, Mode: t.Mode, Players: t.Players, Since: pt.since}
	for _, p := range t.Players {
		// Party members on other nodes hear from the matchmaker directly.
		if n := q.c.parties.nodeOf(p.ID); n != q.c.cfg.NodeID {
			if msg.Origins == nil {
				msg.Origins = map[string]string{}
			}
			msg.Origins[p.ID] = n
			continue
		}
		pt.players = append(pt.players, p.ID)
	}
	if len(pt.players) == 0 {
		return "", fmt.Errorf("%w: no player of the ticket is connected here", matchmaking.ErrBadTicket)
	}
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return "", matchmaking.ErrDraining
	}
	for _, p := range pt.players {
		if _, dup := q.pending[p]; dup {
			q.mu.Unlock()
			return "", fmt.Errorf("%w: %s", matchmaking.ErrAlreadyQueued, p)
		}
	}
	for _, p := range pt.players {
		q.pending[p] = pt
		q.forgetAwayLocked(p)
	}
	q.mu.Unlock()

	b, _ := json.Marshal(msg)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := q.c.js.Publish(ctx, ticketSubject(t.Mode), b, jetstream.WithMsgID(pt.id)); err != nil {
		q.mu.Lock()
		q.removeLocked(pt)
		q.mu.Unlock()
		q.c.log.Warn("cluster: ticket not queued", "mode", t.Mode, "error", err)
		return "", fmt.Errorf("%w: %w", matchmaking.ErrUnavailable, err)
	}
	q.c.met.Tickets.Inc()
	q.mu.Lock()
	if q.pending[pt.players[0]] == pt {
		for _, p := range pt.players {
			pt.notify(matchmaking.Update{State: matchmaking.Searching, Mode: pt.mode, PlayerID: p, TicketID: pt.id})
		}
	}
	q.mu.Unlock()
	return pt.id, nil
}

// Cancel withdraws the player's ticket and tells its players Cancelled.
func (q *Queue) Cancel(player string) bool {
	return q.end(player, matchmaking.Update{State: matchmaking.Cancelled, Reason: "cancelled by " + player})
}

// Fail withdraws the player's ticket and tells its players Failed.
func (q *Queue) Fail(player, reason string) bool {
	return q.end(player, matchmaking.Update{State: matchmaking.Failed, Reason: reason})
}

func (q *Queue) end(player string, u matchmaking.Update) bool {
	q.mu.Lock()
	pt := q.pending[player]
	if pt == nil {
		mt, ok := q.members[player]
		if ok {
			q.withdrawLocked(player, mt)
		}
		q.mu.Unlock()
		if !ok {
			return false
		}
		// A member of a party queued elsewhere: the matchmaker ends the
		// whole ticket and tells everyone else.
		u.Mode, u.TicketID, u.PlayerID = mt.mode, mt.id, player
		if gw := q.c.gateway(); gw != nil {
			gw.DeliverUpdate(u)
		}
		q.c.publishJSON(modeSubject(mt.mode, "cancel"), cancelMsg{Ticket: mt.id})
		return true
	}
	q.finishLocked(pt, u)
	q.mu.Unlock()
	q.c.publishJSON(modeSubject(pt.mode, "cancel"), cancelMsg{Ticket: pt.id})
	return true
}

// finishLocked removes pt and tells each of its players u. q.mu must be
// held.
func (q *Queue) finishLocked(pt *pendingTicket, u matchmaking.Update) {
	q.removeLocked(pt)
	u.Mode, u.TicketID, u.Elapsed = pt.mode, pt.id, q.c.clock.Now().Sub(pt.since)
	for _, p := range pt.players {
		u.PlayerID = p
		pt.notify(u)
	}
}

func (q *Queue) removeLocked(pt *pendingTicket) {
	for _, p := range pt.players {
		if q.pending[p] == pt {
			delete(q.pending, p)
		}
	}
}

// stop fails every pending ticket and refuses new ones (drain); party
// members here whose ticket was queued elsewhere leave it.
func (q *Queue) stop(reason string) {
	q.mu.Lock()
	var members []string
	for player := range q.members {
		members = append(members, player)
	}
	q.mu.Unlock()
	for _, player := range members {
		q.Fail(player, reason)
	}
	q.mu.Lock()
	q.stopped = true
	var ended []*pendingTicket
	for _, pt := range q.pending {
		if q.pending[pt.players[0]] == pt {
			ended = append(ended, pt)
		}
	}
	for _, pt := range ended {
		q.finishLocked(pt, matchmaking.Update{State: matchmaking.Failed, Reason: reason})
	}
	q.mu.Unlock()
	for _, pt := range ended {
		q.c.publishJSON(modeSubject(pt.mode, "cancel"), cancelMsg{Ticket: pt.id})
	}
}

// answerGrace is how long past its mode's timeout a ticket waits for the
// matchmaker's answer before this node gives up on it.
const answerGrace = 30 * time.Second

// expire fails the tickets whose matchmaker never answered (lost in a
// failure the stream did not cover), so that no player waits for ever.
// The heartbeat goroutine calls it.
func (q *Queue) expire() {
	now := q.c.clock.Now()
	q.mu.Lock()
	var late []*pendingTicket
	seen := map[*pendingTicket]bool{}
	for _, pt := range q.pending {
		if seen[pt] {
			continue // a ticket stands under each of its players
		}
		seen[pt] = true
		md, _ := q.c.mode(pt.mode)
		timeout := md.Timeout
		if timeout <= 0 {
			timeout = matchmaking.DefaultTimeout
		}
		if now.Sub(pt.since) > timeout+answerGrace {
			late = append(late, pt)
		}
	}
	for _, pt := range late {
		q.finishLocked(pt, matchmaking.Update{State: matchmaking.Failed, Reason: "matchmaking did not answer; find a match again"})
	}
	q.mu.Unlock()
	for _, pt := range late {
		q.c.publishJSON(modeSubject(pt.mode, "cancel"), cancelMsg{Ticket: pt.id})
	}
}

// sizes counts this node's waiting players per mode.
func (q *Queue) sizes() map[string]int {
	out := map[string]int{}
	for _, m := range q.c.cfg.Modes {
		out[m.Name] = 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, pt := range q.pending {
		out[pt.mode]++
	}
	return out
}

// onUpdate takes a matchmaker's update for one of this node's players (a
// NATS goroutine) and answers, for final states, whether it was
// delivered.
func (q *Queue) onUpdate(m *nats.Msg) {
	var um updateMsg
	if err := json.Unmarshal(m.Data, &um); err != nil {
		return
	}
	delivered := q.apply(um)
	if m.Reply != "" {
		q.c.respond(m, updateAck{Delivered: delivered})
	}
}

func (q *Queue) apply(um updateMsg) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	u := matchmaking.Update{
		State: um.State, Mode: um.Mode, Elapsed: time.Duration(um.ElapsedMS) * time.Millisecond,
		QueueSize: um.QueueSize, Window: um.Window, Reason: um.Reason, RoomID: um.Room,
		PlayerID: um.Player, TicketID: um.Ticket,
	}
	var notify func(matchmaking.Update)
	if pt := q.pending[um.Player]; pt != nil && pt.id == um.Ticket {
		notify = pt.notify
	} else {
		notify = q.memberNotifyLocked(um)
	}
	if notify == nil {
		return false // cancelled, failed or answered already
	}
	if um.State == matchmaking.Searching {
		notify(u)
		return true
	}
	// A final state for this player.
	delete(q.pending, um.Player)
	delete(q.members, um.Player)
	if um.State == matchmaking.Found && um.Host != q.c.cfg.NodeID {
		u.Endpoint = um.Endpoint
		rooms := q.away[um.Host]
		if rooms == nil {
			rooms = map[string][]string{}
			q.away[um.Host] = rooms
		}
		rooms[um.Room] = append(rooms[um.Room], um.Player)
	}
	notify(u)
	return true
}

// memberNotifyLocked is how an update for a party member here reaches it
// when the party's ticket was queued on another node: straight to the
// gateway, as long as the member has not withdrawn from that ticket. The
// first update registers the ticket. q.mu must be held.
func (q *Queue) memberNotifyLocked(um updateMsg) func(matchmaking.Update) {
	gw := q.c.gateway()
	if !um.Party || gw == nil || q.stopped {
		return nil
	}
	if mt, known := q.members[um.Player]; known && mt.id == um.Ticket {
		return gw.DeliverUpdate
	}
	// A ticket not seen before: its first update is Searching (a newer
	// ticket replaces an older one), unless the member withdrew from it or
	// queued on its own here.
	if _, gone := q.withdrawn[um.Ticket]; gone || um.State != matchmaking.Searching {
		return nil
	}
	if _, own := q.pending[um.Player]; own {
		return nil
	}
	q.members[um.Player] = memberTicket{id: um.Ticket, mode: um.Mode}
	return gw.DeliverUpdate
}

// withdrawLocked forgets a member's party ticket for good. q.mu must be
// held.
func (q *Queue) withdrawLocked(player string, mt memberTicket) {
	delete(q.members, player)
	now := q.c.clock.Now()
	q.withdrawn[mt.id] = now
	for id, at := range q.withdrawn {
		if now.Sub(at) > 5*time.Minute {
			delete(q.withdrawn, id)
		}
	}
}

// forgetAwayLocked drops the player from the rooms it was sent to (it is
// queueing again). q.mu must be held.
func (q *Queue) forgetAwayLocked(player string) {
	for node, rooms := range q.away {
		for room, players := range rooms {
			for i, p := range players {
				if p == player {
					rooms[room] = append(players[:i:i], players[i+1:]...)
					break
				}
			}
			if len(rooms[room]) == 0 {
				delete(rooms, room)
			}
		}
		if len(rooms) == 0 {
			delete(q.away, node)
		}
	}
}

// onRoomEnded forgets the players sent to a room that ended (a NATS
// goroutine).
func (q *Queue) onRoomEnded(m *nats.Msg) {
	var rm roomEndedMsg
	if json.Unmarshal(m.Data, &rm) != nil {
		return
	}
	q.c.placer.roomEnded(rm.Room)
	q.mu.Lock()
	defer q.mu.Unlock()
	if rooms := q.away[rm.Node]; rooms != nil {
		delete(rooms, rm.Room)
		if len(rooms) == 0 {
			delete(q.away, rm.Node)
		}
	}
}

// nodeGone tells this node's players whose rooms were on a lost node that
// the room is gone; they may queue again.
func (q *Queue) nodeGone(node string) {
	q.mu.Lock()
	rooms := q.away[node]
	delete(q.away, node)
	q.mu.Unlock()
	gw := q.c.gateway()
	if gw == nil {
		return
	}
	told := 0
	for room, players := range rooms {
		for _, p := range players {
			if gw.SendRoomClosed(p, room, arbiterv1.RoomCloseReason_ROOM_CLOSE_REASON_NODE_LOST,
				"the server hosting your game stopped answering; find a match again") {
				told++
			}
		}
	}
	if told > 0 {
		q.c.met.RoomsLost.Add(float64(len(rooms)))
		q.c.log.Warn("cluster: told players their rooms are gone", "peer", node, "rooms", len(rooms), "players", told)
	}
}
