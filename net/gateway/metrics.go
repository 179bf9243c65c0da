package gateway

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbiter-gg/arbiter/game"
)

// Metrics are the server's Prometheus collectors. It also implements
// game.Observer so every room reports its ticks and input drops here. All
// methods are safe for concurrent use.
type Metrics struct {
	Sessions      prometheus.Gauge
	TickDuration  prometheus.Histogram
	TickLateness  prometheus.Histogram
	Overruns      prometheus.Counter
	SkippedTicks  prometheus.Counter
	InputDrops    *prometheus.CounterVec
	InputsLate    prometheus.Counter
	BytesIn       prometheus.Counter
	BytesOut      prometheus.Counter
	MessagesIn    *prometheus.CounterVec
	MessagesOut   *prometheus.CounterVec
	SnapshotSkips prometheus.Counter
	EventsLost    prometheus.Counter
	Drops         *prometheus.CounterVec
	Closes        *prometheus.CounterVec
	Errors        *prometheus.CounterVec
	MatchWait     *prometheus.HistogramVec

	inputDrops []prometheus.Counter // by game.DropReason
	snapOut    prometheus.Counter
	inputIn    prometheus.Counter
}

// NewMetrics creates the collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	tickBuckets := []float64{.0001, .00025, .0005, .001, .002, .004, .008, .016, .033, .066, .1}
	m := &Metrics{
		Sessions:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "arbiter_sessions", Help: "Open WebSocket sessions."}),
		TickDuration:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "arbiter_tick_duration_seconds", Help: "Time one room tick took.", Buckets: tickBuckets}),
		TickLateness:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "arbiter_tick_lateness_seconds", Help: "How late a tick started after its scheduled time.", Buckets: tickBuckets}),
		Overruns:      prometheus.NewCounter(prometheus.CounterOpts{Name: "arbiter_tick_overruns_total", Help: "Ticks that started one interval or more late."}),
		SkippedTicks:  prometheus.NewCounter(prometheus.CounterOpts{Name: "arbiter_ticks_skipped_total", Help: "Ticks skipped because catching up was capped."}),
		InputDrops:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arbiter_input_drops_total", Help: "Inputs a room did not apply, by reason."}, []string{"reason"}),
		InputsLate:    prometheus.NewCounter(prometheus.CounterOpts{Name: "arbiter_inputs_late_total", Help: "Inputs applied after the tick they were meant for."}),
		BytesIn:       prometheus.NewCounter(prometheus.CounterOpts{Name: "arbiter_bytes_in_total", Help: "WebSocket payload bytes received."}),
		BytesOut:      prometheus.NewCounter(prometheus.CounterOpts{Name: "arbiter_bytes_out_total", Help: "WebSocket payload bytes sent."}),
		MessagesIn:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arbiter_messages_in_total", Help: "Messages received, by kind."}, []string{"kind"}),
		MessagesOut:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arbiter_messages_out_total", Help: "Messages sent, by kind."}, []string{"kind"}),
		SnapshotSkips: prometheus.NewCounter(prometheus.CounterOpts{Name: "arbiter_snapshot_skips_total", Help: "Snapshots a slow session skipped to stay on the newest frame."}),
		EventsLost:    prometheus.NewCounter(prometheus.CounterOpts{Name: "arbiter_events_lost_total", Help: "Deltas that could not carry every event because the writer fell behind the event window."}),
		Drops:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arbiter_message_drops_total", Help: "Client messages dropped at the edge, by reason."}, []string{"reason"}),
		Closes:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arbiter_session_closes_total", Help: "Sessions closed, by reason."}, []string{"reason"}),
		Errors:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arbiter_errors_sent_total", Help: "Error messages sent to clients, by code."}, []string{"code"}),
		MatchWait:     prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "arbiter_matchmaker_wait_seconds", Help: "Time from FindMatch to MatchFound.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 12)}, []string{"mode"}),
	}
	for _, r := range game.DropReasons() {
		m.inputDrops = append(m.inputDrops, m.InputDrops.WithLabelValues(r.String()))
	}
	// Pre-create the usual series at zero so dashboards and alerts see them
	// before the first event.
	for _, r := range []string{"client_closed", "connection_lost", "client_error", "idle", "abuse", "slow_consumer",
		"write_timeout", "write_error", "text_frame", "too_big", "bad_message", "hello_required", "protocol_version",
		"replaced", "drain", "drain_forced", "handshake"} {
		m.Closes.WithLabelValues(r)
	}
	for _, r := range []string{"bad_message", "bad_token", "chat_too_long", "input_not_in_room", "input_spectator",
		"invalid_input", "unknown_message", "rate_input", "rate_chat", "rate_match", "rate_ping", "rate_other"} {
		m.Drops.WithLabelValues(r)
	}
	m.snapOut = m.MessagesOut.WithLabelValues("snapshot")
	m.inputIn = m.MessagesIn.WithLabelValues("input")
	if reg != nil {
		reg.MustRegister(m.Sessions, m.TickDuration, m.TickLateness, m.Overruns, m.SkippedTicks,
			m.InputDrops, m.InputsLate, m.BytesIn, m.BytesOut, m.MessagesIn, m.MessagesOut, m.SnapshotSkips,
			m.EventsLost, m.Drops, m.Closes, m.Errors, m.MatchWait)
	}
	return m
}

// TickDone implements game.Observer.
func (m *Metrics) TickDone(d, late time.Duration) {
	m.TickDuration.Observe(d.Seconds())
	m.TickLateness.Observe(late.Seconds())
}

// Overrun implements game.Observer.
func (m *Metrics) Overrun(skipped int) {
	m.Overruns.Inc()
	m.SkippedTicks.Add(float64(skipped))
}

// InputDropped implements game.Observer.
func (m *Metrics) InputDropped(r game.DropReason) {
	if r >= 0 && int(r) < len(m.inputDrops) {
		m.inputDrops[r].Inc()
	}
}

// InputLate implements game.Observer.
func (m *Metrics) InputLate() { m.InputsLate.Inc() }
