package fn

import (
	"math"

	"github.com/almanacdb/almanac/analytics"
)

// correlate and correlation_lag: how a candidate series moves with the
// target over each step's window, as analytics.Correlate and
// analytics.CorrelationLag compute it. Both series are put on one grid
// once per candidate (analytics.Align over all the samples of the query:
// the coarser of the two scrape intervals, anchored at the earlier of
// the two newest samples), and a step's window is the grid points in
// (end-range, end]; points missing on either side are skipped, nothing
// is interpolated.
//
// "auto" and correlation_lag correlate the series' changes with the
// median change at each phase of their detected seasonal cycle removed
// (analytics.Prewhiten); "auto" at the lag within ±analytics.AutoLags
// where the correlation is strongest. The periods and those medians are refitted as
// refit says; the changes themselves are the step's own.
//
// A window with fewer than 3 complete pairs has no value; a correlation
// that is undefined because a side is constant is NaN, and so is the lag
// of a window where every lag's correlation is undefined.

func correlate(c *PairCall) {
	method := c.method("correlate")
	if method == "" {
		return
	}
	pg, ok := newPairGrid(c.Target, c.In)
	if !ok {
		return
	}
	for i, end := range c.Ends {
		lo, hi, ok := pg.at(end, c.Range)
		if !ok {
			continue
		}
		var r float64
		n := 0
		switch method {
		case "pearson":
			r, n = pearsonPairs(pg.a[lo:hi], pg.b[lo:hi])
		case "spearman":
			var err error
			if r, err = analytics.Spearman(pg.a[lo:hi], pg.b[lo:hi]); err == nil {
				n = minPairs
			}
		default:
			za, zb := pg.prewhitened(end, c.Range, lo, hi)
			if _, r = bestLag(za, zb, analytics.AutoLags(len(za))); math.IsNaN(r) {
				r, n = pearsonPairs(za, zb)
			} else {
				n = minPairs // bestLag only counts lags with that many pairs
			}
		}
		if n >= minPairs {
			c.Out[i] = r
		}
	}
}

func correlationLag(c *PairCall) {
	pg, ok := newPairGrid(c.Target, c.In)
	if !ok {
		return
	}
	maxLags := c.Scalars[0]
	for i, end := range c.Ends {
		maxLag := maxLags[i]
		if !(maxLag >= 0) || math.IsInf(maxLag, 0) {
			continue
		}
		lo, hi, ok := pg.at(end, c.Range)
		if !ok {
			continue
		}
		za, zb := pg.prewhitened(end, c.Range, lo, hi)
		if len(za) < minPairs {
			continue
		}
		steps := int(min(maxLag*1000/float64(pg.step), float64(len(za))))
		lag, r := bestLag(za, zb, steps)
		if math.IsNaN(r) {
			c.Out[i] = math.NaN()
			continue
		}
		c.Out[i] = float64(int64(lag)*pg.step) / 1000
	}
}

// minPairs is the least number of complete pairs a correlation needs, as
// in analytics.
const minPairs = 3

// pairGrid is a target and a candidate on one grid.
type pairGrid struct {
	start, step int64
	a, b        []float64 // target and candidate, NaN where missing

	// The prewhitening of the last refit: each side's period and median
	// change at each of its phases (grid point mod period).
	rf         refit
	pa, pb     int
	ma, mb     []float64
	scratchA   []float64
	scratchB   []float64
	scratchMed []float64
}

func newPairGrid(target, cand Samples) (*pairGrid, bool) {
	a, b, err := analytics.Align(target.T, target.V, cand.T, cand.V, 0)
	if err != nil {
		return nil, false
	}
	return &pairGrid{start: a.Start, step: a.Step, a: a.Values, b: b.Values}, true
}

// at returns the grid points of the window (end-rng, end] as [lo, hi);
// ok is false when there are fewer than minPairs.
func (pg *pairGrid) at(end, rng int64) (lo, hi int, ok bool) {
	lo = int(max(0, floorDiv(end-rng-pg.start, pg.step)+1))
	hi = int(min(int64(len(pg.a)), floorDiv(end-pg.start, pg.step)+1))
	return lo, hi, hi-lo >= minPairs
}

func floorDiv(x, y int64) int64 {
	q := x / y
	if x%y != 0 && (x < 0) != (y < 0) {
		q--
	}
	return q
}

// prewhitened returns the changes of both sides over grid points
// [lo, hi) less their per-phase medians (len hi-lo-1 each; NaN where a
// change is missing), valid until the next call.
func (pg *pairGrid) prewhitened(end, rng int64, lo, hi int) (za, zb []float64) {
	if pg.rf.due(end, rng, hi-lo) {
		pg.pa, pg.ma = pg.phaseMedians(pg.a[lo:hi], lo, pg.ma)
		pg.pb, pg.mb = pg.phaseMedians(pg.b[lo:hi], lo, pg.mb)
		pg.rf.mark(end, hi-lo)
	}
	pg.scratchA = changes(pg.scratchA, pg.a, lo, hi, pg.pa, pg.ma)
	pg.scratchB = changes(pg.scratchB, pg.b, lo, hi, pg.pb, pg.mb)
	return pg.scratchA, pg.scratchB
}

// phaseMedians detects the period of vs (whose first point is grid point
// lo) and returns it with the median change at each phase; period 0 and
// no medians when there is no cycle.
func (pg *pairGrid) phaseMedians(vs []float64, lo int, dst []float64) (int, []float64) {
	p := analytics.DetectPeriod(vs)
	if p < 2 {
		return 0, dst[:0]
	}
	dst = dst[:0]
	for ph := range p {
		buf := pg.scratchMed[:0]
		for i := ((ph-lo)%p + p) % p; i+1 < len(vs); i += p {
			buf = append(buf, vs[i+1]-vs[i])
		}
		pg.scratchMed = buf
		m := analytics.Median(buf)
		if math.IsNaN(m) {
			m = 0 // no change observed at this phase
		}
		dst = append(dst, m)
	}
	return p, dst
}

// changes writes vs[i+1]-vs[i] less the median change at i's phase, for
// grid points i in [lo, hi-1), into dst.
func changes(dst, vs []float64, lo, hi, p int, med []float64) []float64 {
	dst = dst[:0]
	for i := lo; i+1 < hi; i++ {
		d := vs[i+1] - vs[i]
		if p >= 2 {
			d -= med[i%p]
		}
		dst = append(dst, d)
	}
	return dst
}

// pearsonPairs is analytics.Pearson over the pairs where neither value is
// missing, without allocating: the coefficient (NaN when a side is
// constant) and the number of pairs.
func pearsonPairs(x, y []float64) (r float64, n int) {
	var mx, my float64
	for i := range x {
		if !analytics.IsMissing(x[i]) && !analytics.IsMissing(y[i]) {
			mx += x[i]
			my += y[i]
			n++
		}
	}
	if n < minPairs {
		return math.NaN(), n
	}
	mx /= float64(n)
	my /= float64(n)
	var sxy, sxx, syy float64
	for i := range x {
		if !analytics.IsMissing(x[i]) && !analytics.IsMissing(y[i]) {
			dx, dy := x[i]-mx, y[i]-my
			sxy += dx * dy
			sxx += dx * dx
			syy += dy * dy
		}
	}
	if sxx == 0 || syy == 0 {
		return math.NaN(), n
	}
	return max(-1, min(1, sxy/math.Sqrt(sxx*syy))), n
}

// bestLag is analytics.BestLag without allocating: the lag L in
// [-maxLag, maxLag] maximising |Pearson(target[t], candidate[t-L])|,
// positive when the candidate moves first, with maxLag reduced so that
// every lag keeps half the series (and 3 pairs); ties go to the smaller
// |L|, then the positive one. Lag 0 and NaN when no lag is defined.
func bestLag(target, candidate []float64, maxLag int) (lag int, r float64) {
	n := len(target)
	maxLag = min(maxLag, n-max(minPairs, (n+1)/2))
	best, bestR := 0, math.NaN()
	for k := 0; k <= 2*maxLag; k++ {
		l := (k + 1) / 2 // 0, 1, -1, 2, -2, ...
		if k%2 == 0 {
			l = -l
		}
		var c float64
		var pairs int
		if l >= 0 {
			c, pairs = pearsonPairs(target[l:], candidate[:n-l])
		} else {
			c, pairs = pearsonPairs(target[:n+l], candidate[-l:])
		}
		if pairs < minPairs || math.IsNaN(c) {
			continue
		}
		if math.IsNaN(bestR) || math.Abs(c) > math.Abs(bestR) {
			best, bestR = l, c
		}
	}
	return best, bestR
}
