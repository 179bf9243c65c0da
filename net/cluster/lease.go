package cluster

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/arbiter-gg/arbiter/matchmaking"
)

// leaseLoop is the goroutine that holds, or tries to take, one mode's
// matchmaking lease: a KV entry with the holder's node id that lives
// LeaseTTL unless refreshed. Every quarter of LeaseTTL the holder refreshes
// it with compare-and-set on its revision; anyone else tries to create it,
// which succeeds only once the entry is gone (released, or expired because
// its holder stopped). Holding the lease means running the mode's
// matchmaker (a modeRun); losing it stops the run at once.
func (c *Cluster) leaseLoop(m matchmaking.Mode) {
	defer c.wg.Done()
	key := leaseKey(m.Name)
	var rev uint64
	var run *modeRun
	every := c.cfg.LeaseTTL / 4
	release := func(change string) {
		run.stop()
		run = nil
		c.setRun(m.Name, nil)
		c.met.LeaseChanges.WithLabelValues(m.Name, change).Inc()
	}
	for {
		ctx, cancel := context.WithTimeout(c.ctx, every)
		switch {
		case run != nil && c.draining.Load():
			release("released")
			if err := c.leases.Delete(ctx, key, jetstream.LastRevision(rev)); err != nil {
				c.log.Debug("cluster: lease release", "mode", m.Name, "error", err)
			}
			c.log.Info("cluster: lease released", "mode", m.Name)
			c.readLeases()
		case run != nil:
			r, err := c.leases.Update(ctx, key, []byte(c.cfg.NodeID), rev)
			if err != nil {
				if c.ctx.Err() != nil {
					break
				}
				release("lost")
				c.log.Warn("cluster: lease lost; matchmaker stopped", "mode", m.Name, "error", err)
				c.readLeases()
			} else {
				rev = r
			}
		case !c.draining.Load():
			r, err := c.leases.Create(ctx, key, []byte(c.cfg.NodeID))
			if err == nil {
				rev = r
				run, err = c.startRun(m)
				if err != nil {
					c.log.Error("cluster: cannot run the matchmaker; releasing the lease", "mode", m.Name, "error", err)
					_ = c.leases.Delete(ctx, key, jetstream.LastRevision(rev))
					run = nil
				} else {
					c.setRun(m.Name, run)
					c.met.LeaseChanges.WithLabelValues(m.Name, "acquired").Inc()
					c.log.Info("cluster: lease acquired; running the matchmaker", "mode", m.Name)
					c.readLeases()
				}
			} else if !errors.Is(err, jetstream.ErrKeyExists) && c.ctx.Err() == nil {
				c.log.Debug("cluster: lease create", "mode", m.Name, "error", err)
			}
		}
		cancel()
		t := c.clock.NewTimer(every)
		drained := c.drained
		if run == nil {
			drained = nil // nothing to release
		}
		select {
		case <-drained:
			t.Stop()
		case <-c.ctx.Done():
			t.Stop()
			if run != nil {
				release("released")
				ctx, cancel := context.WithTimeout(context.Background(), every)
				_ = c.leases.Delete(ctx, key, jetstream.LastRevision(rev))
				cancel()
			}
			return
		case <-t.C():
		}
	}
}

func (c *Cluster) setRun(mode string, r *modeRun) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r == nil {
		delete(c.runs, mode)
	} else {
		c.runs[mode] = r
	}
}

// readLeases re-reads who holds each lease, for Status, and reports a
// change.
func (c *Cluster) readLeases() {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Heartbeat)
	defer cancel()
	now := map[string]string{}
	for _, m := range c.cfg.Modes {
		e, err := c.leases.Get(ctx, leaseKey(m.Name))
		switch {
		case err == nil:
			now[m.Name] = string(e.Value())
		case errors.Is(err, jetstream.ErrKeyNotFound):
			now[m.Name] = ""
		default:
			return // keep the last view while NATS is unreachable
		}
	}
	c.mu.Lock()
	changed := false
	for k, v := range now {
		if c.holder[k] != v {
			changed = true
			c.holder[k] = v
		}
	}
	c.mu.Unlock()
	if changed {
		c.notifyChange()
	}
}
