package loadtest

import (
	"context"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/arbiter-gg/arbiter/net/node"
)

// startCluster runs a NATS server with JetStream in the test process and
// one node per config on it.
func startCluster(t *testing.T, cfgs ...node.Config) []*node.Node {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	var nodes []*node.Node
	for i, cfg := range cfgs {
		cfg.NATS, cfg.Secret, cfg.NodeID = ns.ClientURL(), []byte("loadtest cluster secret"), string(rune('a'+i))
		nodes = append(nodes, startNodeWith(t, cfg))
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range nodes {
		for len(n.Cluster().Status().Nodes) != len(nodes) {
			if time.Now().After(deadline) {
				t.Fatal("the cluster did not form")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nodes
}

// Bots against a two-node cluster, all connected to the first node, which
// has seats for only a few: they follow MatchFound to the second node and
// play there, and the figures are those of a normal run.
func TestClusterRunFollowsEndpoints(t *testing.T) {
	nodes := startCluster(t, node.Config{MaxPlayers: 8}, node.Config{})
	cfg := NewConfig()
	cfg.URL = "ws://" + nodes[0].Addr() + "/v1/connect"
	cfg.Bots, cfg.Ramp, cfg.Warmup, cfg.Duration = 24, 200, 2*time.Second, 3*time.Second
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Matches < 24 || rep.Followed < 16 {
		t.Errorf("%d matches, %d on another node", rep.Matches, rep.Followed)
	}
	if rep.DeliveredRatio < 0.9 || rep.DeliveredRatio > 1.02 {
		t.Errorf("delivered ratio %.4f", rep.DeliveredRatio)
	}
	if rep.AckLatencyMs.P50 <= 0 || rep.MatchTimeMs.P50 <= 0 {
		t.Errorf("ack %+v match %+v", rep.AckLatencyMs, rep.MatchTimeMs)
	}
	for k, v := range rep.Errors {
		t.Errorf("error %s: %d", k, v)
	}
	// Each bot left its seat over its room's connection when the run
	// ended, so the seats free now, not after the 15 s rejoin grace.
	seated := func() (n int) {
		for _, nd := range nodes {
			for _, r := range nd.Allocator().All() {
				n += r.Stats().Players
			}
		}
		return n
	}
	deadline := time.Now().Add(3 * time.Second)
	for seated() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d seats still held 3 s after the run", seated())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d matches (%d followed), delivered %.4f, ack p50 %.2f ms, match p50 %.0f ms", rep.Matches, rep.Followed, rep.DeliveredRatio, rep.AckLatencyMs.P50, rep.MatchTimeMs.P50)
}

// Churning bots in a cluster reconnect to their room's node, not the one
// they first connected to, and get their seats back.
func TestClusterChurnResumesOnRoomNode(t *testing.T) {
	nodes := startCluster(t, node.Config{MaxPlayers: 1}, node.Config{})
	cfg := NewConfig()
	cfg.URL = "ws://" + nodes[0].Addr() + "/v1/connect"
	cfg.Bots, cfg.Ramp, cfg.Warmup, cfg.Duration = 16, 200, time.Second, 4*time.Second
	cfg.Churn = 30 // each bot about every 2 s
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Followed < 16 {
		t.Fatalf("%d of %d matches followed to the second node", rep.Followed, rep.Matches)
	}
	if rep.Reconnects.Tried < 8 || rep.Reconnects.Resumed < rep.Reconnects.Tried*9/10 {
		t.Fatalf("%d of %d reconnects resumed their seat", rep.Reconnects.Resumed, rep.Reconnects.Tried)
	}
}
