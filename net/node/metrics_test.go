package node

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/arbiter-gg/arbiter/net/client"
)

// The admin address serves Prometheus metrics covering sessions, rooms,
// players, ticks, traffic, drops, closes and the matchmaker, plus the Go and
// process collectors.
func TestMetricsExposed(t *testing.T) {
	n := startNode(t, Config{})
	a, b, _ := pair(t, n)
	d := drive([]*client.Client{a, b}, 30)
	time.Sleep(500 * time.Millisecond)
	d.halt()
	resp, err := http.Get("http://" + n.AdminAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
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
