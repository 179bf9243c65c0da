package loadtest

import "time"

// tickClock maps local time to a server room's tick clock, learned from
// Ping/Pong: each Pong says which tick (and fraction) the room was at when
// the server answered, which happened about rtt/2 after the Ping left. The
// sample with the lowest RTT wins, since queueing only ever adds delay; it
// is refreshed every few seconds so drift and skipped ticks are followed.
// Owned by one bot's sender goroutine.
type tickClock struct {
	rate      float64 // ticks per second
	baseLocal time.Time
	baseTick  float64 // server tick position at baseLocal
	rtt       time.Duration
	sampledAt time.Time
	ok        bool
}

// observe takes one Ping/Pong exchange: sent is when the Ping was written.
func (c *tickClock) observe(sent time.Time, rtt time.Duration, tick, frac uint32) {
	if tick == 0 {
		return // not in a room
	}
	local := sent.Add(rtt / 2)
	if c.ok && rtt > c.rtt+time.Millisecond && local.Sub(c.sampledAt) < 10*time.Second {
		return // a worse sample while a good one is fresh
	}
	c.baseLocal, c.baseTick = local, float64(tick)+float64(frac)/65536
	c.rtt, c.sampledAt, c.ok = rtt, local, true
}

// at is the estimated server tick position at local time t.
func (c *tickClock) at(t time.Time) float64 {
	return c.baseTick + t.Sub(c.baseLocal).Seconds()*c.rate
}

// starts is the local time at which server tick n starts.
func (c *tickClock) starts(n uint32) time.Time {
	return c.baseLocal.Add(time.Duration((float64(n) - c.baseTick) / c.rate * float64(time.Second)))
}

// sendTime is when to write the input for tick n so that it arrives margin
// before the tick starts.
func (c *tickClock) sendTime(n uint32, margin time.Duration) time.Time {
	return c.starts(n).Add(-c.rtt/2 - margin)
}

// nextAligned is the first tick whose send time is still ahead of now.
func (c *tickClock) nextAligned(now time.Time, margin time.Duration) uint32 {
	n := uint32(c.at(now.Add(c.rtt/2+margin))) + 1
	for !c.sendTime(n, margin).After(now) {
		n++
	}
	return n
}
