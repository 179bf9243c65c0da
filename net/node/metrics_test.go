package node

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/arbiter-gg/arbiter/net/client"
)

// The admin address serves Prometheus metrics covering sessions, rooms,
// players, ticks, traffic, drops, closes and the matchmaker, plus the Go and
// process collectors.
func TestMetricsExposed(t *testing.T) {
	text := playAndScrape(t)
	for _, want := range []string{
		"arbiter_sessions 2", "arbiter_rooms 1", "arbiter_players 2",
		"arbiter_tick_duration_seconds_bucket", "arbiter_tick_lateness_seconds_bucket",
		"arbiter_tick_overruns_total", "arbiter_ticks_skipped_total", "arbiter_inputs_late_total",
		"arbiter_bytes_in_total", "arbiter_bytes_out_total",
		`arbiter_messages_in_total{kind="input"}`, `arbiter_messages_out_total{kind="snapshot"}`,
		"arbiter_snapshot_skips_total", `arbiter_input_drops_total{reason="inbox_full"}`,
		`arbiter_matchmaker_queue_size{mode="arena"}`, `arbiter_matchmaker_wait_seconds_bucket{mode="duel"`,
		"go_goroutines", "process_cpu_seconds_total",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}

// The arena's map is served for clients to render and predict with.
func TestMapServed(t *testing.T) {
	n := startNode(t, Config{})
	resp, err := http.Get("http://" + n.Addr() + "/v1/maps/arena/yard")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Name  string     `json:"name"`
		Scale int        `json:"scale"`
		Walls [][4]int32 `json:"walls"`
		Move  map[string]struct{ MaxSpeed int32 }
	}
	err = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if err != nil || m.Name != "arena/yard" || m.Scale != 8 || len(m.Walls) < 4 || m.Move["30"].MaxSpeed != 58 {
		t.Fatalf("%+v %v", m, err)
	}
	resp, err = http.Get("http://" + n.Addr() + "/v1/maps/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unknown map: %d", resp.StatusCode)
	}
}

// Every metric the Grafana dashboard in docs/deploy queries is one the
// server really exports.
func TestGrafanaDashboardUsesRealMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../docs/deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, line := range strings.Split(playAndScrape(t)+clusterScrape(t), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			exported[strings.Fields(name)[0]] = true
		}
	}
	used := regexp.MustCompile(`\b(?:arbiter|process|go)_[a-z_]+`).FindAllString(string(raw), -1)
	if len(used) < 10 {
		t.Fatalf("only %d metric references found", len(used))
	}
	for _, m := range used {
		base := strings.TrimSuffix(m, "_bucket")
		if !exported[base] {
			t.Errorf("dashboard queries %s, which the server does not export", m)
		}
	}
}

// playAndScrape runs a node with one duel played for half a second and
// returns its /metrics page.
func playAndScrape(t *testing.T) string {
	t.Helper()
	n := startNode(t, Config{})
	a, b, _ := pair(t, n)
	d := drive([]*client.Client{a, b}, 30)
	eventually(t, 5*time.Second, "inputs acked", func() bool { return a.State().AckSeq >= 10 && b.State().AckSeq >= 10 })
	d.halt()
	resp, err := http.Get("http://" + n.AdminAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(body)
}

// clusterScrape returns the /metrics page of a cluster node that placed a
// duel (so that its allocation histogram has samples).
func clusterScrape(t *testing.T) string {
	t.Helper()
	tc := newTestCluster(t)
	n := tc.node("metrics", Config{})
	tc.settled(n)
	players := []*player{{home: n, lobby: dial(t, n, "m1", lobbyOpts)}, {home: n, lobby: dial(t, n, "m2", lobbyOpts)}}
	matchAll(t, players, func(int) string { return "duel" })
	resp, err := http.Get("http://" + n.AdminAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "arbiter_cluster_allocation_seconds_count 1") {
		t.Errorf("one allocation not counted:\n%s", body)
	}
	return string(body)
}
