package matchmaking

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// group is a set of tickets that would share a new room.
type group struct {
	tickets []*ticket
	players int
}

func (g *group) add(t *ticket) {
	g.tickets = append(g.tickets, t)
	g.players += t.size()
}

// oldest is the enqueue time of the group's oldest ticket.
func (g *group) oldest() time.Time {
	o := g.tickets[0].enqueued
	for _, t := range g.tickets[1:] {
		if t.enqueued.Before(o) {
			o = t.enqueued
		}
	}
	return o
}

// ready reports whether a room should open for g now: it is full, or it has
// MinPlayers and its oldest ticket has waited FillWait.
func (g *group) ready(m Mode, now time.Time) bool {
	if len(g.tickets) == 0 {
		return false
	}
	if g.players >= m.MaxPlayers {
		return true
	}
	return g.players >= m.MinPlayers && now.Sub(g.oldest()) >= m.FillWait
}

// formGroups picks, from the waiting tickets of mode m (oldest first), the
// groups that should get a new room now. It reads only the tickets'
// immutable fields and has no side effects.
func formGroups(m Mode, waiting []*ticket, now time.Time) []group {
	if m.Rated {
		return ratedGroups(m, waiting, now)
	}
	return unratedGroups(m, waiting, now)
}

// unratedGroups takes tickets in age order into a group until it holds
// MaxPlayers players, skipping tickets (parties) that do not fit; the
// skipped tickets then form the next group the same way.
func unratedGroups(m Mode, waiting []*ticket, now time.Time) []group {
	var out []group
	rest := waiting
	for len(rest) > 0 {
		var g group
		var left []*ticket
		for _, t := range rest {
			if g.players+t.size() <= m.MaxPlayers {
				g.add(t)
			} else {
				left = append(left, t)
			}
		}
		if g.ready(m, now) {
			out = append(out, g)
		}
		rest = left
	}
	return out
}

// compatible reports whether tickets a and b accept each other: their
// rating difference is within both windows.
func compatible(a, b *ticket, wa, wb float64) bool {
	return math.Abs(a.rating-b.rating) <= math.Min(wa, wb)
}

// ratedGroups matches the closest compatible pair first: every pair of
// tickets within both windows is a candidate, taken by ascending rating
// difference (older pairs first on ties). A pair seeds a group that grows,
// up to MaxPlayers, with the tickets compatible with every member, closest
// to the group's mean rating first. A ticket big enough on its own (a party)
// is a group by itself.
func ratedGroups(m Mode, waiting []*ticket, now time.Time) []group {
	n := len(waiting)
	win := make([]float64, n)
	for i, t := range waiting {
		win[i] = m.window(now.Sub(t.enqueued))
	}
	type pair struct {
		i, j int
		d    float64
	}
	var pairs []pair
	for i := range n {
		for j := i + 1; j < n; j++ {
			if waiting[i].size()+waiting[j].size() <= m.MaxPlayers && compatible(waiting[i], waiting[j], win[i], win[j]) {
				pairs = append(pairs, pair{i, j, math.Abs(waiting[i].rating - waiting[j].rating)})
			}
		}
	}
	// waiting is oldest first, so a smaller j is an older pair.
	slices.SortStableFunc(pairs, func(a, b pair) int {
		return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.j, b.j), cmp.Compare(a.i, b.i))
	})

	used := make([]bool, n)
	var out []group
	for _, p := range pairs {
		if used[p.i] || used[p.j] {
			continue
		}
		members := []int{p.i, p.j}
		g := group{}
		g.add(waiting[p.i])
		g.add(waiting[p.j])
		for g.players < m.MaxPlayers {
			mean := 0.0
			for _, k := range members {
				mean += waiting[k].rating
			}
			mean /= float64(len(members))
			best, bestD := -1, 0.0
			for k := range n {
				if used[k] || slices.Contains(members, k) || g.players+waiting[k].size() > m.MaxPlayers {
					continue
				}
				ok := true
				for _, x := range members {
					if !compatible(waiting[k], waiting[x], win[k], win[x]) {
						ok = false
						break
					}
				}
				if d := math.Abs(waiting[k].rating - mean); ok && (best < 0 || d < bestD) {
					best, bestD = k, d
				}
			}
			if best < 0 {
				break
			}
			members = append(members, best)
			g.add(waiting[best])
		}
		if g.ready(m, now) {
			for _, k := range members {
				used[k] = true
			}
			out = append(out, g)
		}
	}
	for i, t := range waiting {
		if used[i] {
			continue
		}
		g := group{}
		g.add(t)
		if g.ready(m, now) {
			used[i] = true
			out = append(out, g)
		}
	}
	return out
}
