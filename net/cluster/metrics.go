package cluster

import (
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the cluster's Prometheus metrics.
type Metrics struct {
	// Allocation is the round trip of one room allocation request to a
	// node, answered or not.
	Allocation prometheus.Histogram
	// LeaseChanges counts this node's lease events by mode and change
	// (acquired, lost, released).
	LeaseChanges *prometheus.CounterVec
	// Nodes is the number of nodes in the registry, this one included.
	Nodes prometheus.Gauge
	// NodesGone counts nodes that left (deleted their entry) or were lost
	// (stopped refreshing it).
	NodesGone *prometheus.CounterVec
	// Tickets counts tickets this node published.
	Tickets prometheus.Counter
	// RoomsLost counts rooms on lost nodes this node told players about.
	RoomsLost prometheus.Counter

	reg prometheus.Registerer
}

// NewMetrics registers the cluster's metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Allocation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "arbiter_cluster_allocation_seconds",
			Help:    "Round trip of a room allocation request to a node.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2},
		}),
		LeaseChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arbiter_cluster_lease_changes_total",
			Help: "Matchmaking lease events on this node, by mode and change (acquired, lost, released).",
		}, []string{"mode", "change"}),
		Nodes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arbiter_cluster_nodes",
			Help: "Nodes in the registry, this one included.",
		}),
		NodesGone: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "arbiter_cluster_nodes_gone_total",
			Help: "Nodes that left the registry (left) or stopped refreshing their entry (lost).",
		}, []string{"how"}),
		Tickets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arbiter_cluster_tickets_total",
			Help: "Tickets this node published to the matchmakers.",
		}),
		RoomsLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arbiter_cluster_rooms_lost_total",
			Help: "Rooms on lost nodes whose players this node told.",
		}),
		reg: reg,
	}
	for _, how := range []string{"left", "lost"} {
		m.NodesGone.WithLabelValues(how) // exported at 0 from the start
	}
	if reg != nil {
		reg.MustRegister(m.Allocation, m.LeaseChanges, m.Nodes, m.NodesGone, m.Tickets, m.RoomsLost)
	}
	return m
}

// connected registers the NATS connection's state and reconnects.
func (m *Metrics) connected(nc *nats.Conn) {
	if m.reg == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "arbiter_nats_connected",
			Help: "1 while the node's NATS connection is up, else 0.",
		}, func() float64 {
			if nc.IsConnected() {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "arbiter_nats_reconnects_total",
			Help: "Times the node's NATS connection reconnected.",
		}, func() float64 { return float64(nc.Stats().Reconnects) }),
	)
}
