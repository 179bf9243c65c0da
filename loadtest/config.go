// Package loadtest runs headless bots against an Arbiter server (or a bare
// WebSocket "floor" server) and measures what a load tester needs: delivery,
// input-to-acknowledgement latency, bandwidth, match time, reconnects, CPU
// per snapshot on both sides, and the server's tick health.
//
// A run ramps bots up, lets them warm up, then measures for a fixed window;
// CPU and traffic are counted over that window only. Bots play like people:
// they connect, say Hello, find a match through the real matchmaker, wander,
// aim at the nearest enemy and shoot, chat now and then, and send one input
// per server tick, timed from clock sync to arrive just before the tick it
// is meant for (Config.Align).
package loadtest

import (
	"fmt"
	"strings"
	"time"
)

// Config is one load scenario. Zero fields take the defaults noted.
type Config struct {
	// URL is the server's WebSocket URL (ws://127.0.0.1:8080/v1/connect);
	// for a cluster, several nodes' URLs separated by commas: bots connect
	// to them in turn, and follow each MatchFound to the room's node.
	URL string
	// Bots is the number of bots (default 50).
	Bots int
	// Ramp is how many bots connect per second (default 100).
	Ramp float64
	// Warmup runs after the ramp before measuring (default 2 s).
	Warmup time.Duration
	// Duration is the measured window (default 10 s).
	Duration time.Duration
	// Mode is the match mode (default "arena").
	Mode string
	// Seed seeds the bots' brains (default 1).
	Seed uint64
	// MetricsURL is the server's Prometheus endpoint, read at the start and
	// end of the window for server-side figures (optional).
	MetricsURL string
	// Churn is the fraction of bots per minute that drop their socket and
	// reconnect with their session token (0: none).
	Churn float64
	// Latency and Jitter delay each input on the bot side before it is
	// written, to play over a bad network.
	Latency, Jitter time.Duration
	// Align times each input from clock sync to arrive just before its tick
	// (default true via NewConfig; false sends at a free-running rate).
	Align bool
	// Margin is how early an aligned input aims to arrive (default 2 ms).
	Margin time.Duration
	// ChatEvery is the mean time between one bot's chat lines (default
	// 60 s; negative: never).
	ChatEvery time.Duration
	// Floor runs against the bare WebSocket floor server instead (URL then
	// names the floor server).
	Floor bool
	// FloorSnapshotBytes and FloorInputBytes size the floor's messages
	// (defaults: 70 and 16, about Arbiter's in an 8-player room).
	FloorSnapshotBytes, FloorInputBytes int
	// TickRate is the floor server's rate (Arbiter's comes from Welcome;
	// default 30).
	TickRate int
	// Status, if set, receives a one-line status each second.
	Status func(string)
}

// NewConfig returns the defaults (Align on).
func NewConfig() Config {
	return Config{URL: "ws://127.0.0.1:8080/v1/connect", Bots: 50, Ramp: 100, Warmup: 2 * time.Second, Duration: 10 * time.Second, Mode: "arena", Seed: 1, Align: true}
}

func (c Config) withDefaults() Config {
	if c.Bots <= 0 {
		c.Bots = 50
	}
	if c.Ramp <= 0 {
		c.Ramp = 100
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Mode == "" {
		c.Mode = "arena"
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Margin <= 0 {
		c.Margin = 2 * time.Millisecond
	}
	if c.ChatEvery == 0 {
		c.ChatEvery = time.Minute
	}
	if c.FloorSnapshotBytes <= 0 {
		c.FloorSnapshotBytes = 70
	}
	if c.FloorInputBytes < 8 {
		c.FloorInputBytes = 16
	}
	if c.TickRate <= 0 {
		c.TickRate = 30
	}
	return c
}

func (c Config) validate() error {
	if len(c.urls()) == 0 {
		return fmt.Errorf("loadtest: no URL")
	}
	if c.Floor && len(c.urls()) > 1 {
		return fmt.Errorf("loadtest: the floor takes one URL")
	}
	if c.Churn < 0 || c.Churn > 60 {
		return fmt.Errorf("loadtest: churn %v outside [0, 60] per minute", c.Churn)
	}
	return nil
}

// urls splits URL into the nodes' URLs.
func (c Config) urls() []string {
	var out []string
	for _, u := range strings.Split(c.URL, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}
