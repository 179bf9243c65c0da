package node

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/arbiter-gg/arbiter/net/client"
)

// helperEnv makes the test binary act as a client process for
// BenchmarkLoopback: "url count seconds".
const helperEnv = "ARBITER_BENCH_CLIENTS"

// runHelperClients plays count arena clients against url for the given
// time, then prints how many snapshots they received.
func runHelperClients() int {
	f := strings.Fields(os.Getenv(helperEnv))
	url := f[0]
	count, _ := strconv.Atoi(f[1])
	secs, _ := strconv.Atoi(f[2])
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+20)*time.Second)
	defer cancel()
	clients := make([]*client.Client, count)
	var wg sync.WaitGroup
	for i := range clients {
		c, err := client.Dial(ctx, url, client.Options{Name: fmt.Sprint("bot", i)})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		clients[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Play(ctx, "arena"); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}()
	}
	wg.Wait()
	d := drive(clients, 30)
	time.Sleep(time.Duration(secs) * time.Second)
	d.halt()
	var total uint64
	for _, c := range clients {
		total += c.State().SnapshotsReceived
		_ = c.Close()
	}
	fmt.Println("snapshots", total)
	return 0
}

// BenchmarkLoopback runs a node in this process and 32 real WebSocket
// clients (4 arena rooms of 8, each sending 30 inputs/s) in a child
// process, so that this process's CPU time is the server's own. It reports
// server CPU time and heap allocations per snapshot delivered.
func BenchmarkLoopback(b *testing.B) {
	const players, window = 32, 5 * time.Second
	for range b.N {
		n := startNode(b, Config{})
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d", helperEnv, wsURL(n), players, int(window.Seconds())+4))
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		seated := func() bool {
			total := 0
			for _, r := range n.Allocator().All() {
				total += r.Stats().Players
			}
			return total == players
		}
		eventually(b, 20*time.Second, "all players seated", seated)
		time.Sleep(time.Second) // warm up
		snapOut := n.met.MessagesOut.WithLabelValues("snapshot")
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		cpu0, s0, t0 := processCPU(), testutil.ToFloat64(snapOut), time.Now()
		time.Sleep(window)
		cpu1, s1, t1 := processCPU(), testutil.ToFloat64(snapOut), time.Now()
		runtime.ReadMemStats(&ms1)
		sc := bufio.NewScanner(out)
		var got string
		for sc.Scan() {
			got = sc.Text()
		}
		if err := cmd.Wait(); err != nil {
			b.Fatalf("client process: %v", err)
		}
		snaps := s1 - s0
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/snaps, "server-cpu-µs/snapshot")
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/snaps, "allocs/snapshot")
		b.ReportMetric(snaps/t1.Sub(t0).Seconds(), "snapshots/s")
		b.Logf("%d players, %d rooms; clients reported %q", players, len(n.Allocator().All()), got)
	}
}
