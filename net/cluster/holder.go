package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/arbiter-gg/arbiter/matchmaking"
)

// modeRun is one mode's matchmaker, running on the node that holds the
// mode's lease. Tickets come from the mode's durable consumer on the
// ticket stream; each is acknowledged once every one of its players has
// been told the final result, so a run that stops (lease lost, node gone)
// leaves its unfinished tickets in the stream for the next holder.
//
// Goroutines: the matchmaker's (mm.Run) and the outbox's, both started by
// startRun and waited for by stop. The consumer and subscription handlers
// run on NATS goroutines.
type modeRun struct {
	c    *Cluster
	mode matchmaking.Mode
	mm   *matchmaking.Matchmaker
	cons jetstream.ConsumeContext
	subs []*nats.Subscription

	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex // guards held, cancelled, stopping, outbox
	held      map[string]*heldTicket
	cancelled map[string]time.Time // tickets withdrawn before they arrived
	stopping  bool
	outbox    []delivery
	wake      chan struct{} // signalled when outbox grows (cap 1)
}

// heldTicket is a ticket this run has queued.
type heldTicket struct {
	t      ticketMsg
	msg    jetstream.Msg
	finals int // players told a final state
}

// delivery is an update waiting in the outbox.
type delivery struct {
	h *heldTicket
	u matchmaking.Update
}

// startRun binds the mode's consumer afresh and starts its matchmaker.
// The consumer is deleted and created again so that every ticket not yet
// acknowledged, including those a previous holder had taken and never
// finished, is delivered to this run now rather than after an ack wait.
func (c *Cluster) startRun(m matchmaking.Mode) (*modeRun, error) {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	name := consumerName(m.Name)
	if err := c.js.DeleteConsumer(ctx, ticketStream, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("delete consumer: %w", err)
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = matchmaking.DefaultTimeout
	}
	cons, err := c.js.CreateConsumer(ctx, ticketStream, jetstream.ConsumerConfig{
		Durable:       name,
		FilterSubject: ticketSubject(m.Name),
		AckPolicy:     jetstream.AckExplicitPolicy,
		// A held ticket is acked when it ends, at the latest after the
		// mode's timeout; it is redelivered to this run only if that
		// failed.
		AckWait:       timeout + time.Minute,
		MaxAckPending: -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("create consumer: %w", err)
	}
	mcfg := c.cfg.Matchmaking
	mcfg.Modes = []matchmaking.Mode{m}
	mcfg.Ratings = c.ratings
	r := &modeRun{
		c: c, mode: m,
		mm:        matchmaking.New(mcfg, c.placer, c.clock, c.log.With("mode", m.Name)),
		held:      map[string]*heldTicket{},
		cancelled: map[string]time.Time{},
		wake:      make(chan struct{}, 1),
	}
	for subj, h := range map[string]nats.MsgHandler{
		modeSubject(m.Name, "cancel"): r.onCancel,
		modeSubject(m.Name, "result"): r.onResult,
	} {
		s, err := c.nc.Subscribe(subj, h)
		if err != nil {
			r.unsubscribe()
			return nil, fmt.Errorf("subscribe %s: %w", subj, err)
		}
		r.subs = append(r.subs, s)
	}
	runCtx, stop := context.WithCancel(context.Background())
	r.cancel = stop
	r.wg.Add(2)
	go func() { defer r.wg.Done(); _ = r.mm.Run(runCtx) }()
	go r.deliver(runCtx)
	r.cons, err = cons.Consume(r.onTicket)
	if err != nil {
		r.stop()
		return nil, fmt.Errorf("consume: %w", err)
	}
	return r, nil
}

func (r *modeRun) unsubscribe() {
	for _, s := range r.subs {
		_ = s.Unsubscribe()
	}
}

// stop ends the run without finishing its tickets: they stay unacked in
// the stream for the next holder, and their players hear nothing of it.
func (r *modeRun) stop() {
	r.mu.Lock()
	r.stopping = true
	r.outbox = nil
	r.mu.Unlock()
	if r.cons != nil {
		r.cons.Stop()
	}
	r.unsubscribe()
	r.cancel()
	r.wg.Wait()
}

// onTicket queues a ticket from the stream (a NATS goroutine).
func (r *modeRun) onTicket(msg jetstream.Msg) {
	var t ticketMsg
	if err := json.Unmarshal(msg.Data(), &t); err != nil || t.ID == "" || t.Mode != r.mode.Name {
		r.c.log.Warn("cluster: bad ticket dropped", "mode", r.mode.Name, "error", err)
		_ = msg.Term()
		return
	}
	r.mu.Lock()
	if r.stopping {
		r.mu.Unlock()
		return
	}
	if _, gone := r.cancelled[t.ID]; gone {
		delete(r.cancelled, t.ID)
		r.mu.Unlock()
		_ = msg.Ack()
		return
	}
	if h, dup := r.held[t.ID]; dup {
		h.msg = msg // a redelivery: ack this copy when the ticket ends
		r.mu.Unlock()
		return
	}
	h := &heldTicket{t: t, msg: msg}
	r.held[t.ID] = h
	r.mu.Unlock()
	for _, p := range t.Players {
		if _, ok := r.c.reg.entry(t.originOf(p.ID)); !ok {
			r.refuse(h, "a player's server is gone")
			return
		}
	}
	tk := matchmaking.Ticket{Mode: t.Mode, Players: t.Players, Since: t.Since}
	_, err := r.mm.Enqueue(tk, func(u matchmaking.Update) { r.push(h, u) })
	if errors.Is(err, matchmaking.ErrAlreadyQueued) {
		// A player's older ticket is still here (its cancel was lost on a
		// lease change): the newer one stands.
		for _, p := range t.Players {
			r.mm.Fail(p.ID, "queued again")
		}
		_, err = r.mm.Enqueue(tk, func(u matchmaking.Update) { r.push(h, u) })
	}
	if err != nil {
		r.refuse(h, err.Error())
	}
}

// refuse fails a ticket that never reached the matchmaker: each player
// still reachable is told, then it is acked like any other.
func (r *modeRun) refuse(h *heldTicket, why string) {
	r.c.log.Info("cluster: ticket refused", "ticket", h.t.ID, "reason", why)
	for _, p := range h.t.Players {
		r.push(h, matchmaking.Update{State: matchmaking.Failed, Mode: h.t.Mode, PlayerID: p.ID, Reason: why})
	}
}

// onCancel withdraws a ticket (a NATS goroutine).
func (r *modeRun) onCancel(m *nats.Msg) {
	var cm cancelMsg
	if json.Unmarshal(m.Data, &cm) != nil {
		return
	}
	now := r.c.clock.Now()
	r.mu.Lock()
	h := r.held[cm.Ticket]
	if h == nil {
		r.cancelled[cm.Ticket] = now
		for id, at := range r.cancelled {
			if now.Sub(at) > 5*time.Minute {
				delete(r.cancelled, id)
			}
		}
	}
	r.mu.Unlock()
	if h != nil && len(h.t.Players) > 0 {
		r.mm.Cancel(h.t.Players[0].ID)
	}
}

// onResult applies a finished round to the mode's ratings.
func (r *modeRun) onResult(m *nats.Msg) {
	var rm resultMsg
	if json.Unmarshal(m.Data, &rm) == nil && len(rm.Ranking) > 1 {
		r.mm.ReportResult(r.mode.Name, rm.Ranking)
	}
}

// originGone fails the tickets with a player on a node that is gone: a
// ticket is the whole party or nothing.
func (r *modeRun) originGone(node string) {
	r.mu.Lock()
	var players []string
	for _, h := range r.held {
		for _, p := range h.t.Players {
			if h.t.originOf(p.ID) == node {
				players = append(players, h.t.Players[0].ID)
				break
			}
		}
	}
	r.mu.Unlock()
	for _, p := range players {
		r.mm.Fail(p, "origin node gone")
	}
}

// push queues an update for the outbox (the matchmaker's notify: never
// blocks).
func (r *modeRun) push(h *heldTicket, u matchmaking.Update) {
	r.mu.Lock()
	if !r.stopping {
		r.outbox = append(r.outbox, delivery{h, u})
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// deliver is the outbox goroutine: it sends each update to the ticket's
// origin node in order, a request for the final states, and acks a ticket
// once all its players were told.
func (r *modeRun) deliver(ctx context.Context) {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		batch := r.outbox
		r.outbox = nil
		r.mu.Unlock()
		for _, d := range batch {
			if ctx.Err() != nil {
				return // stopped: the unsent tickets stay unacked for the next holder
			}
			r.send(ctx, d)
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		}
	}
}

func (r *modeRun) send(ctx context.Context, d delivery) {
	u := d.u
	m := updateMsg{
		Ticket: d.h.t.ID, Player: u.PlayerID, Mode: r.mode.Name, State: u.State,
		ElapsedMS: u.Elapsed.Milliseconds(), QueueSize: u.QueueSize, Window: u.Window, Reason: u.Reason, Room: u.RoomID,
	}
	origin := d.h.t.originOf(u.PlayerID)
	m.Party = origin != d.h.t.Origin
	subj := nodeSubject(origin, "update")
	if u.State == matchmaking.Searching {
		r.c.publishJSON(subj, m)
		return
	}
	if u.State == matchmaking.Found {
		m.Host = r.c.placer.hostOf(u.RoomID)
		if e, ok := r.c.reg.entry(m.Host); ok {
			m.Endpoint = e.Endpoint
		}
	}
	b, _ := json.Marshal(m)
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err := r.c.nc.RequestWithContext(rctx, subj, b)
	cancel()
	if ctx.Err() != nil {
		return // stopped mid-request: not acked, the next holder has it
	}
	if err != nil && !errors.Is(err, nats.ErrNoResponders) {
		r.c.log.Debug("cluster: update not confirmed", "ticket", d.h.t.ID, "player", u.PlayerID, "error", err)
	}
	r.mu.Lock()
	d.h.finals++
	done := d.h.finals >= len(d.h.t.Players)
	if done {
		delete(r.held, d.h.t.ID)
	}
	r.mu.Unlock()
	if done {
		_ = d.h.msg.Ack()
	}
}
