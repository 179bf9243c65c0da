// Package node assembles one Arbiter server: rooms, matchmaker, parties,
// the WebSocket gateway, and the admin endpoints, with the shutdown order
// DESIGN.md sets. cmd/arbiter wraps it with flags and signals; integration
// tests run it in-process on loopback.
package node

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/arbiter-gg/arbiter/game"
	"github.com/arbiter-gg/arbiter/game/arena"
	"github.com/arbiter-gg/arbiter/matchmaking"
	"github.com/arbiter-gg/arbiter/net/cluster"
	"github.com/arbiter-gg/arbiter/net/gateway"
	"github.com/arbiter-gg/arbiter/net/token"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// Config is everything a node needs; cmd/arbiter fills it from flags.
type Config struct {
	// Addr is the public listen address (":8080"); AdminAddr serves
	// /metrics and /debug/pprof ("127.0.0.1:9090"; empty: no admin server).
	Addr, AdminAddr string
	// TickRate and SnapshotEvery configure every room.
	TickRate, SnapshotEvery int
	// MaxPlayers and MaxRooms cap the whole server (0: no cap).
	MaxPlayers, MaxRooms int
	// Secret is the token signing key; empty means a random one.
	Secret []byte
	// AllowedOrigins are extra allowed browser origins (host patterns).
	AllowedOrigins []string
	// DrainTimeout is how long rooms may run on after a drain starts.
	DrainTimeout time.Duration
	// RejoinGrace is how long a dropped player keeps the seat (15 s).
	RejoinGrace time.Duration
	// Modes are the match modes (default matchmaking.DefaultModes()).
	Modes []matchmaking.Mode
	// RoundSeconds is the arena round length (default 180 s).
	RoundSeconds int
	// Gateway overrides edge limits; its TickRate and SnapshotEvery are set
	// from the fields above.
	Gateway gateway.Config
	// Web is the built web client to serve at / (nil: a placeholder page).
	Web fs.FS
	// SendBuffer is each connection's kernel send buffer in bytes (default
	// 64 KiB; negative: the OS default, which autotunes up to megabytes).
	// A fixed, modest buffer bounds the memory a client that stops
	// reading can pin, and lets the write deadline find it soon.
	SendBuffer int
	// AdminToken guards the admin address; required when AdminAddr is not
	// loopback.
	AdminToken string
	// Version is reported to clients.
	Version string
	Logger  *slog.Logger
	Clock   game.Clock

	// Cluster mode: NATS is the NATS server URL(s), comma-separated; empty
	// runs a single node. NATSEmbed, when set, runs a NATS server with
	// JetStream in this process on that address (development and tests;
	// NATSDir holds its data, default a temporary directory).
	NATS, NATSEmbed, NATSDir string
	// PublicURL is where clients reach this node (http(s):// or ws(s)://
	// base); empty derives it from the bound address, which must then name
	// a host.
	PublicURL string
	// NodeID names the node in the cluster (default a UUID).
	NodeID string
	// Cluster tunes the cluster (heartbeat, TTLs, replicas); NodeID,
	// Modes, Alloc, caps, clock, logger and metrics are set by the node.
	Cluster cluster.Config
}

// Node is a running server. Start it with Start; stop it with Shutdown.
type Node struct {
	cfg     Config
	log     *slog.Logger
	reg     *prometheus.Registry
	met     *gateway.Metrics
	alloc   *matchmaking.LocalAllocator
	mm      *matchmaking.Matchmaker
	parties *matchmaking.Parties
	gw      *gateway.Server

	pub, admin     *http.Server
	pubLn, adminLn net.Listener
	mmCancel       context.CancelFunc
	mmDone         chan error
	shutdownOnce   sync.Once
	shutdownErr    error

	// Cluster mode only (nil otherwise).
	cluster  *cluster.Cluster
	nc       *nats.Conn
	embedded *natsserver.Server // NATSEmbed's server

	health     *healthHub
	healthCtx  context.Context
	healthStop context.CancelFunc
	healthDone chan struct{}
	drainOnce  sync.Once
	drainReq   chan struct{}
}

// New wires a node; nothing listens until Start.
func New(cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = game.SystemClock{}
	}
	if cfg.TickRate == 0 {
		cfg.TickRate = game.DefaultTickRate
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = 1
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 30 * time.Second
	}
	if cfg.Modes == nil {
		cfg.Modes = matchmaking.DefaultModes()
	}
	if cfg.Version == "" {
		cfg.Version = "0.1.0-dev"
	}
	roomCfg := game.Config{TickRate: cfg.TickRate, SnapshotEvery: cfg.SnapshotEvery, RejoinGrace: cfg.RejoinGrace}
	if err := roomCfg.WithDefaults().Validate(); err != nil {
		return nil, err
	}
	if cfg.AdminAddr != "" && !isLoopback(cfg.AdminAddr) && cfg.AdminToken == "" {
		return nil, fmt.Errorf("node: admin address %s is not loopback: set an admin token (-admin-token)", cfg.AdminAddr)
	}
	clustered := cfg.NATS != "" || cfg.NATSEmbed != ""
	if clustered && len(cfg.Secret) == 0 {
		return nil, errors.New("node: cluster mode needs a shared signing secret (-secret): tokens must verify on every node")
	}
	if clustered && cfg.NodeID == "" {
		cfg.NodeID = uuid.NewString()
	}
	if cfg.PublicURL != "" {
		if _, err := cluster.Endpoint(cfg.PublicURL); err != nil {
			return nil, err
		}
	}
	n := &Node{cfg: cfg, log: cfg.Logger, reg: prometheus.NewRegistry(), drainReq: make(chan struct{})}
	if clustered {
		n.log = n.log.With("node", cfg.NodeID)
	}
	secret := cfg.Secret
	if len(secret) == 0 {
		secret = token.RandomKey()
		n.log.Warn("no -secret given: using a random signing key for this process; tokens will not survive a restart or work on other nodes")
	}
	signer, err := token.NewSigner(secret, cfg.Clock.Now)
	if err != nil {
		return nil, err
	}
	n.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	n.met = gateway.NewMetrics(n.reg)

	n.alloc = matchmaking.NewLocal(matchmaking.LocalConfig{
		MaxRooms:   cfg.MaxRooms,
		MaxPlayers: cfg.MaxPlayers,
		Observer:   n.met,
		NewGame: func(mode matchmaking.Mode, roomID string) (game.Game, game.Config, error) {
			rc := roomCfg
			rc.MaxPlayers = mode.MaxPlayers
			g := arena.New(arena.Config{TickRate: cfg.TickRate, MaxPlayers: mode.MaxPlayers, RoundSeconds: cfg.RoundSeconds, Seed: seed()})
			return g, rc, nil
		},
	}, cfg.Clock, n.log)
	n.parties = matchmaking.NewParties(0, nil)
	if clustered {
		cc := cfg.Cluster
		cc.NodeID, cc.Modes, cc.Alloc, cc.Parties = cfg.NodeID, cfg.Modes, n.alloc, n.parties
		cc.Watchable = n.watchable
		cc.MaxPlayers, cc.MaxRooms = cfg.MaxPlayers, cfg.MaxRooms
		cc.Clock, cc.Logger, cc.Metrics = cfg.Clock, n.log, cluster.NewMetrics(n.reg)
		if n.cluster, err = cluster.New(cc); err != nil {
			return nil, err
		}
		n.cluster.OnChange(func() { n.health.notify(arbiterv1.HealthReason_HEALTH_REASON_CLUSTER_CHANGED) })
	} else {
		n.mm = matchmaking.New(matchmaking.Config{Modes: cfg.Modes}, n.alloc, cfg.Clock, n.log)
	}
	n.alloc.OnRoomEnd(n.roomEnded)
	n.health = newHealthHub(n)
	n.alloc.OnRoomEnd(func(*game.Room, string) { n.health.notify(arbiterv1.HealthReason_HEALTH_REASON_ROOM_ENDED) })
	n.alloc.OnRoomStart(func(*game.Room, string) { n.health.notify(arbiterv1.HealthReason_HEALTH_REASON_ROOM_CREATED) })
	n.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "arbiter_rooms", Help: "Running rooms."},
		func() float64 { return float64(len(n.alloc.All())) }))
	n.reg.MustRegister(newQueueCollector(n.queueSizes, cfg.Modes))
	n.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "arbiter_players", Help: "Players holding a room seat."},
		func() float64 {
			total := 0
			for _, r := range n.alloc.All() {
				total += r.Stats().Players
			}
			return float64(total)
		}))

	gcfg := cfg.Gateway
	gcfg.TickRate, gcfg.SnapshotEvery, gcfg.Version, gcfg.Web = cfg.TickRate, cfg.SnapshotEvery, cfg.Version, cfg.Web
	gcfg.AllowedOrigins = cfg.AllowedOrigins
	if gcfg.SpectateModes == nil {
		gcfg.SpectateModes = map[string]bool{}
		for _, m := range cfg.Modes {
			gcfg.SpectateModes[m.Name] = m.Spectate
		}
	}
	modes := make([]string, len(cfg.Modes))
	for i, m := range cfg.Modes {
		modes[i] = m.Name
	}
	deps := gateway.Deps{
		Matchmaker: n.mm, Parties: n.parties, Rooms: n.alloc, Signer: signer,
		Metrics: n.met, Clock: cfg.Clock, Logger: n.log, Modes: modes,
	}
	if n.cluster != nil {
		deps.Matchmaker, deps.Parties, deps.Origins = n.cluster.Queue(), n.cluster.Parties(), n.cluster.Origins
		deps.Relay = n.cluster.Parties().Relay
		gcfg.NodeID = cfg.NodeID
	}
	n.gw, err = gateway.New(gcfg, deps)
	if err != nil {
		return nil, err
	}
	if n.cluster != nil {
		n.cluster.SetGateway(n.gw)
	}
	return n, nil
}

// queueSizes is the players waiting per mode: the matchmaker's queues on
// a single node; in a cluster, the whole queue of the modes whose
// matchmaker runs here and this node's own waiting players for the rest.
func (n *Node) queueSizes() map[string]int {
	if n.cluster != nil {
		return n.cluster.QueueSizes()
	}
	return n.mm.QueueSizes()
}

func seed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) | 1
}

// roomEnded reports a finished round's standings to the matchmaker so
// ratings follow results. Called on the room's goroutine after it ended.
func (n *Node) roomEnded(r *game.Room, mode string) {
	if n.cluster != nil {
		n.cluster.RoomEnded(r.ID())
	}
	f := r.Latest()
	if f == nil {
		return
	}
	var res *game.RoundResult
	evs, _ := f.Events(0)
	for _, ev := range evs {
		if ev.Type == arbiterv1.EventType_EVENT_TYPE_ROUND_END && ev.Result != nil {
			res = ev.Result
		}
	}
	if res == nil {
		return
	}
	bySeat := map[game.Seat]string{}
	for _, p := range f.Roster().Players {
		bySeat[p.Seat] = p.PlayerID
	}
	var ranking [][]string
	lastRank := uint32(0)
	for _, s := range res.Standings {
		id, ok := bySeat[s.Seat]
		if !ok {
			continue
		}
		if s.Rank == lastRank && len(ranking) > 0 {
			ranking[len(ranking)-1] = append(ranking[len(ranking)-1], id)
		} else {
			ranking = append(ranking, []string{id})
		}
		lastRank = s.Rank
	}
	if len(ranking) <= 1 {
		return
	}
	if n.cluster != nil {
		n.cluster.ReportResult(mode, ranking)
		return
	}
	n.mm.ReportResult(mode, ranking)
}

// Start listens on the configured addresses and starts serving.
func (n *Node) Start() error {
	var err error
	if n.pubLn, err = net.Listen("tcp", n.cfg.Addr); err != nil {
		return fmt.Errorf("node: listen %s: %w", n.cfg.Addr, err)
	}
	if n.cfg.SendBuffer >= 0 {
		size := n.cfg.SendBuffer
		if size == 0 {
			size = 64 << 10
		}
		n.pubLn = sendBufferListener{n.pubLn, size}
	}
	if n.cfg.AdminAddr != "" {
		if n.adminLn, err = net.Listen("tcp", n.cfg.AdminAddr); err != nil {
			n.pubLn.Close()
			return fmt.Errorf("node: listen admin %s: %w", n.cfg.AdminAddr, err)
		}
	}
	if n.cluster != nil {
		if err := n.joinCluster(); err != nil {
			n.pubLn.Close()
			if n.adminLn != nil {
				n.adminLn.Close()
			}
			return err
		}
	}
	n.healthCtx, n.healthStop = context.WithCancel(context.Background())
	n.healthDone = make(chan struct{})
	go func() { defer close(n.healthDone); n.health.run(n.healthCtx) }()
	ctx, cancel := context.WithCancel(context.Background())
	n.mmCancel = cancel
	n.mmDone = make(chan error, 1)
	if n.mm != nil {
		go func() { n.mmDone <- n.mm.Run(ctx) }()
	} else {
		n.mmDone <- nil
	}

	n.pub = &http.Server{Handler: n.publicHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelDebug)}
	go func() { _ = n.pub.Serve(n.pubLn) }()
	if n.adminLn != nil {
		n.admin = &http.Server{Handler: n.adminHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = n.admin.Serve(n.adminLn) }()
	}
	n.log.Info("arbiter listening", "addr", n.pubLn.Addr().String(), "admin", n.AdminAddr(), "open", "http://"+browserAddr(n.pubLn.Addr()))
	return nil
}

func browserAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// publicHandler is the gateway plus the game's static data: the arena maps
// at /v1/maps/{name} (e.g. /v1/maps/arena/yard) as JSON.
func (n *Node) publicHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", n.gw.Handler())
	mux.Handle("GET /v1/maps/", serveMaps("/v1/maps/"))
	mux.HandleFunc("GET /v1/rooms", n.serveRooms)
	return mux
}

// watchableRoom is one entry of GET /v1/rooms.
type watchableRoom = cluster.WatchableRoom

// serveRooms lists, as JSON, the running rooms players may watch (modes with
// Spectate), fullest first, so a player's client can offer "Watch a game".
// In a cluster it lists every node's rooms; those elsewhere carry their
// node's WebSocket URL (json "endpoint"), where to watch them.
func (n *Node) serveRooms(w http.ResponseWriter, r *http.Request) {
	out := n.watchable()
	if n.cluster != nil {
		out = append(out, n.cluster.PeerRooms(r.Context())...)
	}
	slices.SortStableFunc(out, func(a, b watchableRoom) int { return b.Players - a.Players })
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

// watchable is this node's rooms players may watch.
func (n *Node) watchable() []watchableRoom {
	allowed := map[string]bool{}
	for _, m := range n.cfg.Modes {
		allowed[m.Name] = m.Spectate
	}
	out := []watchableRoom{}
	for _, r := range n.alloc.All() {
		mode := n.alloc.ModeOf(r.ID())
		if !allowed[mode] {
			continue
		}
		select {
		case <-r.Done():
			continue
		default:
		}
		age := 0
		if t := r.Started(); !t.IsZero() {
			age = int(time.Since(t).Seconds())
		}
		out = append(out, watchableRoom{ID: r.ID(), Mode: mode, Players: r.Stats().Players, MaxPlayers: r.Config().MaxPlayers, AgeS: age})
	}
	return out
}

// serveMaps serves the arena maps as JSON at prefix + name: on the public
// address for players, and under /dashboard/maps/ on the admin address for
// the dashboard's spectator view (another origin, which cannot read the
// public address).
func serveMaps(prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, ok := arena.Maps()[strings.TrimPrefix(r.URL.Path, prefix)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		_ = json.NewEncoder(w).Encode(m)
	})
}

// Addr is the public address actually bound (useful with port 0).
func (n *Node) Addr() string { return n.pubLn.Addr().String() }

// AdminAddr is the admin address actually bound, or "".
func (n *Node) AdminAddr() string {
	if n.adminLn == nil {
		return ""
	}
	return n.adminLn.Addr().String()
}

// Gateway is the node's edge, for tests.
func (n *Node) Gateway() *gateway.Server { return n.gw }

// Allocator is the node's room allocator, for tests.
func (n *Node) Allocator() *matchmaking.LocalAllocator { return n.alloc }

// Matchmaker is the node's matchmaker, for tests; nil in cluster mode.
func (n *Node) Matchmaker() *matchmaking.Matchmaker { return n.mm }

// Cluster is the node's cluster membership; nil on a single node.
func (n *Node) Cluster() *cluster.Cluster { return n.cluster }

// Registry is the node's Prometheus registry.
func (n *Node) Registry() *prometheus.Registry { return n.reg }

// Shutdown drains the node in order: stop matchmaking, refuse new rooms
// (readiness turns false), let running rooms play on until they end or the
// drain timeout (or ctx) runs out, end the rest (players get RoomClosed
// DRAIN), close every session with 1001, then stop listening. It runs once;
// later calls return the first result.
func (n *Node) Shutdown(ctx context.Context) error {
	n.shutdownOnce.Do(func() { n.shutdownErr = n.shutdown(ctx) })
	return n.shutdownErr
}

func (n *Node) shutdown(ctx context.Context) error {
	start := time.Now()
	n.log.Info("drain started", "timeout", n.cfg.DrainTimeout)
	n.gw.Drain()
	n.health.notify(arbiterv1.HealthReason_HEALTH_REASON_DRAIN_STARTED)
	if n.cluster != nil {
		n.cluster.Drain() // no new rooms here, leases to other nodes
	} else {
		n.mm.Stop()
	}
	n.alloc.Drain()
	wctx, cancel := context.WithTimeout(ctx, n.cfg.DrainTimeout)
	if err := n.alloc.Wait(wctx); err != nil {
		n.log.Info("drain timeout: ending the remaining rooms", "rooms", len(n.alloc.All()))
	}
	cancel()
	n.alloc.Close()
	n.mmCancel()
	<-n.mmDone
	n.leaveCluster()
	cctx, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	errs := []error{n.gw.CloseAll(cctx)}
	errs = append(errs, n.pub.Shutdown(cctx))
	n.healthStop() // ends the dashboard streams, so the admin server can shut down
	<-n.healthDone
	if n.admin != nil {
		errs = append(errs, n.admin.Shutdown(cctx))
	}
	n.log.Info("drain finished", "took", time.Since(start).Round(time.Millisecond))
	return errors.Join(errs...)
}

// sendBufferListener sets each accepted connection's send buffer.
type sendBufferListener struct {
	net.Listener
	size int
}

func (l sendBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(l.size)
	}
	return c, err
}
