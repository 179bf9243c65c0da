package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/arbiter-gg/arbiter/net/node"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func startNode(t *testing.T) *node.Node { return startNodeWith(t, node.Config{}) }

// startNodeWith runs a node with cfg on loopback ephemeral ports until the
// test ends.
func startNodeWith(t *testing.T, cfg node.Config) *node.Node {
	t.Helper()
	cfg.Addr, cfg.AdminAddr, cfg.DrainTimeout = "127.0.0.1:0", "127.0.0.1:0", time.Second
	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = n.Shutdown(ctx)
	})
	return n
}

func metric(t *testing.T, url, name string) float64 {
	t.Helper()
	s, err := readMetricsNamed(context.Background(), url, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A short run against an in-process server: every figure is present and
// plausible, and aligned inputs reach the server before their tick.
func TestShortRunFigures(t *testing.T) {
	n := startNode(t)
	murl := "http://" + n.AdminAddr() + "/metrics"
	late0 := metric(t, murl, "arbiter_inputs_late_total")
	in0 := metric(t, murl, `arbiter_messages_in_total{kind="input"}`)
	cfg := NewConfig()
	cfg.URL = "ws://" + n.Addr() + "/v1/connect"
	cfg.Bots, cfg.Ramp, cfg.Warmup, cfg.Duration = 48, 200, time.Second, 3*time.Second
	cfg.MetricsURL = murl
	cfg.ChatEvery = 5 * time.Second
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	late := metric(t, murl, "arbiter_inputs_late_total") - late0
	inputs := metric(t, murl, `arbiter_messages_in_total{kind="input"}`) - in0

	if rep.Bots != 48 || !rep.Aligned || rep.DurationS < 2.9 {
		t.Errorf("scenario %+v", rep)
	}
	if rep.DeliveredRatio < 0.95 || rep.DeliveredRatio > 1.02 {
		t.Errorf("delivered ratio %.4f", rep.DeliveredRatio)
	}
	if rep.SnapshotsReceived == 0 || rep.SnapshotsExpected == 0 {
		t.Errorf("snapshots %d of %.0f", rep.SnapshotsReceived, rep.SnapshotsExpected)
	}
	a := rep.AckLatencyMs
	if a.P50 <= 0 || a.P50 > 1000 || a.P99 < a.P50 || a.P999 < a.P99 || a.Max < a.P999 || a.Max > 1000 {
		t.Errorf("ack latency %+v", a)
	}
	if rep.SnapshotIntervalMs.P50 < 20 || rep.SnapshotIntervalMs.P50 > 50 {
		t.Errorf("snapshot interval %+v", rep.SnapshotIntervalMs)
	}
	if rep.DownBytesPerBotS <= 0 || rep.UpBytesPerBotS <= 0 || rep.BotCPUUsPerSnapshot <= 0 || rep.BotMemoryBytes <= 0 {
		t.Errorf("bytes %.0f/%.0f cpu %.1f mem %.0f", rep.DownBytesPerBotS, rep.UpBytesPerBotS, rep.BotCPUUsPerSnapshot, rep.BotMemoryBytes)
	}
	if rep.MatchTimeMs.P50 <= 0 {
		t.Errorf("match time %+v", rep.MatchTimeMs)
	}
	if s := rep.Server; s == nil || s.CPUSeconds <= 0 || s.RSSBytes <= 0 || s.CPUUsPerSnapshot <= 0 || s.TickMsP99 <= 0 || s.TickLatenessMsP99 < 0 {
		t.Errorf("server figures %+v", rep.Server)
	}
	if len(rep.Series) < 2 {
		t.Errorf("latency series %v", rep.Series)
	}
	for k, v := range rep.Errors {
		t.Errorf("error %s: %d", k, v)
	}
	// Aligned inputs arrive before the tick they name: the server counts
	// very few as late.
	if inputs < 1000 || late > inputs*0.10 {
		t.Errorf("server counted %.0f of %.0f inputs late", late, inputs)
	}
	t.Logf("delivered %.4f, ack p50 %.2f p99 %.2f ms, late inputs %.0f/%.0f, bot CPU %.1f µs/snapshot", rep.DeliveredRatio, a.P50, a.P99, late, inputs, rep.BotCPUUsPerSnapshot)
}

// Churning bots drop their sockets and come back into their seats.
func TestChurnResumesSeats(t *testing.T) {
	n := startNode(t)
	cfg := NewConfig()
	cfg.URL = "ws://" + n.Addr() + "/v1/connect"
	cfg.Bots, cfg.Ramp, cfg.Warmup, cfg.Duration = 16, 200, time.Second, 4*time.Second
	cfg.Churn = 30 // each bot about every 2 s
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reconnects.Tried < 8 {
		t.Fatalf("only %d reconnects", rep.Reconnects.Tried)
	}
	if rep.Reconnects.Resumed < rep.Reconnects.Tried*9/10 {
		t.Fatalf("%d of %d reconnects resumed their seat", rep.Reconnects.Resumed, rep.Reconnects.Tried)
	}
}

// The floor reports the same JSON keys as Arbiter.
func TestFloorSameKeys(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = ServeFloor(ctx, ln, 30, 70) }()
	defer func() { cancel(); wg.Wait() }()
	cfg := NewConfig()
	cfg.Floor = true
	cfg.URL = "ws://" + ln.Addr().String() + "/"
	cfg.MetricsURL = "http://" + ln.Addr().String() + "/metrics"
	cfg.Bots, cfg.Warmup, cfg.Duration = 20, 500*time.Millisecond, 2*time.Second
	floor, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if floor.DeliveredRatio < 0.95 || floor.AckLatencyMs.P50 <= 0 || floor.Server == nil || floor.Server.CPUUsPerSnapshot <= 0 {
		t.Fatalf("floor figures %+v %+v", floor, floor.Server)
	}
	arb := &Report{Server: &ServerFigures{}}
	if a, b := keys(t, arb), keys(t, floor); a != b {
		t.Fatalf("floor keys\n%s\narbiter keys\n%s", b, a)
	}
}

func keys(t *testing.T, r *Report) string {
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(buf.Bytes(), &m)
	var ks []string
	for k, v := range m {
		ks = append(ks, k)
		if sub, ok := v.(map[string]any); ok && k == "server" {
			for sk := range sub {
				ks = append(ks, k+"."+sk)
			}
		}
	}
	return strings.Join(sortStrings(ks), " ")
}

func TestHTMLReportNamesItsPlots(t *testing.T) {
	r := &Report{Kind: "arbiter", Bots: 3, Aligned: true, Errors: map[string]uint64{},
		AckLatencyMs: Percentiles{P50: 2, P99: 5, P999: 7, Max: 9},
		Series:       []seriesPoint{{T: 0, P50: 2, P99: 4}, {T: 1, P50: 3, P99: 6}},
		hist:         []histBar{{From: 1, To: 2, Count: 5}, {From: 4, To: 5, Count: 1}},
		Server:       &ServerFigures{CPUSeconds: 1}}
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"<svg", "Ack latency over time", "Ack latency histogram", "<polyline", "<rect", "delivered_ratio"} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	// Self-contained: no scripts, nothing loaded from elsewhere.
	for _, bad := range []string{"<script", `src="http`, `href="http`, "<link", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("report is not self-contained: it has %q", bad)
		}
	}
}
