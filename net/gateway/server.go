// Package gateway is Arbiter's network edge: it accepts WebSocket
// connections, runs one session per connection (a reader and a writer
// goroutine), validates and rate-limits what clients send, and connects
// sessions to the matchmaker, parties and rooms.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arbiter-gg/arbiter/game"
	"github.com/arbiter-gg/arbiter/matchmaking"
	"github.com/arbiter-gg/arbiter/net/token"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// ProtocolVersion is the arbiter.v1 protocol revision this server speaks.
const ProtocolVersion = 1

// Config sets the edge's limits. Zero fields take the defaults noted.
type Config struct {
	// Version is the server build reported in Welcome.
	Version string
	// TickRate and SnapshotEvery are reported in Welcome (rooms are
	// configured by the allocator); defaults 30 and 1.
	TickRate, SnapshotEvery int
	// ReadLimit is the largest client message in bytes (default 4096).
	ReadLimit int
	// AllowedOrigins are origin host patterns (path.Match) allowed besides
	// the request's own host. Empty allows only same-host pages and clients
	// that send no Origin (non-browsers).
	AllowedOrigins []string
	// HelloTimeout closes a connection that sends no Hello (default 10 s).
	HelloTimeout time.Duration
	// IdleTimeout closes a session that sends nothing (default 30 s).
	IdleTimeout time.Duration
	// WriteTimeout bounds every write (default 5 s).
	WriteTimeout time.Duration
	// QueueSize bounds a session's queue of reliable messages (default 64);
	// a session whose queue overflows is closed as a slow consumer.
	QueueSize int
	// SessionTTL is how long a session token stays valid (default 24 h).
	SessionTTL time.Duration
	// JoinTTL is how long a join token stays valid (default 30 s).
	JoinTTL time.Duration
	// ChatMaxRunes is the longest chat line (default 200).
	ChatMaxRunes int
	// Rates per session, per second, with bursts. Defaults: inputs 2×tick
	// rate (burst one second's worth), chat 2 (burst 5), matchmaking and
	// party requests 3 (burst 6), pings 5 (burst 10), anything else 5.
	InputRate, ChatRate, MatchRate, PingRate float64
	// AbuseLimit is how many dropped or invalid messages a session may send
	// in a burst (refilled at a tenth of that per second) before it is
	// closed with 1008 (default 100).
	AbuseLimit float64
	// Endpoint is the URL MatchFound names for a room on this node; empty
	// means "this connection".
	Endpoint string
	// NodeID names this server in a cluster (Welcome.server.node_id).
	NodeID string
	// Web is the web client to serve at /; nil serves a page that says how
	// to build it.
	Web fs.FS
	// SpectateModes lists the modes whose rooms players may watch
	// (Spectate); the admin dashboard may watch any room.
	SpectateModes map[string]bool
}

func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.TickRate == 0 {
		c.TickRate = game.DefaultTickRate
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 1
	}
	if c.ReadLimit == 0 {
		c.ReadLimit = 4096
	}
	def(&c.HelloTimeout, 10*time.Second)
	def(&c.IdleTimeout, 30*time.Second)
	def(&c.WriteTimeout, 5*time.Second)
	def(&c.SessionTTL, 24*time.Hour)
	def(&c.JoinTTL, 30*time.Second)
	if c.QueueSize == 0 {
		c.QueueSize = 64
	}
	if c.ChatMaxRunes == 0 {
		c.ChatMaxRunes = 200
	}
	if c.InputRate == 0 {
		c.InputRate = 2 * float64(c.TickRate)
	}
	if c.ChatRate == 0 {
		c.ChatRate = 2
	}
	if c.MatchRate == 0 {
		c.MatchRate = 3
	}
	if c.PingRate == 0 {
		c.PingRate = 5
	}
	if c.AbuseLimit == 0 {
		c.AbuseLimit = 100
	}
	return c
}

// Rooms is what the gateway needs of the room allocator;
// matchmaking.LocalAllocator is one.
type Rooms interface {
	// Room finds a running room by id.
	Room(id string) (*game.Room, bool)
	// ModeOf and MapOf name a running room's mode and map ("" if unknown).
	ModeOf(id string) string
	MapOf(id string) string
	// Claimed reports that player has taken its reserved seat in room.
	Claimed(room, player string)
}

// Queue is where the gateway queues players for matches:
// *matchmaking.Matchmaker on a single node, the cluster's ticket queue in
// cluster mode. notify receives every update of the ticket, one per player,
// and must not block.
type Queue interface {
	Enqueue(t matchmaking.Ticket, notify func(matchmaking.Update)) (ticketID string, err error)
	// Cancel and Fail end the ticket player is in (Cancelled, or Failed
	// with reason); false if the player is not queued.
	Cancel(player string) bool
	Fail(player, reason string) bool
}

// PartyRegistry is where parties live: *matchmaking.Parties on a single
// node, the cluster's parties (spanning nodes) in cluster mode. notify funcs
// must not block.
type PartyRegistry interface {
	Create(leader matchmaking.Player, notify func(matchmaking.PartyState)) (code string, err error)
	Join(code string, p matchmaking.Player, notify func(matchmaking.PartyState)) error
	Leave(player string)
	Of(player string) (matchmaking.PartyState, bool)
	TicketFor(player string) (players []matchmaking.Player, isLeader, inParty bool)
}

// Deps are the server's collaborators.
type Deps struct {
	Matchmaker Queue
	Parties    PartyRegistry
	Rooms      Rooms
	Signer     *token.Signer
	Metrics    *Metrics // nil: metrics are not registered anywhere
	Clock      game.Clock
	Logger     *slog.Logger
	// Modes lists the modes offered, for Welcome.
	Modes []string
	// Origins, when set, returns more allowed origin host patterns at each
	// WebSocket handshake: a cluster allows pages served by its other
	// nodes.
	Origins func() []string
	// Relay, when set, carries a message to a player not connected here
	// (party chat to a member on another node of a cluster). It must not
	// block.
	Relay func(player string, m *arbiterv1.ServerMessage)
}

// Server owns every session. Each session's reader runs on the HTTP
// handler goroutine that accepted it and its writer on a goroutine the
// session starts and waits for; Shutdown waits for all of them.
type Server struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	met  *Metrics
	used *token.Used

	draining atomic.Bool
	closed   atomic.Bool
	wg       sync.WaitGroup // one per live session

	mu       sync.Mutex            // guards sessions, byPlayer, seats, watchers
	sessions map[*session]struct{} // every live session
	byPlayer map[string]*session   // the session of each player that said Hello
	seats    map[string]string     // player id → id of the room it holds a seat in
	watchers map[string]int        // room id → spectators
	waits    waits                 // recent match waits, for the dashboard
}

// New returns a server; serve its Handler.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Matchmaker == nil || deps.Parties == nil || deps.Rooms == nil || deps.Signer == nil {
		return nil, errors.New("gateway: Matchmaker, Parties, Rooms and Signer are required")
	}
	if deps.Clock == nil {
		deps.Clock = game.SystemClock{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	met := deps.Metrics
	if met == nil {
		met = NewMetrics(nil)
	}
	return &Server{
		cfg:      cfg.withDefaults(),
		deps:     deps,
		log:      deps.Logger,
		met:      met,
		used:     token.NewUsed(deps.Clock.Now),
		sessions: make(map[*session]struct{}),
		byPlayer: make(map[string]*session),
		seats:    make(map[string]string),
		watchers: make(map[string]int),
	}, nil
}

// Drain starts a graceful shutdown of the edge: /readyz turns 503 and new
// matchmaking requests are refused with DRAINING. Sessions stay open so
// running rounds can finish; CloseAll ends them.
func (s *Server) Drain() { s.draining.Store(true) }

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.draining.Load() }

// CloseAll tells every session the server is going away (Error DRAINING,
// then close 1001) and waits, until ctx is done, for their goroutines.
// New connections are refused from then on.
func (s *Server) CloseAll(ctx context.Context) error {
	s.closed.Store(true)
	s.draining.Store(true)
	s.mu.Lock()
	all := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	for _, ss := range all {
		ss.fail(arbiterv1.ErrorCode_ERROR_CODE_DRAINING, "server is shutting down", statusGoingAway, "drain")
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for ss := range s.sessions {
			ss.closeNow("drain_forced")
		}
		s.mu.Unlock()
		<-done
		return fmt.Errorf("gateway: sessions did not close in time: %w", ctx.Err())
	}
}

// SessionCount is the number of live sessions.
func (s *Server) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func (s *Server) add(ss *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return false
	}
	s.sessions[ss] = struct{}{}
	s.wg.Add(1)
	s.met.Sessions.Inc()
	return true
}

func (s *Server) remove(ss *session) {
	s.mu.Lock()
	delete(s.sessions, ss)
	if ss.player != "" && s.byPlayer[ss.player] == ss {
		delete(s.byPlayer, ss.player)
	}
	s.mu.Unlock()
	s.met.Sessions.Dec()
	s.wg.Done()
}

// claim makes ss the session of player and returns the session it replaces.
func (s *Server) claim(player string, ss *session) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.byPlayer[player]
	s.byPlayer[player] = ss
	return old
}

// sendTo queues a reliable message for a player's session, if connected.
func (s *Server) sendTo(player string, m *arbiterv1.ServerMessage) bool {
	s.mu.Lock()
	ss := s.byPlayer[player]
	s.mu.Unlock()
	if ss == nil {
		return false
	}
	return ss.send(outItem{msg: m})
}

func (s *Server) setSeat(player, room string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if room == "" {
		delete(s.seats, player)
		return
	}
	s.seats[player] = room
}

func (s *Server) seatOf(player string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seats[player]
}

// spectator adjusts a room's spectator count.
func (s *Server) spectator(room string, delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchers[room] += delta
	if s.watchers[room] <= 0 {
		delete(s.watchers, room)
	}
}

// Spectators returns the number of spectators per room id.
func (s *Server) Spectators() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.watchers))
	for k, v := range s.watchers {
		out[k] = v
	}
	return out
}

// SendRoomClosed tells a connected player that its room is gone: the
// cluster calls it when the node hosting a player's room is lost. It
// reports whether the player has a session here.
func (s *Server) SendRoomClosed(player, room string, reason arbiterv1.RoomCloseReason, message string) bool {
	return s.sendTo(player, &arbiterv1.ServerMessage{Msg: &arbiterv1.ServerMessage_RoomClosed{RoomClosed: &arbiterv1.RoomClosed{
		RoomId: room, Reason: reason, Message: message,
	}}})
}

// DeliverUpdate tells a connected player about a matchmaking ticket it is
// in: the cluster calls it for party members whose ticket was queued on
// another node. It never blocks.
func (s *Server) DeliverUpdate(u matchmaking.Update) { s.deliverUpdate(u) }

// Send queues a message for a connected player; false if the player has no
// session here.
func (s *Server) Send(player string, m *arbiterv1.ServerMessage) bool { return s.sendTo(player, m) }
