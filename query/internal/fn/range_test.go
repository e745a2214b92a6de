package fn

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"
	"github.com/stretchr/testify/require"
)

// rangeCase is one hand-worked call: a series, the steps' window ends
// and what each step must give (Absent for no value).
type rangeCase struct {
	fn       string
	ts       []int64 // seconds
	vs       []float64
	st       []int64 // milliseconds, optional
	rng      int64   // seconds
	ends     []int64 // seconds
	scalars  []float64
	anchored bool
	smoothed bool
	want     []float64
}

// run calls the case's function and returns its output, annotations
// and error.
func (rc rangeCase) run(t *testing.T) ([]float64, annotations.Annotations, error) {
	t.Helper()
	f, ok := Range[rc.fn]
	require.True(t, ok, "no range function %s", rc.fn)
	in := Samples{Labels: labels.FromStrings("__name__", "x"), V: rc.vs, ST: rc.st}
	for _, ts := range rc.ts {
		in.T = append(in.T, ts*1000)
	}
	ends := make([]int64, len(rc.ends))
	for i, e := range rc.ends {
		ends[i] = e * 1000
	}
	var scalars [][]float64
	for _, s := range rc.scalars {
		col := make([]float64, len(ends))
		for i := range col {
			col[i] = s
		}
		scalars = append(scalars, col)
	}
	var annos annotations.Annotations
	c := &RangeCall{
		Ends: ends, Range: rc.rng * 1000, Scalars: scalars, In: in, Out: NewValues(len(ends)),
		Anchored: rc.anchored, Smoothed: rc.smoothed, UseStartTimestamps: rc.st != nil,
		Lookback: 5 * time.Minute.Milliseconds(), MetricName: "x", Annos: &annos,
	}
	f.Call(c)
	return c.Out, annos, c.Err
}

// TestRangeHandWorked checks cases worked out by hand or taken from
// Prometheus's own test scripts (extended_vectors.test).
func TestRangeHandWorked(t *testing.T) {
	nan, inf, negZero, A := math.NaN(), math.Inf(1), math.Copysign(0, -1), Absent
	// PROM-52 data: 15 s scrapes of 1 2 3 4 5 9 10 11 12 13, and the same
	// with the 4th and 5th scrape missing.
	promTs := []int64{0, 15, 30, 45, 60, 75, 90, 105, 120, 135}
	promVs := []float64{1, 2, 3, 4, 5, 9, 10, 11, 12, 13}
	gapTs := []int64{0, 15, 30, 75, 90, 105, 120, 135}
	gapVs := []float64{1, 2, 3, 9, 10, 11, 12, 13}
	promEnds := []int64{5, 20, 35, 50, 65, 80, 95, 110, 125}

	f := func(name string, rc rangeCase) {
		t.Run(name, func(t *testing.T) {
			got, _, err := rc.run(t)
			require.NoError(t, err)
			require.Len(t, got, len(rc.want))
			for i, w := range rc.want {
				g := got[i]
				switch {
				case IsAbsent(w) || IsAbsent(g):
					require.True(t, IsAbsent(w) && IsAbsent(g), "step %d: got %v, want %v", i, g, w)
				case math.IsNaN(w):
					require.True(t, math.IsNaN(g), "step %d: got %v, want NaN", i, g)
				case w == 0 || math.IsInf(w, 0):
					require.Equal(t, math.Float64bits(w), math.Float64bits(g), "step %d: got %v, want %v", i, g, w)
				default:
					require.InEpsilon(t, w, g, 1e-9, "step %d", i)
				}
			}
		})
	}

	f("increase", rangeCase{fn: "increase", ts: promTs, vs: promVs, rng: 60, ends: promEnds,
		want: []float64{A, 1.833333333333, 2.833333333333, 4, 4, 8, 8, 8, 4}})
	f("increase anchored", rangeCase{fn: "increase", ts: promTs, vs: promVs, rng: 60, ends: promEnds, anchored: true,
		want: []float64{0, 1, 2, 3, 4, 7, 7, 7, 7}})
	f("increase smoothed", rangeCase{fn: "increase", ts: promTs, vs: promVs, rng: 60, ends: promEnds, smoothed: true,
		want: []float64{1.0 / 3, 1 + 1.0/3, 2 + 1.0/3, 3 + 1.0/3, 5, 7, 7, 7, 6}})
	f("increase gap", rangeCase{fn: "increase", ts: gapTs, vs: gapVs, rng: 60, ends: promEnds,
		want: []float64{A, 1.833333333333, 2.833333333333, 3.166666666666, 2.166666666666, 8, 1.833333333333, 2.833333333333, 4}})
	f("increase gap anchored", rangeCase{fn: "increase", ts: gapTs, vs: gapVs, rng: 60, ends: promEnds, anchored: true,
		want: []float64{0, 1, 2, 2, 2, 7, 7, 8, 9}})
	f("increase gap smoothed", rangeCase{fn: "increase", ts: gapTs, vs: gapVs, rng: 60, ends: promEnds, smoothed: true,
		want: []float64{1.0 / 3, 1 + 1.0/3, 2 + 2.0/3, 4 + 2.0/3, 6 + 1.0/3, 7, 6 + 2.0/3, 5 + 2.0/3, 4 + 2.0/3}})
	// Smoothed windows are left-open: nothing at 2m in (1m, 2m] but the
	// sample at 1m and 3m; the anchored one needs a sample after 1m.
	f("increase smoothed left-open", rangeCase{fn: "increase", ts: []int64{0, 60, 180, 240}, vs: []float64{1, 2, 4, 5},
		rng: 60, ends: []int64{120}, smoothed: true, want: []float64{1}})
	f("increase anchored left-open", rangeCase{fn: "increase", ts: []int64{0, 60, 180, 240}, vs: []float64{1, 2, 4, 5},
		rng: 60, ends: []int64{120}, anchored: true, want: []float64{A}})
	f("delta smoothed", rangeCase{fn: "delta", ts: []int64{0, 60, 120, 180}, vs: []float64{11, -1, 100, 0},
		rng: 300, ends: []int64{330}, smoothed: true, want: []float64{-5}})
	f("delta anchored", rangeCase{fn: "delta", ts: []int64{0, 60, 120, 180, 240}, vs: []float64{3, 2, 4, 6, 8},
		rng: 60, ends: []int64{90, 180}, anchored: true, want: []float64{-1, 2}})
	// 15 s spacing over a 1 m window ending on a sample: 3 increments
	// over 45 s, extrapolated by 15 s to the left (no further than the
	// counter's zero point, which is exactly there).
	f("rate", rangeCase{fn: "rate", ts: []int64{15, 30, 45, 60}, vs: []float64{1, 2, 3, 4}, rng: 60, ends: []int64{60},
		want: []float64{4.0 / 60}})
	f("rate needs two samples", rangeCase{fn: "rate", ts: []int64{30}, vs: []float64{1}, rng: 60, ends: []int64{60},
		want: []float64{A}})
	// One sample whose start lies in the window: 0 then, 7 now.
	f("increase from start timestamp", rangeCase{fn: "increase", ts: []int64{50}, vs: []float64{7}, st: []int64{20_000},
		rng: 60, ends: []int64{60}, want: []float64{7}})
	f("irate after reset", rangeCase{fn: "irate", ts: []int64{0, 10}, vs: []float64{10, 2}, rng: 60, ends: []int64{10},
		want: []float64{0.2}})
	f("idelta", rangeCase{fn: "idelta", ts: []int64{0, 10}, vs: []float64{10, 2}, rng: 60, ends: []int64{10},
		want: []float64{-8}})
	f("changes", rangeCase{fn: "changes", ts: []int64{1, 2, 3, 4, 5, 6, 7}, vs: []float64{1, 1, 2, nan, nan, 3, 1},
		rng: 10, ends: []int64{0, 3, 7, 17}, want: []float64{A, 1, 4, A}})
	f("changes anchored", rangeCase{fn: "changes", ts: []int64{1, 2, 3, 4}, vs: []float64{1, 2, 2, 5},
		rng: 2, ends: []int64{2, 4, 10}, anchored: true, want: []float64{1, 1, A}})
	f("resets", rangeCase{fn: "resets", ts: []int64{1, 2, 3, 4, 5, 6, 7}, vs: []float64{1, 1, 2, nan, nan, 3, 1},
		rng: 10, ends: []int64{7}, want: []float64{1}})
	f("max keeps the first of -0 and +0", rangeCase{fn: "max_over_time", ts: []int64{1, 2, 3}, vs: []float64{nan, negZero, 0},
		rng: 10, ends: []int64{1, 3}, want: []float64{nan, negZero}})
	f("time of max is the last", rangeCase{fn: "ts_of_max_over_time", ts: []int64{1, 2, 3, 4}, vs: []float64{nan, 0, negZero, nan},
		rng: 10, ends: []int64{1, 4}, want: []float64{1, 3}})
	f("min", rangeCase{fn: "min_over_time", ts: []int64{1, 2, 3, 4}, vs: []float64{0, negZero, inf, 5},
		rng: 2, ends: []int64{2, 3, 4, 5, 7}, want: []float64{0, negZero, 5, 5, A}})
	f("quantile", rangeCase{fn: "quantile_over_time", scalars: []float64{0.5}, ts: []int64{1, 2, 3}, vs: []float64{3, 1, 2},
		rng: 10, ends: []int64{3}, want: []float64{2}})
	f("quantile interpolates", rangeCase{fn: "quantile_over_time", scalars: []float64{0.25}, ts: []int64{1, 2, 3}, vs: []float64{3, 1, 2},
		rng: 10, ends: []int64{3}, want: []float64{1.5}})
	f("quantile below 0", rangeCase{fn: "quantile_over_time", scalars: []float64{-1}, ts: []int64{1}, vs: []float64{3},
		rng: 10, ends: []int64{3}, want: []float64{math.Inf(-1)}})
	f("mad", rangeCase{fn: "mad_over_time", ts: []int64{1, 2, 3, 4, 5}, vs: []float64{1, 2, 3, 4, 100},
		rng: 10, ends: []int64{5, 6}, want: []float64{1, 1}})
	f("mad of NaN", rangeCase{fn: "mad_over_time", ts: []int64{1, 2}, vs: []float64{1, nan},
		rng: 10, ends: []int64{5}, want: []float64{nan}})
	f("sum", rangeCase{fn: "sum_over_time", ts: []int64{1, 2, 3}, vs: []float64{1e100, 1, -1e100},
		rng: 10, ends: []int64{3}, want: []float64{1}})
	f("avg overflows into a running mean", rangeCase{fn: "avg_over_time", ts: []int64{1, 2}, vs: []float64{1.5e308, 1.5e308},
		rng: 10, ends: []int64{3}, want: []float64{1.5e308}})
	f("stdvar", rangeCase{fn: "stdvar_over_time", ts: []int64{1, 2, 3, 4}, vs: []float64{2, 4, 4, 6},
		rng: 10, ends: []int64{4}, want: []float64{2}})
	f("count", rangeCase{fn: "count_over_time", ts: []int64{1, 2, 3}, vs: []float64{5, 6, 7},
		rng: 2, ends: []int64{0, 1, 3, 4, 6}, want: []float64{A, 1, 2, 1, A}})
	f("absent", rangeCase{fn: "absent_over_time", ts: []int64{10}, vs: []float64{1},
		rng: 5, ends: []int64{5, 10, 15, 16}, want: []float64{1, A, 1, 1}})
	f("deriv", rangeCase{fn: "deriv", ts: []int64{0, 10, 20}, vs: []float64{0, 1, 2},
		rng: 30, ends: []int64{10, 20}, want: []float64{0.1, 0.1}})
	f("integral trapezoidal", rangeCase{fn: "integral", ts: []int64{0, 10, 20}, vs: []float64{0, 1, nan},
		rng: 30, ends: []int64{20}, want: []float64{5 + 5}})
	f("integral left", rangeCase{fn: "integral", scalars: []float64{0}, ts: []int64{0, 10, 20}, vs: []float64{2, 1, 7},
		rng: 30, ends: []int64{20}, want: []float64{30}})
	f("double exponential smoothing", rangeCase{fn: "double_exponential_smoothing", scalars: []float64{0.5, 0.5},
		ts: []int64{0, 10, 20}, vs: []float64{0, 10, 20}, rng: 30, ends: []int64{20}, want: []float64{20}})
}

// TestRangePredictLinearSteps: predict_linear predicts from the step's
// evaluation time, which an offset or @ sets apart from the window.
func TestRangePredictLinearSteps(t *testing.T) {
	c := &RangeCall{
		Ends: []int64{20_000}, Range: 30_000, Scalars: [][]float64{{10}},
		In:  Samples{T: []int64{0, 10_000, 20_000}, V: []float64{0, 1, 2}},
		Out: NewValues(1),
	}
	Range["predict_linear"].Call(c)
	require.InEpsilon(t, 3.0, c.Out[0], 1e-12) // at 20 s + 10 s
	c.Out, c.Steps = NewValues(1), []int64{80_000}
	Range["predict_linear"].Call(c)
	require.InEpsilon(t, 9.0, c.Out[0], 1e-12) // at 80 s + 10 s
}

func TestRangeErrorsAndWarnings(t *testing.T) {
	smoothing := rangeCase{fn: "double_exponential_smoothing", scalars: []float64{1, 0.5}, ts: []int64{1}, vs: []float64{1},
		rng: 10, ends: []int64{0, 5}}
	_, _, err := smoothing.run(t)
	require.EqualError(t, err, "invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000")
	smoothing.ends = []int64{0} // no sample, no error
	_, _, err = smoothing.run(t)
	require.NoError(t, err)

	f := func(rc rangeCase, want ...string) {
		t.Helper()
		_, annos, err := rc.run(t)
		require.NoError(t, err)
		warns, infos := annos.AsStrings("", 0, 0)
		got := append(warns, infos...)
		slices.Sort(got)
		require.Equal(t, len(want), len(got), "%v", got)
		for i, w := range want {
			require.True(t, strings.Contains(got[i], w), "%q does not contain %q", got[i], w)
		}
	}
	f(rangeCase{fn: "quantile_over_time", scalars: []float64{2}, ts: []int64{1}, vs: []float64{1}, rng: 10, ends: []int64{1}},
		"quantile value should be between 0 and 1, got 2")
	f(rangeCase{fn: "quantile_over_time", scalars: []float64{2}, ts: []int64{1}, vs: []float64{1}, rng: 10, ends: []int64{20}})
	f(rangeCase{fn: "integral", scalars: []float64{3}, ts: []int64{1}, vs: []float64{1}, rng: 10, ends: []int64{1}},
		"strategy should be 0, 1, or 2")
	f(rangeCase{fn: "rate", ts: []int64{1, 2}, vs: []float64{1, 2}, rng: 10, ends: []int64{2}},
		`metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "x"`)
	f(rangeCase{fn: "rate", ts: []int64{1}, vs: []float64{1}, rng: 10, ends: []int64{2}}) // no result, no info
	f(rangeCase{fn: "delta", ts: []int64{1, 2}, vs: []float64{1, 2}, rng: 10, ends: []int64{2}})
}

// TestRangeAnyOrder: the windows' cursors search afresh when an end
// falls, so steps in any order give each step's own result.
func TestRangeAnyOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	series := rangeGenSeries(rng)
	var ends []int64
	for e := rangeDiffBase - 60_000; e <= rangeDiffBase+rangeDiffSpan+60_000; e += 37_000 {
		ends = append(ends, e)
	}
	perm := rng.Perm(len(ends))
	shuffled := make([]int64, len(ends))
	for i, p := range perm {
		shuffled[i] = ends[p]
	}
	scalars := map[string][]float64{
		"quantile_over_time": {0.3}, "predict_linear": {120}, "double_exponential_smoothing": {0.4, 0.2},
	}
	call := func(name string, f RangeFunction, in Samples, ends []int64, anchored, smoothed bool) []float64 {
		c := &RangeCall{
			Ends: ends, Range: 150_000, In: in, Out: NewValues(len(ends)),
			Anchored: anchored, Smoothed: smoothed, UseStartTimestamps: true,
			Lookback: rangeDiffLookback, Annos: &annotations.Annotations{},
		}
		for _, s := range scalars[name] {
			col := make([]float64, len(ends))
			for i := range col {
				col[i] = s
			}
			c.Scalars = append(c.Scalars, col)
		}
		f.Call(c)
		require.NoError(t, c.Err)
		return c.Out
	}
	for _, name := range rangePromQLFunctions(t) {
		f := Range[name]
		mods := [][2]bool{{false, false}}
		switch name {
		case "rate", "increase", "delta":
			mods = append(mods, [2]bool{true, false}, [2]bool{false, true})
		case "resets", "changes":
			mods = append(mods, [2]bool{true, false})
		}
		for _, m := range mods {
			for _, s := range series {
				in := s.samples()
				want := call(name, f, in, ends, m[0], m[1])
				got := call(name, f, in, shuffled, m[0], m[1])
				for i, p := range perm {
					if !rangeSameFloat(want[p], got[i]) && !(IsAbsent(want[p]) && IsAbsent(got[i])) {
						t.Fatalf("%s %v series %s at %d: in order %v, shuffled %v", name, m, s.lset, ends[p], want[p], got[i])
					}
				}
			}
		}
	}
}

// rangePromQLFunctions are PromQL's functions over a range vector: all
// of them must be in Range.
func rangePromQLFunctions(t *testing.T) []string {
	var names []string
	for name, f := range parser.Functions {
		if slices.Contains(f.ArgTypes, parser.ValueTypeMatrix) {
			_, ok := Range[name]
			require.True(t, ok, "range function %s is missing", name)
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func TestRangeCoversPromQL(t *testing.T) {
	names := rangePromQLFunctions(t)
	require.Len(t, names, 28, "%v", names) // as of Prometheus v0.316
	for _, name := range []string{"last_over_time", "first_over_time"} {
		require.True(t, Range[name].KeepName, name)
	}
	for _, name := range names {
		if name != "last_over_time" && name != "first_over_time" {
			require.False(t, Range[name].KeepName, name)
		}
	}
}
