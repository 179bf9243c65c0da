package gateway

import (
	"testing"
	"time"
)

// The dashboard's match waits: the 99th percentile is never below the
// median, also with few matches (two waits gave p99 = the shorter one).
func TestMatchWaitsPercentiles(t *testing.T) {
	var s Server
	if p50, p99 := s.MatchWaits("duel"); p50 != 0 || p99 != 0 {
		t.Fatalf("no waits: %v %v", p50, p99)
	}
	s.waits.add("duel", 24*time.Millisecond)
	s.waits.add("duel", 23*time.Millisecond)
	if p50, p99 := s.MatchWaits("duel"); p50 != 24*time.Millisecond || p99 != 24*time.Millisecond {
		t.Fatalf("two waits: p50 %v p99 %v", p50, p99)
	}
	for i := 1; i <= 100; i++ {
		s.waits.add("arena", time.Duration(i)*time.Millisecond)
	}
	if p50, p99 := s.MatchWaits("arena"); p50 != 51*time.Millisecond || p99 != 99*time.Millisecond {
		t.Fatalf("1..100 ms: p50 %v p99 %v", p50, p99)
	}
	for n := 1; n <= 300; n++ {
		var w Server
		for i := range n {
			w.waits.add("m", time.Duration(n-i)*time.Millisecond)
		}
		if p50, p99 := w.MatchWaits("m"); p99 < p50 {
			t.Fatalf("%d waits: p99 %v below p50 %v", n, p99, p50)
		}
	}
}
