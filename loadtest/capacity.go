package loadtest

import (
	"context"
	"fmt"
)

// CapacityTarget is what a bot count must hold to count as carried.
type CapacityTarget struct {
	MinDelivered float64 // default 0.995
	MaxP99Ms     float64 // default 50
}

// Step is one rung of a capacity search.
type Step struct {
	Bots   int     `json:"bots"`
	Held   bool    `json:"held"`
	Report *Report `json:"report"`
}

// FindCapacity runs cfg at growing bot counts (from cfg.Bots, by step,
// up to maxBots) until one fails the target, and returns the last count
// that held with every step's report.
func FindCapacity(ctx context.Context, cfg Config, step, maxBots int, t CapacityTarget, log func(string)) (int, []Step, error) {
	if t.MinDelivered == 0 {
		t.MinDelivered = 0.995
	}
	if t.MaxP99Ms == 0 {
		t.MaxP99Ms = 50
	}
	if step <= 0 {
		step = 200
	}
	best := 0
	var steps []Step
	for n := cfg.Bots; n <= maxBots && ctx.Err() == nil; n += step {
		c := cfg
		c.Bots = n
		rep, err := Run(ctx, c)
		if err != nil {
			return best, steps, err
		}
		held := rep.DeliveredRatio >= t.MinDelivered && rep.AckLatencyMs.P99 <= t.MaxP99Ms
		steps = append(steps, Step{Bots: n, Held: held, Report: rep})
		if log != nil {
			log(fmt.Sprintf("capacity step: %d bots: delivered %.4f, ack p99 %.1f ms: %s", n, rep.DeliveredRatio, rep.AckLatencyMs.P99, map[bool]string{true: "held", false: "broke"}[held]))
		}
		if !held {
			break
		}
		best = n
	}
	return best, steps, nil
}
