package fn

// The range*.go files hold PromQL's functions over range vectors. Each
// is called once per series with every sample the steps' windows need
// (c.In may hold more; a function selects by time) and fills c.Out for
// all steps in one pass: the window of step i is (Ends[i]-Range,
// Ends[i]], its edges found by cursors that only move forward while
// Ends rise. Where Prometheus's result depends on the order of floating
// point operations (Kahan sums, regressions, quantiles), the window is
// recomputed in Prometheus's order so results agree to the bit; where a
// running computation gives the same bits (counts, first and last,
// minimum and maximum, resets), the window slides.
//
// Input the engine must provide, per series:
//
//   - plain windows: the samples in (min(Ends)-Range, max(Ends)];
//   - anchored: also the Lookback before, (min(Ends)-Range-Lookback,
//     max(Ends)];
//   - smoothed: also the Lookback after, (min(Ends)-Range-Lookback,
//     max(Ends)+Lookback];
//   - In.ST aligned with In.T when start timestamps are enabled (rate,
//     increase, irate and resets read it only if UseStartTimestamps).
//
// A function ignores a modifier Prometheus does not allow with it:
// Prometheus fails such a query before any call, so the engine must
// check (anchored: changes, delta, increase, rate, resets; smoothed:
// delta, increase, rate).

import (
	"math"
	"sort"
	"time"

	"github.com/prometheus/prometheus/promql/parser/posrange"
)

// edge is one edge of the sliding windows over a series' timestamps:
// for a sequence of bounds it finds the first sample later than each.
// It moves forward while the bounds rise and searches afresh when one
// falls, so a pass over rising bounds costs one scan of the samples.
type edge struct {
	i       int
	bound   int64
	started bool
}

// after returns the index of the first timestamp in ts later than
// bound (len(ts) if none).
func (e *edge) after(ts []int64, bound int64) int {
	if e.started && bound < e.bound {
		e.i = sort.Search(len(ts), func(j int) bool { return ts[j] > bound })
	}
	for e.i < len(ts) && ts[e.i] <= bound {
		e.i++
	}
	e.bound, e.started = bound, true
	return e.i
}

// window finds the samples of each step's window.
type window struct{ lo, hi edge }

// at returns the samples in (mint, maxt] as the index range [lo, hi).
func (w *window) at(ts []int64, mint, maxt int64) (lo, hi int) {
	lo = w.lo.after(ts, mint)
	hi = max(lo, w.hi.after(ts, maxt))
	return lo, hi
}

// rangeKahanInc adds inc to the compensated sum (sum, c), Neumaier's variant
// of Kahan summation, operation for operation as Prometheus's
// util/kahansum.Inc so that sums agree to the bit. The explicit
// conversions round to float64 and so keep the compiler from fusing
// operations across the call (Go may fuse x*y+z otherwise).
func rangeKahanInc(inc, sum, c float64) (newSum, newC float64) {
	inc = float64(inc)
	sum = float64(sum)
	c = float64(c)

	t := sum + inc
	switch {
	case math.IsInf(t, 0):
		c = 0
	case math.Abs(sum) >= math.Abs(inc):
		c += (sum - t) + inc
	default:
		c += (inc - t) + sum
	}
	return float64(t), float64(c)
}

// rangeSeconds is a range in seconds as Prometheus computes it
// (time.Duration.Seconds), so divisions by it agree to the bit.
func rangeSeconds(rangeMillis int64) float64 {
	return (time.Duration(rangeMillis) * time.Millisecond).Seconds()
}

// annotate adds an annotation to the call's collection.
func (c *RangeCall) annotate(err error) {
	if c.Annos != nil {
		c.Annos.Add(err)
	}
}

// scalarPos is the position of the argument of Scalars[j].
func (c *RangeCall) scalarPos(j int) (pos posrange.PositionRange) {
	if j < len(c.ScalarPos) {
		pos = c.ScalarPos[j]
	}
	return pos
}

// stepTimes are the evaluation times of the steps.
func (c *RangeCall) stepTimes() []int64 {
	if c.Steps != nil {
		return c.Steps
	}
	return c.Ends
}
