// Package cluster lets several Arbiter nodes act as one server through
// NATS: a node registry in a JetStream key-value bucket, one matchmaker per
// mode on the node holding that mode's lease, tickets carried to it by a
// JetStream work queue, rooms placed on the least-loaded node by
// request/reply, and every matchmaking update routed back to the node that
// holds the player's socket.
//
// Goroutines, all started by Start and waited for by Close: the heartbeat
// (registry entry, stale-node sweep, lease view), the registry watcher, and
// one lease loop per mode. A lease loop that holds its lease owns a
// modeRun: a single-mode matchmaking.Matchmaker goroutine and an outbox
// goroutine that delivers its updates. NATS subscription handlers run on
// the NATS client's goroutines and never block for long.
//
// Without a NATS URL a node does not use this package at all.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/arbiter-gg/arbiter/game"
	"github.com/arbiter-gg/arbiter/matchmaking"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// Defaults for Config.
const (
	DefaultHeartbeat = time.Second
	DefaultNodeTTL   = 3 * time.Second
	DefaultLeaseTTL  = 2 * time.Second
)

// Gateway is what the cluster needs of this node's edge.
type Gateway interface {
	// SendRoomClosed tells a connected player that its room is gone.
	SendRoomClosed(player, room string, reason arbiterv1.RoomCloseReason, message string) bool
	// DeliverUpdate tells a connected player about a ticket queued on
	// another node (a party's), as the queue's notify would.
	DeliverUpdate(u matchmaking.Update)
	// Send queues a message for a connected player (relayed party chat).
	Send(player string, m *arbiterv1.ServerMessage) bool
}

// Config configures a Cluster. NodeID, Modes and Alloc are required.
type Config struct {
	// NodeID names the node in the registry.
	NodeID string
	Modes  []matchmaking.Mode
	// Alloc runs this node's rooms; other nodes' matchmakers open rooms in
	// it by request.
	Alloc *matchmaking.LocalAllocator
	// Parties holds the parties created on this node (default a new
	// registry); Parties() spans the cluster on top of it.
	Parties *matchmaking.Parties
	// Watchable lists this node's rooms players may watch, for the other
	// nodes' GET /v1/rooms (nil: none).
	Watchable func() []WatchableRoom
	// MaxPlayers and MaxRooms are the node's caps, announced in the
	// registry (0: none).
	MaxPlayers, MaxRooms int
	// Heartbeat is how often the registry entry is refreshed (1 s);
	// NodeTTL is how long an entry lives without a refresh (3 s); LeaseTTL
	// is how long a lease lives without a refresh (2 s; refreshed every
	// quarter of it).
	Heartbeat, NodeTTL, LeaseTTL time.Duration
	// Replicas is the JetStream replica count of the buckets and the
	// ticket stream (1; 3 on a three-server NATS cluster).
	Replicas int
	// Matchmaking configures each mode's matchmaker (its Modes are set
	// per mode).
	Matchmaking matchmaking.Config
	Metrics     *Metrics
	Clock       game.Clock
	Logger      *slog.Logger
}

// Cluster is one node's membership in the cluster. Create it with New,
// then SetGateway, Start; Drain before a graceful stop; Close at the end.
type Cluster struct {
	cfg      Config
	endpoint string // set by Start
	nc       *nats.Conn
	js       jetstream.JetStream
	log      *slog.Logger
	clock    game.Clock
	met      *Metrics

	nodes   jetstream.KeyValue
	leases  jetstream.KeyValue
	ratings kvRatings

	reg     *registry
	queue   *Queue
	placer  *placer
	parties *Parties

	gw       atomic.Pointer[gatewayBox]
	draining atomic.Bool
	drained  chan struct{}          // closed by Drain: wakes the lease loops
	changed  atomic.Pointer[func()] // called when nodes or leases change

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	subs   []*nats.Subscription

	roomsCache roomsCache // the other nodes' watchable rooms, for GET /v1/rooms

	mu     sync.Mutex          // guards holder and runs
	holder map[string]string   // mode → lease holder, as last read
	runs   map[string]*modeRun // modes whose lease this node holds
}

type gatewayBox struct{ g Gateway }

// New checks cfg and returns a Cluster; nothing talks to NATS until Start.
func New(cfg Config) (*Cluster, error) {
	if cfg.NodeID == "" || cfg.Alloc == nil || len(cfg.Modes) == 0 {
		return nil, errors.New("cluster: NodeID, Modes and Alloc are required")
	}
	if !validName(cfg.NodeID) {
		return nil, fmt.Errorf("cluster: node id %q: use letters, digits, '-' and '_'", cfg.NodeID)
	}
	for _, m := range cfg.Modes {
		if !validName(m.Name) {
			return nil, fmt.Errorf("cluster: mode name %q: use letters, digits, '-' and '_'", m.Name)
		}
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.NodeTTL <= 0 {
		cfg.NodeTTL = DefaultNodeTTL
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Clock == nil {
		cfg.Clock = game.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	c := &Cluster{
		cfg: cfg, clock: cfg.Clock, met: cfg.Metrics,
		log:     cfg.Logger,
		holder:  map[string]string{},
		runs:    map[string]*modeRun{},
		drained: make(chan struct{}),
	}
	c.reg = newRegistry(c)
	c.queue = newQueue(c)
	c.placer = newPlacer(c)
	if cfg.Parties == nil {
		cfg.Parties = matchmaking.NewParties(0, nil)
	}
	c.parties = newParties(c, cfg.Parties)
	return c, nil
}

// validName reports whether s can be a NATS subject token and a KV key.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Endpoint turns a public base URL (http(s):// or ws(s)://) into the
// WebSocket URL clients connect to: ws(s)://host/v1/connect unless a ws
// URL names its own path.
func Endpoint(public string) (string, error) {
	u, err := url.Parse(public)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("cluster: public URL %q: want http(s)://host:port or ws(s)://host:port", public)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
		u.Path = ""
	case "https":
		u.Scheme = "wss"
		u.Path = ""
	case "ws", "wss":
	default:
		return "", fmt.Errorf("cluster: public URL %q: scheme must be http, https, ws or wss", public)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/connect"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// Queue is the cluster's ticket queue, for the gateway.
func (c *Cluster) Queue() *Queue { return c.queue }

// Parties is the cluster's party registry, for the gateway.
func (c *Cluster) Parties() *Parties { return c.parties }

// SetGateway connects the cluster to this node's edge; call before Start.
func (c *Cluster) SetGateway(g Gateway) { c.gw.Store(&gatewayBox{g}) }

// OnChange registers f, called (on a cluster goroutine; f must not block)
// when a node joins or leaves or a lease moves.
func (c *Cluster) OnChange(f func()) { c.changed.Store(&f) }

func (c *Cluster) notifyChange() {
	if f := c.changed.Load(); f != nil {
		(*f)()
	}
}

// Start joins the cluster over nc (the caller closes it after Close),
// announcing endpoint, the WebSocket URL clients use to reach this node:
// it creates the buckets and the ticket stream if they are missing, and
// starts the registry, the node's request handlers and a lease loop per
// mode.
func (c *Cluster) Start(ctx context.Context, nc *nats.Conn, endpoint string) error {
	setup, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	c.nc, c.js, c.endpoint = nc, js, endpoint
	c.met.connected(nc)
	if c.nodes, err = c.bucket(setup, nodesBucket, c.cfg.NodeTTL); err != nil {
		return err
	}
	if c.leases, err = c.bucket(setup, leasesBucket, c.cfg.LeaseTTL); err != nil {
		return err
	}
	ratings, err := c.bucket(setup, ratingsBucket, 0)
	if err != nil {
		return err
	}
	c.ratings = kvRatings{c: c, kv: ratings}
	if err := c.stream(setup); err != nil {
		return err
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if err := c.subscribe(); err != nil {
		c.cancel()
		return err
	}
	if err := c.reg.start(setup); err != nil {
		c.cancel()
		c.unsubscribe()
		return err
	}
	for _, m := range c.cfg.Modes {
		c.wg.Add(1)
		go c.leaseLoop(m)
	}
	c.log.Info("joined the cluster", "endpoint", c.endpoint, "nats", c.nc.ConnectedUrlRedacted())
	return nil
}

// bucket opens a KV bucket, creating it with ttl when it does not exist.
// An existing bucket keeps its settings: nodes started with other TTLs
// do not fight over them.
func (c *Cluster) bucket(ctx context.Context, name string, ttl time.Duration) (jetstream.KeyValue, error) {
	kv, err := c.js.KeyValue(ctx, name)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("cluster: open bucket %s: %w", name, err)
	}
	kv, err = c.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: name, TTL: ttl, History: 1, Storage: jetstream.FileStorage, Replicas: c.cfg.Replicas,
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = c.js.KeyValue(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: create bucket %s: %w", name, err)
	}
	return kv, nil
}

// stream makes sure the ticket work queue exists.
func (c *Cluster) stream(ctx context.Context) error {
	if _, err := c.js.Stream(ctx, ticketStream); err == nil {
		return nil
	}
	_, err := c.js.CreateStream(ctx, jetstream.StreamConfig{
		Name:       ticketStream,
		Subjects:   []string{"arbiter.tickets.>"},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Replicas:   c.cfg.Replicas,
		MaxAge:     time.Hour,
		Duplicates: time.Minute,
	})
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("cluster: create stream %s: %w", ticketStream, err)
	}
	return nil
}

// subscribe starts the node's request handlers.
func (c *Cluster) subscribe() error {
	for subj, h := range map[string]nats.MsgHandler{
		nodeSubject(c.cfg.NodeID, "alloc"):   c.onAlloc,
		nodeSubject(c.cfg.NodeID, "reserve"): c.onReserve,
		nodeSubject(c.cfg.NodeID, "update"):  c.queue.onUpdate,
		nodeSubject(c.cfg.NodeID, "rooms"):   c.onRooms,
		roomsEnded:                           c.queue.onRoomEnded,
	} {
		s, err := c.nc.Subscribe(subj, h)
		if err != nil {
			c.unsubscribe()
			return fmt.Errorf("cluster: subscribe %s: %w", subj, err)
		}
		c.subs = append(c.subs, s)
	}
	subs, err := c.parties.subscribe()
	if err != nil {
		c.unsubscribe()
		return fmt.Errorf("cluster: subscribe parties: %w", err)
	}
	c.subs = append(c.subs, subs...)
	return nil
}

func (c *Cluster) unsubscribe() {
	for _, s := range c.subs {
		_ = s.Unsubscribe()
	}
	c.subs = nil
}

// Drain takes the node out of placement: its registry entry says
// draining at once (no new rooms land here), it gives up its leases (other
// nodes take over the queues) and its queued players get Failed. Its rooms
// play on. Idempotent.
func (c *Cluster) Drain() {
	if c.draining.Swap(true) {
		return
	}
	close(c.drained) // the lease loops release their leases now
	c.queue.stop(matchmaking.DrainReason)
	if c.nodes != nil {
		c.reg.beat()
	}
	c.log.Info("cluster: draining; leases released, no new rooms here")
}

// Close stops every goroutine, releases the leases still held and removes
// the node from the registry. The NATS connection stays open.
func (c *Cluster) Close() {
	if c.cancel == nil {
		return
	}
	c.draining.Store(true)
	c.queue.stop(matchmaking.DrainReason)
	c.cancel()
	c.wg.Wait()
	c.unsubscribe()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.nodes.Delete(ctx, c.cfg.NodeID); err != nil && c.nc.IsConnected() {
		c.log.Warn("cluster: could not leave the registry", "error", err)
	}
}

// RoomEnded tells the cluster that a room of this node ended, so that
// origin nodes forget the players they sent there.
func (c *Cluster) RoomEnded(room string) {
	c.publishJSON(roomsEnded, roomEndedMsg{Room: room, Node: c.cfg.NodeID})
}

// ReportResult sends a finished round's ranking to the mode's matchmaker
// (wherever its lease is), which keeps the ratings.
func (c *Cluster) ReportResult(mode string, ranking [][]string) {
	c.publishJSON(modeSubject(mode, "result"), resultMsg{Ranking: ranking})
}

// Origins returns the hosts (host:port) of every live node, for the
// gateway's WebSocket origin check: a page served by one node may connect
// to another.
func (c *Cluster) Origins() []string {
	var out []string
	for _, n := range c.reg.live() {
		if u, err := url.Parse(n.Endpoint); err == nil && u.Host != "" {
			out = append(out, u.Host)
		}
	}
	return out
}

// Status is the cluster as this node sees it.
type Status struct {
	NodeID    string
	Connected bool
	Nodes     []NodeStatus
	// Leases maps each mode to its holder's node id ("" when none).
	Leases map[string]string
}

// NodeStatus is one live node.
type NodeStatus struct {
	ID, Endpoint         string
	Rooms, Players       int
	MaxPlayers, MaxRooms int
	Draining             bool
	Age                  time.Duration
}

// Status reports the live nodes, sorted by id, and the lease holders.
func (c *Cluster) Status() Status {
	st := Status{NodeID: c.cfg.NodeID, Connected: c.nc != nil && c.nc.IsConnected(), Leases: map[string]string{}}
	now := c.clock.Now()
	for _, n := range c.reg.seen() {
		st.Nodes = append(st.Nodes, NodeStatus{
			ID: n.e.ID, Endpoint: n.e.Endpoint, Rooms: n.e.Rooms, Players: n.e.Players,
			MaxPlayers: n.e.MaxPlayers, MaxRooms: n.e.MaxRooms, Draining: n.e.Draining, Age: now.Sub(n.at),
		})
	}
	slices.SortFunc(st.Nodes, func(a, b NodeStatus) int { return strings.Compare(a.ID, b.ID) })
	c.mu.Lock()
	for _, m := range c.cfg.Modes {
		st.Leases[m.Name] = c.holder[m.Name]
	}
	c.mu.Unlock()
	return st
}

// QueueSizes returns the players waiting per mode: the whole mode's queue
// where this node runs the mode's matchmaker, else this node's own
// waiting players.
func (c *Cluster) QueueSizes() map[string]int {
	out := c.queue.sizes()
	c.mu.Lock()
	defer c.mu.Unlock()
	for mode, r := range c.runs {
		out[mode] = r.mm.QueueSizes()[mode]
	}
	return out
}

func (c *Cluster) gateway() Gateway {
	if b := c.gw.Load(); b != nil {
		return b.g
	}
	return nil
}

func (c *Cluster) mode(name string) (matchmaking.Mode, bool) {
	for _, m := range c.cfg.Modes {
		if m.Name == name {
			return m, true
		}
	}
	return matchmaking.Mode{}, false
}

// Holds reports whether this node holds mode's lease (runs its matchmaker).
func (c *Cluster) Holds(mode string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[mode] != nil
}
