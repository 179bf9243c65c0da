package loadtest

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape is one reading of a server's /metrics.
type scrape struct {
	cpu, rss, overruns, snapshots float64
	tick, late                    map[float64]float64 // cumulative bucket counts by upper bound
}

func readMetrics(ctx context.Context, url string) (*scrape, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("loadtest: %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("loadtest: parse %s: %w", url, err)
	}
	s := &scrape{
		cpu:       sum(fams["process_cpu_seconds_total"], nil),
		rss:       sum(fams["process_resident_memory_bytes"], nil),
		overruns:  sum(fams["arbiter_tick_overruns_total"], nil),
		snapshots: sum(fams["arbiter_messages_out_total"], map[string]string{"kind": "snapshot"}),
		tick:      buckets(fams["arbiter_tick_duration_seconds"]),
		late:      buckets(fams["arbiter_tick_lateness_seconds"]),
	}
	return s, nil
}

func sum(f *dto.MetricFamily, labels map[string]string) float64 {
	if f == nil {
		return 0
	}
	total := 0.0
next:
	for _, m := range f.GetMetric() {
		for k, v := range labels {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Untyped != nil:
			total += m.GetUntyped().GetValue()
		}
	}
	return total
}

func buckets(f *dto.MetricFamily) map[float64]float64 {
	out := map[float64]float64{}
	if f == nil {
		return out
	}
	for _, m := range f.GetMetric() {
		h := m.GetHistogram()
		for _, b := range h.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), 1) {
				out[b.GetUpperBound()] += float64(b.GetCumulativeCount())
			}
		}
		out[math.Inf(1)] += float64(h.GetSampleCount())
	}
	return out
}

// quantileDelta is the q quantile (0..1) of the observations between two
// readings of a histogram, as the upper bound of the bucket it falls in.
func quantileDelta(a, b map[float64]float64, q float64) float64 {
	bounds := make([]float64, 0, len(b))
	for ub := range b {
		bounds = append(bounds, ub)
	}
	sort.Float64s(bounds)
	total := b[math.Inf(1)] - a[math.Inf(1)]
	if total <= 0 {
		return 0
	}
	for _, ub := range bounds {
		if b[ub]-a[ub] >= q*total {
			return ub
		}
	}
	return math.Inf(1)
}

// readMetricsNamed reads one series, written as name or name{label="v"}.
func readMetricsNamed(ctx context.Context, url, series string) (float64, error) {
	name, labels := series, map[string]string{}
	if i := strings.IndexByte(series, '{'); i >= 0 {
		name = series[:i]
		for _, kv := range strings.Split(strings.Trim(series[i:], "{}"), ",") {
			k, v, _ := strings.Cut(kv, "=")
			labels[k] = strings.Trim(v, `"`)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, err
	}
	return sum(fams[name], labels), nil
}

func sortStrings(s []string) []string { sort.Strings(s); return s }
