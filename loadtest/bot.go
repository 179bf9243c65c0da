package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/arbiter-gg/arbiter/game"
	"github.com/arbiter-gg/arbiter/net/client"
	arbiterv1 "github.com/arbiter-gg/arbiter/proto/arbiter/v1"
)

// bot is one headless Arbiter player. Its goroutine (run) owns the client,
// the brain and the clock; the client's reader goroutine runs the callbacks,
// which touch only atomics and the recorder.
type bot struct {
	id    int
	r     *runner
	brain *brain
	rng   *rand.Rand
	clock tickClock

	// lobby is the connection to the server the bot was pointed at; c is
	// the one the game runs on: lobby itself, or in a cluster a second
	// connection to the node hosting the room.
	lobby    *client.Client
	c        *client.Client                // the sender goroutine's client
	pub      atomic.Pointer[client.Client] // the same, for the runner's reads
	pid      atomic.Pointer[string]        // player id, stable across reconnects
	self     atomic.Uint32                 // own entity id, from the roster
	inGame   atomic.Bool
	lastSnap atomic.Int64 // unix ns of the last snapshot, reader goroutine
	bytesIn  atomic.Uint64
	bytesOut atomic.Uint64 // of clients replaced by churn
	view     []game.Entity // sender goroutine scratch

	// Adaptive send margin: the reader goroutine learns, from each ack,
	// whether the input made the tick it named; late ones widen the margin,
	// a long run of on-time ones narrows it.
	snapTick atomic.Uint32      // tick of the snapshot being handled (reader)
	meant    [256]atomic.Uint32 // seq % 256 → tick the input named
	margin   atomic.Int64       // ns
	onTime   int                // reader goroutine
}

// Bounds of the adaptive margin.
const (
	minMargin = time.Millisecond
	maxMargin = 20 * time.Millisecond
)

// acked runs on the reader goroutine for each newly acked input.
func (b *bot) acked(seq uint32, d time.Duration) {
	b.r.rec.ackLatency(d)
	want := b.meant[seq%256].Load()
	if want == 0 || !b.r.cfg.Align {
		return
	}
	if b.snapTick.Load() > want {
		// Applied after the tick it named: arrive earlier.
		b.onTime = 0
		m := min(time.Duration(b.margin.Load())+time.Millisecond, maxMargin)
		b.margin.Store(int64(m))
		return
	}
	if b.onTime++; b.onTime >= 90 {
		b.onTime = 0
		m := max(time.Duration(b.margin.Load())-250*time.Microsecond, minMargin)
		b.margin.Store(int64(m))
	}
}

func (b *bot) options(name string) client.Options {
	return client.Options{
		Name:       name,
		ClientName: "arbiter-loadtest",
		OnAck:      b.acked,
		OnSnapshot: func(v *game.View) {
			b.snapTick.Store(v.Tick())
			now := time.Now().UnixNano()
			prev := b.lastSnap.Swap(now)
			var gap time.Duration
			if prev != 0 {
				gap = time.Duration(now - prev)
			}
			b.r.rec.snapshot(gap)
		},
		OnRoster: func(ro *arbiterv1.Roster) {
			for _, p := range ro.GetPlayers() {
				if p.GetPlayerId() == b.playerID() {
					b.self.Store(p.GetEntityId())
				}
			}
		},
		// On the lobby's connection in a cluster, RoomClosed says the
		// room's node was lost.
		OnRoomClosed: func(*arbiterv1.RoomClosed) { b.inGame.Store(false) },
		KeepAlive:    10 * time.Second,
		OnError:      func(e *arbiterv1.Error) { b.r.rec.err("server_" + errName(e.GetCode())) },
	}
}

func errName(c arbiterv1.ErrorCode) string {
	s := c.String()
	const p = "ERROR_CODE_"
	if len(s) > len(p) {
		s = s[len(p):]
	}
	return s
}

func (b *bot) playerID() string {
	if p := b.pid.Load(); p != nil {
		return *p
	}
	return ""
}

// run plays until ctx is done.
func (b *bot) run(ctx context.Context) {
	name := fmt.Sprintf("bot-%d", b.id)
	urls := b.r.cfg.urls()
	c, err := client.Dial(ctx, urls[b.id%len(urls)], b.options(name))
	if err != nil {
		if ctx.Err() == nil {
			b.r.rec.err("dial")
		}
		return
	}
	b.lobby, b.c = c, c
	b.pub.Store(c)
	pid := c.PlayerID()
	b.pid.Store(&pid)
	b.r.connected.Add(1)
	defer func() {
		b.r.connected.Add(-1)
		if b.inGame.Swap(false) {
			// Leave like a player who quits, so the seat frees at once
			// instead of after the rejoin grace.
			lctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = b.c.LeaveRoom(lctx)
			cancel()
		}
		b.backToLobby()
		_ = b.c.Close()
	}()
	tickRate := int(c.Welcome().GetServer().GetTickRate())
	if tickRate == 0 {
		tickRate = 30
	}
	b.clock.rate = float64(tickRate)
	if every := c.Welcome().GetServer().GetSnapshotEvery(); every > 0 {
		b.r.snapRate.CompareAndSwap(0, int64(tickRate)*1000/int64(every))
	}
	var nextChurn time.Time
	if b.r.cfg.Churn > 0 {
		nextChurn = time.Now().Add(b.churnDelay())
	}
	for ctx.Err() == nil {
		if !b.join(ctx, name) {
			return
		}
		b.play(ctx, tickRate, &nextChurn)
		if ctx.Err() != nil {
			return // the deferred LeaveRoom goes over the room's connection
		}
		b.backToLobby()
	}
}

// backToLobby closes the room's connection when it is not the lobby's.
func (b *bot) backToLobby() {
	if b.c == b.lobby || b.lobby == nil {
		return
	}
	room := b.c
	b.c = b.lobby
	b.pub.Store(b.lobby)
	_ = room.Close()
	b.account(room)
}

func (b *bot) churnDelay() time.Duration {
	// Exponential, mean one minute / Churn.
	mean := float64(time.Minute) / b.r.cfg.Churn
	return time.Duration(b.rng.ExpFloat64() * mean)
}

// join finds a match and takes the seat, following the room to its node
// in a cluster, retrying until ctx is done.
func (b *bot) join(ctx context.Context, name string) bool {
	for ctx.Err() == nil {
		start := time.Now()
		room, err := b.match(ctx, name)
		if err == nil {
			b.r.rec.matched(time.Since(start))
			if room != b.lobby {
				b.r.rec.followed()
				b.c = room
				b.pub.Store(room)
			}
			b.self.Store(0)
			if ro := b.c.Roster(); ro != nil {
				for _, p := range ro.GetPlayers() {
					if p.GetPlayerId() == b.c.PlayerID() {
						b.self.Store(p.GetEntityId())
					}
				}
			}
			b.sync(ctx, 3)
			b.inGame.Store(true)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		var me *client.MatchError
		switch {
		case errors.As(err, &me):
			b.r.rec.err("match_" + me.Status.GetState().String())
		case errors.Is(err, client.ErrClosed):
			b.r.rec.err("closed")
			return false
		default:
			b.r.rec.err("join")
		}
		select { // back off before queueing again
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	return false
}

// match queues for the configured mode and takes the seat found. Once a
// match is found the seat is taken even if ctx ends meanwhile (within 5 s
// of its own), so a bot stopped mid-join gives the seat up through run's
// deferred LeaveRoom instead of leaving it held for the rejoin grace.
func (b *bot) match(ctx context.Context, name string) (*client.Client, error) {
	if err := b.lobby.FindMatch(ctx, b.r.cfg.Mode); err != nil {
		return nil, err
	}
	found, err := b.lobby.WaitMatch(ctx)
	if err != nil {
		return nil, err
	}
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	room, _, err := b.lobby.Join(jctx, found, b.options(name))
	return room, err
}

// sync pings n times to learn the room's tick clock.
func (b *bot) sync(ctx context.Context, n int) {
	for range n {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		sent := time.Now()
		rtt, pong, err := b.c.Ping(pctx)
		cancel()
		if err != nil {
			return
		}
		b.clock.observe(sent, rtt, pong.GetTick(), pong.GetTickFraction())
	}
}

// play sends one input per tick until the room closes, the bot churns
// (then it reconnects and goes on), or ctx is done.
func (b *bot) play(ctx context.Context, tickRate int, nextChurn *time.Time) {
	cfg := b.r.cfg
	dt := time.Second / time.Duration(tickRate)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var n uint32
	next := time.Now().Add(time.Duration(b.rng.Int64N(int64(dt)))) // free-running phase
	if b.margin.Load() == 0 {
		b.margin.Store(int64(cfg.Margin))
	}
	margin := func() time.Duration { return time.Duration(b.margin.Load()) }
	// align puts the next input on the room's tick clock (again after a
	// reconnect, whose pings refreshed it).
	align := func() {
		if cfg.Align && b.clock.ok {
			n = b.clock.nextAligned(time.Now(), margin())
			next = b.clock.sendTime(n, margin())
		}
	}
	align()
	lastPing := time.Now()
	var chatAt time.Time
	if cfg.ChatEvery > 0 {
		chatAt = time.Now().Add(time.Duration(b.rng.ExpFloat64() * float64(cfg.ChatEvery)))
	}
	for {
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-b.c.Done():
			b.r.rec.err("connection_lost")
			if !b.reconnect(ctx) || !b.inGame.Load() {
				return // queue again through run's loop
			}
			align()
			continue // back in the seat: play on
		case <-timer.C:
		}
		if !b.inGame.Load() {
			return // the room closed: queue again
		}
		in := b.decide(tickRate)
		now := time.Now()
		if cfg.Align && b.clock.ok {
			in.Tick = n
		} else if b.clock.ok {
			in.Tick = uint32(b.clock.at(now.Add(b.clock.rtt/2))) + 1
		}
		b.send(ctx, in)

		// Schedule the next input.
		if cfg.Align && b.clock.ok {
			n++
			next = b.clock.sendTime(n, margin())
			if time.Since(next) > dt {
				b.r.rec.lateSend()
				n = b.clock.nextAligned(time.Now(), margin())
				next = b.clock.sendTime(n, margin())
			}
		} else {
			next = next.Add(dt)
			if time.Since(next) > dt {
				next = time.Now().Add(dt)
			}
		}
		if now.Sub(lastPing) > 2*time.Second {
			lastPing = now
			b.sync(ctx, 1)
		}
		if !chatAt.IsZero() && now.After(chatAt) {
			chatAt = now.Add(time.Duration(b.rng.ExpFloat64() * float64(cfg.ChatEvery)))
			_ = b.c.Chat(ctx, "gg", arbiterv1.ChatScope_CHAT_SCOPE_ROOM)
		}
		if !nextChurn.IsZero() && now.After(*nextChurn) {
			*nextChurn = now.Add(b.churnDelay())
			b.churn(ctx)
			align()
		}
	}
}

// decide reads the bot's view and asks the brain.
func (b *bot) decide(tickRate int) game.Input {
	var in game.Input
	selfID := b.self.Load()
	b.c.ReadView(func(v *game.View) {
		b.view = v.AppendEntities(b.view[:0])
		var self game.Entity
		have := false
		for _, e := range b.view {
			if e.ID == selfID {
				self, have = e, true
			}
		}
		in = b.brain.decide(self, have, b.view, tickRate)
		in.RenderTime = v.Tick() * 256
	})
	return in
}

// send writes one input, after the configured extra latency if any.
func (b *bot) send(ctx context.Context, in game.Input) {
	cfg := b.r.cfg
	delay := cfg.Latency
	if cfg.Jitter > 0 {
		delay += time.Duration(b.rng.Int64N(int64(2*cfg.Jitter))) - cfg.Jitter
	}
	if delay <= 0 {
		seq, err := b.c.SendInput(ctx, in)
		if err != nil && ctx.Err() == nil {
			b.r.rec.err("send")
		}
		b.meant[seq%256].Store(in.Tick)
		return
	}
	c := b.c
	time.AfterFunc(delay, func() {
		if seq, err := c.SendInput(context.Background(), in); err == nil {
			b.meant[seq%256].Store(in.Tick)
		}
	})
}

// churn drops the connection and reconnects with the session token.
func (b *bot) churn(ctx context.Context) {
	b.inGame.Store(false)
	if !b.reconnect(ctx) {
		return
	}
}

// reconnect dials again with the session token; a resumed seat is
// counted when the server puts the bot back in its room.
func (b *bot) reconnect(ctx context.Context) bool {
	old := b.c
	// Back to the node of the room (in a cluster, not necessarily the
	// lobby's), where the seat is held.
	c, err := client.Reconnect(ctx, old.URL(), old, b.options(old.Welcome().GetName()))
	b.account(old)
	if err != nil {
		b.r.rec.reconnect(false)
		if ctx.Err() == nil {
			b.r.rec.err("reconnect")
		}
		return false
	}
	if old == b.lobby {
		b.lobby = c
	}
	b.c = c
	b.pub.Store(c)
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	_, err = c.WaitJoined(wctx)
	cancel()
	resumed := err == nil && c.Joined() != nil
	b.r.rec.reconnect(resumed)
	if resumed {
		b.sync(ctx, 2)
		b.inGame.Store(true)
	}
	return true
}

// account adds a client's traffic to the bot's running totals before the
// client is replaced.
func (b *bot) account(c *client.Client) {
	if c == nil {
		return
	}
	st := c.State()
	b.bytesIn.Add(st.BytesIn)
	b.bytesOut.Add(st.BytesOut)
}

// traffic is the bot's total bytes so far.
func (b *bot) traffic() (in, out uint64) {
	in, out = b.bytesIn.Load(), b.bytesOut.Load()
	if c := b.pub.Load(); c != nil {
		st := c.State()
		in += st.BytesIn
		out += st.BytesOut
	}
	return in, out
}
