package matchmaking

import (
	"math"
	"sync"
)

// Ratings stores players' ratings. Implementations must be safe for
// concurrent use; a player never rated has none (ok false).
type Ratings interface {
	Rating(player string) (r float64, ok bool)
	SetRatings(ratings map[string]float64)
}

// MemoryRatings keeps ratings in this process's memory.
type MemoryRatings struct {
	mu sync.Mutex // guards m
	m  map[string]float64
}

// NewMemoryRatings returns an empty in-memory store.
func NewMemoryRatings() *MemoryRatings { return &MemoryRatings{m: map[string]float64{}} }

// Rating returns the player's rating.
func (s *MemoryRatings) Rating(player string) (float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[player]
	return r, ok
}

// SetRatings stores new ratings.
func (s *MemoryRatings) SetRatings(ratings map[string]float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, r := range ratings {
		s.m[p] = r
	}
}

// Elo parameters used by ReportResult.
const (
	DefaultRating = 1500.0
	// EloK is the K factor of a two-player game; with more players each
	// pairwise result counts K/(n-1), so a player's total change stays on
	// the same scale.
	EloK = 32.0
)

// Rating returns the player's rating (DefaultRating for a player never
// rated). Safe for concurrent use.
func (m *Matchmaker) Rating(playerID string) float64 {
	if r, ok := m.ratings.Rating(playerID); ok {
		return r
	}
	return DefaultRating
}

// ReportResult updates ratings after a game of mode. ranking lists the
// players best first; the players of one inner slice tied. Only Rated modes
// change ratings (an unrated mode's result, or an unknown mode's, is
// ignored); a player has one rating shared by every rated mode.
//
// The update is multi-player Elo: every pair of players is a game won,
// lost or drawn, with expected score 1/(1+10^((Rb-Ra)/400)); each player's
// change is K/(n-1) times the sum over opponents of (score - expected),
// computed from the ratings before the game, so the sum of ratings is
// conserved. Empty and repeated IDs are skipped; fewer than two players
// change nothing. Safe for concurrent use; concurrent ReportResult calls
// of one Matchmaker are serialised (several matchmakers sharing a store
// may interleave).
func (m *Matchmaker) ReportResult(mode string, ranking [][]string) {
	md, ok := m.mode(mode)
	if !ok || !md.Rated {
		return
	}
	type entry struct {
		id   string
		rank int
	}
	var es []entry
	seen := map[string]bool{}
	for rank, tier := range ranking {
		for _, id := range tier {
			if id == "" || seen[id] {
				continue
			}
			seen[id] = true
			es = append(es, entry{id, rank})
		}
	}
	n := len(es)
	if n < 2 {
		return
	}
	m.ratingMu.Lock()
	defer m.ratingMu.Unlock()
	old := make([]float64, n)
	for i, e := range es {
		old[i] = m.Rating(e.id)
	}
	updated := make(map[string]float64, n)
	k := EloK / float64(n-1)
	for i, e := range es {
		delta := 0.0
		for j, o := range es {
			if i == j {
				continue
			}
			score := 0.5
			if e.rank < o.rank {
				score = 1
			} else if e.rank > o.rank {
				score = 0
			}
			delta += score - expected(old[i], old[j])
		}
		updated[e.id] = old[i] + k*delta
	}
	m.ratings.SetRatings(updated)
}

// expected is the Elo expected score of a player rated a against b.
func expected(a, b float64) float64 {
	return 1 / (1 + math.Pow(10, (b-a)/400))
}
