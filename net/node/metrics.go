package node

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arbiter-gg/arbiter/matchmaking"
)

// queueCollector reports the matchmaker's queue sizes per mode at scrape time.
type queueCollector struct {
	mm   *matchmaking.Matchmaker
	desc *prometheus.Desc
}

func newQueueCollector(mm *matchmaking.Matchmaker) prometheus.Collector {
	return &queueCollector{mm: mm, desc: prometheus.NewDesc("arbiter_matchmaker_queue_size", "Players waiting in the matchmaker, by mode.", []string{"mode"}, nil)}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	sizes := c.mm.QueueSizes()
	for _, m := range c.mm.Modes() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(sizes[m.Name]), m.Name)
	}
}
