package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"github.com/arbiter-gg/arbiter/matchmaking"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// Parties is the gateway's party registry in cluster mode (it implements
// gateway.PartyRegistry): parties span nodes. A party lives on the node
// where it was created (its home), in that node's matchmaking.Parties;
// a player on another node joins by code through a request every node
// hears (only the home answers), and from then on the home sends that
// player's party states to its node, and the player's node forwards its
// leave to the home. A ticket of a party names each member's node, so the
// mode's matchmaker tells every member where they are.
type Parties struct {
	c     *Cluster
	local *matchmaking.Parties

	mu     sync.Mutex        // guards nodes, remote and every remoteMember
	nodes  map[string]string // home side: member → node, for members of parties here
	remote map[string]*remoteMember
}

// remoteMember is a player of this node in a party whose home is another
// node.
type remoteMember struct {
	home   string // from the home's first state; "" until then
	code   string
	notify func(matchmaking.PartyState)
	last   matchmaking.PartyState
	nodes  map[string]string // member → node, from the home's last state
}

func newParties(c *Cluster, local *matchmaking.Parties) *Parties {
	return &Parties{c: c, local: local, nodes: map[string]string{}, remote: map[string]*remoteMember{}}
}

// partyJoinReq asks, on partyJoinSubject, the home of a party to add a
// player of another node.
type partyJoinReq struct {
	Code   string             `json:"code"`
	Player matchmaking.Player `json:"player"`
	Node   string             `json:"node"`
}

type partyJoinResp struct {
	OK  bool   `json:"ok"`
	Err string `json:"err,omitempty"` // "not_found", "full" or a message
}

// partyStateMsg carries a party's state to a member's node.
type partyStateMsg struct {
	Player string                 `json:"player"`
	Home   string                 `json:"home"`
	State  matchmaking.PartyState `json:"state"`
	Nodes  map[string]string      `json:"nodes"` // member → node
}

type partyLeaveMsg struct {
	Player string `json:"player"`
}

// relayMsg carries a server message (protobuf) to a player on another node.
type relayMsg struct {
	Player string `json:"player"`
	Msg    []byte `json:"msg"`
}

const partyJoinSubject = "arbiter.party.join"

// Create makes a party here, led by leader (leaving any party first).
func (p *Parties) Create(leader matchmaking.Player, notify func(matchmaking.PartyState)) (string, error) {
	p.leaveRemote(leader.ID)
	code, err := p.local.Create(leader, notify)
	if err == nil {
		p.mu.Lock()
		p.nodes[leader.ID] = p.c.cfg.NodeID
		p.mu.Unlock()
	}
	return code, err
}

// Join adds the player to the party with code, here or on its home node.
func (p *Parties) Join(code string, pl matchmaking.Player, notify func(matchmaking.PartyState)) error {
	code = strings.ToUpper(strings.TrimSpace(code))
	if _, ok := p.local.ByCode(code); ok {
		p.leaveRemote(pl.ID)
		if err := p.local.Join(code, pl, notify); err != nil {
			return err
		}
		p.mu.Lock()
		p.nodes[pl.ID] = p.c.cfg.NodeID
		p.mu.Unlock()
		return nil
	}
	if p.c.nc == nil {
		return matchmaking.ErrPartyNotFound
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	// Ready for the home's states before asking: the first may come before
	// the reply.
	p.leaveRemote(pl.ID)
	joining := &remoteMember{code: code, notify: notify}
	p.mu.Lock()
	p.remote[pl.ID] = joining
	p.mu.Unlock()
	var resp partyJoinResp
	err := p.c.request(ctx, partyJoinSubject, partyJoinReq{Code: code, Player: pl, Node: p.c.cfg.NodeID}, &resp)
	if err != nil || !resp.OK {
		p.mu.Lock()
		if p.remote[pl.ID] == joining {
			delete(p.remote, pl.ID)
		}
		p.mu.Unlock()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrNoResponders), errors.Is(err, nats.ErrTimeout):
		return matchmaking.ErrPartyNotFound // no node has it
	case err != nil:
		return err
	case resp.Err == "not_found":
		return matchmaking.ErrPartyNotFound
	case resp.Err == "full":
		return matchmaking.ErrPartyFull
	case !resp.OK:
		return errors.New("party: " + resp.Err)
	}
	// Joined there: leave the party held here, if any.
	p.local.Leave(pl.ID)
	p.mu.Lock()
	delete(p.nodes, pl.ID)
	p.mu.Unlock()
	return nil
}

// Leave takes the player out of its party, wherever it lives.
func (p *Parties) Leave(player string) {
	p.leaveRemote(player)
	p.local.Leave(player)
	p.mu.Lock()
	delete(p.nodes, player)
	p.mu.Unlock()
}

// leaveRemote tells the home of the player's party, if on another node,
// that the player left.
func (p *Parties) leaveRemote(player string) {
	p.mu.Lock()
	rm := p.remote[player]
	delete(p.remote, player)
	p.mu.Unlock()
	if rm == nil {
		return
	}
	if rm.home != "" {
		p.c.publishJSON(nodeSubject(rm.home, "partyleave"), partyLeaveMsg{Player: player})
	} else {
		// The home's first state has not arrived: every node hears this.
		p.c.publishJSON(partyJoinSubject+".leave."+rm.code, partyLeaveMsg{Player: player})
	}
	rm.notify(matchmaking.PartyState{})
}

// Of is the player's party: from the registry here, or the last state its
// home sent.
func (p *Parties) Of(player string) (matchmaking.PartyState, bool) {
	if st, ok := p.local.Of(player); ok {
		return st, true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rm := p.remote[player]; rm != nil && rm.last.Code != "" {
		return rm.last, true
	}
	return matchmaking.PartyState{}, false
}

// TicketFor is the ticket the player would queue (see
// matchmaking.Parties.TicketFor), wherever the party lives.
func (p *Parties) TicketFor(player string) ([]matchmaking.Player, bool, bool) {
	if players, leader, ok := p.local.TicketFor(player); ok {
		return players, leader, true
	}
	st, ok := p.Of(player)
	if !ok {
		return nil, false, false
	}
	return st.Members, st.LeaderID == player, true
}

// nodeOf is the node holding a party member's socket, as far as this node
// knows (this node when unknown).
func (p *Parties) nodeOf(player string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.nodes[player]; n != "" {
		return n
	}
	for _, rm := range p.remote {
		if n := rm.nodes[player]; n != "" {
			return n
		}
	}
	return p.c.cfg.NodeID
}

// subscribe starts the handlers for other nodes' party traffic.
func (p *Parties) subscribe() ([]*nats.Subscription, error) {
	var subs []*nats.Subscription
	for subj, h := range map[string]nats.MsgHandler{
		partyJoinSubject:                          p.onJoin,
		partyJoinSubject + ".leave.*":             p.onLeave,
		nodeSubject(p.c.cfg.NodeID, "partyleave"): p.onLeave,
		nodeSubject(p.c.cfg.NodeID, "partystate"): p.onState,
		nodeSubject(p.c.cfg.NodeID, "relay"):      p.onRelay,
	} {
		s, err := p.c.nc.Subscribe(subj, h)
		if err != nil {
			for _, s := range subs {
				_ = s.Unsubscribe()
			}
			return nil, err
		}
		subs = append(subs, s)
	}
	return subs, nil
}

// onJoin adds a player of another node to a party that lives here (a NATS
// goroutine); nodes without the party stay silent.
func (p *Parties) onJoin(m *nats.Msg) {
	var req partyJoinReq
	if json.Unmarshal(m.Data, &req) != nil || req.Node == "" || req.Node == p.c.cfg.NodeID {
		return
	}
	before, ok := p.local.ByCode(req.Code)
	if !ok {
		return
	}
	p.mu.Lock()
	p.nodes[req.Player.ID] = req.Node
	p.mu.Unlock()
	err := p.local.Join(req.Code, req.Player, p.forward(req.Node, req.Player.ID))
	var resp partyJoinResp
	switch {
	case err == nil:
		resp.OK = true
		p.partyChanged(before)
	case errors.Is(err, matchmaking.ErrPartyNotFound):
		resp.Err = "not_found"
	case errors.Is(err, matchmaking.ErrPartyFull):
		resp.Err = "full"
	default:
		resp.Err = err.Error()
	}
	if !resp.OK {
		p.mu.Lock()
		delete(p.nodes, req.Player.ID)
		p.mu.Unlock()
	}
	p.c.respond(m, resp)
}

// forward returns the notify func of a member on another node: its party
// states go to its node.
func (p *Parties) forward(node, player string) func(matchmaking.PartyState) {
	return func(st matchmaking.PartyState) {
		p.mu.Lock()
		nodes := map[string]string{}
		for _, mb := range st.Members {
			nodes[mb.ID] = p.nodes[mb.ID]
		}
		if st.Code == "" {
			delete(p.nodes, player)
		}
		p.mu.Unlock()
		p.c.publishJSON(nodeSubject(node, "partystate"), partyStateMsg{Player: player, Home: p.c.cfg.NodeID, State: st, Nodes: nodes})
	}
}

// onLeave takes a member on another node out of a party here.
func (p *Parties) onLeave(m *nats.Msg) {
	var lm partyLeaveMsg
	if json.Unmarshal(m.Data, &lm) != nil {
		return
	}
	p.mu.Lock()
	remote := p.nodes[lm.Player] != "" && p.nodes[lm.Player] != p.c.cfg.NodeID
	p.mu.Unlock()
	if !remote {
		return
	}
	before, ok := p.local.Of(lm.Player)
	p.local.Leave(lm.Player)
	if ok {
		p.partyChanged(before)
	}
}

// partyChanged fails the queued ticket of the party's members here: a
// ticket stands for the party as it was when queued.
func (p *Parties) partyChanged(st matchmaking.PartyState) {
	for _, mb := range st.Members {
		p.c.queue.Fail(mb.ID, "party changed")
	}
}

// onState delivers a party state from its home to a member here.
func (p *Parties) onState(m *nats.Msg) {
	var sm partyStateMsg
	if json.Unmarshal(m.Data, &sm) != nil {
		return
	}
	p.mu.Lock()
	rm := p.remote[sm.Player]
	if rm == nil {
		p.mu.Unlock()
		return
	}
	if sm.State.Code == "" {
		delete(p.remote, sm.Player)
	} else {
		rm.home, rm.last, rm.nodes = sm.Home, sm.State, sm.Nodes
	}
	notify := rm.notify
	p.mu.Unlock()
	notify(sm.State)
}

// nodeGone cleans up after a lost node: its members leave the parties that
// live here, and the parties that lived there are gone for this node's
// members (they are told).
func (p *Parties) nodeGone(node string) {
	p.mu.Lock()
	var leavers []string
	for player, n := range p.nodes {
		if n == node {
			leavers = append(leavers, player)
		}
	}
	var orphans []*remoteMember
	for player, rm := range p.remote {
		if rm.home == node {
			orphans = append(orphans, rm)
			delete(p.remote, player)
		}
	}
	p.mu.Unlock()
	for _, player := range leavers {
		before, ok := p.local.Of(player)
		p.local.Leave(player)
		if ok {
			p.partyChanged(before)
		}
	}
	for _, rm := range orphans {
		rm.notify(matchmaking.PartyState{})
	}
}

// Relay carries a message for a party member to the node holding its
// socket (party chat); it does nothing for a player whose node is unknown
// or this one.
func (p *Parties) Relay(player string, m *arbiterv1.ServerMessage) {
	node := p.nodeOf(player)
	if node == p.c.cfg.NodeID {
		return
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return
	}
	p.c.publishJSON(nodeSubject(node, "relay"), relayMsg{Player: player, Msg: b})
}

// onRelay hands a relayed message to the player's session here.
func (p *Parties) onRelay(m *nats.Msg) {
	var rm relayMsg
	if json.Unmarshal(m.Data, &rm) != nil {
		return
	}
	var sm arbiterv1.ServerMessage
	if proto.Unmarshal(rm.Msg, &sm) != nil {
		return
	}
	if gw := p.c.gateway(); gw != nil {
		gw.Send(rm.Player, &sm)
	}
}
