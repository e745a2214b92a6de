package fn

import (
	"fmt"
	"math"
	"slices"

	"github.com/prometheus/prometheus/util/annotations"

	"github.com/almanacdb/almanac/analytics"
)

// The analytics*.go files hold almanac's analytics functions
// (docs/analytics.md): anomaly_score, anomaly_band, forecast,
// forecast_band, correlate, correlation_lag and seasonality, built on
// package analytics.
//
// # How a call is evaluated
//
// Each step's value comes from the samples in that step's window
// (Ends[i]-Range, Ends[i]], as analytics' raw-sample entry points see
// them: usable values (NaN and ±Inf dropped) placed on a regular grid at
// the series' scrape interval, interior gaps of up to a tenth of the
// window (at least 3 points) interpolated, and only the part after a
// longer gap kept. Two things are shared across the steps of a call
// instead of being redone for every window:
//
//   - the grid. A series is gridded once (seriesGrid), at the median
//     interval of all its samples in the query, and a step's window is a
//     slice of that grid from its first to its newest sample. For a
//     regularly scraped series this is the grid analytics would build
//     from the window alone.
//   - the structure of the data: the seasonal period, the seasonal
//     profile of anomaly_score, the model (method and smoothing
//     parameters) of forecast, the periods and per-phase median changes
//     correlate removes. Fitting it costs a thousand times a
//     step's arithmetic (DetectPeriod alone is 0.5 ms on a day of
//     minutes), so it is fitted on the window of the first step and
//     refitted only when the window has moved by half its range,
//     moved backwards, or doubled in length since (refit). The steps in
//     between apply that structure to their own window, so every value
//     still reflects its window's newest samples. An instant query fits
//     on its own window; a range query gives the same value at the steps
//     where it refits and may differ slightly between them.
//
// Between refits the work per step is incremental (anomaly_score keeps
// sorted windows that slide; see analytics_anomaly.go) or one pass over
// the window (forecast runs the fitted model), so a range query costs a
// fraction of avg_over_time over the same windows, forecast two to
// three times as much (BenchmarkAnalytics in query/analytics_test.go).
//
// A step whose window has too few samples for the method has no value;
// a data quirk that makes a requested method impossible (holt_winters
// without a seasonal cycle) adds a warning. Invalid arguments are the
// query's error: package query checks literal ones before evaluation
// (checkAnalyticsArgs), and an unknown method that reaches a function
// anyway sets RangeCall.Err; a computed argument that is invalid at a
// step leaves that step without a value.

func init() {
	Range["anomaly_score"] = RangeFunction{Call: anomalyScore}
	Bands["anomaly_band"] = BandFunction{Call: anomalyBand}
	Range["forecast"] = RangeFunction{Call: forecastValue}
	Bands["forecast_band"] = BandFunction{Call: forecastBand}
	Pairs["correlate"] = PairFunction{Call: correlate}
	Pairs["correlation_lag"] = PairFunction{Call: correlationLag}
	Range["seasonality"] = RangeFunction{Call: seasonality}
}

// The methods of the analytics functions, "auto" first (the default).
var (
	anomalyMethods     = []string{"auto", "zscore", "mad", "seasonal", "novelty"}
	forecastMethods    = []string{"auto", "linear", "holt", "holt_winters", "seasonal_naive", "theta"}
	correlationMethods = []string{"auto", "pearson", "spearman"}
)

// AnalyticsMethods returns the method names the string argument of the
// analytics function fname accepts, the default first, or nil when
// fname takes no method. The slice is the caller's.
func AnalyticsMethods(fname string) []string {
	switch fname {
	case "anomaly_score", "anomaly_band":
		return slices.Clone(anomalyMethods)
	case "forecast", "forecast_band":
		return slices.Clone(forecastMethods)
	case "correlate":
		return slices.Clone(correlationMethods)
	}
	return nil
}

// method returns the call's method argument (the default when absent)
// or, for an unknown one, sets c.Err and returns "". CheckAnalytics
// rejects unknown literals before evaluation; this is the backstop.
func (c *RangeCall) method(fname string) string {
	methods := AnalyticsMethods(fname)
	if len(c.Strings) == 0 {
		return methods[0]
	}
	m := c.Strings[0]
	if !slices.Contains(methods, m) {
		c.Err = fmt.Errorf("%s: unknown method %q; want one of %q", fname, m, methods)
		return ""
	}
	return m
}

// forMetric names the metric in a warning, as Prometheus's annotations
// do.
func forMetric(name string) string {
	if name == "" {
		return ""
	}
	return fmt.Sprintf(" for metric name %q", name)
}

// warnf adds a warning annotation for a data quirk.
func (c *RangeCall) warnf(format string, args ...any) {
	c.annotate(fmt.Errorf("%w: "+format, append([]any{annotations.PromQLWarning}, args...)...))
}

// refitDivisor says how far a window moves before the structure fitted
// on an earlier window is refitted: range/refitDivisor, half the range,
// so that a window always shares at least half its samples with the one
// its structure was fitted on. Refitting every quarter range made
// forecast cost about 5.5 times avg_over_time in BenchmarkAnalytics
// instead of 2.5 to 3.3, for forecasts that differ by a tenth of their
// interval's width.
const refitDivisor = 2

// maxGridPoints bounds a series' grid, as analytics bounds its own; a
// series with a few samples close together and others far apart gets a
// coarser step instead of a huge grid.
const maxGridPoints = 1 << 21

// seriesGrid is one series' usable samples on a regular grid, shared by
// every step's window.
type seriesGrid struct {
	start, step int64 // grid point j is at start + j*step (milliseconds)
	// v holds the values: interpolated across gaps of up to maxGap
	// points, NaN across longer ones.
	v []float64
	// ts are the usable samples' timestamps and gi their grid points.
	ts []int64
	gi []int32
	// gapEnds are the first grid points after each unfilled gap, rising.
	gapEnds []int32
	// nominal is the number of grid points a window of the range spans.
	nominal int

	w       window // the samples of the current step's window
	gapNext int    // cursor into gapEnds
	cut     int32  // the last gap end at or before the current window's newest point
}

// newSeriesGrid grids s for windows of rng milliseconds. It returns false
// when the series has fewer than two usable samples at distinct times.
func newSeriesGrid(s Samples, rng int64) (*seriesGrid, bool) {
	g := &seriesGrid{}
	uv := make([]float64, 0, len(s.V))
	for i, v := range s.V {
		if !analytics.IsMissing(v) {
			g.ts = append(g.ts, s.T[i])
			uv = append(uv, v)
		}
	}
	step, err := analytics.InferStep(g.ts)
	if err != nil {
		return nil, false
	}
	span := g.ts[len(g.ts)-1] - g.ts[0]
	if span/step >= maxGridPoints {
		step = span/(maxGridPoints-1) + 1
	}
	grid, err := analytics.Regularize(g.ts, uv, step)
	if err != nil {
		return nil, false
	}
	g.start, g.step, g.v = grid.Start, grid.Step, grid.Values
	g.gi = make([]int32, len(g.ts))
	for i, t := range g.ts {
		g.gi[i] = int32(nearestPoint(t, g.start, g.step, len(g.v)))
	}
	g.nominal = int(max(1, rng/step))
	g.fill(max(3, g.nominal/10))
	return g, true
}

// nearestPoint is the grid point a sample at t lands on, as
// analytics.Regularize places it (halves round up), clamped to the grid.
func nearestPoint(t, start, step int64, n int) int {
	if t <= start {
		return 0
	}
	off := t - start
	k := off / step
	if 2*(off%step) >= step {
		k++
	}
	return int(min(k, int64(n-1)))
}

// fill interpolates runs of at most maxGap missing points between their
// neighbours, as analytics.Fill does, and records the longer runs.
func (g *seriesGrid) fill(maxGap int) {
	vs := g.v
	for i := 0; i < len(vs); {
		if !math.IsNaN(vs[i]) {
			i++
			continue
		}
		j := i
		for j < len(vs) && math.IsNaN(vs[j]) {
			j++
		}
		if i == 0 || j == len(vs) || j-i > maxGap {
			g.gapEnds = append(g.gapEnds, int32(j))
		} else {
			lo, hi := vs[i-1], vs[j]
			for k := i; k < j; k++ {
				f := float64(k-i+1) / float64(j-i+1)
				vs[k] = lo + f*(hi-lo)
			}
		}
		i = j
	}
}

// at returns the grid points of the window (end-rng, end] as [a, k]: k
// is the newest sample's point and a the oldest sample's, or the first
// point after the last unfilled gap before k. Every value in v[a:k+1]
// is finite. ok is false for a window without samples.
func (g *seriesGrid) at(end, rng int64) (a, k int, ok bool) {
	lo, hi := g.w.at(g.ts, end-rng, end)
	if hi == lo {
		return 0, 0, false
	}
	a, k = int(g.gi[lo]), int(g.gi[hi-1])
	if g.gapNext > 0 && g.gapEnds[g.gapNext-1] > int32(k) {
		g.gapNext, g.cut = 0, 0 // the window moved back
	}
	for g.gapNext < len(g.gapEnds) && g.gapEnds[g.gapNext] <= int32(k) {
		g.cut = g.gapEnds[g.gapNext]
		g.gapNext++
	}
	return max(a, int(g.cut)), k, true
}

// seconds converts a number of grid steps to seconds.
func (g *seriesGrid) seconds(steps int) float64 {
	return float64(int64(steps)*g.step) / 1000
}

// refit decides when structure fitted on an earlier window is refitted:
// at the first step, when the window has moved back or by half of
// its range, or when it has grown to twice the points it was fitted on
// (a series that starts inside the query).
type refit struct {
	done   bool
	end    int64
	points int
}

func (r *refit) due(end, rng int64, points int) bool {
	return !r.done || end < r.end || end-r.end >= max(1, rng/refitDivisor) || points >= 2*r.points+4
}

func (r *refit) mark(end int64, points int) {
	r.done, r.end, r.points = true, end, points
}

// seasonality is seasonality(v range-vector): the dominant period of
// each step's window in seconds, 0 when it has none (analytics.DetectPeriod
// on the window's grid). The period is detected again when refit says so
// and held in between.
func seasonality(c *RangeCall) {
	g, ok := newSeriesGrid(c.In, c.Range)
	if !ok {
		return
	}
	var (
		rf     refit
		period float64
	)
	for i, end := range c.Ends {
		a, k, ok := g.at(end, c.Range)
		if !ok || k == a {
			continue // one sample: no step to speak of
		}
		if n := k - a + 1; rf.due(end, c.Range, n) {
			period = g.seconds(analytics.DetectPeriod(g.v[a : k+1]))
			rf.mark(end, n)
		}
		c.Out[i] = period
	}
}
