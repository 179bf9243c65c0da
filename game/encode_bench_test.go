package game_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arbiter-gg/arbiter/game"
	"github.com/arbiter-gg/arbiter/game/arena"
)

// inputFn is what player i sends at step n.
type inputFn func(i, n int) game.Input

// moving keeps every player running: each heads in its own direction and
// turns around every 40 ticks, so most ticks are at full speed and some are
// accelerating. Aim stays put and nobody fires.
func moving(i, n int) game.Input {
	dirs := [][2]int32{{127, 0}, {0, 127}, {-127, 0}, {0, -127}, {127, 127}, {-127, 127}, {127, -127}, {-127, -127}}
	d := dirs[i%len(dirs)]
	if (n/40)%2 == 1 {
		d = [2]int32{-d[0], -d[1]}
	}
	return game.Input{MoveX: d[0], MoveY: d[1], Aim: uint32(i * 8192)}
}

// action is moving plus aiming around and firing: a busy firefight.
func action(i, n int) game.Input {
	in := moving(i, n)
	in.Aim = uint32((n*1500 + i*8192) % 65536)
	in.Buttons = uint32(n % 2)
	return in
}

// arenaFrames runs an arena room with the given players on a fake clock and
// returns the frames of `keep` consecutive ticks after `warm` ticks.
func arenaFrames(tb testing.TB, players, warm, keep int, input inputFn) []*game.Frame {
	tb.Helper()
	clock := game.NewFakeClock(time.Unix(1_800_000_000, 0))
	r, err := game.New("bench", arena.New(arena.Config{MaxPlayers: players, RoundSeconds: -1}), game.Config{MaxPlayers: players}, game.Options{Clock: clock})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	step := func() {
		f := r.Latest()
		select {
		case <-clock.WaitForTimer():
		case <-r.Done():
			reason, err := r.CloseReason()
			tb.Fatalf("room ended: %v %v", reason, err)
		}
		at, _ := clock.NextTimer()
		clock.Set(at)
		<-f.Next()
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.Latest() == nil {
		if time.Now().After(deadline) {
			tb.Fatal("the room published no frame")
		}
		time.Sleep(time.Millisecond)
	}
	members := make([]*game.Member, players)
	for i := range members {
		c := make(chan *game.Member, 1)
		go func() {
			res, err := r.Join(ctx, fmt.Sprint("p", i), "p")
			if err != nil {
				tb.Error(err)
			}
			c <- res.Member
		}()
		for members[i] == nil {
			select {
			case members[i] = <-c:
			case <-time.After(time.Millisecond):
				step()
			}
		}
	}
	var frames []*game.Frame
	for n := 0; n < warm+keep; n++ {
		tick := r.Latest().Tick() + 1
		for i, m := range members {
			in := input(i, n)
			in.Seq, in.Tick = uint32(n+1), tick
			m.Submit(in)
		}
		step()
		if n >= warm {
			frames = append(frames, r.Latest())
		}
	}
	cancel()
	<-done
	return frames
}

func benchDelta(b *testing.B, players int, input inputFn) {
	frames := arenaFrames(b, players, 60, 241, input)
	var enc game.Encoder
	buf := make([]byte, 0, 64<<10)
	total := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := 1 + i%(len(frames)-1)
		buf = enc.AppendSnapshot(buf[:0], frames[k], frames[k-1], 0)
		total += len(buf)
	}
	b.ReportMetric(float64(total)/float64(b.N), "bytes/snapshot")
}

// BenchmarkDeltaEncode8 is the steady-state job of a session writer: one
// viewer's delta in an 8-player room where everyone is running.
func BenchmarkDeltaEncode8(b *testing.B) { benchDelta(b, 8, moving) }

// BenchmarkDeltaEncode8Action adds aiming and firing (angles, flags,
// cooldown timers and shot events change every tick).
func BenchmarkDeltaEncode8Action(b *testing.B) { benchDelta(b, 8, action) }

// BenchmarkDeltaEncode64 is one viewer in a 64-player room.
func BenchmarkDeltaEncode64(b *testing.B) { benchDelta(b, 64, moving) }

// BenchmarkFullEncode8 is the full snapshot sent after a join or resume.
func BenchmarkFullEncode8(b *testing.B) {
	frames := arenaFrames(b, 8, 60, 60, moving)
	var enc game.Encoder
	buf := make([]byte, 0, 64<<10)
	total := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = enc.AppendSnapshot(buf[:0], frames[i%len(frames)], nil, 0)
		total += len(buf)
	}
	b.ReportMetric(float64(total)/float64(b.N), "bytes/snapshot")
}
