package matchmaking

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// Errors of the party registry.
var (
	ErrPartyNotFound = errors.New("matchmaking: party not found")
	ErrPartyFull     = errors.New("matchmaking: party is full")
	// ErrNotLeader is for the gateway to return when a party member who
	// is not the leader asks to queue the party.
	ErrNotLeader = errors.New("matchmaking: only the party leader can queue the party")
	ErrBadPlayer = errors.New("matchmaking: bad player")
)

// Party codes.
const (
	// DefaultPartySize is the largest party NewParties allows by default.
	DefaultPartySize = 8
	// CodeAlphabet holds the characters of a party code: upper-case
	// letters and digits without the easily confused 0, O, 1 and I. Its
	// 32 characters divide 256, so codes are uniform.
	CodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	// CodeLength is the length of a party code.
	CodeLength = 6
)

// PartyState is a party as its members see it. A PartyState with an empty
// Code tells a player that it is no longer in a party.
type PartyState struct {
	Code     string
	LeaderID string
	// Members in join order; the leader is one of them.
	Members []Player
}

// Parties is the registry of parties: groups of players who queue together
// under a short join code. It is safe for concurrent use and has no
// goroutine.
//
// Notifications: every member's notify func gets the new PartyState after
// each change of its party, called from the goroutine that made the change,
// never under the registry's lock; deliveries are serialised so every member
// sees the states in order. notify MUST NOT block and MUST NOT call the
// mutating methods (Create, Join, Leave); Of and TicketFor are fine.
type Parties struct {
	maxSize int

	mu       sync.Mutex // guards rand, byCode, byPlayer and every party
	rand     io.Reader
	byCode   map[string]*party
	byPlayer map[string]*party

	// sendMu orders deliveries: taken while mu is held, then mu is
	// released and notify runs under sendMu alone.
	sendMu sync.Mutex
}

type party struct {
	code    string
	leader  string
	members []partyMember // join order
}

type partyMember struct {
	Player
	notify func(PartyState)
}

type partyDelivery struct {
	notify func(PartyState)
	s      PartyState
}

// NewParties returns an empty registry whose parties hold at most maxSize
// players (DefaultPartySize if maxSize < 1). Codes are drawn from random
// (crypto/rand if nil).
func NewParties(maxSize int, random io.Reader) *Parties {
	if maxSize < 1 {
		maxSize = DefaultPartySize
	}
	if random == nil {
		random = rand.Reader
	}
	return &Parties{maxSize: maxSize, rand: random, byCode: map[string]*party{}, byPlayer: map[string]*party{}}
}

// Create makes a party led by leader and returns its code; the leader gets
// its PartyState. A player already in a party leaves it first.
func (p *Parties) Create(leader Player, notify func(PartyState)) (code string, err error) {
	if leader.ID == "" {
		return "", fmt.Errorf("%w: empty id", ErrBadPlayer)
	}
	p.mu.Lock()
	ds := p.leaveLocked(leader.ID, nil)
	code, err = p.newCodeLocked()
	if err != nil {
		p.unlockAndSend(ds)
		return "", err
	}
	pt := &party{code: code, leader: leader.ID, members: []partyMember{{leader, orNop(notify)}}}
	p.byCode[code] = pt
	p.byPlayer[leader.ID] = pt
	ds = pt.broadcast(ds)
	p.unlockAndSend(ds)
	return code, nil
}

// Join adds pl to the party with code (case-insensitive) and sends the new
// state to every member. A player in another party leaves it first; a
// player already in this one just gets the state again (with notify
// replaced). Errors: ErrPartyNotFound, ErrPartyFull.
func (p *Parties) Join(code string, pl Player, notify func(PartyState)) error {
	if pl.ID == "" {
		return fmt.Errorf("%w: empty id", ErrBadPlayer)
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	p.mu.Lock()
	pt := p.byCode[code]
	if pt == nil {
		p.mu.Unlock()
		return ErrPartyNotFound
	}
	if i := pt.index(pl.ID); i >= 0 {
		pt.members[i] = partyMember{pl, orNop(notify)}
		p.unlockAndSend([]partyDelivery{{pt.members[i].notify, pt.state()}})
		return nil
	}
	if len(pt.members) >= p.maxSize {
		p.mu.Unlock()
		return ErrPartyFull
	}
	ds := p.leaveLocked(pl.ID, nil)
	pt.members = append(pt.members, partyMember{pl, orNop(notify)})
	p.byPlayer[pl.ID] = pt
	ds = pt.broadcast(ds)
	p.unlockAndSend(ds)
	return nil
}

// Leave takes the player out of its party, if any. A leaving leader hands
// the lead to the member who joined earliest; the last member leaving
// dissolves the party (its code becomes free). The remaining members get the
// new state and the leaver a PartyState with an empty Code.
func (p *Parties) Leave(playerID string) {
	p.mu.Lock()
	ds := p.leaveLocked(playerID, nil)
	p.unlockAndSend(ds)
}

// Of returns the state of the player's party.
func (p *Parties) Of(playerID string) (PartyState, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pt := p.byPlayer[playerID]
	if pt == nil {
		return PartyState{}, false
	}
	return pt.state(), true
}

// TicketFor returns what the gateway needs to queue the player: the members
// of its party (for a Ticket), whether the player leads it, and whether it
// is in a party at all. A player in no party gets (nil, false, false) and
// queues alone; a member who is not the leader should get ErrNotLeader.
func (p *Parties) TicketFor(playerID string) (players []Player, isLeader bool, inParty bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pt := p.byPlayer[playerID]
	if pt == nil {
		return nil, false, false
	}
	return pt.players(), pt.leader == playerID, true
}

// leaveLocked removes the player from its party and appends the
// notifications. p.mu must be held.
func (p *Parties) leaveLocked(playerID string, ds []partyDelivery) []partyDelivery {
	pt := p.byPlayer[playerID]
	if pt == nil {
		return ds
	}
	i := pt.index(playerID)
	leaver := pt.members[i]
	pt.members = slices.Delete(pt.members, i, i+1)
	delete(p.byPlayer, playerID)
	ds = append(ds, partyDelivery{leaver.notify, PartyState{}})
	if len(pt.members) == 0 {
		delete(p.byCode, pt.code)
		return ds
	}
	if pt.leader == playerID {
		pt.leader = pt.members[0].ID
	}
	return pt.broadcast(ds)
}

// newCodeLocked draws a code no party uses. p.mu must be held.
func (p *Parties) newCodeLocked() (string, error) {
	var b [CodeLength]byte
	for range 64 {
		if _, err := io.ReadFull(p.rand, b[:]); err != nil {
			return "", fmt.Errorf("matchmaking: party code: %w", err)
		}
		for i := range b {
			b[i] = CodeAlphabet[int(b[i])%len(CodeAlphabet)]
		}
		if code := string(b[:]); p.byCode[code] == nil {
			return code, nil
		}
	}
	return "", errors.New("matchmaking: no free party code after 64 draws")
}

// unlockAndSend releases p.mu and delivers ds in order under sendMu.
// p.mu must be held.
func (p *Parties) unlockAndSend(ds []partyDelivery) {
	if len(ds) == 0 {
		p.mu.Unlock()
		return
	}
	p.sendMu.Lock()
	p.mu.Unlock()
	defer p.sendMu.Unlock()
	for _, d := range ds {
		d.notify(d.s)
	}
}

func (pt *party) index(playerID string) int {
	return slices.IndexFunc(pt.members, func(m partyMember) bool { return m.ID == playerID })
}

func (pt *party) players() []Player {
	out := make([]Player, len(pt.members))
	for i, m := range pt.members {
		out[i] = m.Player
	}
	return out
}

func (pt *party) state() PartyState {
	return PartyState{Code: pt.code, LeaderID: pt.leader, Members: pt.players()}
}

// broadcast appends the party's state for every member.
func (pt *party) broadcast(ds []partyDelivery) []partyDelivery {
	for _, m := range pt.members {
		ds = append(ds, partyDelivery{m.notify, pt.state()}) // a copy each
	}
	return ds
}

func orNop(f func(PartyState)) func(PartyState) {
	if f == nil {
		return func(PartyState) {}
	}
	return f
}

// ByCode returns the state of the party with the given code, if it exists.
func (p *Parties) ByCode(code string) (PartyState, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pt := p.byCode[code]
	if pt == nil {
		return PartyState{}, false
	}
	return pt.state(), true
}
