package game_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/arbiter-gg/arbiter/game"
	"github.com/arbiter-gg/arbiter/game/arena"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// Eight writer goroutines encode the room's newest frames, each as a delta
// against the last frame it wrote, and apply them to their own View while
// the room keeps ticking the arena with moving, shooting players. The race
// detector checks that frames are safe to share; every view must match the
// full snapshot of the frame it reached.
func TestConcurrentEncodingWhileTicking(t *testing.T) {
	clock := game.NewFakeClock(time.Unix(1_800_000_000, 0))
	r, err := game.New("arena-1", arena.New(arena.Config{}), game.Config{}, game.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- r.Run(ctx) }()

	// Seat eight players, stepping the clock until each join is answered.
	members := make([]*game.Member, 8)
	for i := range members {
		c := make(chan game.JoinResult, 1)
		go func() {
			res, err := r.Join(ctx, fmt.Sprintf("p%d", i), "p")
			if err != nil {
				t.Error(err)
			}
			c <- res
		}()
	wait:
		for {
			select {
			case res := <-c:
				members[i] = res.Member
				break wait
			case <-clock.WaitForTimer():
				at, _ := clock.NextTimer()
				clock.Set(at)
			}
		}
	}

	const ticks = 300
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for v := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var enc game.Encoder
			view := game.NewView()
			var base *game.Frame
			var buf []byte
			for {
				f := r.Latest()
				if f != base {
					buf = enc.AppendSnapshot(buf[:0], f, base, game.Seat(v))
					var m arbiterv1.ServerMessage
					if err := proto.Unmarshal(buf, &m); err != nil {
						t.Error(err)
						return
					}
					if err := view.Apply(m.GetSnapshot()); err != nil {
						t.Errorf("viewer %d: %v", v, err)
						return
					}
					full := game.NewView()
					_ = full.Apply(decode(t, enc.AppendSnapshot(nil, f, nil, game.Seat(v))))
					if fmt.Sprint(full.Entities()) != fmt.Sprint(view.Entities()) {
						t.Errorf("viewer %d tick %d: view differs from full snapshot", v, f.Tick())
						return
					}
					base = f
				}
				select {
				case <-f.Next():
				case <-stop:
					return
				}
			}
		}()
	}
	for n := 0; n < ticks; n++ {
		tick := r.Latest().Tick() + 1
		for i, m := range members {
			m.Submit(game.Input{Seq: uint32(n + 1), Tick: tick, MoveX: int32(127 - (n+i*7)%255), MoveY: int32((n*3+i)%255 - 127), Aim: uint32(n*977+i*8191) % 65536, Buttons: uint32(n % 2)})
		}
		<-clock.WaitForTimer()
		at, _ := clock.NextTimer()
		clock.Set(at)
	}
	close(stop)
	wg.Wait()
	cancel()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.InputsApplied < 8*(ticks-2) {
		t.Fatalf("applied %d inputs, want about %d", st.InputsApplied, 8*ticks)
	}
}

func decode(t testing.TB, b []byte) *arbiterv1.Snapshot {
	var m arbiterv1.ServerMessage
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m.GetSnapshot()
}
