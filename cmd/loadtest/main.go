// Command loadtest runs headless bots against an Arbiter server and reports
// delivery, latency, bandwidth and tick health; with -floor it also runs the
// same load through a bare WebSocket server in a separate process and
// reports Arbiter's figures beside it, with ratios.
//
//	loadtest -url ws://127.0.0.1:8080/v1/connect -bots 400 -duration 30s \
//	    -metrics-url http://127.0.0.1:9090/metrics -floor -html report.html
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/arbiter-gg/arbiter/loadtest"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type flags struct {
	cfg                     loadtest.Config
	jsonOut, htmlOut        string
	floor, findCap          bool
	capStep, capMax         int
	floorServe              string
	floorSnapBytes, floorIn int
	cpuProfile              string
}

func parse(args []string, stderr io.Writer) (flags, error) {
	f := flags{cfg: loadtest.NewConfig()}
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &f.cfg
	fs.StringVar(&c.URL, "url", c.URL, "server WebSocket URL; for a cluster, several nodes' URLs separated by commas (bots spread over them and follow each match to its room's node)")
	fs.IntVar(&c.Bots, "bots", c.Bots, "number of bots")
	fs.Float64Var(&c.Ramp, "ramp", c.Ramp, "bots connecting per second")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "measured window")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "time after the ramp before measuring")
	fs.StringVar(&c.Mode, "mode", c.Mode, "match mode")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed for the bots' brains")
	fs.StringVar(&c.MetricsURL, "metrics-url", "", "the server's /metrics, for server-side figures (e.g. http://127.0.0.1:9090/metrics)")
	fs.StringVar(&f.jsonOut, "json", "", "write the JSON report to this file")
	fs.StringVar(&f.htmlOut, "html", "", "write the HTML report to this file")
	fs.Float64Var(&c.Churn, "churn", 0, "fraction of bots per minute that drop their socket and reconnect")
	fs.DurationVar(&c.Latency, "latency", 0, "delay added to each input on the bot side")
	fs.DurationVar(&c.Jitter, "jitter", 0, "random ± delay added on top of -latency")
	fs.BoolVar(&f.findCap, "find-capacity", false, "step the bot count up from -bots until delivery < 99.5% or ack p99 > 50 ms; report the last count that held")
	fs.IntVar(&f.capStep, "capacity-step", 200, "bots added per capacity step")
	fs.IntVar(&f.capMax, "capacity-max", 4000, "largest bot count the capacity search tries")
	fs.BoolVar(&c.Align, "align", true, "time inputs from clock sync to arrive just before their tick (false: free-running)")
	fs.BoolVar(&f.floor, "floor", false, "also run the same load through a bare WebSocket server (a separate process) and report ratios")
	fs.StringVar(&f.floorServe, "floor-serve", "", "internal: serve the floor on this address")
	fs.IntVar(&f.floorSnapBytes, "floor-snapshot-bytes", 0, "internal/override: floor message size (default: Arbiter's measured snapshot size)")
	fs.IntVar(&f.floorIn, "floor-input-bytes", 0, "internal/override: floor input size (default: Arbiter's measured input size)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write the loadtest's own CPU profile to this file")
	err := fs.Parse(args)
	return f, err
}

func run(args []string, stdout, stderr io.Writer) error {
	f, err := parse(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.floorServe != "" {
		return serveFloor(ctx, f, stdout)
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cfg := f.cfg
	cfg.Status = func(s string) { fmt.Fprintln(stderr, s) }
	fmt.Fprintf(stderr, "loadtest: %d bots against %s, ramp %.0f/s, warm-up %v, window %v, aligned %v\n", cfg.Bots, cfg.URL, cfg.Ramp, cfg.Warmup, cfg.Duration, cfg.Align)

	if f.findCap {
		best, steps, err := loadtest.FindCapacity(ctx, cfg, f.capStep, f.capMax, loadtest.CapacityTarget{}, func(s string) { fmt.Fprintln(stderr, s) })
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "capacity: %d bots held (≥ 99.5%% delivered, ack p99 ≤ 50 ms)\n", best)
		if f.jsonOut != "" {
			return writeFile(f.jsonOut, func(w io.Writer) error {
				e := json.NewEncoder(w)
				e.SetIndent("", "  ")
				return e.Encode(map[string]any{"capacity": best, "steps": steps})
			})
		}
		return nil
	}

	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	var floor *loadtest.Report
	if f.floor {
		floor, err = runFloor(ctx, f, rep, stderr)
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
	}
	fmt.Fprintln(stdout)
	rep.Table(stdout, floor)
	if f.jsonOut != "" {
		if err := writeFile(f.jsonOut, func(w io.Writer) error {
			if floor == nil {
				return rep.WriteJSON(w)
			}
			e := json.NewEncoder(w)
			e.SetIndent("", "  ")
			return e.Encode(map[string]any{"arbiter": rep, "floor": floor})
		}); err != nil {
			return err
		}
	}
	if f.htmlOut != "" {
		if err := writeFile(f.htmlOut, rep.WriteHTML); err != nil {
			return err
		}
		if floor != nil {
			if err := writeFile(strings.TrimSuffix(f.htmlOut, ".html")+".floor.html", floor.WriteHTML); err != nil {
				return err
			}
		}
	}
	return nil
}

// runFloor starts the floor server as a child process (this binary with
// -floor-serve) and runs the same load through it.
func runFloor(ctx context.Context, f flags, arb *loadtest.Report, stderr io.Writer) (*loadtest.Report, error) {
	snap, in := f.floorSnapBytes, f.floorIn
	if snap == 0 && arb.SnapshotsReceived > 0 && arb.DeliveredRatio > 0 {
		// Arbiter's average snapshot payload: downstream bytes per snapshot.
		snap = int(arb.DownBytesPerBotS / (float64(arb.SnapshotsReceived) / arb.DurationS / float64(arb.Bots)))
	}
	if in == 0 && arb.UpBytesPerBotS > 0 {
		in = int(arb.UpBytesPerBotS / 30)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-floor-serve", "127.0.0.1:0", "-floor-snapshot-bytes", fmt.Sprint(max(snap, 8)))
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(out)
	addr := ""
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "floor listening "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		return nil, errors.New("floor server did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	cfg := f.cfg
	cfg.Floor = true
	cfg.URL = "ws://" + addr + "/"
	cfg.MetricsURL = "http://" + addr + "/metrics"
	cfg.FloorSnapshotBytes, cfg.FloorInputBytes = snap, in
	cfg.Status = func(s string) { fmt.Fprintln(stderr, "floor", s) }
	fmt.Fprintf(stderr, "loadtest: floor at %s: %d-byte messages, %d-byte inputs\n", addr, snap, in)
	return loadtest.Run(ctx, cfg)
}

func serveFloor(ctx context.Context, f flags, stdout io.Writer) error {
	ln, err := net.Listen("tcp", f.floorServe)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "floor listening", ln.Addr().String())
	tick := f.cfg.TickRate
	if tick == 0 {
		tick = 30
	}
	return loadtest.ServeFloor(ctx, ln, tick, f.floorSnapBytes)
}

func writeFile(path string, write func(io.Writer) error) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(fh); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
