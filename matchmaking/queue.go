package matchmaking

import "slices"

// queue holds the tickets waiting in one mode, oldest first. It has no lock
// of its own: every queue is guarded by Matchmaker.mu.
type queue struct {
	mode    Mode
	tickets []*ticket // oldest first (ascending seq)
	players int       // players in tickets
}

// add appends t, which is younger than every ticket queued.
func (q *queue) add(t *ticket) {
	q.tickets = append(q.tickets, t)
	q.players += t.size()
}

// remove takes t out of the queue and marks it removed. It reports false if
// t had already gone.
func (q *queue) remove(t *ticket) bool {
	if t.removed {
		return false
	}
	i := slices.Index(q.tickets, t)
	if i < 0 {
		return false
	}
	q.tickets = slices.Delete(q.tickets, i, i+1)
	q.players -= t.size()
	t.removed = true
	return true
}

// snapshot returns a copy of the queued tickets, oldest first.
func (q *queue) snapshot() []*ticket { return slices.Clone(q.tickets) }
