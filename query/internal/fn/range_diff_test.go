package fn

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/parser/posrange"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/require"
)

var rangeSeed = flag.Uint64("range.seed", 0, "seed of TestRangeAgainstPrometheus's data (0: a random one)")

// The generated data covers [diffBase, diffBase+diffSpan]; queries run
// from before its start to after its end.
const (
	rangeDiffBase     = int64(1_000_000_000) // ms
	rangeDiffSpan     = int64(30 * time.Minute / time.Millisecond)
	rangeDiffLookback = int64(5 * time.Minute / time.Millisecond)
)

// rangeDiffSeries is one generated series as stored, stale markers included.
type rangeDiffSeries struct {
	lset labels.Labels
	t    []int64
	v    []float64
	st   []int64 // nil: no start timestamps
}

// samples is the series as the engine hands it to a range function.
func (s rangeDiffSeries) samples() Samples {
	out := Samples{Labels: s.lset}
	for j, v := range s.v {
		if value.IsStaleNaN(v) {
			continue
		}
		out.T = append(out.T, s.t[j])
		out.V = append(out.V, v)
		if s.st != nil {
			out.ST = append(out.ST, s.st[j])
		}
	}
	return out
}

// TestRangeAgainstPrometheus evaluates every range function as a range
// query on Prometheus's engine and through Range on the same data, over
// several ranges and steps, and requires equal values (to the bit; NaN
// equals NaN), equal absence, equal annotations and equal errors.
func TestRangeAgainstPrometheus(t *testing.T) {
	seed := *rangeSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (rerun with -range.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	series := rangeGenSeries(rng)
	db := teststorage.New(t, func(o *tsdb.Options) {
		o.EnableSTStorage = true
		o.FloatChunkEncoding = chunkenc.EncXOR2
	})
	app := db.AppenderV2(context.Background())
	for _, s := range series {
		for j := range s.t {
			var st int64
			if s.st != nil {
				st = s.st[j]
			}
			_, err := app.Append(0, s.lset, st, s.t[j], s.v[j], nil, nil, storage.AppendV2Options{})
			require.NoError(t, err)
		}
	}
	require.NoError(t, app.Commit())

	ng := promql.NewEngine(promql.EngineOpts{
		MaxSamples:               1 << 30,
		Timeout:                  time.Minute,
		LookbackDelta:            time.Duration(rangeDiffLookback) * time.Millisecond,
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		EnableDelayedNameRemoval: true,
		Parser:                   parser.NewParser(promqltest.TestParserOpts),
	})
	t.Cleanup(func() { _ = ng.Close() })
	h := &rangeDiffHarness{t: t, db: db, ng: ng, series: series}

	// Functions reading start timestamps run with and without them.
	withST := map[string]bool{"rate": true, "increase": true, "irate": true, "resets": true}
	atTime := (rangeDiffBase + 17*time.Minute.Milliseconds()) / 1000
	cases := []struct{ fn, args string }{
		{"rate", "%s"}, {"increase", "%s"}, {"delta", "%s"},
		{"rate", "%s anchored"}, {"increase", "%s anchored"}, {"delta", "%s anchored"},
		{"rate", "%s smoothed"}, {"increase", "%s smoothed"}, {"delta", "%s smoothed"},
		{"rate", "%s offset 2m smoothed"}, {"increase", "%s offset -1m anchored"},
		{"irate", "%s"}, {"idelta", "%s"},
		{"resets", "%s"}, {"changes", "%s"}, {"resets", "%s anchored"}, {"changes", "%s anchored"},
		{"deriv", "%s"},
		{"predict_linear", "%s, 600"}, {"predict_linear", "%s offset 3m, -42.5"},
		{"predict_linear", fmt.Sprintf("%%s @ %d, 100", atTime)},
		{"double_exponential_smoothing", "%s, 0.3, 0.6"},
		{"double_exponential_smoothing", "%s, 0.9, 0.1"},
		{"integral", "%s"}, {"integral", "%s, 0"}, {"integral", "%s, 1"}, {"integral", "%s, 2.5"},
		{"avg_over_time", "%s"}, {"sum_over_time", "%s"}, {"count_over_time", "%s"},
		{"min_over_time", "%s"}, {"max_over_time", "%s"},
		{"stddev_over_time", "%s"}, {"stdvar_over_time", "%s"},
		{"last_over_time", "%s"}, {"first_over_time", "%s"},
		{"ts_of_last_over_time", "%s"}, {"ts_of_first_over_time", "%s"},
		{"ts_of_min_over_time", "%s"}, {"ts_of_max_over_time", "%s"},
		{"present_over_time", "%s"}, {"mad_over_time", "%s"},
		{"quantile_over_time", "0.25, %s"}, {"quantile_over_time", "1, %s"},
		{"quantile_over_time", "-0.5, %s"},
		{"quantile_over_time", "NaN, %s"},
		{"quantile_over_time", "(time() - 1000600) / 1200, %s"},
		{"absent_over_time", "%s"},
	}
	ranges := []string{"30s", "1m", "2m30s", "5m", "11m"}
	// Steps smaller and larger than the ranges; the short step (costly
	// for Prometheus's engine) for every other range.
	for _, tc := range cases {
		for j, r := range ranges {
			sel := fmt.Sprintf(`{__name__=~".+"}[%s]`, r)
			q := fmt.Sprintf("%s(%s)", tc.fn, fmt.Sprintf(tc.args, sel))
			other := 3*time.Minute + 33*time.Second
			if j%2 == 0 {
				other = 20 * time.Second
			}
			for _, step := range []time.Duration{time.Minute, other} {
				h.check(q, step, true)
			}
			if withST[tc.fn] {
				h.check(q, time.Minute, false)
			}
		}
	}
	// absent_over_time over one series with gaps.
	for _, r := range ranges {
		h.check(fmt.Sprintf(`absent_over_time({id="sparse"}[%s])`, r), time.Minute, true)
	}
	// Invalid factors fail the query.
	h.check(`double_exponential_smoothing({__name__=~".+"}[5m], 1, 0.5)`, time.Minute, true)
	h.check(`double_exponential_smoothing({__name__=~".+"}[5m], 0.5, 0)`, time.Minute, true)
}

type rangeDiffHarness struct {
	t      *testing.T
	db     storage.Queryable
	ng     *promql.Engine
	series []rangeDiffSeries
}

// Every query runs over the same steps: from before the data to after.
func rangeDiffSteps(step time.Duration) (start, end int64, times []int64) {
	// Aligned with the data's 15 s grid, so that windows often start or
	// end exactly at a sample (a 3m33s step shifts them off it).
	start = rangeDiffBase - 3*time.Minute.Milliseconds()
	end = rangeDiffBase + rangeDiffSpan + 2*time.Minute.Milliseconds()
	for ts := start; ts <= end; ts += step.Milliseconds() {
		times = append(times, ts)
	}
	return start, end, times
}

// check runs q both ways and compares.
func (h *rangeDiffHarness) check(q string, step time.Duration, useST bool) {
	t := h.t
	name := fmt.Sprintf("%s step=%s st=%v", q, step, useST)
	start, end, times := rangeDiffSteps(step)

	res, done := h.promQuery(q, start, end, step, useST)
	defer done()
	want, _ := res.Value.(promql.Matrix)
	var wantWarns, wantInfos []string
	if res.Err == nil {
		wantWarns, wantInfos = res.Warnings.AsStrings(q, 0, 0)
	}

	got, annos, err := h.ours(q, start, end, step, times, useST)
	if res.Err != nil || err != nil {
		if res.Err == nil || err == nil || res.Err.Error() != err.Error() {
			t.Fatalf("%s: error: prometheus %v, almanac %v", name, res.Err, err)
		}
		return
	}
	gotWarns, gotInfos := annos.AsStrings(q, 0, 0)
	slices.Sort(wantWarns)
	slices.Sort(gotWarns)
	slices.Sort(wantInfos)
	slices.Sort(gotInfos)
	require.Equal(t, wantWarns, gotWarns, "%s: warnings", name)
	require.Equal(t, wantInfos, gotInfos, "%s: infos", name)

	seen := map[string]bool{}
	for _, s := range want {
		key := s.Metric.Get("id")
		g, ok := got[key]
		if !ok {
			t.Fatalf("%s: prometheus has series %s, almanac not", name, s.Metric)
		}
		if !labels.Equal(s.Metric, g.Labels) {
			t.Fatalf("%s: labels: prometheus %s, almanac %s", name, s.Metric, g.Labels)
		}
		seen[key] = true
		present := 0
		for _, p := range s.Floats {
			i := int((p.T - start) / step.Milliseconds())
			present++
			if !rangeSameFloat(p.F, g.V[i]) {
				t.Fatalf("%s: series %s at %d: prometheus %v (%#x), almanac %v (%#x)",
					name, s.Metric, p.T, p.F, math.Float64bits(p.F), g.V[i], math.Float64bits(g.V[i]))
			}
		}
		if n := rangeCountPresent(g.V); n != present {
			t.Fatalf("%s: series %s: prometheus has %d values, almanac %d: %v", name, s.Metric, present, n, g.V)
		}
		if len(s.Histograms) > 0 {
			t.Fatalf("%s: unexpected histograms", name)
		}
	}
	for key, g := range got {
		if !seen[key] && rangeCountPresent(g.V) > 0 {
			t.Fatalf("%s: almanac has series %s, prometheus not", name, g.Labels)
		}
	}
}

// promQuery runs q on Prometheus's engine. The result is valid until
// done is called (the engine reuses its memory).
func (h *rangeDiffHarness) promQuery(q string, start, end int64, step time.Duration, useST bool) (res *promql.Result, done func()) {
	h.t.Helper()
	opts := promql.NewPrometheusQueryOpts(false, 0, &useST)
	qry, err := h.ng.NewRangeQuery(context.Background(), h.db, opts, q, time.UnixMilli(start), time.UnixMilli(end), step)
	require.NoError(h.t, err, q)
	return qry.Exec(context.Background()), qry.Close
}

// ours evaluates q, one call of a range function over a selector, as
// the engine does: every series matching the selector, every step in
// one call; Ends and Steps from the offset or @; scalar arguments
// evaluated by Prometheus. absent_over_time combines the series.
func (h *rangeDiffHarness) ours(q string, start, end int64, step time.Duration, times []int64, useST bool) (map[string]Series, annotations.Annotations, error) {
	t := h.t
	expr, err := parser.NewParser(promqltest.TestParserOpts).ParseExpr(q)
	require.NoError(t, err)
	call := expr.(*parser.Call)
	f, ok := Range[call.Func.Name]
	require.True(t, ok, "no range function %s", call.Func.Name)

	var (
		ms        *parser.MatrixSelector
		scalars   [][]float64
		scalarPos []posrange.PositionRange
	)
	for _, arg := range call.Args {
		if m, ok := arg.(*parser.MatrixSelector); ok {
			ms = m
			continue
		}
		scalars = append(scalars, h.scalar(arg, start, end, step, len(times)))
		scalarPos = append(scalarPos, arg.PositionRange())
	}
	vs := ms.VectorSelector.(*parser.VectorSelector)
	ends := make([]int64, len(times))
	for i, ts := range times {
		ends[i] = ts - vs.OriginalOffset.Milliseconds()
		if vs.Timestamp != nil {
			ends[i] = *vs.Timestamp
		}
	}

	var annos annotations.Annotations
	out := map[string]Series{}
	for _, s := range h.series {
		if !rangeMatches(vs.LabelMatchers, s.lset) {
			continue
		}
		in := s.samples()
		c := &RangeCall{
			Ends: ends, Range: ms.Range.Milliseconds(), Scalars: scalars,
			In: in, Out: NewValues(len(ends)),
			Anchored: vs.Anchored, Smoothed: vs.Smoothed,
			UseStartTimestamps: useST, Lookback: rangeDiffLookback,
			MetricName: s.lset.Get(model.MetricNameLabel),
			Annos:      &annos, Pos: ms.PositionRange(),
			Steps: times, ScalarPos: scalarPos,
		}
		f.Call(c)
		if c.Err != nil {
			return nil, nil, c.Err
		}
		lset := s.lset
		if !f.KeepName {
			lset = lset.DropMetricName()
		}
		out[s.lset.Get("id")] = Series{Labels: lset, V: c.Out}
	}
	if call.Func.Name == "absent_over_time" {
		v := NewValues(len(times))
		for i := range v {
			v[i] = 1
			for _, s := range out {
				if IsAbsent(s.V[i]) {
					v[i] = Absent
				}
			}
		}
		// The selector's equality matchers are the labels.
		b := labels.NewBuilder(labels.EmptyLabels())
		for _, m := range vs.LabelMatchers {
			if m.Type == labels.MatchEqual && m.Name != model.MetricNameLabel {
				b.Set(m.Name, m.Value)
			}
		}
		lset := b.Labels()
		out = map[string]Series{lset.Get("id"): {Labels: lset, V: v}}
	}
	return out, annos, nil
}

// scalar evaluates a scalar argument at every step.
func (h *rangeDiffHarness) scalar(e parser.Expr, start, end int64, step time.Duration, n int) []float64 {
	if lit, ok := e.(*parser.NumberLiteral); ok {
		v := make([]float64, n)
		for i := range v {
			v[i] = lit.Val
		}
		return v
	}
	res, done := h.promQuery(e.String(), start, end, step, true)
	defer done()
	require.NoError(h.t, res.Err)
	m := res.Value.(promql.Matrix)
	require.Len(h.t, m, 1)
	require.Len(h.t, m[0].Floats, n)
	v := make([]float64, n)
	for i, p := range m[0].Floats {
		v[i] = p.F
	}
	return v
}

func rangeMatches(ms []*labels.Matcher, lset labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

func rangeCountPresent(vs []float64) int {
	n := 0
	for _, v := range vs {
		if !IsAbsent(v) {
			n++
		}
	}
	return n
}

// rangeSameFloat: equal bits, or both NaN (not absent).
func rangeSameFloat(want, got float64) bool {
	if IsAbsent(got) {
		return false
	}
	if math.IsNaN(want) && math.IsNaN(got) {
		return true
	}
	return math.Float64bits(want) == math.Float64bits(got)
}

// rangeGenSeries makes series of every shape the functions care about:
// counters with resets, gauges, gaps, jittered and irregular times,
// NaN and infinite values, -0 and +0, equal values, huge values, stale
// markers, start timestamps of every kind, and timestamps shared
// across series.
func rangeGenSeries(rng *rand.Rand) []rangeDiffSeries {
	var out []rangeDiffSeries
	add := func(name, id string, ts []int64, vs []float64, st []int64) {
		out = append(out, rangeDiffSeries{lset: labels.FromStrings(model.MetricNameLabel, name, "id", id), t: ts, v: vs, st: st})
	}
	regular := rangeScrapeTimes(rng, 15_000, 0, 0, 0)

	add("req_total", "counter", regular, rangeCounterValues(rng, len(regular), 0.05), nil)
	jittered := rangeScrapeTimes(rng, 15_000, 3_000, 0.1, 0.01)
	add("bytes_total", "jittered", jittered, rangeCounterValues(rng, len(jittered), 0.1), nil)
	add("requests", "nocounter", regular, rangeCounterValues(rng, len(regular), 0.03), nil)
	add("temp", "gauge", regular, rangeGaugeValues(rng, len(regular)), nil)

	odd := rangeScrapeTimes(rng, 10_000, 9_000, 0.2, 0.02)
	weird := rangeGaugeValues(rng, len(odd))
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e308, -1e308}
	for j := range weird {
		if rng.IntN(6) == 0 {
			weird[j] = specials[rng.IntN(len(specials))]
		}
	}
	add("weird", "weird", odd, weird, nil)

	flat := make([]float64, len(regular))
	levels := []float64{0, math.Copysign(0, -1), 1, 1, 2, -3}
	for j := range flat {
		flat[j] = levels[rng.IntN(len(levels))]
		if j > 0 && rng.IntN(2) == 0 {
			flat[j] = flat[j-1]
		}
	}
	add("flat", "flat", regular, flat, nil)

	// Runs of NaN (windows of NaN only) and of infinities.
	nanRuns := rangeGaugeValues(rng, len(regular))
	for j := 0; j < len(nanRuns); j++ {
		if rng.IntN(8) == 0 {
			x := specials[rng.IntN(3)]
			for k := j; k < min(len(nanRuns), j+1+rng.IntN(5)); k++ {
				nanRuns[k] = x
			}
		}
	}
	add("nan_runs", "nan_runs", regular, nanRuns, nil)

	// Huge values a second apart whose running sums stay finite
	// (+a +b -c -d ...), where the sum of two neighbours overflows.
	var hugeT []int64
	var hugeV []float64
	for j := range 300 {
		hugeT = append(hugeT, rangeDiffBase+int64(10*time.Minute/time.Millisecond)+int64(j)*1000)
		hugeV = append(hugeV, math.Copysign(1e308*(1+0.5*rng.Float64()), float64(1-2*((j/2)%2))))
	}
	add("huge_alt", "huge_alt", hugeT, hugeV, nil)

	huge := make([]float64, len(jittered))
	for j := range huge {
		huge[j] = math.Copysign(1e308*(0.5+rng.Float64()), rng.Float64()-0.2)
	}
	add("huge", "huge", jittered, huge, nil)

	sparse := rangeScrapeTimes(rng, 200_000, 150_000, 0.3, 0)
	add("sparse_total", "sparse", sparse, rangeCounterValues(rng, len(sparse), 0.2), nil)

	// Stale markers end runs of samples.
	staleVals := rangeGaugeValues(rng, len(regular))
	for j := range staleVals {
		if rng.IntN(12) == 0 {
			staleVals[j] = math.Float64frombits(value.StaleNaN)
		}
	}
	add("stale", "stale", regular, staleVals, nil)

	// Cumulative counters with start timestamps, restarting now and then
	// (with every kind of start timestamp at the restart), and a series
	// whose first start lies inside the query.
	stTimes := rangeScrapeTimes(rng, 15_000, 2_000, 0.05, 0)
	vs, st := rangeCounterWithST(rng, stTimes, stTimes[0]-3_600_000)
	add("st_total", "st", stTimes, vs, st)
	late := stTimes[len(stTimes)/3:]
	vs, st = rangeCounterWithST(rng, late, late[0]-7_000)
	add("late_total", "st_late", late, vs, st)

	// Long gaps on the 15 s grid: windows whose lookback ends exactly at
	// a sample, and counters restarting after a gap with a start
	// timestamp on the grid (often exactly a window's edge).
	gappy := rangeGappyTimes(rng)
	add("gappy_total", "gappy", gappy, rangeCounterValues(rng, len(gappy), 0.1), nil)
	gappy = rangeGappyTimes(rng)
	vs, st = rangeCounterWithST(rng, gappy, gappy[0]-45_000)
	for j := 1; j < len(gappy); j++ {
		if gap := gappy[j] - gappy[j-1]; gap > 15_000 {
			vs[j] = rng.Float64() * 5
			switch rng.IntN(4) {
			case 0:
				st[j] = 0
			case 1:
				st[j] = gappy[j-1]
			default:
				st[j] = gappy[j] - 15_000*(1+rng.Int64N(gap/15_000-1))
			}
		}
	}
	add("gappy_st_total", "gappy_st", gappy, vs, st)

	// Short runs after long gaps, each starting at a start timestamp on
	// the 15 s grid some way before its first sample: windows (and
	// their lookbacks) that see only a run's first samples, with the
	// start at, before or after the window's edges.
	for _, id := range []string{"runs1", "runs2"} {
		ts, vs, st := rangeRuns(rng)
		add("runs_total", id, ts, vs, st)
	}

	// Deltas: every sample starts at the previous one.
	delta := rangeCounterValues(rng, len(regular), 1)
	dst := make([]int64, len(regular))
	dst[0] = regular[0] - 15_000
	for j := 1; j < len(dst); j++ {
		dst[j] = regular[j-1]
	}
	for j := range delta {
		delta[j] = float64(rng.IntN(20))
	}
	add("delta_total", "delta", regular, delta, dst)
	return out
}

// rangeScrapeTimes are sample times every interval (± jitter), missing with
// probability skip, and gaps of a few minutes with probability gap.
func rangeScrapeTimes(rng *rand.Rand, interval, jitter int64, skip, gap float64) []int64 {
	var ts []int64
	for t := rangeDiffBase; t <= rangeDiffBase+rangeDiffSpan; t += interval {
		if rng.Float64() < gap {
			t += int64(rng.IntN(6)) * time.Minute.Milliseconds()
			continue
		}
		if rng.Float64() < skip {
			continue
		}
		at := t
		if jitter > 0 {
			// Jitter by whole seconds half the time, so that jittered
			// samples still fall on window edges now and then.
			at += rng.Int64N(2*jitter+1) - jitter
			if rng.IntN(2) == 0 {
				at -= at % 1000
			}
		}
		if len(ts) > 0 && at <= ts[len(ts)-1] {
			continue
		}
		ts = append(ts, at)
	}
	return ts
}

// rangeRuns is a counter in short runs after gaps of 6 to 13 minutes,
// each run restarting from a start timestamp 15 s to 7 min before its
// first sample.
func rangeRuns(rng *rand.Rand) (ts []int64, vs []float64, st []int64) {
	const grid = 15_000
	for t := rangeDiffBase; ; {
		t += grid * (24 + rng.Int64N(29))
		if t > rangeDiffBase+rangeDiffSpan {
			return ts, vs, st
		}
		start := t - grid*(1+rng.Int64N(28))
		if len(ts) > 0 {
			start = max(start, ts[len(ts)-1]+grid)
		}
		v := rng.Float64() * 3
		for range 1 + rng.IntN(5) {
			ts, vs, st = append(ts, t), append(vs, v), append(st, start)
			t += grid
			v += rng.Float64() * 4
		}
	}
}

// rangeGappyTimes are times on the 15 s grid with gaps of 1 to 8 minutes.
func rangeGappyTimes(rng *rand.Rand) []int64 {
	var ts []int64
	for t := rangeDiffBase; t <= rangeDiffBase+rangeDiffSpan; t += 15_000 {
		if rng.IntN(12) == 0 {
			t += 15_000 * rng.Int64N(32)
		}
		ts = append(ts, t)
	}
	return ts
}

func rangeCounterValues(rng *rand.Rand, n int, reset float64) []float64 {
	vs := make([]float64, n)
	vs[0] = rng.Float64() * 100
	for j := 1; j < n; j++ {
		switch r := rng.Float64(); {
		case r < reset:
			vs[j] = rng.Float64() * 5
		case r < reset+0.1:
			vs[j] = vs[j-1]
		default:
			vs[j] = vs[j-1] + rng.Float64()*10
		}
	}
	return vs
}

func rangeGaugeValues(rng *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	for j := range vs {
		prev := 0.0
		if j > 0 {
			prev = vs[j-1]
		}
		vs[j] = prev + rng.NormFloat64()*3
	}
	return vs
}

// rangeCounterWithST is a counter starting at first, with start timestamps;
// at restarts its start timestamp is of every kind Prometheus tells
// apart, and sometimes a restart shows only in the start timestamp or
// overlaps the previous sample.
func rangeCounterWithST(rng *rand.Rand, ts []int64, first int64) ([]float64, []int64) {
	vs := make([]float64, len(ts))
	st := make([]int64, len(ts))
	vs[0], st[0] = rng.Float64()*50, first
	for j := 1; j < len(ts); j++ {
		vs[j], st[j] = vs[j-1]+rng.Float64()*10, st[j-1]
		switch rng.IntN(20) {
		case 0: // restart inside the interval (at a whole second, which
			// may be a window's edge)
			vs[j], st[j] = rng.Float64()*5, ts[j-1]+rng.Int64N(ts[j]-ts[j-1])
			if s := st[j] - st[j]%1000; s > ts[j-1] {
				st[j] = s
			}
		case 1: // restart at the previous sample (a delta's start)
			vs[j], st[j] = rng.Float64()*5, ts[j-1]
		case 2: // restart seen only in the start timestamp
			st[j] = ts[j-1] + (ts[j]-ts[j-1])/2
			if s := st[j] - st[j]%5000; s > ts[j-1] {
				st[j] = s
			}
		case 3: // unknown start (OTel: start == time)
			st[j] = ts[j]
		case 4: // invalid start after the sample
			st[j] = ts[j] + 5
		case 5: // no start timestamp
			st[j] = 0
		case 6: // overlap with the previous sample
			st[j] = ts[j-1] - 1_000
		}
	}
	return vs, st
}
