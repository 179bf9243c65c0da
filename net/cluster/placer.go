package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/arbiter-gg/arbiter/matchmaking"
)

// placer is the matchmaking.Allocator of this node's mode matchmakers: it
// opens rooms on the least-loaded live node by request/reply and lists the
// cluster's rooms with free seats (from the registry) for backfill.
// Reservations go to the hosting node, which has the final word.
type placer struct {
	c *Cluster

	mu    sync.Mutex        // guards hosts and extra
	hosts map[string]string // room id → hosting node, for rooms seen or opened
	// extra counts seats this node's matchmakers placed on a node since its
	// last registry entry, so that a burst of allocations spreads instead
	// of piling onto the node that looked least loaded a second ago.
	extra map[string]int
}

func newPlacer(c *Cluster) *placer {
	return &placer{c: c, hosts: map[string]string{}, extra: map[string]int{}}
}

// maxCandidates bounds the nodes one Allocate asks before giving up.
const maxCandidates = 3

// Allocate opens a room for mode on the least-loaded live node that is not
// draining and has room for the mode's MinPlayers.
func (p *placer) Allocate(ctx context.Context, mode matchmaking.Mode) (matchmaking.Room, error) {
	cands := p.candidates(mode)
	if len(cands) == 0 {
		return nil, fmt.Errorf("%w: no live node has capacity for %s", matchmaking.ErrNoCapacity, mode.Name)
	}
	var errs []error
	for _, n := range cands[:min(len(cands), maxCandidates)] {
		start := time.Now()
		var resp allocResp
		err := p.c.request(ctx, nodeSubject(n.ID, "alloc"), allocReq{Mode: mode.Name}, &resp)
		p.c.met.Allocation.Observe(time.Since(start).Seconds())
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("node %s: %w", n.ID, err))
			continue
		case resp.Room == "":
			errs = append(errs, fmt.Errorf("node %s: %s", n.ID, resp.Err))
			continue
		}
		p.mu.Lock()
		p.hosts[resp.Room] = n.ID
		p.extra[n.ID] += mode.MaxPlayers
		p.mu.Unlock()
		return &remoteRoom{p: p, id: resp.Room, mode: mode.Name, node: n.ID, free: mode.MaxPlayers}, nil
	}
	return nil, fmt.Errorf("%w: %w", matchmaking.ErrNoCapacity, errors.Join(errs...))
}

// candidates are the live nodes that can open a room of mode, least
// loaded first.
func (p *placer) candidates(mode matchmaking.Mode) []nodeEntry {
	need := max(mode.MinPlayers, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	type cand struct {
		e    nodeEntry
		load float64
	}
	var cs []cand
	for _, e := range p.c.reg.live() {
		players := e.Players + p.extra[e.ID]
		if e.Draining || (e.MaxRooms > 0 && e.Rooms >= e.MaxRooms) || (e.MaxPlayers > 0 && e.MaxPlayers-players < need) {
			continue
		}
		capacity := float64(e.MaxPlayers)
		if capacity == 0 {
			capacity = 10000 // an uncapped node counts as a big one
		}
		cs = append(cs, cand{e, float64(players) / capacity})
	}
	slices.SortFunc(cs, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.load, b.load), cmp.Compare(a.e.Rooms, b.e.Rooms), cmp.Compare(a.e.ID, b.e.ID))
	})
	out := make([]nodeEntry, len(cs))
	for i, c := range cs {
		out[i] = c.e
	}
	return out
}

// Rooms lists the cluster's rooms of mode with free seats, from the live,
// non-draining nodes' last entries.
func (p *placer) Rooms(mode string) []matchmaking.Room {
	var out []matchmaking.Room
	live := p.c.reg.live()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range live {
		if e.Draining {
			continue
		}
		for _, o := range e.Open {
			if o.Mode == mode && o.Free > 0 {
				p.hosts[o.ID] = e.ID
				out = append(out, &remoteRoom{p: p, id: o.ID, mode: mode, node: e.ID, free: o.Free})
			}
		}
	}
	return out
}

// hostOf names the node hosting a room this placer opened or listed.
func (p *placer) hostOf(room string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hosts[room]
}

// refreshed is called when a node's new entry arrives: its load figures
// now include what was placed there.
func (p *placer) refreshed(node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.extra, node)
}

// roomEnded forgets a room that ended.
func (p *placer) roomEnded(room string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.hosts, room)
}

// nodeGone forgets a lost node's rooms.
func (p *placer) nodeGone(node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.extra, node)
	for room, n := range p.hosts {
		if n == node {
			delete(p.hosts, room)
		}
	}
}

// remoteRoom is a room on some node (this one included), as the
// matchmaker sees it.
type remoteRoom struct {
	p        *placer
	id, mode string
	node     string
	free     int
}

func (r *remoteRoom) ID() string     { return r.id }
func (r *remoteRoom) Mode() string   { return r.mode }
func (r *remoteRoom) FreeSeats() int { return r.free }

// Reserve asks the hosting node to reserve the seats.
func (r *remoteRoom) Reserve(players []string) bool {
	ctx, cancel := context.WithTimeout(r.p.c.ctx, 2*time.Second)
	defer cancel()
	var resp reserveResp
	if err := r.p.c.request(ctx, nodeSubject(r.node, "reserve"), reserveReq{Room: r.id, Players: players}, &resp); err != nil {
		r.p.c.log.Debug("cluster: reserve failed", "room", r.id, "peer", r.node, "error", err)
		return false
	}
	if resp.OK {
		r.free -= len(players)
	} else {
		r.free = 0
	}
	return resp.OK
}

// onAlloc opens a room here for another node's matchmaker (a NATS
// goroutine).
func (c *Cluster) onAlloc(m *nats.Msg) {
	var req allocReq
	var resp allocResp
	var md matchmaking.Mode
	var ok bool
	if err := json.Unmarshal(m.Data, &req); err != nil {
		resp.Err = "bad request"
	} else if md, ok = c.mode(req.Mode); !ok {
		resp.Err = "unknown mode " + req.Mode
	} else if c.draining.Load() {
		resp.Err, resp.NoCapacity = "draining", true
	} else {
		ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
		room, err := c.cfg.Alloc.Allocate(ctx, md)
		cancel()
		if err != nil {
			resp.Err, resp.NoCapacity = err.Error(), errors.Is(err, matchmaking.ErrNoCapacity)
		} else {
			resp.Room = room.ID()
		}
	}
	c.respond(m, resp)
}

// onReserve reserves seats in a room here (a NATS goroutine).
func (c *Cluster) onReserve(m *nats.Msg) {
	var req reserveReq
	var resp reserveResp
	if json.Unmarshal(m.Data, &req) == nil {
		if room, ok := c.cfg.Alloc.Find(req.Room); ok {
			resp.OK = room.Reserve(req.Players)
		}
	}
	c.respond(m, resp)
}

// request sends a JSON request and decodes the JSON reply.
func (c *Cluster) request(ctx context.Context, subj string, req, resp any) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	reply, err := c.nc.RequestWithContext(ctx, subj, b)
	if err != nil {
		return err
	}
	return json.Unmarshal(reply.Data, resp)
}

func (c *Cluster) respond(m *nats.Msg, v any) {
	b, _ := json.Marshal(v)
	if err := m.Respond(b); err != nil {
		c.log.Debug("cluster: reply failed", "subject", m.Subject, "error", err)
	}
}

// publishJSON publishes a message, fire and forget.
func (c *Cluster) publishJSON(subj string, v any) {
	if c.nc == nil {
		return
	}
	b, _ := json.Marshal(v)
	if err := c.nc.Publish(subj, b); err != nil {
		c.log.Debug("cluster: publish failed", "subject", subj, "error", err)
	}
}
