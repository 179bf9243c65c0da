package game

import arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"

// Roster is who sits where. A frame shares its roster pointer with the
// previous frame while nobody joins, leaves or reconnects, so comparing
// pointers tells a writer whether to send a new roster. Immutable.
type Roster struct {
	Version uint32
	Players []RosterEntry // sorted by seat
}

// RosterEntry is one seated player.
type RosterEntry struct {
	Seat      Seat
	PlayerID  string
	Name      string
	EntityID  uint32
	Connected bool
}

// Proto converts the roster to its wire form.
func (r *Roster) Proto() *arbiterv1.Roster {
	m := &arbiterv1.Roster{Version: r.Version, Players: make([]*arbiterv1.RosterEntry, len(r.Players))}
	for i, p := range r.Players {
		m.Players[i] = &arbiterv1.RosterEntry{Seat: uint32(p.Seat), PlayerId: p.PlayerID, Name: p.Name, EntityId: p.EntityID, Connected: p.Connected}
	}
	return m
}
