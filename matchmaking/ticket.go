package matchmaking

import "time"

// Player is one player as the matchmaker sees it.
type Player struct {
	ID   string
	Name string
	// Rating is the player's rating for matching. Zero means the
	// Matchmaker's own rating for the player (see Matchmaker.Rating).
	Rating float64
}

// Ticket asks for a room in a mode for one player or a whole party; all
// players of a ticket land in the same room.
type Ticket struct {
	Mode    string
	Players []Player
	// Since is when the ticket was first queued, for a ticket handed over
	// from elsewhere (another node's matchmaker); zero means now. Waits and
	// timeouts count from it.
	Since time.Time
}

// State is where a ticket stands, as told in an Update.
type State int

// Ticket states. Found, Cancelled, TimedOut and Failed are final: the ticket
// is gone after them.
const (
	// Searching: queued and waiting (sent when queued, then every
	// StatusInterval).
	Searching State = iota + 1
	// Found: a seat is reserved in Update.RoomID.
	Found
	// Cancelled: a player of the ticket cancelled it.
	Cancelled
	// TimedOut: no match within the mode's Timeout.
	TimedOut
	// Failed: the ticket was dropped (server draining, party changed, ...);
	// Update.Reason says why.
	Failed
)

var stateNames = [...]string{"unspecified", "searching", "found", "cancelled", "timed_out", "failed"}

// String returns the state in lower case, e.g. "timed_out".
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "unknown"
	}
	return stateNames[s]
}

// Update tells one player of a ticket about the ticket. Every update is sent
// once per player of the ticket, with PlayerID saying which.
type Update struct {
	State State
	Mode  string
	// Elapsed is how long the ticket has waited (on Found: its total wait).
	Elapsed time.Duration
	// QueueSize is the number of players waiting in the mode.
	QueueSize int
	// Window is the rating difference accepted now (rated modes only).
	Window float64
	// RoomID is the room to join (Found only).
	RoomID string
	// Endpoint is the WebSocket URL of the node hosting RoomID (Found
	// only); empty means this node.
	Endpoint string
	// Reason explains Cancelled, TimedOut and Failed in words.
	Reason string
	// PlayerID is the player this update is for.
	PlayerID string
	// TicketID is the ticket's id as returned by Enqueue.
	TicketID string
}

// ticket is a queued Ticket. Every field but removed is set at Enqueue and
// never changed, so the matchmaker goroutine reads them without the lock.
type ticket struct {
	id       string
	seq      uint64 // enqueue order, for stable age ordering
	mode     Mode
	players  []Player
	rating   float64 // mean of the players' ratings
	enqueued time.Time
	notify   func(Update)

	// removed is set, under Matchmaker.mu, when the ticket leaves its
	// queue for good (found, cancelled, timed out or failed).
	removed bool
}

func (t *ticket) size() int { return len(t.players) }

func (t *ticket) playerIDs() []string {
	ids := make([]string, len(t.players))
	for i, p := range t.players {
		ids[i] = p.ID
	}
	return ids
}

// delivery is an update waiting to be handed to a ticket's notify.
type delivery struct {
	notify func(Update)
	u      Update
}

// updates returns one delivery per player of t, built from u.
func (t *ticket) updates(dst []delivery, u Update) []delivery {
	u.Mode = t.mode.Name
	u.TicketID = t.id
	for _, p := range t.players {
		u.PlayerID = p.ID
		dst = append(dst, delivery{t.notify, u})
	}
	return dst
}
