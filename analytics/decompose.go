package analytics

import (
	"fmt"
	"math"
)

// Decomposition splits a regular series into Trend + Seasonal + Residual,
// point by point. Seasonal repeats with Period and sums to zero over a
// cycle; Residual is NaN where the input was missing.
type Decomposition struct {
	Period   int // samples per cycle; 0 when there is no seasonal part
	Trend    []float64
	Seasonal []float64
	Residual []float64

	// The trend line fitted over the last trend window, level at the last
	// point and slope per step, for Extrapolate.
	endLevel, endSlope float64
}

// Iteration counts of Decompose. Three robustness passes let the bisquare
// weights settle; the inner loop alternates trend and season until the
// trend moves by less than decomposeTol of the data's scale.
const (
	decomposeOuter    = 3
	decomposeInnerMax = 15
	decomposeTol      = 1e-10
)

// Decompose splits vs into trend, seasonal and residual parts in the manner
// of STL, simplified for speed and robustness:
//
//   - the seasonal part at each phase is the median of the detrended values
//     at that phase, centred to sum to zero over a cycle (so a seasonal
//     shape that changes over the window is averaged, not tracked);
//   - the trend is a local linear least-squares fit over the 2·period+1
//     nearest points (a quarter of the series, at least 5, when period < 2),
//     which unlike a moving average has no lag at the ends;
//   - trend and season are refitted alternately, and then again with
//     bisquare robustness weights so that outliers do not bend the trend.
//
// period < 2 means no seasonal part. NaN values are ignored by the fits and
// give NaN residuals. It returns ErrTooFewSamples when vs has fewer than two
// full cycles (three values when period < 2).
func Decompose(vs []float64, period int) (Decomposition, error) {
	n := len(vs)
	if period < 2 {
		period = 0
	}
	need := max(2*period, 3)
	if n < need || countFinite(vs) < need {
		return Decomposition{}, fmt.Errorf("%w: decomposition with period %d needs %d values, got %d",
			ErrTooFewSamples, period, need, countFinite(vs))
	}
	w := 2*period + 1
	if period == 0 {
		w = max(5, n/4) | 1
	}
	w = min(w, n)

	weights := make([]float64, n)
	for i, v := range vs {
		if !IsMissing(v) {
			weights[i] = 1
		}
	}
	d := Decomposition{
		Period:   period,
		Trend:    make([]float64, n),
		Seasonal: make([]float64, n),
		Residual: make([]float64, n),
	}
	scale := maxAbs(finiteOnly(vs))
	deseason := make([]float64, n)
	if period > 0 {
		initialTrend(d.Trend, vs, period)
	}
	for outer := range decomposeOuter {
		for range decomposeInnerMax {
			if period > 0 {
				seasonalMedians(d.Seasonal, vs, d.Trend, period)
			}
			for i, v := range vs {
				deseason[i] = v - d.Seasonal[i]
			}
			moved := localLinear(d.Trend, deseason, weights, w)
			if period == 0 || moved <= decomposeTol*scale {
				break
			}
		}
		for i, v := range vs {
			d.Residual[i] = v - d.Trend[i] - d.Seasonal[i]
		}
		if outer < decomposeOuter-1 && !bisquareWeights(weights, d.Residual, scale) {
			break // residuals already negligible; weights would be noise
		}
	}
	d.endLevel, d.endSlope = lineAt(deseason, weights, n-w, n-1, n-1)
	return d, nil
}

// Extrapolate returns the value the decomposition expects h steps after its
// last point: the last trend window's line carried forward plus the
// seasonal value at that phase. A negative h is treated as 0.
func (d Decomposition) Extrapolate(h int) float64 {
	h = max(h, 0)
	v := d.endLevel + float64(h)*d.endSlope
	if d.Period > 0 {
		// The phase of n-1+h is that of the point ⌊(h-1)/p⌋+1 whole
		// cycles earlier, n-p+(h-1) mod p, written so a huge h cannot
		// overflow.
		n, p := len(d.Seasonal), d.Period
		i := n - 1
		if h > 0 {
			i = n - p + (h-1)%p
		}
		v += d.Seasonal[i]
	}
	return v
}

// initialTrend seeds the trend with a centred moving median over one cycle
// (made odd), which removes most of the season and ignores spikes.
func initialTrend(dst, vs []float64, period int) {
	w := period | 1
	h := w / 2
	s := NewSlidingMedian(w)
	for i := 0; i < len(vs)+h; i++ {
		if i < len(vs) {
			s.Push(vs[i])
		} else {
			s.Push(math.NaN()) // shrink the window at the end
		}
		if j := i - h; j >= 0 {
			dst[j] = s.Median()
		}
	}
	// A window of only NaN leaves NaN; take the nearest defined value.
	for j := range dst {
		if math.IsNaN(dst[j]) {
			dst[j] = Median(vs)
		}
	}
}

// seasonalMedians sets dst[i] to the median over cycles of (vs - trend) at
// the phase of i, centred so that one cycle sums to zero.
func seasonalMedians(dst, vs, trend []float64, period int) {
	phase := make([]float64, period)
	buf := make([]float64, 0, len(vs)/period+1)
	for j := range period {
		buf = buf[:0]
		for i := j; i < len(vs); i += period {
			buf = append(buf, vs[i]-trend[i])
		}
		phase[j] = Median(buf)
		if math.IsNaN(phase[j]) {
			phase[j] = 0 // no data at this phase at all
		}
	}
	var mean float64
	for _, p := range phase {
		mean += p
	}
	mean /= float64(period)
	for i := range dst {
		dst[i] = phase[i%period] - mean
	}
}

// localLinear sets dst[i] to the weighted least-squares line through the w
// points of y nearest to i, evaluated at i, and returns the largest change
// to dst. Window sums come from prefix sums, so the whole pass is O(n);
// time and y are centred first to limit cancellation in those sums.
func localLinear(dst, y, wts []float64, w int) float64 {
	n := len(y)
	ref := Median(y)
	if math.IsNaN(ref) {
		ref = 0
	}
	c := float64(n-1) / 2
	// p[k] holds the sums over indices < k of wt, wt·t, wt·t², wt·y, wt·t·y.
	p := make([][5]float64, n+1)
	for i := range n {
		t, wt := float64(i)-c, wts[i]
		yi := y[i] - ref
		if wt == 0 || IsMissing(yi) {
			wt, yi = 0, 0
		}
		p[i+1] = [5]float64{p[i][0] + wt, p[i][1] + wt*t, p[i][2] + wt*t*t, p[i][3] + wt*yi, p[i][4] + wt*t*yi}
	}
	var moved float64
	for i := range n {
		lo := min(max(i-w/2, 0), n-w)
		hi := lo + w
		var s [5]float64
		for k := range s {
			s[k] = p[hi][k] - p[lo][k]
		}
		v := ref + evalLine(s, float64(i)-c)
		if math.IsNaN(v) {
			v = dst[i] // an all-NaN or zero-weight window keeps its old value
		}
		moved = max(moved, math.Abs(v-dst[i]))
		dst[i] = v
	}
	return moved
}

// lineAt fits a weighted line to y[lo..hi] (clamped to the slice) and
// returns its value and slope at index at.
func lineAt(y, wts []float64, lo, hi, at int) (level, slope float64) {
	lo = max(lo, 0)
	var s [5]float64
	for i := lo; i <= hi; i++ {
		if wts[i] == 0 || IsMissing(y[i]) {
			continue
		}
		t := float64(i - at)
		s[0] += wts[i]
		s[1] += wts[i] * t
		s[2] += wts[i] * t * t
		s[3] += wts[i] * y[i]
		s[4] += wts[i] * t * y[i]
	}
	level = evalLine(s, 0)
	den := s[0]*s[2] - s[1]*s[1]
	if den > 1e-12*s[0]*s[2] {
		slope = (s[0]*s[4] - s[1]*s[3]) / den
	}
	return level, slope
}

// evalLine evaluates at t the weighted least-squares line whose sums are
// s = (Σw, Σwt, Σwt², Σwy, Σwty), falling back to the weighted mean when the
// points do not determine a slope. It is NaN when Σw is 0.
func evalLine(s [5]float64, t float64) float64 {
	if s[0] <= 0 {
		return math.NaN()
	}
	mt, my := s[1]/s[0], s[3]/s[0]
	sxx := s[2] - s[1]*mt
	if sxx <= 1e-12*s[2] {
		return my
	}
	return my + (s[4]-s[1]*my)/sxx*(t-mt)
}

// bisquareWeights sets Tukey's bisquare robustness weights from residuals,
// as STL does: 1 - (r/6m)² squared, m the median absolute residual; 0 for
// missing values. It reports false, leaving wts unchanged, when the
// residuals are rounding noise next to scale, the data's magnitude.
func bisquareWeights(wts, resid []float64, scale float64) bool {
	abs := make([]float64, 0, len(resid))
	for _, r := range resid {
		if !IsMissing(r) {
			abs = append(abs, math.Abs(r))
		}
	}
	h := 6 * Median(abs)
	if !(h > 1e-9*scale) {
		return false
	}
	for i, r := range resid {
		if IsMissing(r) {
			wts[i] = 0
			continue
		}
		u := r / h
		if u >= 1 || u <= -1 {
			wts[i] = 0
		} else {
			wts[i] = (1 - u*u) * (1 - u*u)
		}
	}
	return true
}

func countFinite(xs []float64) int {
	c := 0
	for _, x := range xs {
		if !IsMissing(x) {
			c++
		}
	}
	return c
}

func finiteOnly(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !IsMissing(x) {
			out = append(out, x)
		}
	}
	return out
}
