package loadtest

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is a run's figures. The JSON keys are stable: scripts and the
// bench table read them.
type Report struct {
	Kind        string  `json:"kind"` // "arbiter" or "floor"
	URL         string  `json:"url"`
	Mode        string  `json:"mode"`
	Bots        int     `json:"bots"`
	DurationS   float64 `json:"duration_s"`
	Aligned     bool    `json:"aligned"`
	LatencyMs   float64 `json:"added_latency_ms"`
	JitterMs    float64 `json:"added_jitter_ms"`
	ChurnPerMin float64 `json:"churn_per_min"`

	SnapshotsExpected  float64     `json:"snapshots_expected"`
	SnapshotsReceived  uint64      `json:"snapshots_received"`
	DeliveredRatio     float64     `json:"delivered_ratio"`
	AckLatencyMs       Percentiles `json:"ack_latency_ms"`
	SnapshotIntervalMs Percentiles `json:"snapshot_interval_ms"`
	DownBytesPerBotS   float64     `json:"down_bytes_per_bot_s"`
	UpBytesPerBotS     float64     `json:"up_bytes_per_bot_s"`
	MatchTimeMs        Percentiles `json:"match_time_ms"`
	Matches            uint64      `json:"matches"`
	// Followed counts the rooms joined on another node than the one the
	// bot connected to (cluster mode: MatchFound named an endpoint).
	Followed            uint64            `json:"followed"`
	Reconnects          Reconnects        `json:"reconnects"`
	Errors              map[string]uint64 `json:"errors"`
	BotCPUUsPerSnapshot float64           `json:"bot_cpu_us_per_snapshot"`
	BotMemoryBytes      float64           `json:"bot_memory_bytes"`
	LateSends           uint64            `json:"late_sends"`
	Server              *ServerFigures    `json:"server,omitempty"`
	Series              []seriesPoint     `json:"latency_series"`
	Notes               []string          `json:"notes,omitempty"`

	hist []histBar
}

// Percentiles of a distribution, in milliseconds.
type Percentiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90,omitempty"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999,omitempty"`
	Max  float64 `json:"max,omitempty"`
}

// Reconnects counts churn reconnects and those that got their seat back.
type Reconnects struct {
	Tried   uint64 `json:"tried"`
	Resumed uint64 `json:"resumed"`
}

// ServerFigures are read from the server's /metrics over the window.
type ServerFigures struct {
	CPUSeconds        float64 `json:"cpu_seconds"`
	RSSBytes          float64 `json:"rss_bytes"`
	TickMsP99         float64 `json:"tick_ms_p99"`
	TickLatenessMsP99 float64 `json:"tick_lateness_ms_p99"`
	Overruns          float64 `json:"overruns"`
	CPUUsPerSnapshot  float64 `json:"cpu_us_per_snapshot"`
}

type histBar struct {
	From, To float64 // ms
	Count    int64
}

func (r *runner) report(window time.Duration, botSeconds float64, cpu time.Duration, in, out uint64, ms runtime.MemStats) *Report {
	rec := r.rec
	rec.mu.Lock()
	defer rec.mu.Unlock()
	cfg := r.cfg
	rate := float64(cfg.TickRate)
	if v := r.snapRate.Load(); v > 0 {
		rate = float64(v) / 1000
	}
	ms2 := func(us int64) float64 { return float64(us) / 1000 }
	rep := &Report{
		Kind: kindOf(cfg.Floor), URL: cfg.URL, Mode: cfg.Mode, Bots: cfg.Bots, DurationS: window.Seconds(),
		Aligned: cfg.Align, LatencyMs: ms2(cfg.Latency.Microseconds()), JitterMs: ms2(cfg.Jitter.Microseconds()), ChurnPerMin: cfg.Churn,
		SnapshotsExpected: math.Round(botSeconds * rate),
		SnapshotsReceived: rec.snapshots,
		AckLatencyMs: Percentiles{
			P50: ms2(rec.ack.ValueAtQuantile(50)), P90: ms2(rec.ack.ValueAtQuantile(90)), P99: ms2(rec.ack.ValueAtQuantile(99)),
			P999: ms2(rec.ack.ValueAtQuantile(99.9)), Max: ms2(rec.ack.Max()),
		},
		SnapshotIntervalMs: Percentiles{P50: ms2(rec.interval.ValueAtQuantile(50)), P99: ms2(rec.interval.ValueAtQuantile(99))},
		MatchTimeMs:        Percentiles{P50: float64(rec.match.ValueAtQuantile(50)), P99: float64(rec.match.ValueAtQuantile(99))},
		Reconnects:         Reconnects{Tried: rec.tried, Resumed: rec.resumed},
		Matches:            rec.matches,
		Followed:           rec.elsewhere,
		Errors:             map[string]uint64{},
		LateSends:          rec.lateSends,
		Series:             append([]seriesPoint(nil), rec.series...),
	}
	for k, v := range rec.errors {
		rep.Errors[k] = v
	}
	if rep.SnapshotsExpected > 0 {
		rep.DeliveredRatio = float64(rec.snapshots) / rep.SnapshotsExpected
	}
	if botSeconds > 0 {
		rep.DownBytesPerBotS = float64(in) / botSeconds
		rep.UpBytesPerBotS = float64(out) / botSeconds
	}
	if rec.snapshots > 0 {
		rep.BotCPUUsPerSnapshot = float64(cpu.Microseconds()) / float64(rec.snapshots)
	}
	rep.BotMemoryBytes = float64(ms.HeapInuse+ms.StackInuse) / float64(cfg.Bots)
	for _, b := range rec.ack.Distribution() {
		if b.Count > 0 {
			rep.hist = append(rep.hist, histBar{From: ms2(b.From), To: ms2(b.To), Count: b.Count})
		}
	}
	return rep
}

// finite replaces infinities and NaN (a quantile beyond the last histogram
// bucket) with -1, which JSON can carry.
func finite(v float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return -1
	}
	return v
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// Table writes the human summary; floor, when given, adds the floor's
// figures and the ratio of each.
func (r *Report) Table(w io.Writer, floor *Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := "figure\t" + r.Kind + "\t"
	if floor != nil {
		head += "floor\tratio\t"
	}
	fmt.Fprintln(tw, head)
	row := func(name string, a float64, f func(*Report) float64, format string) {
		line := name + "\t" + fmt.Sprintf(format, a) + "\t"
		if floor != nil {
			b := f(floor)
			ratio := "-"
			if b != 0 {
				ratio = fmt.Sprintf("%.2f", a/b)
			}
			line += fmt.Sprintf(format, b) + "\t" + ratio + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	srv := func(f func(*ServerFigures) float64) func(*Report) float64 {
		return func(x *Report) float64 {
			if x.Server == nil {
				return 0
			}
			return f(x.Server)
		}
	}
	sv := func(f func(*ServerFigures) float64) float64 { return srv(f)(r) }
	row("bots", float64(r.Bots), func(x *Report) float64 { return float64(x.Bots) }, "%.0f")
	row("delivered ratio", r.DeliveredRatio, func(x *Report) float64 { return x.DeliveredRatio }, "%.4f")
	row("ack latency p50 ms", r.AckLatencyMs.P50, func(x *Report) float64 { return x.AckLatencyMs.P50 }, "%.2f")
	row("ack latency p99 ms", r.AckLatencyMs.P99, func(x *Report) float64 { return x.AckLatencyMs.P99 }, "%.2f")
	row("ack latency max ms", r.AckLatencyMs.Max, func(x *Report) float64 { return x.AckLatencyMs.Max }, "%.2f")
	row("snapshot interval p99 ms", r.SnapshotIntervalMs.P99, func(x *Report) float64 { return x.SnapshotIntervalMs.P99 }, "%.2f")
	row("down bytes/bot/s", r.DownBytesPerBotS, func(x *Report) float64 { return x.DownBytesPerBotS }, "%.0f")
	row("up bytes/bot/s", r.UpBytesPerBotS, func(x *Report) float64 { return x.UpBytesPerBotS }, "%.0f")
	row("bot CPU µs/snapshot", r.BotCPUUsPerSnapshot, func(x *Report) float64 { return x.BotCPUUsPerSnapshot }, "%.1f")
	row("bot memory KiB/bot", r.BotMemoryBytes/1024, func(x *Report) float64 { return x.BotMemoryBytes / 1024 }, "%.1f")
	row("server CPU µs/snapshot", sv(func(s *ServerFigures) float64 { return s.CPUUsPerSnapshot }), srv(func(s *ServerFigures) float64 { return s.CPUUsPerSnapshot }), "%.1f")
	row("server RSS KiB/bot", sv(func(s *ServerFigures) float64 { return s.RSSBytes / 1024 / float64(r.Bots) }), func(x *Report) float64 {
		if x.Server == nil {
			return 0
		}
		return x.Server.RSSBytes / 1024 / float64(x.Bots)
	}, "%.1f")
	row("tick p99 ms", sv(func(s *ServerFigures) float64 { return s.TickMsP99 }), srv(func(s *ServerFigures) float64 { return s.TickMsP99 }), "%.2f")
	row("tick lateness p99 ms", sv(func(s *ServerFigures) float64 { return s.TickLatenessMsP99 }), srv(func(s *ServerFigures) float64 { return s.TickLatenessMsP99 }), "%.2f")
	row("overruns", sv(func(s *ServerFigures) float64 { return s.Overruns }), srv(func(s *ServerFigures) float64 { return s.Overruns }), "%.0f")
	row("match time p50 ms", r.MatchTimeMs.P50, func(x *Report) float64 { return x.MatchTimeMs.P50 }, "%.0f")
	row("match time p99 ms", r.MatchTimeMs.P99, func(x *Report) float64 { return x.MatchTimeMs.P99 }, "%.0f")
	tw.Flush()
	fmt.Fprintf(w, "aligned inputs: %v   matches: %d (%d on another node)   reconnects: %d tried, %d resumed   errors: %s\n", r.Aligned, r.Matches, r.Followed, r.Reconnects.Tried, r.Reconnects.Resumed, errorList(r.Errors))
}

func errorList(m map[string]uint64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// WriteHTML writes a self-contained page: the scenario, the figures, the
// server's, and two plots drawn as inline SVG (no scripts, no fetches).
func (r *Report) WriteHTML(w io.Writer) error {
	js, _ := json.MarshalIndent(r, "", "  ")
	var table strings.Builder
	r.Table(&table, nil)
	return htmlTmpl.Execute(w, map[string]any{
		"R": r, "JSON": string(js), "Table": table.String(),
		"OverTime": template.HTML(r.overTimeSVG()), "Hist": template.HTML(r.histSVG()),
		"When": time.Now().Format(time.RFC3339),
	})
}

const svgW, svgH, pad = 720.0, 260.0, 40.0

func (r *Report) overTimeSVG() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" role="img" aria-label="Ack latency over time">`, svgW, svgH)
	b.WriteString(`<title>Ack latency over time</title>`)
	if len(r.Series) == 0 {
		b.WriteString(`<text x="20" y="40">no samples</text></svg>`)
		return b.String()
	}
	maxY, t0, t1 := 1.0, r.Series[0].T, r.Series[len(r.Series)-1].T
	for _, p := range r.Series {
		maxY = math.Max(maxY, p.P99)
	}
	maxY *= 1.1
	if t1 <= t0 {
		t1 = t0 + 1
	}
	x := func(t float64) float64 { return pad + (t-t0)/(t1-t0)*(svgW-2*pad) }
	y := func(v float64) float64 { return svgH - pad - v/maxY*(svgH-2*pad) }
	axes(&b, maxY, "ms", fmt.Sprintf("%.0f s", t1-t0))
	for _, s := range []struct {
		name, color string
		get         func(seriesPoint) float64
	}{{"p50", "#1f77b4", func(p seriesPoint) float64 { return p.P50 }}, {"p99", "#d62728", func(p seriesPoint) float64 { return p.P99 }}} {
		var pts []string
		for _, p := range r.Series {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.T), y(s.get(p))))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>`, s.color, strings.Join(pts, " "), s.name)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="16" fill="#1f77b4">p50</text><text x="%.0f" y="16" fill="#d62728">p99</text></svg>`, svgW-120, svgW-70)
	return b.String()
}

func (r *Report) histSVG() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" role="img" aria-label="Ack latency histogram">`, svgW, svgH)
	b.WriteString(`<title>Ack latency histogram</title>`)
	if len(r.hist) == 0 {
		b.WriteString(`<text x="20" y="40">no samples</text></svg>`)
		return b.String()
	}
	// Fold the fine HDR buckets into about 60 equal bins up to p99.9.
	top := math.Max(r.AckLatencyMs.P999, 1)
	const bins = 60
	counts := make([]int64, bins+1)
	for _, h := range r.hist {
		i := int(h.From / top * bins)
		if i > bins {
			i = bins
		}
		counts[i] += h.Count
	}
	maxC := int64(1)
	for _, c := range counts {
		maxC = max(maxC, c)
	}
	axes(&b, float64(maxC), "inputs", fmt.Sprintf("%.1f ms (last bar: beyond)", top))
	bw := (svgW - 2*pad) / float64(bins+1)
	for i, c := range counts {
		h := float64(c) / float64(maxC) * (svgH - 2*pad)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2ca02c"><title>%.2f–%.2f ms: %d</title></rect>`,
			pad+float64(i)*bw, svgH-pad-h, bw*0.9, h, float64(i)*top/bins, float64(i+1)*top/bins, c)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func axes(b *strings.Builder, maxY float64, yUnit, xLabel string) {
	fmt.Fprintf(b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#444"/>`, pad, svgH-pad, svgW-pad, svgH-pad)
	fmt.Fprintf(b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#444"/>`, pad, pad, pad, svgH-pad)
	fmt.Fprintf(b, `<text x="4" y="%.0f" font-size="11">%.1f %s</text><text x="4" y="%.0f" font-size="11">0</text>`, pad, maxY, yUnit, svgH-pad)
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" font-size="11" text-anchor="end">%s</text>`, svgW-pad, svgH-pad+16, xLabel)
}

var htmlTmpl = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Arbiter load test: {{.R.Bots}} bots ({{.R.Kind}})</title>
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
pre{background:#f4f4f4;padding:1em;overflow:auto}h2{margin-top:1.6em}figure{margin:0}figcaption{font-weight:600}</style></head><body>
<h1>Arbiter load test</h1>
<p>{{.R.Bots}} bots against <code>{{.R.URL}}</code> ({{.R.Kind}}, mode {{.R.Mode}}), measured for {{printf "%.1f" .R.DurationS}} s,
inputs {{if .R.Aligned}}aligned to the server tick from clock sync{{else}}sent at a free-running rate{{end}}.
Added latency {{.R.LatencyMs}} ms ± {{.R.JitterMs}} ms; churn {{.R.ChurnPerMin}} per minute. Written {{.When}}.</p>
<h2>Figures</h2>
<pre>{{.Table}}</pre>
<h2>Plots</h2>
<figure><figcaption>Ack latency over time (p50 and p99 per second)</figcaption>{{.OverTime}}</figure>
<figure><figcaption>Ack latency histogram</figcaption>{{.Hist}}</figure>
<h2>Server</h2>
{{if .R.Server}}<p>CPU {{printf "%.2f" .R.Server.CPUSeconds}} s over the window, {{printf "%.1f" .R.Server.CPUUsPerSnapshot}} µs per snapshot;
RSS {{printf "%.0f" .R.Server.RSSBytes}} bytes; tick p99 {{printf "%.2f" .R.Server.TickMsP99}} ms, lateness p99 {{printf "%.2f" .R.Server.TickLatenessMsP99}} ms; overruns {{.R.Server.Overruns}}.</p>
{{else}}<p>No -metrics-url was given.</p>{{end}}
<h2>Raw report</h2>
<pre>{{.JSON}}</pre>
</body></html>
`))
