package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// registry is the node registry: this node's entry, refreshed every
// heartbeat, and every node's last entry as the bucket watcher saw it.
// A node whose entry is older than NodeTTL, or deleted, is gone: the
// registry forgets it and tells the rest of the cluster code.
type registry struct {
	c *Cluster

	mu    sync.Mutex // guards nodes and selfSeen
	nodes map[string]*seenNode
	// selfSeen is when the watcher last delivered this node's own entry:
	// while it is older than NodeTTL the registry's view is stale (NATS is
	// unreachable or the watch broke) and nobody is declared lost.
	selfSeen time.Time

	ready     chan struct{} // closed once the watcher has applied the initial entries
	readyOnce sync.Once
}

// seenNode is a node's last entry and when this node received it (local
// clock: entries' own timestamps come from other machines' clocks).
type seenNode struct {
	e  nodeEntry
	at time.Time
}

func newRegistry(c *Cluster) *registry {
	return &registry{c: c, nodes: map[string]*seenNode{}, ready: make(chan struct{})}
}

// start announces this node and starts the watcher and heartbeat
// goroutines.
func (r *registry) start(ctx context.Context) error {
	if _, err := r.c.nodes.Put(ctx, r.c.cfg.NodeID, r.entryJSON()); err != nil {
		return err
	}
	w, err := r.c.nodes.WatchAll(r.c.ctx)
	if err != nil {
		return err
	}
	r.c.wg.Add(2)
	go r.watch(w)
	go r.heartbeat()
	// Matchmakers judge tickets by their origin's entry: know every node
	// before taking any lease.
	select {
	case <-r.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cluster: reading the registry: %w", ctx.Err())
	}
}

func (r *registry) entryJSON() []byte {
	c := r.c
	l := c.cfg.Alloc.Load()
	e := nodeEntry{
		ID: c.cfg.NodeID, Endpoint: c.endpoint, Rooms: l.Rooms, Players: l.Seats,
		MaxPlayers: c.cfg.MaxPlayers, MaxRooms: c.cfg.MaxRooms, Draining: l.Draining || c.draining.Load(),
		At: c.clock.Now(),
	}
	if !e.Draining {
		e.Open = l.Open
	}
	b, _ := json.Marshal(e)
	return b
}

// beat puts this node's entry now.
func (r *registry) beat() {
	ctx, cancel := context.WithTimeout(context.Background(), r.c.cfg.Heartbeat)
	defer cancel()
	if _, err := r.c.nodes.Put(ctx, r.c.cfg.NodeID, r.entryJSON()); err != nil && !errors.Is(err, context.Canceled) {
		r.c.log.Debug("cluster: heartbeat failed", "error", err)
	}
}

// heartbeat is the goroutine that refreshes the entry and re-reads the
// lease holders every Heartbeat, and looks for nodes that stopped
// refreshing theirs four times as often (a lost node is noticed at most a
// quarter heartbeat after its entry went stale).
func (r *registry) heartbeat() {
	defer r.c.wg.Done()
	for i := 1; ; i++ {
		t := r.c.clock.NewTimer(r.c.cfg.Heartbeat / 4)
		select {
		case <-r.c.ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		if i%4 == 0 {
			r.beat()
			r.c.readLeases()
			r.c.queue.expire()
		}
		r.sweep()
	}
}

// watch is the goroutine that applies the bucket's changes. This node's
// own heartbeat is its probe: when nothing arrives for NodeTTL the watch is
// taken for broken (its consumer can vanish with a NATS server restart) and
// started again, which also replays every current entry.
func (r *registry) watch(w jetstream.KeyWatcher) {
	defer r.c.wg.Done()
	defer func() {
		if w != nil {
			_ = w.Stop()
		}
	}()
	for {
		var updates <-chan jetstream.KeyValueEntry
		if w != nil {
			updates = w.Updates()
		}
		t := r.c.clock.NewTimer(r.c.cfg.NodeTTL)
		select {
		case <-r.c.ctx.Done():
			t.Stop()
			return
		case kve, ok := <-updates:
			t.Stop()
			switch {
			case !ok:
				w = nil // closed: start again at the next timeout
			case kve == nil:
				r.readyOnce.Do(func() { close(r.ready) }) // the initial values are in
			default:
				r.apply(kve)
			}
		case <-t.C():
			if w != nil {
				_ = w.Stop()
				w = nil
			}
			if nw, err := r.c.nodes.WatchAll(r.c.ctx); err == nil {
				w = nw
				r.c.log.Info("cluster: registry watch restarted")
			}
		}
	}
}

func (r *registry) apply(kve jetstream.KeyValueEntry) {
	id := kve.Key()
	if kve.Operation() != jetstream.KeyValuePut {
		r.forget(id, "left")
		return
	}
	var e nodeEntry
	if err := json.Unmarshal(kve.Value(), &e); err != nil || e.ID != id {
		r.c.log.Warn("cluster: bad registry entry", "key", id, "error", err)
		return
	}
	now := r.c.clock.Now()
	r.mu.Lock()
	_, known := r.nodes[id]
	r.nodes[id] = &seenNode{e: e, at: now}
	if id == r.c.cfg.NodeID {
		if now.Sub(r.selfSeen) > r.c.cfg.NodeTTL {
			// The view was stale: every node gets a fresh NodeTTL to show
			// it is alive before being declared lost.
			for _, n := range r.nodes {
				n.at = now
			}
		}
		r.selfSeen = now
	}
	n := len(r.nodes)
	r.mu.Unlock()
	r.c.placer.refreshed(id)
	if !known {
		r.c.met.Nodes.Set(float64(n))
		r.c.log.Info("cluster: node joined", "peer", id, "endpoint", e.Endpoint)
		r.c.notifyChange()
	}
}

// sweep forgets the nodes whose entry is older than NodeTTL.
func (r *registry) sweep() {
	now := r.c.clock.Now()
	var stale []string
	r.mu.Lock()
	if now.Sub(r.selfSeen) > r.c.cfg.NodeTTL {
		r.mu.Unlock()
		return // this node cannot see the registry: it cannot judge others
	}
	for id, n := range r.nodes {
		if now.Sub(n.at) > r.c.cfg.NodeTTL && id != r.c.cfg.NodeID {
			stale = append(stale, id)
		}
	}
	r.mu.Unlock()
	for _, id := range stale {
		r.forget(id, "lost")
	}
}

// forget drops a node that left (deleted its entry) or was lost (stopped
// refreshing it), and tells the queue and the matchmakers.
func (r *registry) forget(id, how string) {
	r.mu.Lock()
	_, known := r.nodes[id]
	delete(r.nodes, id)
	n := len(r.nodes)
	r.mu.Unlock()
	if !known || id == r.c.cfg.NodeID {
		return
	}
	r.c.met.Nodes.Set(float64(n))
	r.c.met.NodesGone.WithLabelValues(how).Inc()
	r.c.log.Warn("cluster: node "+how, "peer", id)
	r.c.queue.nodeGone(id)
	r.c.placer.nodeGone(id)
	r.c.parties.nodeGone(id)
	r.c.mu.Lock()
	runs := make([]*modeRun, 0, len(r.c.runs))
	for _, run := range r.c.runs {
		runs = append(runs, run)
	}
	r.c.mu.Unlock()
	for _, run := range runs {
		run.originGone(id)
	}
	r.c.notifyChange()
}

// seen returns every node's last entry (this node's included).
func (r *registry) seen() []seenNode {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]seenNode, 0, len(r.nodes))
	for _, n := range r.nodes {
		out = append(out, *n)
	}
	return out
}

// live returns the entries of the nodes seen within NodeTTL.
func (r *registry) live() []nodeEntry {
	now := r.c.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]nodeEntry, 0, len(r.nodes))
	for _, n := range r.nodes {
		if now.Sub(n.at) <= r.c.cfg.NodeTTL {
			out = append(out, n.e)
		}
	}
	return out
}

// entry returns a live node's entry.
func (r *registry) entry(id string) (nodeEntry, bool) {
	now := r.c.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.nodes[id]
	if !ok || now.Sub(n.at) > r.c.cfg.NodeTTL {
		return nodeEntry{}, false
	}
	return n.e, true
}
