package matchmaking

import "math"

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
	m.ratingMu.Lock()
	defer m.ratingMu.Unlock()
	if r, ok := m.ratings[playerID]; ok {
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
// change nothing. Safe for concurrent use.
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
		old[i] = DefaultRating
		if r, ok := m.ratings[e.id]; ok {
			old[i] = r
		}
	}
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
		m.ratings[e.id] = old[i] + k*delta
	}
}

// expected is the Elo expected score of a player rated a against b.
func expected(a, b float64) float64 {
	return 1 / (1 + math.Pow(10, (b-a)/400))
}
