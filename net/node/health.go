package node

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/arbiter-gg/arbiter/net/cluster"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// healthHub samples the node once a second and pushes Health messages to
// every dashboard connection: a full state with history on connect, then
// updates every 500 ms and at once on notable changes. Its goroutine (run)
// is started by Node.Start and waited for by Node.Shutdown; mu guards subs,
// points and the sampling state.
type healthHub struct {
	n       *Node
	started time.Time
	kick    chan arbiterv1.HealthReason // notable changes, non-blocking

	mu     sync.Mutex
	subs   map[chan []byte]struct{}
	points []*arbiterv1.HealthPoint // last historyLen seconds
	sent   int                      // points already pushed as updates (index into points, shifting)
	last   sample
}

const historyLen = 300 // five minutes of one-second points

type sample struct {
	at                time.Time
	cpu               time.Duration
	in, out           float64
	late              map[float64]uint64
	cpuPct, inS, outS float64
}

func newHealthHub(n *Node) *healthHub {
	return &healthHub{n: n, started: time.Now(), kick: make(chan arbiterv1.HealthReason, 8), subs: map[chan []byte]struct{}{}}
}

// notify asks for an immediate push; it never blocks.
func (h *healthHub) notify(r arbiterv1.HealthReason) {
	select {
	case h.kick <- r:
	default:
	}
}

// run samples and pushes until ctx is done.
func (h *healthHub) run(ctx context.Context) {
	h.sample()
	sampleT := time.NewTicker(time.Second)
	pushT := time.NewTicker(500 * time.Millisecond)
	defer sampleT.Stop()
	defer pushT.Stop()
	for {
		reason := arbiterv1.HealthReason_HEALTH_REASON_PERIODIC
		select {
		case <-ctx.Done():
			return
		case <-sampleT.C:
			h.sample()
			continue
		case <-pushT.C:
		case reason = <-h.kick:
		}
		h.push(reason)
	}
}

func (h *healthHub) push(reason arbiterv1.HealthReason) {
	h.mu.Lock()
	m := h.stateLocked(false)
	m.Reason = reason
	m.Points = slices.Clone(h.points[h.sent:])
	h.sent = len(h.points)
	b, err := proto.Marshal(m)
	subs := make([]chan []byte, 0, len(h.subs))
	for c := range h.subs {
		subs = append(subs, c)
	}
	h.mu.Unlock()
	if err != nil {
		return
	}
	for _, c := range subs {
		select {
		case c <- b:
		default: // a dashboard that cannot keep up skips a push
		}
	}
}

// sample takes one point for the charts.
func (h *healthHub) sample() {
	now := time.Now()
	cpu := processCPU()
	in := counterValue(h.n.met.BytesIn)
	out := counterValue(h.n.met.BytesOut)
	late := histBuckets(h.n.met.TickLateness)
	rooms := h.n.alloc.All()
	players, tickP99 := 0, time.Duration(0)
	for _, r := range rooms {
		players += r.Stats().Players
		tickP99 = max(tickP99, r.TickPercentile(0.99))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	p := &arbiterv1.HealthPoint{TimeUs: uint64(now.UnixMicro()), Players: uint32(players), Rooms: uint32(len(rooms)), TickP99Us: uint32(tickP99.Microseconds())}
	if !h.last.at.IsZero() {
		dt := now.Sub(h.last.at).Seconds()
		h.last.cpuPct = (cpu - h.last.cpu).Seconds() / dt * 100
		h.last.inS, h.last.outS = (in-h.last.in)/dt, (out-h.last.out)/dt
		p.CpuPercent, p.BytesInPerS, p.BytesOutPerS = h.last.cpuPct, h.last.inS, h.last.outS
		p.LatenessP99Us = uint32(quantileUS(h.last.late, late, 0.99))
	}
	h.last.at, h.last.cpu, h.last.in, h.last.out, h.last.late = now, cpu, in, out, late
	h.points = append(h.points, p)
	if over := len(h.points) - historyLen; over > 0 {
		h.points = slices.Delete(h.points, 0, over)
		h.sent = max(h.sent-over, 0)
	}
}

// stateLocked builds the current state (with history when full).
func (h *healthHub) stateLocked(full bool) *arbiterv1.Health {
	n := h.n
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	watchers := n.gw.Spectators()
	st := &arbiterv1.Health{
		Full:         full,
		ServerTimeUs: uint64(time.Now().UnixMicro()),
		Node: &arbiterv1.NodeHealth{
			Version: n.cfg.Version, StartedUs: uint64(h.started.UnixMicro()),
			Ready: !n.gw.Draining(), Draining: n.gw.Draining(),
			Sessions: uint32(n.gw.SessionCount()), Goroutines: uint32(runtime.NumGoroutine()),
			CpuPercent: h.last.cpuPct, HeapBytes: ms.HeapInuse, RssBytes: rss(),
			BytesInPerS: h.last.inS, BytesOutPerS: h.last.outS,
			Overruns: uint64(counterValue(n.met.Overruns)), SkippedTicks: uint64(counterValue(n.met.SkippedTicks)),
			TickRate: uint32(n.cfg.TickRate),
		},
	}
	for _, r := range n.alloc.All() {
		s := r.Stats()
		age := time.Duration(0)
		if t := r.Started(); !t.IsZero() {
			age = time.Since(t)
		}
		tick := uint32(0)
		if f := r.Latest(); f != nil {
			tick = f.Tick()
		}
		st.Rooms = append(st.Rooms, &arbiterv1.RoomHealth{
			Id: r.ID(), Mode: n.alloc.ModeOf(r.ID()), Players: uint32(s.Players), MaxPlayers: uint32(r.Config().MaxPlayers),
			AgeS: uint32(age.Seconds()), Tick: tick, TickP99Us: uint32(r.TickPercentile(0.99).Microseconds()),
			Overruns: s.Overruns, Spectators: uint32(watchers[r.ID()]),
		})
		st.Node.Players += uint32(s.Players)
	}
	st.Node.Rooms = uint32(len(st.Rooms))
	for _, w := range watchers {
		st.Node.Spectators += uint32(w)
	}
	sizes := n.queueSizes()
	for _, m := range n.cfg.Modes {
		p50, p99 := n.gw.MatchWaits(m.Name)
		st.Queues = append(st.Queues, &arbiterv1.QueueHealth{Mode: m.Name, Waiting: uint32(sizes[m.Name]), WaitP50Ms: uint32(p50.Milliseconds()), WaitP99Ms: uint32(p99.Milliseconds())})
	}
	st.Drops = counters(n.met.Drops, "reason", "message_")
	st.Drops = append(st.Drops, counters(n.met.InputDrops, "reason", "input_")...)
	st.Closes = counters(n.met.Closes, "reason", "")
	if full {
		st.Points = slices.Clone(h.points)
	}
	if n.cluster != nil {
		st.Cluster = clusterHealth(n.cluster.Status())
	}
	return st
}

// clusterHealth turns the cluster's status into the dashboard's message.
func clusterHealth(cs cluster.Status) *arbiterv1.ClusterHealth {
	ch := &arbiterv1.ClusterHealth{NodeId: cs.NodeID, NatsConnected: cs.Connected}
	for _, nd := range cs.Nodes {
		ch.Nodes = append(ch.Nodes, &arbiterv1.ClusterNode{
			Id: nd.ID, PublicUrl: nd.Endpoint, Rooms: uint32(nd.Rooms), Players: uint32(nd.Players),
			MaxPlayers: uint32(nd.MaxPlayers), MaxRooms: uint32(nd.MaxRooms), Draining: nd.Draining,
			AgeMs: uint32(max(nd.Age, 0).Milliseconds()),
		})
	}
	modes := make([]string, 0, len(cs.Leases))
	for m := range cs.Leases {
		modes = append(modes, m)
	}
	slices.Sort(modes)
	for _, m := range modes {
		ch.Leases = append(ch.Leases, &arbiterv1.ClusterLease{Mode: m, Holder: cs.Leases[m]})
	}
	return ch
}

// subscribe registers a dashboard connection and returns its first (full)
// message.
func (h *healthHub) subscribe() (chan []byte, []byte) {
	c := make(chan []byte, 4)
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.stateLocked(true)
	m.Reason = arbiterv1.HealthReason_HEALTH_REASON_CONNECTED
	b, _ := proto.Marshal(m)
	h.subs[c] = struct{}{}
	return c, b
}

func (h *healthHub) unsubscribe(c chan []byte) {
	h.mu.Lock()
	delete(h.subs, c)
	h.mu.Unlock()
}

// serveWS streams Health messages to one dashboard until it goes away.
func (h *healthHub) serveWS(ctx context.Context, conn *websocket.Conn) {
	c, first := h.subscribe()
	defer h.unsubscribe(c)
	ctx = conn.CloseRead(ctx)
	write := func(b []byte) bool {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return conn.Write(wctx, websocket.MessageBinary, b) == nil
	}
	if !write(first) {
		return
	}
	for {
		select {
		case <-ctx.Done():
			_ = conn.Close(websocket.StatusGoingAway, "server shutting down")
			return
		case b := <-c:
			if !write(b) {
				return
			}
		}
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rss reads the resident set size from /proc (0 where unavailable).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func counterValue(c prometheus.Metric) float64 {
	var m dto.Metric
	if c.Write(&m) != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

func histBuckets(hm prometheus.Histogram) map[float64]uint64 {
	var m dto.Metric
	out := map[float64]uint64{}
	if hm.Write(&m) != nil {
		return out
	}
	for _, b := range m.GetHistogram().GetBucket() {
		out[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	out[-1] = m.GetHistogram().GetSampleCount()
	return out
}

// quantileUS is the q quantile, in µs, of the observations between two
// bucket readings (the upper bound of its bucket).
func quantileUS(a, b map[float64]uint64, q float64) float64 {
	total := b[-1] - a[-1]
	if total == 0 {
		return 0
	}
	var bounds []float64
	for ub := range b {
		if ub >= 0 {
			bounds = append(bounds, ub)
		}
	}
	slices.Sort(bounds)
	for _, ub := range bounds {
		if float64(b[ub]-a[ub]) >= q*float64(total) {
			return ub * 1e6
		}
	}
	return bounds[len(bounds)-1] * 1e6
}

// counters reads a CounterVec with one label into named totals.
func counters(v *prometheus.CounterVec, label, prefix string) []*arbiterv1.Counter {
	// Our label values are a fixed, small set: the buffer holds them all.
	ch := make(chan prometheus.Metric, 1024)
	v.Collect(ch)
	close(ch)
	var out []*arbiterv1.Counter
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) != nil {
			continue
		}
		name := ""
		for _, lp := range d.GetLabel() {
			if lp.GetName() == label {
				name = lp.GetValue()
			}
		}
		if val := d.GetCounter().GetValue(); val > 0 {
			out = append(out, &arbiterv1.Counter{Name: prefix + name, Value: uint64(val)})
		}
	}
	slices.SortFunc(out, func(a, b *arbiterv1.Counter) int {
		if a.Name < b.Name {
			return -1
		}
		return 1
	})
	return out
}
