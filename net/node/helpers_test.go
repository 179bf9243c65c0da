package node

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/arbiter-gg/arbiter/game"
	"github.com/arbiter-gg/arbiter/net/client"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(runHelperClients())
	}
	goleak.VerifyTestMain(m)
}

// startNode runs a node on loopback ephemeral ports and shuts it down when
// the test ends.
func startNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	cfg.Addr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
	if cfg.Logger == nil && testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = time.Second
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := n.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return n
}

func wsURL(n *Node) string { return "ws://" + n.Addr() + "/v1/connect" }

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func dial(t testing.TB, n *Node, name string, opt client.Options) *client.Client {
	t.Helper()
	opt.Name = name
	c, err := client.Dial(ctxT(t, 10*time.Second), wsURL(n), opt)
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// driver sends one input per tick for a client until stopped, moving in a
// direction of its own that turns every second.
type driver struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func drive(clients []*client.Client, tickRate int) *driver {
	d := &driver{stop: make(chan struct{})}
	for i, c := range clients {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			tk := time.NewTicker(time.Second / time.Duration(tickRate))
			defer tk.Stop()
			dirs := [][2]int32{{127, 0}, {0, 127}, {-127, 0}, {0, -127}, {90, 90}, {-90, 90}, {90, -90}, {-90, -90}}
			for n := 0; ; n++ {
				select {
				case <-d.stop:
					return
				case <-c.Done():
					return
				case <-tk.C:
				}
				dir := dirs[(i+n/tickRate)%len(dirs)]
				st := c.State()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, _ = c.SendInput(ctx, game.Input{Tick: st.Tick + 1, MoveX: dir[0], MoveY: dir[1], Aim: uint32(n*997) % 65536})
				cancel()
			}
		}()
	}
	return d
}

func (d *driver) halt() {
	close(d.stop)
	d.wg.Wait()
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func describe(c *client.Client) string {
	st := c.State()
	return fmt.Sprintf("%s tick=%d ack=%d snaps=%d synced=%v", c.PlayerID()[:8], st.Tick, st.AckSeq, st.SnapshotsReceived, st.Synced)
}

func inputSeq(seq uint32) game.Input { return game.Input{Seq: seq, MoveX: 1} }

func splitPort(addr string) (string, string, error) { return net.SplitHostPort(addr) }
