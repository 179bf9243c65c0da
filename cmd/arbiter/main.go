// Command arbiter runs the Arbiter game server: matchmaking, rooms and the
// WebSocket edge on -addr, metrics and profiling on -admin-addr.
//
// Every flag can also be set by an environment variable named ARBITER_ and
// the flag's name in upper case with dashes as underscores (-tick-rate is
// ARBITER_TICK_RATE); a flag on the command line wins.
//
// SIGTERM or SIGINT (or the dashboard's Drain button) drains the server: matchmaking stops, /readyz turns 503,
// running rounds play on until they end or -drain-timeout passes, then
// sessions close with 1001 and the process exits. A second signal exits at
// once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/arbiter-gg/arbiter/net/node"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	if err := run(os.Args[1:], os.Stderr, os.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "arbiter:", err)
		os.Exit(1)
	}
}

type options struct {
	addr, adminAddr, adminToken, secret, origins, logLevel, logFormat, webDir string
	nats, natsEmbed, natsDir, publicURL, nodeID                               string
	tickRate, snapshotEvery, maxPlayers, maxRooms, roundSeconds               int
	drainTimeout, rejoinGrace                                                 time.Duration
}

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (options, error) {
	var o options
	fs := flag.NewFlagSet("arbiter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", ":8080", "public address: WebSocket /v1/connect, /healthz, /readyz and the web client")
	fs.StringVar(&o.adminAddr, "admin-addr", "127.0.0.1:9090", "admin address: /metrics, /debug/pprof and the /dashboard (empty: off)")
	fs.StringVar(&o.adminToken, "admin-token", "", "bearer token for the admin address (/metrics, /debug/pprof, /dashboard); required when -admin-addr is not loopback")
	fs.IntVar(&o.tickRate, "tick-rate", 30, "room simulation ticks per second (10 to 128)")
	fs.IntVar(&o.snapshotEvery, "snapshot-every", 1, "send a snapshot every N ticks")
	fs.IntVar(&o.maxPlayers, "max-players", 0, "most players seated at once across all rooms (0: no limit); when full, tickets wait")
	fs.IntVar(&o.maxRooms, "max-rooms", 0, "most rooms at once (0: no limit); when full, tickets wait")
	fs.StringVar(&o.secret, "secret", "", "token signing key, at least 16 bytes (default: random per process, logged as such)")
	fs.StringVar(&o.origins, "allowed-origins", "", "comma-separated browser origin host patterns allowed besides the server's own host, e.g. 'game.example.com,*.example.org'")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 30*time.Second, "on SIGTERM, how long running rounds may go on before their rooms are closed")
	fs.DurationVar(&o.rejoinGrace, "rejoin-grace", 15*time.Second, "how long a disconnected player keeps the seat")
	fs.IntVar(&o.roundSeconds, "round-seconds", 180, "arena round length in seconds")
	fs.StringVar(&o.webDir, "web-dir", "client-web/dist", "directory of the built web client served at / (a placeholder page when it has no index.html)")
	fs.StringVar(&o.nats, "nats", "", "NATS server URL(s), comma-separated: turns on cluster mode (needs -secret, the same on every node)")
	fs.StringVar(&o.natsEmbed, "nats-embed", "", "run a NATS server with JetStream inside this process on this address, e.g. 127.0.0.1:4222 (development and trials; implies cluster mode)")
	fs.StringVar(&o.natsDir, "nats-dir", "", "JetStream data directory of -nats-embed (default: a new temporary directory)")
	fs.StringVar(&o.publicURL, "public-url", "", "cluster mode: the URL clients reach this node at, e.g. https://eu1.example.com (default: from -addr when it names a host)")
	fs.StringVar(&o.nodeID, "node-id", "", "cluster mode: this node's name in the cluster (default: a random UUID)")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "text or json")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: arbiter [flags]\n\nRuns the Arbiter game server. Every flag may also be set as ARBITER_<NAME> in the environment\n(e.g. ARBITER_TICK_RATE=60); the command line wins.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	// Environment first, so that the command line overrides it.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "ARBITER_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return o, envErr
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", format)
}

func run(args []string, stderr io.Writer, getenv func(string) string) error {
	o, err := parseFlags(args, stderr, getenv)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	var origins []string
	for _, p := range strings.Split(o.origins, ",") {
		if p = strings.TrimSpace(p); p != "" {
			origins = append(origins, p)
		}
	}
	var web fs.FS
	if st, err := os.Stat(o.webDir); err == nil && st.IsDir() {
		web = os.DirFS(o.webDir)
	}
	n, err := node.New(node.Config{
		Addr: o.addr, AdminAddr: o.adminAddr, AdminToken: o.adminToken,
		TickRate: o.tickRate, SnapshotEvery: o.snapshotEvery,
		MaxPlayers: o.maxPlayers, MaxRooms: o.maxRooms,
		Secret: []byte(o.secret), AllowedOrigins: origins,
		DrainTimeout: o.drainTimeout, RejoinGrace: o.rejoinGrace, RoundSeconds: o.roundSeconds,
		Web: web, Version: version, Logger: log,
		NATS: o.nats, NATSEmbed: o.natsEmbed, NATSDir: o.natsDir, PublicURL: o.publicURL, NodeID: o.nodeID,
	})
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		return err
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case s := <-sig:
		log.Info("signal received: draining (send it again to exit at once)", "signal", s.String())
	case <-n.DrainRequested():
		log.Info("drain requested from the dashboard (SIGTERM exits at once)")
	}
	go func() {
		s := <-sig
		log.Warn("second signal: exiting now", "signal", s.String())
		os.Exit(2)
	}()
	// The drain timeout bounds the rooms; closing sessions and listeners
	// gets a little more on top.
	ctx, cancel := context.WithTimeout(context.Background(), o.drainTimeout+10*time.Second)
	defer cancel()
	if err := n.Shutdown(ctx); err != nil {
		log.Warn("shutdown finished with errors", "err", err)
	}
	return nil
}
