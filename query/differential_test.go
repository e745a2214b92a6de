package query_test

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	promstorage "github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/teststorage"

	"github.com/almanacdb/almanac/query"
)

var (
	diffCases = flag.Int("diff.cases", 300, "random queries the differential test runs")
	diffSeed  = flag.Uint64("diff.seed", 0, "seed of the differential test (0: from the clock)")
)

// TestDifferential compares almanac's engine on almanac storage with
// Prometheus's engine on Prometheus's TSDB: the same random data (counters
// with resets, gauges, gaps, stale markers, classic histograms), the same
// random well-typed range queries. Any disagreement fails with the
// smallest disagreeing sub-expression and the seed that reproduces it.
// `make test` runs a few hundred cases; `make diff-long` many more.
func TestDifferential(t *testing.T) {
	seed := *diffSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -diff.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 11))

	prom := teststorage.New(t)
	alm := newTestStorage(t, 0)
	t.Cleanup(func() { alm.Close() })
	data := genData(rng)
	for _, st := range []promstorage.Storage{prom, alm} {
		app := st.Appender(context.Background())
		for _, s := range data {
			for i, ts := range s.t {
				if _, err := app.Append(0, s.lset, ts, s.v[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}

	opts := promql.EngineOpts{
		MaxSamples:               50_000_000,
		Timeout:                  time.Minute,
		LookbackDelta:            5 * time.Minute,
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		EnableDelayedNameRemoval: true,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		Parser:                   parser.NewParser(parser.Options{EnableExperimentalFunctions: true}),
	}
	promEngine := promql.NewEngine(opts)
	almEngine := query.PromEngine{Engine: query.NewEngine(query.Options{})}

	run := func(e promql.QueryEngine, st promstorage.Storage, q string, start, end time.Time, step time.Duration) (parser.Value, error) {
		qry, err := e.NewRangeQuery(context.Background(), st, nil, q, start, end, step)
		if err != nil {
			return nil, err
		}
		defer qry.Close()
		res := qry.Exec(context.Background())
		return res.Value, res.Err
	}
	disagree := func(q string, start, end time.Time, step time.Duration) string {
		pv, perr := run(promEngine, prom, q, start, end, step)
		av, aerr := run(almEngine, alm, q, start, end, step)
		if (perr == nil) != (aerr == nil) {
			return fmt.Sprintf("Prometheus error: %v\nalmanac error: %v", perr, aerr)
		}
		if perr != nil {
			return ""
		}
		return diffValues(pv, av)
	}

	failures := 0
	for c := 0; c < *diffCases && failures < 5; c++ {
		g := &gen{rng: rng}
		q := g.vector(3)
		start := time.Unix(int64(rng.IntN(3600)), 0)
		end := start.Add(time.Duration(rng.IntN(7200)) * time.Second)
		step := time.Duration(15+rng.IntN(4)*15) * time.Second
		why := disagree(q, start, end, step)
		if why == "" {
			continue
		}
		failures++
		// Shrink: the smallest sub-expression that still disagrees.
		minimal, minWhy := q, why
		expr, err := parser.NewParser(parser.Options{EnableExperimentalFunctions: true}).ParseExpr(q)
		if err == nil {
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				e, ok := n.(parser.Expr)
				if !ok || (e.Type() != parser.ValueTypeVector && e.Type() != parser.ValueTypeScalar) {
					return nil
				}
				s := e.String()
				if len(s) < len(minimal) {
					if w := disagree(s, start, end, step); w != "" {
						minimal, minWhy = s, w
					}
				}
				return nil
			})
		}
		t.Errorf("case %d disagrees: %s\nminimal: %s\nrange query from %d to %d step %s\n%s",
			c, q, minimal, start.Unix(), end.Unix(), step, minWhy)
	}
}

// series is one generated series.
type series struct {
	lset labels.Labels
	t    []int64
	v    []float64
}

// genData generates two hours of 15s samples: counters with resets,
// gauges, classic histograms; some series have gaps and stale markers.
func genData(rng *rand.Rand) []series {
	var out []series
	add := func(lset labels.Labels, next func(i int, prev float64) float64) {
		s := series{lset: lset}
		prev := 0.0
		gapFrom, gapTo := -1, -1
		if rng.IntN(3) == 0 {
			gapFrom = rng.IntN(480)
			gapTo = gapFrom + 1 + rng.IntN(60)
		}
		stale := -1
		if rng.IntN(4) == 0 {
			stale = rng.IntN(480)
		}
		for i := range 480 {
			if i >= gapFrom && i < gapTo {
				continue
			}
			ts := int64(i)*15_000 + int64(rng.IntN(200)) // jitter
			if i == stale {
				s.t, s.v = append(s.t, ts), append(s.v, math.Float64frombits(value.StaleNaN))
				continue
			}
			prev = next(i, prev)
			s.t, s.v = append(s.t, ts), append(s.v, prev)
		}
		out = append(out, s)
	}
	for _, job := range []string{"api", "db"} {
		for inst := range 3 {
			instance := fmt.Sprintf("host-%d", inst)
			add(labels.FromStrings("__name__", "requests_total", "job", job, "instance", instance, "code", "200"), func(i int, prev float64) float64 {
				if rng.IntN(100) == 0 {
					return float64(rng.IntN(5)) // reset
				}
				return prev + float64(rng.IntN(20))
			})
			add(labels.FromStrings("__name__", "requests_total", "job", job, "instance", instance, "code", "500"), func(i int, prev float64) float64 {
				return prev + float64(rng.IntN(2))
			})
			add(labels.FromStrings("__name__", "temperature", "job", job, "instance", instance), func(i int, prev float64) float64 {
				return 20 + 5*math.Sin(float64(i)/40) + rng.NormFloat64()
			})
			add(labels.FromStrings("__name__", "queue_length", "job", job, "instance", instance), func(i int, prev float64) float64 {
				return float64(rng.IntN(10))
			})
			count := make([]float64, 5)
			for b, le := range []string{"0.1", "0.5", "1", "5", "+Inf"} {
				add(labels.FromStrings("__name__", "latency_seconds_bucket", "job", job, "instance", instance, "le", le), func(i int, prev float64) float64 {
					if b == 0 {
						inc := float64(rng.IntN(10))
						for j := range count {
							count[j] += inc * float64(j+1) / 5
						}
					}
					return math.Round(count[b])
				})
			}
		}
	}
	return out
}

// gen builds random well-typed PromQL over genData's metrics.
type gen struct{ rng *rand.Rand }

func (g *gen) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

func (g *gen) selector() string {
	m := g.pick("requests_total", "temperature", "queue_length", "latency_seconds_bucket")
	switch g.rng.IntN(5) {
	case 0:
		return m + `{job="` + g.pick("api", "db") + `"}`
	case 1:
		return m + `{instance=~"host-[01]"}`
	case 2:
		return m + `{job!="db"}`
	}
	return m
}

func (g *gen) rangeSel() string {
	s := g.selector() + "[" + g.pick("1m", "2m", "5m", "10m") + "]"
	if g.rng.IntN(6) == 0 {
		s += " offset " + g.pick("1m", "5m")
	}
	return s
}

func (g *gen) grouping() string {
	switch g.rng.IntN(4) {
	case 0:
		return " by (job)"
	case 1:
		return " without (instance)"
	case 2:
		return " by (job, code)"
	}
	return ""
}

func (g *gen) scalar() string {
	return g.pick("2", "0.5", "10", "-1", "100")
}

func (g *gen) vector(depth int) string {
	if depth <= 0 {
		return g.selector()
	}
	d := depth - 1
	switch g.rng.IntN(12) {
	case 0:
		return g.selector()
	case 1:
		f := g.pick("rate", "increase", "delta", "irate", "idelta", "resets", "changes", "deriv")
		return f + "(" + g.rangeSel() + ")"
	case 2:
		f := g.pick("avg_over_time", "sum_over_time", "min_over_time", "max_over_time", "count_over_time",
			"stddev_over_time", "stdvar_over_time", "last_over_time", "present_over_time")
		return f + "(" + g.rangeSel() + ")"
	case 3:
		op := g.pick("sum", "avg", "min", "max", "count", "stddev", "stdvar", "group")
		return op + g.grouping() + " (" + g.vector(d) + ")"
	case 4:
		// Over tie-free values only: ties are broken by series order, which
		// Prometheus itself does not fix (its head and its blocks order
		// series differently); docs/conformance.md.
		op := g.pick("topk", "bottomk")
		arg := g.pick("temperature", `temperature{job="api"}`, "avg_over_time(temperature[5m])", "temperature * 2", "sum by (job, instance) (temperature)", "queue_length", "requests_total")
		return op + g.grouping() + " (" + g.pick("1", "2", "3") + ", " + arg + ")"
	case 5:
		return "quantile" + g.grouping() + " (" + g.pick("0.1", "0.5", "0.9") + ", " + g.vector(d) + ")"
	case 6:
		v := g.vector(d)
		op := g.pick("+", "-", "*", "/", ">", "<", "== bool", "> bool", "%", "^")
		if orderSensitive(v) {
			op = g.pick("+", "-", "*", "/")
		}
		if g.rng.IntN(2) == 0 {
			return "(" + v + ") " + op + " " + g.scalar()
		}
		return g.scalar() + " " + op + " (" + v + ")"
	case 7:
		op := g.pick("+", "-", "/", ">", "and", "or", "unless")
		match := g.pick("", " on (job, instance)", " ignoring (code)")
		m := g.pick("requests_total", "temperature", "queue_length")
		return "sum by (job, instance) (" + m + ") " + op + match + " sum by (job, instance) (" + g.vector(d) + ")"
	case 8:
		v := g.vector(d)
		f := g.pick("abs", "ceil", "floor", "sqrt", "exp", "ln", "round", "sgn")
		if orderSensitive(v) {
			f = g.pick("abs", "sqrt", "exp", "ln")
		}
		return f + "(" + v + ")"
	case 9:
		return "histogram_quantile(" + g.pick("0.5", "0.9", "0.99") + ", sum by (le" + g.pick("", ", job") + ") (rate(latency_seconds_bucket[" + g.pick("2m", "5m") + "])))"
	case 10:
		f := g.pick("max_over_time", "avg_over_time", "min_over_time")
		return f + "(" + g.pick("rate(requests_total[5m])", "temperature", "sum by (job) (queue_length)") + "[" + g.pick("10m", "30m") + ":" + g.pick("1m", "30s", "2m") + "])"
	}
	return "clamp_min(" + g.vector(d) + ", " + g.scalar() + ")"
}

// orderSensitive reports an expression whose last bits depend on the
// order its inputs are summed in: stddev and stdvar cancel, and
// Prometheus's engine feeds an aggregation from a map in range queries,
// so its own answers vary from run to run. A discontinuous function
// (floor, round, a comparison) over one would turn that into a different
// answer, so the generator does not build one.
func orderSensitive(expr string) bool {
	return strings.Contains(expr, "stddev") || strings.Contains(expr, "stdvar")
}

// diffValues describes how two results differ, or returns "".
func diffValues(want, got parser.Value) string {
	wm, ok1 := want.(promql.Matrix)
	gm, ok2 := got.(promql.Matrix)
	if !ok1 || !ok2 {
		return fmt.Sprintf("result types differ: Prometheus %T, almanac %T", want, got)
	}
	key := func(s promql.Series) string { return s.Metric.String() }
	wmap := map[string]promql.Series{}
	for _, s := range wm {
		wmap[key(s)] = s
	}
	var diffs []string
	seen := map[string]bool{}
	for _, s := range gm {
		k := key(s)
		seen[k] = true
		w, ok := wmap[k]
		if !ok {
			diffs = append(diffs, "almanac has extra series "+k)
			continue
		}
		if d := diffPoints(w.Floats, s.Floats); d != "" {
			diffs = append(diffs, k+": "+d)
		}
	}
	for k := range wmap {
		if !seen[k] {
			diffs = append(diffs, "almanac lacks series "+k)
		}
	}
	slices.Sort(diffs)
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("... %d more", len(diffs)-5))
	}
	return strings.Join(diffs, "\n")
}

func diffPoints(want, got []promql.FPoint) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d points, Prometheus has %d (first times %v vs %v)", len(got), len(want), firstTimes(got), firstTimes(want))
	}
	for i := range want {
		if want[i].T != got[i].T {
			return fmt.Sprintf("point %d at t=%d, Prometheus's at t=%d", i, got[i].T, want[i].T)
		}
		if !sameFloat(want[i].F, got[i].F) {
			return fmt.Sprintf("at t=%d almanac %v, Prometheus %v", got[i].T, got[i].F, want[i].F)
		}
	}
	return ""
}

func firstTimes(ps []promql.FPoint) []int64 {
	var ts []int64
	for i := 0; i < len(ps) && i < 3; i++ {
		ts = append(ts, ps[i].T)
	}
	return ts
}

// sameFloat: equal, both NaN, or within 1e-9 relative (1e-12 absolute
// near zero). Aggregations add their inputs in series order, and series
// order is not part of PromQL: Prometheus's own head (creation order) and
// blocks (label order) give different roundings, so stddev's cancellation
// can differ in the tenth digit between two correct answers.
func sameFloat(a, b float64) bool {
	if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))+1e-12
}
