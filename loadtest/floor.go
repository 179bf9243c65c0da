package loadtest

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The transport floor: the cost of moving Arbiter's bytes on this machine
// with no game, no matchmaker and no protobuf. ServeFloor is a bare
// WebSocket server built on the same library with its leanest use: one
// reader and one writer goroutine per connection, buffers reused, nothing
// allocated per message by our code. A shared drift-free ticker wakes every
// writer, which sends one message of the average snapshot size carrying the
// last input seq its reader saw. Bots send inputs of Arbiter's size at the
// same rate. The loadtest runs it in a separate process so its CPU is its
// own, and reads the same metric names from its /metrics.

// ServeFloor serves the floor on ln until ctx is done: WebSocket at any
// path, Prometheus metrics at /metrics.
func ServeFloor(ctx context.Context, ln net.Listener, tickRate, snapshotBytes int) error {
	if snapshotBytes < 8 {
		snapshotBytes = 8
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	snaps := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arbiter_messages_out_total", Help: "Messages sent, by kind."}, []string{"kind"})
	tickDur := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "arbiter_tick_duration_seconds", Help: "Time to wake every writer.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 12)})
	tickLate := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "arbiter_tick_lateness_seconds", Help: "How late a tick started.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 12)})
	overruns := prometheus.NewCounter(prometheus.CounterOpts{Name: "arbiter_tick_overruns_total", Help: "Ticks one interval or more late."})
	reg.MustRegister(snaps, tickDur, tickLate, overruns)
	snapOut := snaps.WithLabelValues("snapshot")

	var tick atomic.Pointer[floorTick]
	tick.Store(&floorTick{c: make(chan struct{})})
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled, InsecureSkipVerify: true})
		if err != nil {
			return
		}
		conn.SetReadLimit(4096)
		var lastSeq atomic.Uint32
		wg.Add(1)
		go func() { // writer
			defer wg.Done()
			buf := make([]byte, snapshotBytes)
			t := tick.Load()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.c:
				}
				t = tick.Load()
				binary.LittleEndian.PutUint32(buf, lastSeq.Load())
				binary.LittleEndian.PutUint32(buf[4:], t.n)
				if conn.Write(context.Background(), websocket.MessageBinary, buf) != nil {
					return
				}
				snapOut.Inc()
			}
		}()
		buf := make([]byte, 4096)
		for {
			_, rd, err := conn.Reader(ctx)
			if err != nil {
				break
			}
			n, _ := io.ReadFull(rd, buf[:4])
			if n == 4 {
				lastSeq.Store(binary.LittleEndian.Uint32(buf))
			}
			for err == nil {
				_, err = rd.Read(buf)
			}
			if !errors.Is(err, io.EOF) {
				break
			}
		}
		_ = conn.CloseNow()
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	wg.Add(1)
	go func() { // the shared ticker, on the same drift-free schedule as rooms
		defer wg.Done()
		dt := time.Second / time.Duration(tickRate)
		start := time.Now()
		for n := uint32(1); ; n++ {
			due := start.Add(time.Duration(n) * dt)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(due)):
			}
			now := time.Now()
			late := now.Sub(due)
			tickLate.Observe(late.Seconds())
			if late >= dt {
				overruns.Inc()
			}
			old := tick.Load()
			tick.Store(&floorTick{n: n, c: make(chan struct{})})
			close(old.c)
			tickDur.Observe(time.Since(now).Seconds())
		}
	}()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	err := srv.Serve(ln)
	cancel()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// floorTick is one tick of the floor's broadcast: c closes when the next
// tick starts.
type floorTick struct {
	n uint32
	c chan struct{}
}

// floorBot is a bot for the floor server: inputs of Arbiter's size, one per
// tick, acked by the seq in each floor message.
type floorBot struct {
	id     int
	r      *runner
	rng    *rand.Rand
	inGame atomic.Bool

	bytesIn, bytesOut atomic.Uint64

	mu       sync.Mutex // guards sent, acked and phase
	sent     [256]time.Time
	seq      uint32
	acked    uint32
	phase    time.Time    // earliest estimate of when tick 0 started (arrival - n·dt)
	phaseAt  time.Time    // when phase was last re-anchored
	lastTick atomic.Int64 // unix ns when the last floor message arrived
	meant    [256]uint32  // seq % 256 → tick the input aimed at
	margin   time.Duration
	onTime   int
}

func (f *floorBot) run(ctx context.Context) {
	cfg := f.r.cfg
	conn, _, err := websocket.Dial(ctx, cfg.URL, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		if ctx.Err() == nil {
			f.r.rec.err("dial")
		}
		return
	}
	conn.SetReadLimit(1 << 20)
	f.r.connected.Add(1)
	f.r.rec.matched(time.Millisecond) // no matchmaking on the floor
	f.inGame.Store(true)
	defer func() {
		f.inGame.Store(false)
		f.r.connected.Add(-1)
		_ = conn.CloseNow()
	}()
	readDone := make(chan struct{})
	go func() { // reader
		defer close(readDone)
		buf := make([]byte, max(2*cfg.FloorSnapshotBytes, 512))
		dt := time.Second / time.Duration(cfg.TickRate)
		for {
			_, rd, err := conn.Reader(ctx)
			if err != nil {
				return
			}
			n, err := io.ReadAtLeast(rd, buf, 8)
			for err == nil {
				var k int
				k, err = rd.Read(buf[n:])
				n += k
			}
			if n < 8 {
				return
			}
			now := time.Now()
			if prev := f.lastTick.Swap(now.UnixNano()); prev != 0 {
				f.r.rec.snapshot(now.Sub(time.Unix(0, prev)))
			} else {
				f.r.rec.snapshot(0)
			}
			f.bytesIn.Add(uint64(n))
			ack := binary.LittleEndian.Uint32(buf)
			tickN := binary.LittleEndian.Uint32(buf[4:])
			f.mu.Lock()
			// The tick clock: the earliest arrival, less n ticks, is the
			// best estimate of when the floor's tick 0 started (writes only
			// ever add delay). Re-anchored every few seconds to follow drift.
			if p := now.Add(-time.Duration(tickN) * dt); f.phase.IsZero() || p.Before(f.phase) || now.Sub(f.phaseAt) > 5*time.Second {
				f.phase, f.phaseAt = p, now
			}
			for s := f.acked + 1; s <= ack && s <= f.seq; s++ {
				if t := f.sent[s%256]; !t.IsZero() {
					f.r.rec.ackLatency(now.Sub(t))
				}
				// The same adaptive margin as Arbiter's bots.
				if want := f.meant[s%256]; want != 0 && cfg.Align {
					if tickN > want {
						f.onTime = 0
						f.margin = min(f.margin+time.Millisecond, maxMargin)
					} else if f.onTime++; f.onTime >= 90 {
						f.onTime = 0
						f.margin = max(f.margin-250*time.Microsecond, minMargin)
					}
				}
			}
			if ack > f.acked {
				f.acked = ack
			}
			f.mu.Unlock()
		}
	}()

	dt := time.Second / time.Duration(cfg.TickRate)
	msg := make([]byte, cfg.FloorInputBytes)
	f.mu.Lock()
	f.margin = cfg.Margin
	f.mu.Unlock()
	var aimed uint32
	timer := time.NewTimer(time.Duration(f.rng.Int64N(int64(dt))))
	defer timer.Stop()
	next := time.Now()
	for {
		select {
		case <-ctx.Done():
			<-readDone
			return
		case <-readDone:
			f.r.rec.err("connection_lost")
			return
		case <-timer.C:
		}
		f.mu.Lock()
		f.seq++
		seq := f.seq
		f.sent[seq%256] = time.Now()
		f.meant[seq%256] = aimed
		f.mu.Unlock()
		binary.LittleEndian.PutUint32(msg, seq)
		if err := conn.Write(ctx, websocket.MessageBinary, msg); err != nil {
			continue
		}
		f.bytesOut.Add(uint64(len(msg)))
		// Next send: aligned to arrive just before the floor's next tick
		// (its messages mark the tick starts), or free-running.
		f.mu.Lock()
		phase, margin := f.phase, f.margin
		f.mu.Unlock()
		if cfg.Align && !phase.IsZero() {
			// Arrive margin before the start of the next tick k.
			k := time.Since(phase)/dt + 1
			next = phase.Add(k*dt - margin)
			for !next.After(time.Now()) {
				k++
				next = next.Add(dt)
			}
			aimed = uint32(k)
		} else {
			next = next.Add(dt)
			if time.Since(next) > dt {
				next = time.Now().Add(dt)
			}
		}
		timer.Reset(time.Until(next))
	}
}

func (f *floorBot) traffic() (in, out uint64) { return f.bytesIn.Load(), f.bytesOut.Load() }
func (f *floorBot) playing() bool             { return f.inGame.Load() }
