package loadtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// player is what the runner needs of a bot of either kind.
type player interface {
	run(ctx context.Context)
	traffic() (in, out uint64)
	playing() bool
}

func (b *bot) playing() bool { return b.inGame.Load() }

// runner owns one run: its bots' goroutines, the recorder, the clocks.
type runner struct {
	cfg       Config
	rec       *recorder
	connected atomic.Int64
	snapRate  atomic.Int64 // snapshots per second ×1000, from the first Welcome
}

// Run runs one scenario and returns its report. It stops by itself after
// ramp, warm-up and the measured window, or earlier when ctx is done.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, rec: newRecorder()}
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	players := make([]player, cfg.Bots)
	var wg sync.WaitGroup
	begin := time.Now()
	status := func(phase string) {
		if cfg.Status == nil {
			return
		}
		p := r.rec.last()
		in := 0
		for _, pl := range players {
			if pl != nil && pl.playing() {
				in++
			}
		}
		r.rec.mu.Lock()
		errs := 0
		for _, n := range r.rec.errors {
			errs += int(n)
		}
		r.rec.mu.Unlock()
		cfg.Status(fmt.Sprintf("%-8s %5.0fs  bots %d connected / %d in game  acks/s %d  ack p50 %.1f ms p99 %.1f ms  errors %d",
			phase, time.Since(begin).Seconds(), r.connected.Load(), in, p.Count, p.P50, p.P99, errs))
	}

	// Ramp.
	gap := time.Duration(float64(time.Second) / cfg.Ramp)
	lastStatus := time.Now()
	for i := range players {
		var p player
		seed := cfg.Seed*1_000_003 + uint64(i)
		if cfg.Floor {
			p = &floorBot{id: i, r: r, rng: rand.New(rand.NewPCG(seed, 7))}
		} else {
			p = &bot{id: i, r: r, brain: newBrain(seed), rng: rand.New(rand.NewPCG(seed, 11))}
		}
		players[i] = p
		wg.Add(1)
		go func() { defer wg.Done(); p.run(ctx) }()
		select {
		case <-ctx.Done():
		case <-time.After(gap):
		}
		if time.Since(lastStatus) >= time.Second {
			lastStatus = time.Now()
			r.rec.tickSecond(time.Since(begin).Seconds())
			status("ramp")
		}
	}
	// Warm up: at least Warmup, and until the bots are in game (bounded).
	warmEnd := time.Now().Add(cfg.Warmup)
	limit := time.Now().Add(cfg.Warmup + 30*time.Second)
	for ctx.Err() == nil {
		in := 0
		for _, p := range players {
			if p.playing() {
				in++
			}
		}
		now := time.Now()
		if (now.After(warmEnd) && in >= cfg.Bots*95/100) || now.After(limit) {
			break
		}
		time.Sleep(100 * time.Millisecond)
		if time.Since(lastStatus) >= time.Second {
			lastStatus = time.Now()
			r.rec.tickSecond(time.Since(begin).Seconds())
			status("warmup")
		}
	}

	// The measured window.
	var before, after *scrape
	var scrapeErr error
	if cfg.MetricsURL != "" {
		before, scrapeErr = readMetrics(ctx, cfg.MetricsURL)
	}
	var in0, out0 uint64
	for _, p := range players {
		i, o := p.traffic()
		in0, out0 = in0+i, out0+o
	}
	cpu0 := processCPU()
	t0 := time.Now()
	r.rec.tickSecond(0)
	r.rec.setMeasuring(true)
	var botSeconds float64
	sample := time.NewTicker(100 * time.Millisecond)
	end := t0.Add(cfg.Duration)
	for now := time.Now(); now.Before(end) && ctx.Err() == nil; now = time.Now() {
		select {
		case <-ctx.Done():
		case <-sample.C:
		}
		in := 0
		for _, p := range players {
			if p.playing() {
				in++
			}
		}
		botSeconds += float64(in) * 0.1
		if time.Since(lastStatus) >= time.Second {
			lastStatus = time.Now()
			r.rec.tickSecond(time.Since(t0).Seconds())
			status("measure")
		}
	}
	sample.Stop()
	r.rec.setMeasuring(false)
	t1 := time.Now()
	cpu1 := processCPU()
	var in1, out1 uint64
	for _, p := range players {
		i, o := p.traffic()
		in1, out1 = in1+i, out1+o
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if cfg.MetricsURL != "" && scrapeErr == nil {
		after, scrapeErr = readMetrics(context.WithoutCancel(ctx), cfg.MetricsURL)
	}
	stop()
	wg.Wait()

	rep := r.report(t1.Sub(t0), botSeconds, cpu1-cpu0, in1-in0, out1-out0, ms)
	if before != nil && after != nil {
		rep.Server = serverFigures(before, after)
	}
	if scrapeErr != nil {
		rep.Errors["metrics_scrape"]++
		rep.Notes = append(rep.Notes, "server metrics: "+scrapeErr.Error())
	}
	return rep, nil
}

// processCPU is this process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func serverFigures(a, b *scrape) *ServerFigures {
	s := &ServerFigures{
		CPUSeconds:        b.cpu - a.cpu,
		RSSBytes:          b.rss,
		TickMsP99:         finite(quantileDelta(a.tick, b.tick, 0.99) * 1000),
		TickLatenessMsP99: finite(quantileDelta(a.late, b.late, 0.99) * 1000),
		Overruns:          b.overruns - a.overruns,
	}
	if snaps := b.snapshots - a.snapshots; snaps > 0 {
		s.CPUUsPerSnapshot = s.CPUSeconds * 1e6 / snaps
	}
	return s
}

func kindOf(floor bool) string {
	if floor {
		return "floor"
	}
	return "arbiter"
}
