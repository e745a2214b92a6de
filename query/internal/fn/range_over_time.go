package fn

import (
	"math"
	"sort"

	"github.com/prometheus/prometheus/util/annotations"
)

// The <aggregation>_over_time functions: one value per window from the
// window's samples, whatever their order in time.

func init() {
	Range["count_over_time"] = RangeFunction{Call: rangeCount}
	Range["present_over_time"] = RangeFunction{Call: rangePresent}
	Range["absent_over_time"] = RangeFunction{Call: rangeAbsent}
	Range["last_over_time"] = RangeFunction{Call: rangeLast, KeepName: true}
	Range["first_over_time"] = RangeFunction{Call: rangeFirst, KeepName: true}
	Range["ts_of_last_over_time"] = RangeFunction{Call: rangeTsOfLast}
	Range["ts_of_first_over_time"] = RangeFunction{Call: rangeTsOfFirst}
	Range["max_over_time"] = RangeFunction{Call: func(c *RangeCall) { rangeExtreme(c, rangeMax) }}
	Range["min_over_time"] = RangeFunction{Call: func(c *RangeCall) { rangeExtreme(c, rangeMin) }}
	Range["ts_of_max_over_time"] = RangeFunction{Call: func(c *RangeCall) { rangeExtreme(c, rangeTsOfMax) }}
	Range["ts_of_min_over_time"] = RangeFunction{Call: func(c *RangeCall) { rangeExtreme(c, rangeTsOfMin) }}
	Range["sum_over_time"] = RangeFunction{Call: rangeSum}
	Range["avg_over_time"] = RangeFunction{Call: rangeAvg}
	Range["stddev_over_time"] = RangeFunction{Call: func(c *RangeCall) { rangeVariance(c, true) }}
	Range["stdvar_over_time"] = RangeFunction{Call: func(c *RangeCall) { rangeVariance(c, false) }}
	Range["quantile_over_time"] = RangeFunction{Call: rangeQuantile}
	Range["mad_over_time"] = RangeFunction{Call: rangeMAD}
}

func rangeCount(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		if lo, hi := w.at(c.In.T, end-c.Range, end); hi > lo {
			c.Out[i] = float64(hi - lo)
		}
	}
}

func rangePresent(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		if lo, hi := w.at(c.In.T, end-c.Range, end); hi > lo {
			c.Out[i] = 1
		}
	}
}

// rangeAbsent is one series' part of absent_over_time: 1 where its
// window is empty. The engine gives absent_over_time's result 1 at the
// steps where every series has 1 (every step if there is no series),
// with labels from the selector's matchers.
func rangeAbsent(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		if lo, hi := w.at(c.In.T, end-c.Range, end); hi == lo {
			c.Out[i] = 1
		}
	}
}

func rangeLast(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		if lo, hi := w.at(c.In.T, end-c.Range, end); hi > lo {
			c.Out[i] = c.In.V[hi-1]
		}
	}
}

func rangeFirst(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		if lo, hi := w.at(c.In.T, end-c.Range, end); hi > lo {
			c.Out[i] = c.In.V[lo]
		}
	}
}

func rangeTsOfLast(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		if lo, hi := w.at(c.In.T, end-c.Range, end); hi > lo {
			c.Out[i] = float64(c.In.T[hi-1]) / 1000
		}
	}
}

func rangeTsOfFirst(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		if lo, hi := w.at(c.In.T, end-c.Range, end); hi > lo {
			c.Out[i] = float64(c.In.T[lo]) / 1000
		}
	}
}

// What rangeExtreme returns.
const (
	rangeMax = iota
	rangeMin
	rangeTsOfMax
	rangeTsOfMin
)

// rangeExtreme is max_over_time, min_over_time and the times of the
// maximum and minimum, with a monotonic queue of candidates (indices of
// non-NaN samples, best first) that slides with the windows.
//
// It gives Prometheus's results exactly, which keep the first of equal
// extreme values (which matters for -0 and +0) and the time of the
// last: NaN loses to any number; a window of only NaN gives its last
// NaN (and that NaN's time).
func rangeExtreme(c *RangeCall, kind int) {
	t, v := c.In.T, c.In.V
	var (
		w     window
		queue []int // candidates among the queued samples, best first
		next  int   // the first sample not yet queued
		prev  int   // the previous window's lo
	)
	for i, end := range c.Ends {
		lo, hi := w.at(t, end-c.Range, end)
		if lo < prev || hi < next {
			// The window moved back: start afresh.
			queue, next = queue[:0], lo
		}
		prev = lo
		next = max(next, lo)
		for ; next < hi; next++ {
			x := v[next]
			if x != x {
				continue
			}
			// Drop the candidates x beats: for the value, those it
			// exceeds (an equal earlier one stays first); for the time,
			// those it equals too (the later one's time wins).
			for len(queue) > 0 && rangeBeats(kind, x, v[queue[len(queue)-1]]) {
				queue = queue[:len(queue)-1]
			}
			queue = append(queue, next)
		}
		for len(queue) > 0 && queue[0] < lo {
			queue = queue[1:]
		}
		if hi == lo {
			continue
		}
		best := hi - 1 // all NaN: the last one
		if len(queue) > 0 {
			best = queue[0]
		}
		switch kind {
		case rangeMax, rangeMin:
			c.Out[i] = v[best]
		default:
			c.Out[i] = float64(t[best]) / 1000
		}
	}
}

// rangeBeats reports whether a newer value x removes the queued
// candidate y.
func rangeBeats(kind int, x, y float64) bool {
	switch kind {
	case rangeMax:
		return x > y
	case rangeMin:
		return x < y
	case rangeTsOfMax:
		return x >= y
	default:
		return x <= y
	}
}

// rangeSum is sum_over_time: a Kahan sum per window (a running sum
// would round differently).
func rangeSum(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		lo, hi := w.at(c.In.T, end-c.Range, end)
		if hi == lo {
			continue
		}
		var sum, comp float64
		for _, x := range c.In.V[lo:hi] {
			sum, comp = rangeKahanInc(x, sum, comp)
		}
		if math.IsInf(sum, 0) {
			c.Out[i] = sum
		} else {
			c.Out[i] = sum + comp
		}
	}
}

// rangeAvg is avg_over_time: the Kahan sum divided by the count, or,
// once the sum would overflow, a Kahan-compensated running mean.
func rangeAvg(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		lo, hi := w.at(c.In.T, end-c.Range, end)
		if hi == lo {
			continue
		}
		c.Out[i] = rangeMean(c.In.V[lo:hi])
	}
}

func rangeMean(vs []float64) float64 {
	var (
		sum, count   = vs[0], 1.
		mean, kahanC float64
		incremental  bool
	)
	for j, x := range vs[1:] {
		count = float64(j + 2)
		if !incremental {
			newSum, newC := rangeKahanInc(x, sum, kahanC)
			if !math.IsInf(newSum, 0) {
				sum, kahanC = newSum, newC
				continue
			}
			incremental = true
			mean = sum / (count - 1)
			kahanC /= (count - 1)
		}
		q := (count - 1) / count
		mean, kahanC = rangeKahanInc(x/count, q*mean, q*kahanC)
	}
	if incremental {
		return mean + kahanC
	}
	return sum/count + kahanC/count
}

// rangeVariance is stddev_over_time and stdvar_over_time: Welford's
// algorithm with Kahan-compensated mean and sum of squares.
func rangeVariance(c *RangeCall, stddev bool) {
	var w window
	for i, end := range c.Ends {
		lo, hi := w.at(c.In.T, end-c.Range, end)
		if hi == lo {
			continue
		}
		var count, mean, cMean, aux, cAux float64
		for _, x := range c.In.V[lo:hi] {
			count++
			delta := x - (mean + cMean)
			mean, cMean = rangeKahanInc(delta/count, mean, cMean)
			aux, cAux = rangeKahanInc(delta*(x-(mean+cMean)), aux, cAux)
		}
		variance := (aux + cAux) / count
		if stddev {
			variance = math.Sqrt(variance)
		}
		c.Out[i] = variance
	}
}

// rangeQuantile is quantile_over_time(φ, v): φ is Scalars[0]. A φ
// outside [0, 1] gives -Inf or +Inf and a warning.
func rangeQuantile(c *RangeCall) {
	var (
		w   window
		buf []float64
	)
	for i, end := range c.Ends {
		lo, hi := w.at(c.In.T, end-c.Range, end)
		if hi == lo {
			continue
		}
		q := c.Scalars[0][i]
		if math.IsNaN(q) || q < 0 || q > 1 {
			c.annotate(annotations.NewInvalidQuantileWarning(q, c.scalarPos(0)))
		}
		buf = append(buf[:0], c.In.V[lo:hi]...)
		c.Out[i] = rangeQuantileOf(q, buf)
	}
}

// rangeMAD is mad_over_time: the median of the absolute deviations
// from the median; NaN if the window holds a NaN.
func rangeMAD(c *RangeCall) {
	var (
		w   window
		buf []float64
	)
	for i, end := range c.Ends {
		lo, hi := w.at(c.In.T, end-c.Range, end)
		if hi == lo {
			continue
		}
		buf = append(buf[:0], c.In.V[lo:hi]...)
		hasNaN := false
		for _, x := range buf {
			if x != x {
				hasNaN = true
				break
			}
		}
		if hasNaN {
			c.Out[i] = math.NaN()
			continue
		}
		median := rangeQuantileOf(0.5, buf)
		for j := range buf {
			buf[j] = math.Abs(buf[j] - median)
		}
		c.Out[i] = rangeQuantileOf(0.5, buf)
	}
}

// rangeQuantileOf is the q-quantile of vs, interpolating between the two
// nearest ranks; NaN for a NaN q, -Inf below 0, +Inf above 1. It sorts
// vs with Prometheus's algorithm and order (NaN first), so that equal
// values such as -0 and +0 end up where Prometheus puts them.
func rangeQuantileOf(q float64, vs []float64) float64 {
	if len(vs) == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	if q < 0 {
		return math.Inf(-1)
	}
	if q > 1 {
		return math.Inf(+1)
	}
	sort.Sort(rangeNaNFirst(vs))

	n := float64(len(vs))
	rank := q * (n - 1)
	lowerIndex := math.Max(0, math.Floor(rank))
	upperIndex := math.Min(n-1, lowerIndex+1)
	weight := rank - math.Floor(rank)
	if weight == 0 {
		return vs[int(lowerIndex)]
	}
	return vs[int(lowerIndex)]*(1-weight) + vs[int(upperIndex)]*weight
}

// rangeNaNFirst sorts floats ascending with NaN first, with the same Less as
// Prometheus's vectorByValueHeap (sort.Sort's result depends on it).
type rangeNaNFirst []float64

func (s rangeNaNFirst) Len() int { return len(s) }

func (s rangeNaNFirst) Less(i, j int) bool {
	if math.IsNaN(s[i]) {
		return true
	}
	return s[i] < s[j]
}

func (s rangeNaNFirst) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
