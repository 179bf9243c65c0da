package cluster

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// WatchableRoom is a running room players may watch (GET /v1/rooms).
type WatchableRoom struct {
	ID         string `json:"id"`
	Mode       string `json:"mode"`
	Players    int    `json:"players"`
	MaxPlayers int    `json:"maxPlayers"`
	AgeS       int    `json:"ageS"`
	// Endpoint is the WebSocket URL of the node hosting the room when it
	// is another node than the one answering; watch it there.
	Endpoint string `json:"endpoint,omitempty"`
}

// roomsTimeout bounds how long a node waits for the others' room lists.
const roomsTimeout = 300 * time.Millisecond

// roomsCacheFor is how long a gathered list serves further requests: GET
// /v1/rooms is public, and each gathering asks every node.
const roomsCacheFor = time.Second

// roomsCache is the last gathered list of the other nodes' rooms.
type roomsCache struct {
	mu    sync.Mutex // guards at and rooms; held while gathering, so one gathering at a time
	at    time.Time
	rooms []WatchableRoom
}

// PeerRooms returns the watchable rooms of every other live node, each with
// its node's endpoint, gathered at most once a second. A node that does not
// answer within 300 ms is left out.
func (c *Cluster) PeerRooms(ctx context.Context) []WatchableRoom {
	if c.nc == nil {
		return nil
	}
	rc := &c.roomsCache
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if now := c.clock.Now(); now.Sub(rc.at) >= roomsCacheFor {
		rc.rooms, rc.at = c.gatherRooms(ctx), now
	}
	return slices.Clone(rc.rooms)
}

// gatherRooms asks every other live node for its watchable rooms.
func (c *Cluster) gatherRooms(ctx context.Context) []WatchableRoom {
	ctx, cancel := context.WithTimeout(ctx, roomsTimeout)
	defer cancel()
	var mu sync.Mutex
	var out []WatchableRoom
	var wg sync.WaitGroup
	for _, e := range c.reg.live() {
		if e.ID == c.cfg.NodeID {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rooms []WatchableRoom
			if err := c.request(ctx, nodeSubject(e.ID, "rooms"), struct{}{}, &rooms); err != nil {
				return
			}
			for i := range rooms {
				rooms[i].Endpoint = e.Endpoint
			}
			mu.Lock()
			out = append(out, rooms...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// onRooms answers another node with this node's watchable rooms.
func (c *Cluster) onRooms(m *nats.Msg) {
	rooms := []WatchableRoom{}
	if c.cfg.Watchable != nil {
		rooms = append(rooms, c.cfg.Watchable()...)
	}
	c.respond(m, rooms)
}
