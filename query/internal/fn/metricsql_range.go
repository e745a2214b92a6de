package fn

import (
	"math"
	"slices"
)

// The MetricsQL range functions (docs/metricsql.md), as VictoriaMetrics
// documents them. VictoriaMetrics has no NaN samples (a NaN is a gap), so
// these functions skip NaN samples: a window holding only NaNs is empty
// and gives no value.
//
// increase_pure reads the sample before each window: its caller must
// provide the samples of the Lookback before the earliest window, as the
// engine does for anchored ranges.

func init() {
	Range["median_over_time"] = RangeFunction{Call: mqlMedianOverTime, KeepName: true}
	Range["mode_over_time"] = RangeFunction{Call: mqlModeOverTime, KeepName: true}
	Range["range_over_time"] = RangeFunction{Call: mqlRangeOverTime}
	Range["zscore_over_time"] = RangeFunction{Call: mqlZScoreOverTime}
	Range["rate_over_sum"] = RangeFunction{Call: mqlRateOverSum}
	Range["increase_pure"] = RangeFunction{Call: mqlIncreasePure}
}

// mqlWindowValues appends the non-NaN values of the samples [lo, hi) to dst.
func mqlWindowValues(dst, v []float64, lo, hi int) []float64 {
	for _, x := range v[lo:hi] {
		if !math.IsNaN(x) {
			dst = append(dst, x)
		}
	}
	return dst
}

// mqlMedianOverTime is median_over_time: the median of each window's values,
// interpolated between the two middle values as quantile_over_time(0.5)
// interpolates.
func mqlMedianOverTime(c *RangeCall) {
	mqlEachWindow(c, true, mqlMedianSorted)
}

// mqlEachWindow sets each step's output to f of the window's non-NaN
// values (sorted when sorted is set); a window without any has none.
func mqlEachWindow(c *RangeCall, sorted bool, f func(vals []float64) float64) {
	var w window
	var buf []float64
	for i, end := range c.Ends {
		lo, hi := w.at(c.In.T, end-c.Range, end)
		buf = mqlWindowValues(buf[:0], c.In.V, lo, hi)
		if len(buf) == 0 {
			continue
		}
		if sorted {
			slices.Sort(buf)
		}
		c.Out[i] = f(buf)
	}
}

// mqlMedianSorted is the median of sorted non-empty v.
func mqlMedianSorted(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return v[n/2-1]*0.5 + v[n/2]*0.5
}

// mqlModeOverTime is mode_over_time: the most frequent value of each window;
// among equally frequent values, the smallest.
func mqlModeOverTime(c *RangeCall) {
	mqlEachWindow(c, true, func(buf []float64) float64 {
		mode, best := buf[0], 0
		for j := 0; j < len(buf); {
			k := j + 1
			for k < len(buf) && buf[k] == buf[j] {
				k++
			}
			if k-j > best {
				mode, best = buf[j], k-j
			}
			j = k
		}
		return mode
	})
}

// mqlRangeOverTime is range_over_time: the largest value of each window minus
// the smallest.
func mqlRangeOverTime(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		lo, hi := w.at(c.In.T, end-c.Range, end)
		mn, mx, n := math.Inf(1), math.Inf(-1), 0
		for _, x := range c.In.V[lo:hi] {
			if math.IsNaN(x) {
				continue
			}
			mn, mx, n = math.Min(mn, x), math.Max(mx, x), n+1
		}
		if n > 0 {
			c.Out[i] = mx - mn
		}
	}
}

// mqlZScoreOverTime is zscore_over_time: the z-score of each window's last
// value among the window's values, (last - mean) / stddev with the
// population standard deviation; 0 when the last value is the mean.
func mqlZScoreOverTime(c *RangeCall) {
	mqlEachWindow(c, false, func(buf []float64) float64 {
		mean, m2 := 0.0, 0.0
		for j, x := range buf {
			d := x - mean
			mean += d / float64(j+1)
			m2 += d * (x - mean)
		}
		d := buf[len(buf)-1] - mean
		if d == 0 {
			return 0
		}
		return d / math.Sqrt(m2/float64(len(buf)))
	})
}

// mqlRateOverSum is rate_over_sum: the sum of each window's values
// divided by the window's length in seconds.
func mqlRateOverSum(c *RangeCall) {
	var w window
	secs := rangeSeconds(c.Range)
	for i, end := range c.Ends {
		lo, hi := w.at(c.In.T, end-c.Range, end)
		sum, n := 0.0, 0
		for _, x := range c.In.V[lo:hi] {
			if !math.IsNaN(x) {
				sum += x
				n++
			}
		}
		if n > 0 {
			c.Out[i] = sum / secs
		}
	}
}

// mqlIncreasePure is increase_pure: the increase of a counter from the
// last sample before the window (at most Lookback older than the window's
// start) to the window's last sample, counter resets corrected (a value
// below its predecessor restarts from zero). Without a sample before the
// window the counter is taken to start from 0; with one but none in the
// window the increase is 0. Unlike Prometheus's increase it does not
// extrapolate.
func mqlIncreasePure(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		start := end - c.Range
		lo, hi := w.at(c.In.T, start, end)
		prev, hasPrev := 0.0, false
		for j := lo - 1; j >= 0 && c.In.T[j] > start-c.Lookback; j-- {
			if !math.IsNaN(c.In.V[j]) {
				prev, hasPrev = c.In.V[j], true
				break
			}
		}
		last, correction, n := prev, 0.0, 0
		for _, x := range c.In.V[lo:hi] {
			if math.IsNaN(x) {
				continue
			}
			if (hasPrev || n > 0) && x < last {
				correction += last
			}
			last = x
			n++
		}
		switch {
		case n > 0:
			c.Out[i] = last + correction - prev
		case hasPrev:
			c.Out[i] = 0
		}
	}
}
