package analytics

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/dsp/fourier"
)

// Thresholds of the significance rule in DetectPeriod. They were chosen on
// simulations so that white noise and noisy trends give 0 (below 1% of
// series under 16 points, never in our runs above 40), random walks and
// AR(1) noise with φ = 0.9 rarely give a period (1-8% of series of 200 to
// 1000 points), while a cycle whose amplitude is comparable to the noise is
// found (see seasonality_test.go).
const (
	// minPeriodACF is the least autocorrelation at the candidate lag,
	// corrected for the shrinking overlap, that counts as seasonal.
	minPeriodACF = 0.3
	// periodNoiseZ scales the white-noise standard error 1/sqrt(n-k) of
	// the autocorrelation at lag k; the candidate must clear it by this
	// many standard errors, which bounds false positives over ~n/3 lags.
	periodNoiseZ = 4.0
	// maxNoiseBar caps the periodNoiseZ bar, which exceeds 1 (so nothing
	// could pass) for series under ~20 points; a short series must then
	// repeat almost exactly.
	maxNoiseBar = 0.8
	// minProminence is how far the peak must rise above the lowest
	// autocorrelation before it, so that slow wiggles of a trend or random
	// walk, which never dip far, are not mistaken for cycles.
	minProminence = 0.3
	// minCycles is how many whole cycles the window must hold for a period
	// to be reported. With two, the slow wander of a random walk or of a
	// strongly autocorrelated series fakes a peak too often.
	minCycles = 3
)

// DetectPeriod returns the dominant period of a regular series in samples,
// or 0 when there is none. Candidates are peaks of the autocorrelation
// function (computed by FFT) of the linearly detrended series, after it
// first turns negative and up to n/3, so at least three cycles are seen. The highest
// peak wins, a divisor of it with nearly as high a peak is preferred (a
// cycle also correlates at two and three periods), and the winner must pass
// the significance rule described at minPeriodACF, periodNoiseZ and
// minProminence. NaN points are linearly interpolated first.
func DetectPeriod(vs []float64) int {
	x := Fill(Grid{Step: 1, Values: vs}, len(vs)).Values
	n := len(x)
	if n < 8 {
		return 0
	}
	d := detrend(x)
	if maxAbs(d) <= 1e-9*maxAbs(x) {
		return 0 // a line, up to rounding
	}
	r := autocorrelation(d)
	maxLag := n / minCycles
	// Skip the short-lag decay up to the first negative autocorrelation.
	// A detrended cycle always dips below zero within its first period,
	// while noise makes small wiggles (false local minima) on the way.
	k0 := 1
	for k0 <= maxLag && r[k0] >= 0 {
		k0++
	}
	if k0 > maxLag {
		return 0
	}
	best := 0
	for k := k0 + 1; k <= maxLag; k++ {
		if r[k] >= r[k-1] && r[k] >= r[k+1] && (best == 0 || r[k] > r[best]) {
			best = k
		}
	}
	if best == 0 {
		return 0
	}
	for div := best / 2; div >= 2; div-- {
		// A divisor counts only with a local peak nearly as high; noise
		// may move that peak by a lag.
		if !isNearMultiple(best, div) {
			continue
		}
		top := div
		for k := max(div-1, k0+1); k <= div+1; k++ {
			if r[k] > r[top] {
				top = k
			}
		}
		if top > k0 && r[top] >= r[top-1] && r[top] >= r[top+1] && r[top] >= 0.9*r[best] {
			best = top
		}
	}
	best = refinePeriod(x, best)
	if !significant(r, n, k0, best) {
		return 0
	}
	return best
}

// refinePeriod returns the lag near p whose multiples best repeat the
// series, judged by combScore. The biased autocorrelation's peak sits left
// of the true period, by about p/(4π²(n/p-1)) lags for a sinusoid, so the
// search reaches 1.5 times that (at least 2 lags) on either side. The score
// is smooth over that range, so it is searched coarse to fine: a grid of at
// most 17 lags, then a finer grid around the best point, down to single
// lags.
func refinePeriod(x []float64, p int) int {
	n := len(x)
	shift := float64(p) / (4 * math.Pi * math.Pi * (float64(n)/float64(p) - 1))
	reach := max(2, int(math.Ceil(1.5*shift)))
	lo, hi := max(2, p-reach), min(p+reach, n/minCycles)
	best, bestScore := p, math.Inf(1)
	for step := max(1, (hi-lo)/16); ; step = max(1, step/4) {
		for k := lo; k <= hi; k += step {
			score := combScore(x, k)
			// On (near-)ties prefer the lag nearer p.
			if score < bestScore*(1-1e-9) || (score <= bestScore && abs(k-p) < abs(best-p)) {
				best, bestScore = k, score
			}
		}
		if step == 1 {
			return best
		}
		lo, hi = max(2, best-step), min(best+step, n/minCycles)
	}
}

// combScore is the mean variance of lagged differences x[t] - x[t-jk] for
// j = 1..combTeeth, as far as two thirds of the series allow. For a cycle
// of period k it is only the noise (a linear trend adds the constant b·jk,
// which the variance ignores), while a lag one off adds the cycle's slope,
// more at each multiple: the comb sharpens a single broad, noisy peak. Only
// the first few multiples are used: for a period that is not a whole
// number of samples, far multiples of some other lag can line up with the
// cycle better than those of the nearest whole lag.
func combScore(x []float64, k int) float64 {
	teeth := min(combTeeth, max(1, (2*len(x)/3)/k))
	var sum float64
	for j := 1; j <= teeth; j++ {
		sum += diffVariance(x, j*k)
	}
	return sum / float64(teeth)
}

// combTeeth is how many multiples combScore averages.
const combTeeth = 4

// diffVariance returns the variance of x[t] - x[t-k] over t.
func diffVariance(x []float64, k int) float64 {
	var s, ss float64
	for t := k; t < len(x); t++ {
		d := x[t] - x[t-k]
		s += d
		ss += d * d
	}
	m := float64(len(x) - k)
	return ss/m - (s/m)*(s/m)
}

// unbiasedACF corrects the biased autocorrelation at lag k for its
// shrinking overlap.
func unbiasedACF(r []float64, n, k int) float64 {
	return r[k] * float64(n) / float64(n-k)
}

func significant(r []float64, n, k0, p int) bool {
	unbiased := unbiasedACF(r, n, p)
	if unbiased < minPeriodACF || unbiased < min(periodNoiseZ/math.Sqrt(float64(n-p)), maxNoiseBar) {
		return false
	}
	trough := r[p]
	for k := k0; k < p; k++ {
		trough = min(trough, r[k])
	}
	return r[p]-trough >= minProminence
}

// Seasonality returns the dominant period of raw samples as a duration
// (0 when there is none), detected by DetectPeriod on the series regularized
// at its inferred step.
func Seasonality(ts []int64, vs []float64) (time.Duration, error) {
	g, err := prepare(ts, vs)
	if err != nil {
		return 0, err
	}
	if g.Len() < 2 {
		return 0, fmt.Errorf("%w: %d grid points", ErrTooFewSamples, g.Len())
	}
	return g.Span(DetectPeriod(g.Values)), nil
}

// autocorrelation returns r[k] = Σ x[t]x[t+k] / Σ x[t]² for k in [0, n), the
// biased estimator (it shrinks by (n-k)/n, which favours the fundamental over
// its multiples), via the Wiener-Khinchin theorem on a zero-padded FFT.
// x must not be all zero.
func autocorrelation(x []float64) []float64 {
	n := len(x)
	m := 1
	for m < 2*n {
		m <<= 1
	}
	fft := fourier.NewFFT(m)
	buf := make([]float64, m)
	copy(buf, x)
	coef := fft.Coefficients(nil, buf)
	for i, c := range coef {
		coef[i] = complex(real(c)*real(c)+imag(c)*imag(c), 0)
	}
	acov := fft.Sequence(buf, coef)
	r := make([]float64, n)
	for k := range r {
		r[k] = acov[k] / acov[0]
	}
	return r
}

// detrend returns x minus its least-squares line.
func detrend(x []float64) []float64 {
	a, b := LinearFit(x)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v - (a + b*float64(i))
	}
	return out
}

// LinearFit fits x[i] ≈ a + b*i by least squares (ordinary, on the
// index): the line forecasts and decompositions remove and extend.
func LinearFit(x []float64) (a, b float64) {
	n := float64(len(x))
	if len(x) < 2 {
		if len(x) == 1 {
			return x[0], 0
		}
		return 0, 0
	}
	tm := (n - 1) / 2
	var xm float64
	for _, v := range x {
		xm += v
	}
	xm /= n
	var sxy, sxx float64
	for i, v := range x {
		d := float64(i) - tm
		sxy += d * (v - xm)
		sxx += d * d
	}
	b = sxy / sxx
	return xm - b*tm, b
}

func maxAbs(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	return m
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// isNearMultiple reports whether k is within one sample of a multiple (at
// least twice) of d, since a period that is not a whole number of samples
// peaks at rounded lags.
func isNearMultiple(k, d int) bool {
	m := (k + d/2) / d
	return m >= 2 && abs(k-m*d) <= 1
}
