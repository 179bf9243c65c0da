package node

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbiter-gg/arbiter/matchmaking"
)

// queueCollector reports the matchmaker's queue sizes per mode at scrape time.
type queueCollector struct {
	sizes func() map[string]int
	modes []matchmaking.Mode
	desc  *prometheus.Desc
}

func newQueueCollector(sizes func() map[string]int, modes []matchmaking.Mode) prometheus.Collector {
	return &queueCollector{sizes: sizes, modes: modes, desc: prometheus.NewDesc("arbiter_matchmaker_queue_size",
		"Players waiting in the matchmaker, by mode (in a cluster: the whole queue where this node runs the mode's matchmaker, else this node's own waiting players).", []string{"mode"}, nil)}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	sizes := c.sizes()
	for _, m := range c.modes {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(sizes[m.Name]), m.Name)
	}
}
