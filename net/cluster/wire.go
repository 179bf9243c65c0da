package cluster

import (
	"time"

	"github.com/arbiter-gg/arbiter/matchmaking"
)

// Names in NATS. Messages between nodes are JSON: small, rare next to game
// traffic, and readable with the nats CLI (`nats kv get arbiter_nodes ID`).
const (
	// nodesBucket is the node registry: key = node id, value = nodeEntry.
	nodesBucket = "arbiter_nodes"
	// leasesBucket holds the matchmaking leases: key = leaseKey(mode),
	// value = the holder's node id.
	leasesBucket = "arbiter_leases"
	// ticketStream carries tickets to each mode's matchmaker, on
	// ticketSubject(mode); a work queue: a ticket leaves it when acked.
	ticketStream = "ARBITER_TICKETS"
	// roomsEnded is published by a node when one of its rooms ends.
	roomsEnded = "arbiter.rooms.ended"
)

func ticketSubject(mode string) string { return "arbiter.tickets." + mode }

// consumerName is the durable consumer of a mode's tickets, bound by
// whichever node holds the mode's lease.
func consumerName(mode string) string { return "mm-" + mode }

func leaseKey(mode string) string { return "mm." + mode }

// nodeSubject is a per-node request subject: alloc, reserve, update.
func nodeSubject(node, what string) string { return "arbiter.node." + node + "." + what }

// modeSubject reaches the holder of a mode's lease: cancel, result.
func modeSubject(mode, what string) string { return "arbiter.mm." + mode + "." + what }

// nodeEntry is a node's registry entry, refreshed every heartbeat.
type nodeEntry struct {
	ID string `json:"id"`
	// Endpoint is the WebSocket URL clients use to reach the node.
	Endpoint   string                 `json:"endpoint"`
	Rooms      int                    `json:"rooms"`
	Players    int                    `json:"players"` // seats taken, occupied or reserved
	MaxPlayers int                    `json:"max_players,omitempty"`
	MaxRooms   int                    `json:"max_rooms,omitempty"`
	Draining   bool                   `json:"draining,omitempty"`
	Open       []matchmaking.OpenRoom `json:"open,omitempty"` // rooms with free seats
	At         time.Time              `json:"at"`
}

// ticketMsg is a queued ticket on its way to the mode's matchmaker.
type ticketMsg struct {
	ID     string `json:"id"`
	Origin string `json:"origin"` // node that queued it, holding the players' sockets
	// Origins names the node of each party member whose socket is on
	// another node than Origin.
	Origins map[string]string    `json:"origins,omitempty"`
	Mode    string               `json:"mode"`
	Players []matchmaking.Player `json:"players"`
	Since   time.Time            `json:"since"`
}

// originOf is the node holding a player's socket.
func (t *ticketMsg) originOf(player string) string {
	if n := t.Origins[player]; n != "" {
		return n
	}
	return t.Origin
}

// cancelMsg withdraws a ticket (the player cancelled, left, or its party
// changed); the origin has already told the players.
type cancelMsg struct {
	Ticket string `json:"ticket"`
}

type allocReq struct {
	Mode string `json:"mode"`
}

type allocResp struct {
	Room       string `json:"room,omitempty"`
	Err        string `json:"err,omitempty"`
	NoCapacity bool   `json:"no_capacity,omitempty"`
}

type reserveReq struct {
	Room    string   `json:"room"`
	Players []string `json:"players"`
}

type reserveResp struct {
	OK bool `json:"ok"`
}

// updateMsg is one matchmaker update for one player, sent by the mode's
// matchmaker to the player's origin node: published for Searching, a
// request (answered with updateAck) for the final states.
type updateMsg struct {
	Ticket    string            `json:"ticket"`
	Player    string            `json:"player"`
	Mode      string            `json:"mode"`
	State     matchmaking.State `json:"state"`
	ElapsedMS int64             `json:"elapsed_ms"`
	QueueSize int               `json:"queue_size"`
	Window    float64           `json:"window"`
	Reason    string            `json:"reason,omitempty"`
	// Party is set for a member of a party queued on another node: its
	// node has no pending ticket and delivers the update as it comes.
	Party bool `json:"party,omitempty"`
	// Room, Host and Endpoint name the room found and the node hosting it.
	Room     string `json:"room,omitempty"`
	Host     string `json:"host,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
}

type updateAck struct {
	Delivered bool `json:"delivered"`
}

// resultMsg is a finished round's ranking, for the mode's ratings.
type resultMsg struct {
	Ranking [][]string `json:"ranking"`
}

type roomEndedMsg struct {
	Room string `json:"room"`
	Node string `json:"node"`
}
