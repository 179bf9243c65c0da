package cluster

import (
	"context"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/arbiter-gg/arbiter/game"
	"github.com/arbiter-gg/arbiter/game/arena"
	"github.com/arbiter-gg/arbiter/matchmaking"
)

// BenchmarkPlacement measures what a mode's matchmaker spends, in NATS
// round trips, to open a room on a node and reserve its seats: one
// allocation request and one reservation request to a node (this one, over
// a real NATS server on loopback), as for every new duel room.
func BenchmarkPlacement(b *testing.B) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: b.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		b.Fatal("NATS did not start")
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	alloc := matchmaking.NewLocal(matchmaking.LocalConfig{
		NewGame: func(m matchmaking.Mode, _ string) (game.Game, game.Config, error) {
			return arena.New(arena.Config{TickRate: 30, MaxPlayers: m.MaxPlayers, RoundSeconds: 60, Seed: 1}), game.Config{TickRate: 30, MaxPlayers: m.MaxPlayers}, nil
		},
	}, nil, nil)
	defer alloc.Close()
	c, err := New(Config{NodeID: "bench", Modes: matchmaking.DefaultModes(), Alloc: alloc})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background(), nc, "ws://127.0.0.1:1/v1/connect"); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	duel, _ := c.mode("duel")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		room, err := c.placer.Allocate(ctx, duel)
		if err != nil {
			b.Fatal(err)
		}
		if !room.Reserve([]string{"p1", "p2"}) {
			b.Fatal("reservation refused")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/room")
}
