package matchmaking

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Mode describes how one game mode is matched. Modes are plain values,
// copied into the Matchmaker at New and never changed afterwards.
type Mode struct {
	// Name identifies the mode, e.g. "arena" or "duel"; it is what a
	// client sends in FindMatch.
	Name string
	// MinPlayers is how many players are needed to open a new room. Zero
	// means MaxPlayers.
	MinPlayers int
	// MaxPlayers is the number of seats per room.
	MaxPlayers int
	// Backfill places waiting tickets into running rooms that have enough
	// free seats before new rooms are considered. Backfill ignores ratings.
	Backfill bool
	// Rated matches tickets by rating window (see Window) and makes
	// ReportResult change ratings.
	Rated bool
	// Window is the rating difference a rated ticket accepts when queued.
	Window float64
	// WindowGrowth is added to the window per second of waiting.
	WindowGrowth float64
	// MaxWindow caps the window; zero means no cap.
	MaxWindow float64
	// FillWait is how long a group smaller than MaxPlayers (but with at
	// least MinPlayers) waits for more players, counted from its oldest
	// ticket, before a room opens with it. Zero opens at once.
	FillWait time.Duration
	// Timeout drops a ticket (TimedOut) that has waited this long. Zero
	// means DefaultTimeout.
	Timeout time.Duration
	// Spectate lets players watch this mode's rooms (the operator's
	// dashboard may watch any room).
	Spectate bool
}

// DefaultTimeout is the Timeout of a Mode that sets none.
const DefaultTimeout = 2 * time.Minute

// DefaultModes returns the two bundled modes: "arena", an unrated free for
// all of up to 8 with backfill, and "duel", a rated one-on-one.
func DefaultModes() []Mode {
	return []Mode{
		{
			Name:       "arena",
			MinPlayers: 2,
			MaxPlayers: 8,
			Backfill:   true,
			Spectate:   true,
			FillWait:   2 * time.Second,
			Timeout:    DefaultTimeout,
		},
		{
			Name:         "duel",
			MinPlayers:   2,
			MaxPlayers:   2,
			Rated:        true,
			Window:       100,
			WindowGrowth: 50,
			MaxWindow:    1000,
			Timeout:      DefaultTimeout,
		},
	}
}

// withDefaults returns m with zero fields set to their defaults.
func (m Mode) withDefaults() Mode {
	if m.MinPlayers == 0 {
		m.MinPlayers = m.MaxPlayers
	}
	if m.Timeout == 0 {
		m.Timeout = DefaultTimeout
	}
	return m
}

// Validate reports a mode that cannot be matched.
func (m Mode) Validate() error {
	m = m.withDefaults()
	switch {
	case m.Name == "":
		return errors.New("matchmaking: mode without a name")
	case m.MaxPlayers < 1:
		return fmt.Errorf("matchmaking: mode %q: max players %d < 1", m.Name, m.MaxPlayers)
	case m.MinPlayers < 1 || m.MinPlayers > m.MaxPlayers:
		return fmt.Errorf("matchmaking: mode %q: min players %d outside [1, %d]", m.Name, m.MinPlayers, m.MaxPlayers)
	case m.Timeout < 0 || m.FillWait < 0:
		return fmt.Errorf("matchmaking: mode %q: negative timeout or fill wait", m.Name)
	case m.Rated && (!(m.Window >= 0) || !(m.WindowGrowth >= 0) || !(m.MaxWindow >= 0)):
		return fmt.Errorf("matchmaking: mode %q: negative or NaN rating window", m.Name)
	}
	return nil
}

// window is the rating difference a ticket of this mode accepts after
// waiting for wait: min(MaxWindow, Window + WindowGrowth·seconds). It is
// zero for unrated modes.
func (m Mode) window(wait time.Duration) float64 {
	if !m.Rated {
		return 0
	}
	w := m.Window + m.WindowGrowth*max(wait, 0).Seconds()
	if m.MaxWindow > 0 {
		w = math.Min(w, m.MaxWindow)
	}
	return w
}
