package loadtest

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// recorder collects every bot's measurements. Bots record from their own
// goroutines; mu guards everything.
type recorder struct {
	mu        sync.Mutex
	measuring bool
	ack       *hdrhistogram.Histogram // µs, measured window only
	interval  *hdrhistogram.Histogram // µs between snapshots of one bot
	match     *hdrhistogram.Histogram // ms from FindMatch to Joined, whole run
	second    *hdrhistogram.Histogram // µs, ack latency of the current second
	series    []seriesPoint
	snapshots uint64 // received during the window
	errors    map[string]uint64
	tried     uint64
	resumed   uint64
	matches   uint64 // rooms joined
	elsewhere uint64 // of those, on another node than the bot's lobby
	lateSends uint64
	lastPoint seriesPoint
}

type seriesPoint struct {
	T        float64 `json:"t"`
	P50, P99 float64
	Count    int64 `json:"count"`
}

func newRecorder() *recorder {
	return &recorder{
		ack:      hdrhistogram.New(1, 60_000_000, 3),
		interval: hdrhistogram.New(1, 60_000_000, 3),
		match:    hdrhistogram.New(1, 600_000, 3),
		second:   hdrhistogram.New(1, 60_000_000, 3),
		errors:   map[string]uint64{},
	}
}

func (r *recorder) setMeasuring(on bool) {
	r.mu.Lock()
	r.measuring = on
	r.mu.Unlock()
}

func (r *recorder) ackLatency(d time.Duration) {
	us := d.Microseconds()
	if us < 1 {
		us = 1
	}
	r.mu.Lock()
	if r.measuring {
		_ = r.ack.RecordValue(us)
	}
	_ = r.second.RecordValue(us)
	r.mu.Unlock()
}

func (r *recorder) snapshot(gap time.Duration) {
	r.mu.Lock()
	if r.measuring {
		r.snapshots++
		if gap > 0 {
			_ = r.interval.RecordValue(max(gap.Microseconds(), 1))
		}
	}
	r.mu.Unlock()
}

func (r *recorder) matched(d time.Duration) {
	r.mu.Lock()
	_ = r.match.RecordValue(max(d.Milliseconds(), 1))
	r.matches++
	r.mu.Unlock()
}

// followed counts a room joined on another node (a cluster's MatchFound
// endpoint).
func (r *recorder) followed() {
	r.mu.Lock()
	r.elsewhere++
	r.mu.Unlock()
}

func (r *recorder) err(kind string) {
	r.mu.Lock()
	r.errors[kind]++
	r.mu.Unlock()
}

func (r *recorder) reconnect(resumed bool) {
	r.mu.Lock()
	r.tried++
	if resumed {
		r.resumed++
	}
	r.mu.Unlock()
}

// tickSecond closes one second of the latency-over-time series.
func (r *recorder) tickSecond(t float64) seriesPoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := seriesPoint{T: t, P50: float64(r.second.ValueAtQuantile(50)) / 1000, P99: float64(r.second.ValueAtQuantile(99)) / 1000, Count: r.second.TotalCount()}
	if r.measuring {
		r.series = append(r.series, p)
	}
	r.second.Reset()
	r.lastPoint = p
	return p
}

// last is the latest closed second.
func (r *recorder) last() seriesPoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastPoint
}

// lateSend counts an aligned input that could not be sent on schedule.
func (r *recorder) lateSend() {
	r.mu.Lock()
	r.lateSends++
	r.mu.Unlock()
}
