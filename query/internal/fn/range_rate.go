package fn

import (
	"strings"

	"github.com/prometheus/prometheus/util/annotations"
)

// Rates, deltas and the counting of resets and changes: the functions
// that look at consecutive samples, and the only ones that read start
// timestamps or support the anchored and smoothed modifiers.

func init() {
	Range["rate"] = RangeFunction{Call: func(c *RangeCall) { rangeRate(c, true, true) }}
	Range["increase"] = RangeFunction{Call: func(c *RangeCall) { rangeRate(c, true, false) }}
	Range["delta"] = RangeFunction{Call: func(c *RangeCall) { rangeRate(c, false, false) }}
	Range["irate"] = RangeFunction{Call: func(c *RangeCall) { rangeInstantRate(c, true) }}
	Range["idelta"] = RangeFunction{Call: func(c *RangeCall) { rangeInstantRate(c, false) }}
	Range["resets"] = RangeFunction{Call: rangeResets}
	Range["changes"] = RangeFunction{Call: rangeChanges}
}

// rangeRate is rate (a counter, per second), increase (a counter) and
// delta (a gauge). Plain windows extrapolate towards their edges;
// anchored and smoothed ones take their edge values from samples
// around the window instead.
func rangeRate(c *RangeCall, isCounter, isRate bool) {
	var st []int64
	if isCounter && c.UseStartTimestamps {
		st = c.In.ST
	}
	if c.Anchored || c.Smoothed {
		rangeExtended(c, st, isCounter, isRate)
	} else {
		rangeExtrapolated(c, st, isCounter, isRate)
	}
	// Prometheus's engine adds this info for a named series that gave
	// a result at any step.
	if isCounter && c.MetricName != "" && !rangeHasCounterSuffix(c.MetricName) && rangeAnyPresent(c.Out) {
		c.annotate(annotations.NewPossibleNonCounterInfo(c.MetricName, c.Pos))
	}
}

func rangeHasCounterSuffix(name string) bool {
	return strings.HasSuffix(name, "_total") || strings.HasSuffix(name, "_sum") ||
		strings.HasSuffix(name, "_count") || strings.HasSuffix(name, "_bucket")
}

func rangeAnyPresent(vs []float64) bool {
	for _, v := range vs {
		if !IsAbsent(v) {
			return true
		}
	}
	return false
}

// rangeExtrapolated is Prometheus's rate over a plain window: the
// difference between the window's first and last samples (plus the
// value before each counter reset), extrapolated to the window's edges
// unless the series seems to start or end inside it. It needs two
// samples, or one whose start timestamp lies inside the window.
func rangeExtrapolated(c *RangeCall, st []int64, isCounter, isRate bool) {
	t, v := c.In.T, c.In.V
	var (
		w                window
		resets, overlaps rangePairScan
		rangeSec         = rangeSeconds(c.Range)
	)
	for i, end := range c.Ends {
		start := end - c.Range
		lo, hi := w.at(t, start, end)
		if lo == hi {
			continue
		}
		first, last := lo, hi-1
		result := v[last] - v[first]
		if isCounter {
			// One warning per step whose window has an overlap; the
			// annotation counts its occurrences.
			if st != nil && overlaps.next(rangePairOverlap, t, v, st, first+1) <= last {
				c.annotate(annotations.NewStartTimeOverlapWarning(c.MetricName, c.Pos))
			}
			// Add the values before resets in Prometheus's order; skip
			// the loop when the window holds none.
			if resets.next(rangePairReset, t, v, st, first+1) <= last {
				for j := first + 1; j <= last; j++ {
					if rangeIsReset(t, v, st, j) {
						result += v[j-1]
					}
				}
			}
		}

		var (
			durationToStart = float64(t[first]-start) / 1000
			durationToEnd   = float64(end-t[last]) / 1000
			sampledInterval = float64(t[last]-t[first]) / 1000
			averageInterval float64
			intervals       = last - first
		)
		if intervals > 0 {
			averageInterval = sampledInterval / float64(intervals)
		}
		threshold := averageInterval * 1.1

		firstST := rangeST(st, first)
		switch {
		case isCounter && firstST != 0 && firstST > start && firstST < t[first]:
			// The first sample's start timestamp lies in the window:
			// the counter was 0 then, so measure from there instead of
			// extrapolating to the left.
			durationToStart = 0
			sampledInterval = float64(t[last]-firstST) / 1000
			result += v[first]
		case intervals == 0:
			continue
		default:
			// Extrapolate to an edge only if a sample would be expected
			// at about the edge (within 110% of the average interval);
			// else by half an average interval.
			if durationToStart >= threshold {
				durationToStart = averageInterval / 2
			}
			if isCounter {
				// A counter does not go below zero: stop at the point
				// where the extrapolated line reaches it.
				durationToZero := durationToStart
				if result > 0 && v[first] >= 0 {
					durationToZero = sampledInterval * (v[first] / result)
				}
				if durationToZero < durationToStart {
					durationToStart = durationToZero
				}
			}
		}
		if durationToEnd >= threshold {
			durationToEnd = averageInterval / 2
		}

		factor := 1.0
		if sampledInterval != 0 {
			factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval
		}
		if isRate {
			factor /= rangeSec
		}
		c.Out[i] = result * factor
	}
}

// rangeExtended is Prometheus's rate over an anchored or smoothed
// window. Anchored: the window's left value is the last sample at or
// before its start (within the lookback), else its first sample; its
// right value is its last sample. Smoothed: both values are
// interpolated between the samples around each edge (within the
// lookback on either side). The input therefore holds the samples in
// (start-Lookback, end] (anchored) or (start-Lookback, end+Lookback]
// (smoothed) of each step.
func rangeExtended(c *RangeCall, st []int64, isCounter, isRate bool) {
	t, v := c.In.T, c.In.V
	var (
		from, inRange, atEnd, to edge
		rangeSec                 = rangeSeconds(c.Range)
		smoothed                 = c.Smoothed
	)
	for i, end := range c.Ends {
		start := end - c.Range
		lookbackStart := start - c.Lookback
		limit := end
		if smoothed {
			limit += c.Lookback
		}
		// The step's input is [lo, hi).
		lo, hi := from.after(t, lookbackStart), to.after(t, limit)
		if lo >= hi {
			continue
		}
		last := hi - 1
		// first: the last sample at or before start, or lo.
		first := max(lo, min(inRange.after(t, start), last)-1)
		if smoothed {
			// last: the first sample at or after end, or the last one.
			last = min(atEnd.after(t, end-1), last)
		}
		if t[last] <= start {
			continue
		}
		if smoothed && t[first] > end {
			// Every sample is after the window: a result only comes
			// from a counter's start timestamp inside the lookback.
			firstST := rangeST(st, first)
			if !isCounter || !rangeIsSTResetAfter(lookbackStart, firstST, t[first]) || rangeIsSTResetAfter(end, firstST, t[first]) {
				continue
			}
		}

		left, leftST := rangeLeftValue(t, v, st, first, start, lookbackStart, smoothed, isCounter)
		right, rightST := rangeRightValue(t, v, st, lo, last, end, lookbackStart, smoothed, isCounter)
		result := right - left
		if isCounter {
			// The edge values account for resets at the edges; look
			// for resets between the samples strictly inside.
			a, b := first, last
			if t[a] <= start {
				a++
			}
			if t[b] >= end {
				b--
			}
			result += rangeResetCorrection(t, v, st, a, b, left, right, start, end, leftST, rightST)
		}
		if isRate {
			result /= rangeSec
		}
		c.Out[i] = result
	}
}

// rangeLeftValue is the value of an extended window at its start, and
// the start timestamp that goes with it. first is the last sample at
// or before start, or the input's first sample if none is.
func rangeLeftValue(t []int64, v []float64, st []int64, first int, start, lookbackStart int64, smoothed, isCounter bool) (float64, int64) {
	firstT, firstV, firstST := t[first], v[first], rangeST(st, first)
	returnedST := firstST
	if returnedST > start {
		returnedST = 0
	}
	if firstT == start {
		return firstV, firstST
	}
	if firstT > start {
		// No sample before the window: only a counter whose start
		// timestamp lies in the lookback has a known value (0) there.
		switch {
		case !isCounter, !rangeIsSTResetAfter(lookbackStart, firstST, firstT):
			return firstV, returnedST
		case rangeIsSTResetAfter(start, firstST, firstT):
			return 0, returnedST
		case smoothed:
			return rangeInterpolate(firstST, 0, firstT, firstV, start, isCounter), returnedST
		}
		return 0, returnedST
	}

	nextT, nextV, nextST := t[first+1], v[first+1], rangeST(st, first+1)
	switch {
	case !isCounter:
	case rangeIsSTResetAfter(start, nextST, nextT):
		// The next sample restarted the counter after start: it was 0
		// at its start timestamp.
		nextT, nextV = nextST, 0
	case rangeIsSTReset(firstST, firstT, nextST, nextT):
		// It restarted in (firstT, start]: 0 at its start timestamp.
		firstT, firstV = nextST, 0
		returnedST = nextST
	}
	if smoothed {
		return rangeInterpolate(firstT, firstV, nextT, nextV, start, isCounter), returnedST
	}
	return firstV, returnedST
}

// rangeRightValue is the value of an extended window at its end, and the
// start timestamp that goes with it. last is the first sample at or
// after end (smoothed), or the last sample; base is the input's first.
func rangeRightValue(t []int64, v []float64, st []int64, base, last int, end, lookbackStart int64, smoothed, isCounter bool) (float64, int64) {
	lastT, lastV, lastST := t[last], v[last], rangeST(st, last)
	returnedST := lastST
	if returnedST > end {
		returnedST = 0
	}
	if lastT <= end {
		return lastV, returnedST
	}
	if last == base {
		switch {
		case !isCounter, !rangeIsSTResetAfter(lookbackStart, lastST, lastT):
			return lastV, returnedST
		case rangeIsSTResetAfter(end, lastST, lastT):
			return 0, returnedST
		case smoothed:
			return rangeInterpolate(lastST, 0, lastT, lastV, end, isCounter), returnedST
		}
		return 0, returnedST
	}

	prevT, prevV, prevST := t[last-1], v[last-1], rangeST(st, last-1)
	switch {
	case !isCounter:
	case rangeIsSTResetAfter(end, lastST, lastT):
		lastT, lastV = lastST, 0
		returnedST = prevST
	case rangeIsSTReset(prevST, prevT, lastST, lastT):
		prevT, prevV = lastST, 0
	}
	if smoothed {
		return rangeInterpolate(prevT, prevV, lastT, lastV, end, isCounter), returnedST
	}
	return prevV, returnedST
}

// rangeInterpolate is the value at t on the line through (t1, v1) and
// (t2, v2); for a counter that fell, the line starts from 0 instead.
func rangeInterpolate(t1 int64, v1 float64, t2 int64, v2 float64, t int64, isCounter bool) float64 {
	if isCounter && v2 < v1 {
		v1 = 0
	}
	return v1 + (v2-v1)*float64(t-t1)/float64(t2-t1)
}

// rangeResetCorrection sums the values before the counter resets between
// the left edge, samples a..b and the right edge.
func rangeResetCorrection(t []int64, v []float64, st []int64, a, b int, left, right float64, start, end, leftST, rightST int64) float64 {
	var correction float64
	prev, prevT, prevST := left, start, leftST
	for j := a; j <= b; j++ {
		s := rangeST(st, j)
		if v[j] < prev || rangeIsSTReset(prevST, prevT, s, t[j]) {
			correction += prev
		}
		prev, prevT, prevST = v[j], t[j], s
	}
	if right < prev || rangeIsSTReset(prevST, prevT, rightST, end) {
		correction += prev
	}
	return correction
}

// rangeInstantRate is irate (per second, a counter) and idelta (a
// gauge): the change between the window's last two samples.
func rangeInstantRate(c *RangeCall, isRate bool) {
	t, v := c.In.T, c.In.V
	var st []int64
	if isRate && c.UseStartTimestamps {
		st = c.In.ST
	}
	var w window
	for i, end := range c.Ends {
		lo, hi := w.at(t, end-c.Range, end)
		if hi-lo < 2 {
			continue
		}
		a, b := hi-2, hi-1
		interval := t[b] - t[a]
		if interval == 0 {
			continue
		}
		// After a counter reset the last value is the increase.
		result := v[b]
		if !isRate || !rangeIsReset(t, v, st, b) {
			result = v[b] - v[a]
		}
		if isRate {
			result /= float64(interval) / 1000
		}
		c.Out[i] = result
	}
}

// rangeResets counts the counter resets in each window: drops in value
// and, with start timestamps, restarts they show. Anchored windows
// count from the last sample at or before their start.
func rangeResets(c *RangeCall) {
	t, v := c.In.T, c.In.V
	var st []int64
	if c.UseStartTimestamps {
		st = c.In.ST
	}
	var w window
	// n is the number of resets between samples a and b; both move
	// forward with the windows.
	a, b, n := 0, 0, 0
	for i, end := range c.Ends {
		first, last, ok := rangePairWindow(c, &w, end)
		if !ok {
			continue
		}
		if first < a || last < b {
			a, b, n = first, first, 0
		}
		for ; b < last; b++ {
			if rangeIsReset(t, v, st, b+1) {
				n++
			}
		}
		for ; a < first; a++ {
			if rangeIsReset(t, v, st, a+1) {
				n--
			}
		}
		c.Out[i] = float64(n)
	}
}

// rangeChanges counts the changes of value in each window (NaN to NaN
// is no change). Anchored windows count from the last sample at or
// before their start.
func rangeChanges(c *RangeCall) {
	v := c.In.V
	var w window
	a, b, n := 0, 0, 0 // as in rangeResets
	for i, end := range c.Ends {
		first, last, ok := rangePairWindow(c, &w, end)
		if !ok {
			continue
		}
		if first < a || last < b {
			a, b, n = first, first, 0
		}
		for ; b < last; b++ {
			if rangeIsChange(v[b], v[b+1]) {
				n++
			}
		}
		for ; a < first; a++ {
			if rangeIsChange(v[a], v[a+1]) {
				n--
			}
		}
		c.Out[i] = float64(n)
	}
}

// rangePairWindow returns the first and last sample resets and changes look
// at for the window ending at end; ok is false if the window has no
// sample (an anchored one needs a sample after its start too).
func rangePairWindow(c *RangeCall, w *window, end int64) (first, last int, ok bool) {
	start := end - c.Range
	lo, hi := w.at(c.In.T, start, end)
	if lo == hi {
		return 0, 0, false
	}
	first = lo
	if c.Anchored && lo > 0 && c.In.T[lo-1] > start-c.Lookback {
		first = lo - 1
	}
	return first, hi - 1, true
}

func rangeIsChange(prev, cur float64) bool {
	return cur != prev && !(cur != cur && prev != prev)
}

// rangeIsReset reports whether the counter was reset between samples
// j-1 and j: its value fell or its start timestamp says so.
func rangeIsReset(t []int64, v []float64, st []int64, j int) bool {
	return v[j] < v[j-1] || rangeIsSTReset(rangeST(st, j-1), t[j-1], rangeST(st, j), t[j])
}

// rangeST is sample j's start timestamp, 0 (unknown) if it has none.
func rangeST(st []int64, j int) int64 {
	if j < len(st) {
		return st[j]
	}
	return 0
}

// rangeIsSTReset reports whether a sample's start timestamp says its counter
// restarted since the previous sample.
func rangeIsSTReset(prevST, prevT, curST, curT int64) bool {
	// Unchanged, unknown (0), invalid (after the sample) or OTel's
	// "unknown start" (equal to the sample's time): no reset.
	if prevST == curST || curST == 0 || curST >= curT {
		return false
	}
	if curST != prevT {
		return curST > prevT
	}
	// The start is the previous sample's time: a delta series (a
	// reset), unless the previous start is unknown or invalid (a
	// cumulative series with unknown start).
	if prevST > prevT {
		return false
	}
	return prevST != 0 && prevST != prevT
}

// rangeIsSTResetAfter reports whether a sample's start timestamp says its
// counter restarted after t.
func rangeIsSTResetAfter(t, st, sampleT int64) bool {
	if st <= t || sampleT <= t {
		return false
	}
	// Compare with an imaginary sample at t of unknown start (ST == T).
	return rangeIsSTReset(t, t, st, sampleT)
}

// rangeIsSTOverlap reports whether a sample's start timestamp points before
// the previous sample without being the same start: suspect data.
func rangeIsSTOverlap(prevST, prevT, curST int64) bool {
	return curST != 0 && curST < prevT && curST != prevST
}

// Properties of a pair of consecutive samples that rangePairScan finds.
const (
	rangePairReset = iota
	rangePairOverlap
)

// rangePairScan finds, for rising start indices, the first pair (j-1, j)
// with j at or after the start that has a property: each pair is
// looked at once in a pass.
type rangePairScan struct {
	from, at int
	started  bool
}

// next returns the first j >= from whose pair has the property kind,
// or len(t) if none has.
func (p *rangePairScan) next(kind int, t []int64, v []float64, st []int64, from int) int {
	if !p.started || from < p.from || p.at < from {
		p.at = from
	}
	p.from, p.started = from, true
	for ; p.at < len(t); p.at++ {
		switch kind {
		case rangePairReset:
			if rangeIsReset(t, v, st, p.at) {
				return p.at
			}
		case rangePairOverlap:
			if rangeIsSTOverlap(rangeST(st, p.at-1), t[p.at-1], rangeST(st, p.at)) {
				return p.at
			}
		}
	}
	return p.at
}
