package cluster

import (
	"context"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ratingsBucket holds players' ratings: key = "p." + player id, value =
// the rating in decimal. No TTL: ratings outlive nodes and leases.
const ratingsBucket = "arbiter_ratings"

// kvRatings is the matchmaking.Ratings of every node's matchmakers: one
// store in JetStream, so a rating survives a lease moving to another node.
type kvRatings struct {
	c  *Cluster
	kv jetstream.KeyValue
}

func ratingKey(player string) (string, bool) {
	if !validName(player) {
		return "", false // player ids are UUIDs; anything else is not stored
	}
	return "p." + player, true
}

// Rating reads a player's rating; none when unknown or unreadable.
func (r kvRatings) Rating(player string) (float64, bool) {
	key, ok := ratingKey(player)
	if !ok {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	e, err := r.kv.Get(ctx, key)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(e.Value()), 64)
	return v, err == nil
}

// SetRatings writes new ratings; a failure is logged and the old rating
// stays.
func (r kvRatings) SetRatings(ratings map[string]float64) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for player, v := range ratings {
		key, ok := ratingKey(player)
		if !ok {
			continue
		}
		if _, err := r.kv.Put(ctx, key, []byte(strconv.FormatFloat(v, 'f', 3, 64))); err != nil {
			r.c.log.Warn("cluster: rating not stored", "player", player, "error", err)
		}
	}
}

// Rating returns a player's rating from the cluster's store.
func (c *Cluster) Rating(player string) (float64, bool) {
	if c.ratings.kv == nil {
		return 0, false
	}
	return c.ratings.Rating(player)
}
