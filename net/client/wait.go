package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// wait blocks until check, called with c.mu held after every message the
// reader processes, reports done or an error, or until ctx is done or the
// connection ends. check sees the messages that arrived before the end.
func (c *Client) wait(ctx context.Context, check func() (bool, error)) error {
	for {
		c.mu.Lock()
		done, err := check()
		if done || err != nil {
			c.mu.Unlock()
			return err
		}
		if c.ended {
			err := c.endErr
			c.mu.Unlock()
			return fmt.Errorf("%w: %w", ErrClosed, err)
		}
		if c.notify == nil {
			c.notify = make(chan struct{})
		}
		ch := c.notify
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("client: %w", ctx.Err())
		}
	}
}

// requestError reports whether an Error with this code can answer a request
// (FindMatch, JoinRoom, PartyCreate, PartyJoin). The others answer inputs,
// chat and LeaveRoom, which a test may send while a request is pending.
func requestError(code arbiterv1.ErrorCode) bool {
	switch code {
	case arbiterv1.ErrorCode_ERROR_CODE_INVALID_INPUT,
		arbiterv1.ErrorCode_ERROR_CODE_CHAT_TOO_LONG,
		arbiterv1.ErrorCode_ERROR_CODE_NOT_IN_ROOM:
		return false
	}
	return true
}

// takeErrorLocked returns the first request Error received after the first
// n errors that no other request has returned yet, and marks it (and every
// error before it) returned; it returns nil when there is none. c.mu must be
// held.
func (c *Client) takeErrorLocked(n uint64) *arbiterv1.Error {
	dropped := c.errN - uint64(len(c.errs))
	for i := max(n, dropped, c.errTaken); i < c.errN; i++ {
		if e := c.errs[i-dropped]; requestError(e.GetCode()) {
			c.errTaken = i + 1
			return e
		}
	}
	return nil
}

func (c *Client) matchMarksLocked() matchMarks {
	return matchMarks{found: c.matchFoundN, end: c.matchEndN, err: c.errN}
}

// WaitMatch waits for the outcome of the last FindMatch: the MatchFound, a
// *MatchError when the ticket ends without a match (CANCELLED, TIMED_OUT,
// FAILED), or a *ServerError when the server refuses it. SEARCHING updates
// are recorded along the way (LastMatchStatus). A party member who did not
// send FindMatch can call it too: it returns the next MatchFound not yet
// returned. Each outcome is returned once.
func (c *Client) WaitMatch(ctx context.Context) (*arbiterv1.MatchFound, error) {
	var found *arbiterv1.MatchFound
	err := c.wait(ctx, func() (bool, error) {
		base := c.matchBase
		switch {
		case c.matchFoundN > base.found:
			found = c.matchFound
		case c.matchEndN > base.end:
			c.matchBase = c.matchMarksLocked()
			return true, &MatchError{Status: c.matchEnd}
		default:
			e := c.takeErrorLocked(base.err)
			if e == nil {
				return false, nil
			}
			c.matchBase = c.matchMarksLocked()
			return true, newServerError(e)
		}
		c.matchBase = c.matchMarksLocked()
		return true, nil
	})
	return found, err
}

// JoinRoom takes the seat a MatchFound join token grants, on this
// connection, and waits for Joined (or an Error, returned as *ServerError).
// The full snapshot follows Joined: WaitSynced waits for it.
func (c *Client) JoinRoom(ctx context.Context, joinToken string) (*arbiterv1.Joined, error) {
	c.mu.Lock()
	joinedN, errN := c.joinedN, c.errN
	c.mu.Unlock()
	err := c.Send(ctx, &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_JoinRoom{JoinRoom: &arbiterv1.JoinRoom{JoinToken: joinToken}}})
	if err != nil {
		return nil, err
	}
	var joined *arbiterv1.Joined
	err = c.wait(ctx, func() (bool, error) {
		if c.joinedN > joinedN {
			joined = c.lastJoined
			return true, nil
		}
		if e := c.takeErrorLocked(errN); e != nil {
			return true, newServerError(e)
		}
		return false, nil
	})
	return joined, err
}

// Play finds a match for mode and joins it on this connection: FindMatch,
// WaitMatch, JoinRoom. It fails with ErrElsewhere when a cluster placed
// the room on another node; use Match to follow it there.
func (c *Client) Play(ctx context.Context, mode string) (*arbiterv1.Joined, error) {
	if err := c.FindMatch(ctx, mode); err != nil {
		return nil, err
	}
	found, err := c.WaitMatch(ctx)
	if err != nil {
		return nil, err
	}
	if !c.sameEndpoint(found.GetEndpoint()) {
		return nil, fmt.Errorf("%w: %s", ErrElsewhere, found.GetEndpoint())
	}
	return c.JoinRoom(ctx, found.GetJoinToken())
}

// ErrElsewhere: the room found is on another node (Play cannot follow it).
var ErrElsewhere = errors.New("client: the room is on another node")

// Match finds a match for mode and joins it wherever it is: FindMatch,
// WaitMatch, then Follow and JoinRoom. room is the connection the game
// runs on: c itself when the room is on this node, otherwise a new
// connection to the hosting node (dialled with opt, as the same player),
// which the caller closes when the room ends. Keep c open meanwhile (with
// Options.KeepAlive): the cluster tells it if the room's node is lost.
func (c *Client) Match(ctx context.Context, mode string, opt Options) (room *Client, joined *arbiterv1.Joined, err error) {
	if err := c.FindMatch(ctx, mode); err != nil {
		return nil, nil, err
	}
	found, err := c.WaitMatch(ctx)
	if err != nil {
		return nil, nil, err
	}
	return c.Join(ctx, found, opt)
}

// Join takes the seat a MatchFound grants: on this connection when its
// endpoint is empty or this connection's own, otherwise on a new
// connection to the endpoint (see Follow).
func (c *Client) Join(ctx context.Context, found *arbiterv1.MatchFound, opt Options) (room *Client, joined *arbiterv1.Joined, err error) {
	room, err = c.Follow(ctx, found, opt)
	if err != nil {
		return nil, nil, err
	}
	joined, err = room.JoinRoom(ctx, found.GetJoinToken())
	if err != nil && room != c {
		_ = room.Close()
	}
	if err != nil {
		return nil, nil, err
	}
	return room, joined, nil
}

// Follow returns the connection to join a MatchFound on: c when the
// endpoint is empty or c's own; otherwise a new connection to the endpoint
// that resumes c's session (same player), dialled with opt (its
// SessionToken and an empty Name are filled in from c).
func (c *Client) Follow(ctx context.Context, found *arbiterv1.MatchFound, opt Options) (*Client, error) {
	if c.sameEndpoint(found.GetEndpoint()) {
		return c, nil
	}
	opt.SessionToken = c.SessionToken()
	if opt.Name == "" {
		opt.Name = c.Welcome().GetName()
	}
	return Dial(ctx, found.GetEndpoint(), opt)
}

// sameEndpoint reports whether a MatchFound endpoint means this
// connection.
func (c *Client) sameEndpoint(endpoint string) bool {
	if endpoint == "" {
		return true
	}
	a, errA := url.Parse(endpoint)
	b, errB := url.Parse(c.url)
	if errA != nil || errB != nil {
		return endpoint == c.url
	}
	scheme := func(s string) string {
		switch s {
		case "http":
			return "ws"
		case "https":
			return "wss"
		}
		return s
	}
	return scheme(a.Scheme) == scheme(b.Scheme) && a.Host == b.Host
}

// PartyCreate creates a party led by the player and returns its state (with
// the code others join by).
func (c *Client) PartyCreate(ctx context.Context) (*arbiterv1.PartyState, error) {
	return c.partyRequest(ctx, &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_PartyCreate{PartyCreate: &arbiterv1.PartyCreate{}}})
}

// PartyJoin joins the party with the given code and returns its state, or a
// *ServerError (PARTY_NOT_FOUND, PARTY_FULL, ...).
func (c *Client) PartyJoin(ctx context.Context, code string) (*arbiterv1.PartyState, error) {
	return c.partyRequest(ctx, &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_PartyJoin{PartyJoin: &arbiterv1.PartyJoin{Code: code}}})
}

// partyRequest sends m and waits for the next PartyState or request Error.
func (c *Client) partyRequest(ctx context.Context, m *arbiterv1.ClientMessage) (*arbiterv1.PartyState, error) {
	c.mu.Lock()
	partyN, errN := c.partyN, c.errN
	c.mu.Unlock()
	if err := c.Send(ctx, m); err != nil {
		return nil, err
	}
	var ps *arbiterv1.PartyState
	err := c.wait(ctx, func() (bool, error) {
		if c.partyN > partyN {
			ps = c.lastParty
			return true, nil
		}
		if e := c.takeErrorLocked(errN); e != nil {
			return true, newServerError(e)
		}
		return false, nil
	})
	return ps, err
}

// Ping sends a Ping and waits for the Pong with the same id. rtt runs from
// just before the write to the arrival of the Pong on the reader goroutine.
// Several pings may be in flight at once.
func (c *Client) Ping(ctx context.Context) (rtt time.Duration, pong *arbiterv1.Pong, err error) {
	slot := new(pongSlot)
	c.mu.Lock()
	c.pingID++
	if c.pingID == 0 {
		c.pingID = 1
	}
	id := c.pingID
	if c.pings == nil {
		c.pings = make(map[uint32]*pongSlot)
	}
	c.pings[id] = slot
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pings, id)
		c.mu.Unlock()
	}()

	start := time.Now()
	err = c.Send(ctx, &arbiterv1.ClientMessage{Msg: &arbiterv1.ClientMessage_Ping{Ping: &arbiterv1.Ping{
		Id: id, ClientTimeUs: uint64(start.UnixMicro()),
	}}})
	if err != nil {
		return 0, nil, err
	}
	var at time.Time
	err = c.wait(ctx, func() (bool, error) {
		if !slot.ok {
			return false, nil
		}
		pong, at = slot.pong, slot.at
		c.rtt = at.Sub(start)
		return true, nil
	})
	if err != nil {
		return 0, nil, err
	}
	return at.Sub(start), pong, nil
}

// WaitTick waits until a snapshot for tick or later has been applied to the
// view. It fails at once when the view is out of sync (a delta failed to
// apply): only a new full snapshot, after Reconnect, can repair it.
func (c *Client) WaitTick(ctx context.Context, tick uint32) error {
	return c.wait(ctx, func() (bool, error) {
		if c.viewBroken {
			return true, fmt.Errorf("client: view out of sync: %w", c.lastDesync)
		}
		return c.view.Synced() && c.view.Tick() >= tick, nil
	})
}

// WaitSynced waits until the view holds a full snapshot of the current room:
// after JoinRoom, or after Reconnect into a held seat. It fails at once when
// the view is out of sync.
func (c *Client) WaitSynced(ctx context.Context) error {
	return c.wait(ctx, func() (bool, error) {
		if c.viewBroken {
			return true, fmt.Errorf("client: view out of sync: %w", c.lastDesync)
		}
		return c.view.Synced(), nil
	})
}

// WaitJoined waits until the player is seated in a room and returns it; it
// returns at once when already seated.
func (c *Client) WaitJoined(ctx context.Context) (*arbiterv1.Joined, error) {
	var j *arbiterv1.Joined
	err := c.wait(ctx, func() (bool, error) {
		j = c.joined
		return j != nil, nil
	})
	return j, err
}

// WaitRoomClosed waits for the RoomClosed that ends the current room and
// returns it; it returns at once when one has arrived since the last Joined.
func (c *Client) WaitRoomClosed(ctx context.Context) (*arbiterv1.RoomClosed, error) {
	var rc *arbiterv1.RoomClosed
	err := c.wait(ctx, func() (bool, error) {
		rc = c.roomClosed
		return rc != nil, nil
	})
	return rc, err
}
