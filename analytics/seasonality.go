package analytics

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/dsp/fourier"
)

// Thresholds of the significance rule in DetectPeriod. They were chosen so
// that white noise, random walks and trends of a few hundred to a few
// thousand points give 0, while a cycle whose amplitude is comparable to the
// noise is found (see seasonality_test.go).
const (
	// minPeriodACF is the least autocorrelation at the candidate lag,
	// corrected for the shrinking overlap, that counts as seasonal.
	minPeriodACF = 0.3
	// periodNoiseZ scales the white-noise standard error 1/sqrt(n-k) of
	// the autocorrelation at lag k; the candidate must clear it by this
	// many standard errors, which bounds false positives over ~n/2 lags.
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
// function (computed by FFT) of the linearly detrended series, after its
// first trough and up to n/3, so at least three cycles are seen. The highest
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
	k0 := 1 // first trough: the end of the short-lag decay
	for k0 < maxLag && r[k0] > 0 && !(r[k0] <= r[k0-1] && r[k0] < r[k0+1]) {
		k0++
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
	for d := best / 2; d >= 2; d-- {
		// A divisor counts only with a local peak nearly as high; noise
		// may move that peak by a lag.
		if !isNearMultiple(best, d) {
			continue
		}
		top := d
		for k := max(d-1, k0+1); k <= d+1; k++ {
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
// series, judged by the variance of lagged differences x[t] - x[t-k]: for
// a cycle of period k it is only the noise (a linear trend adds the
// constant b·k, which the variance ignores), while a lag one off adds the
// cycle's slope. Averaging over several multiples of k (a comb) sharpens
// this, and the search range of p/40 lags covers the shift of the biased
// autocorrelation's peak towards shorter lags, about p/(4π²(n/p-1)).
func refinePeriod(x []float64, p int) int {
	n := len(x)
	limit := 2 * n / 3
	best, bestScore := p, math.Inf(1)
	reach := max(2, p/40)
	for k := max(2, p-reach); k <= min(p+reach, n/minCycles); k++ {
		multiples := max(1, limit/k)
		stride := max(1, multiples/combTeeth)
		var sum float64
		cnt := 0
		for j := stride; j <= multiples; j += stride {
			sum += diffVariance(x, j*k)
			cnt++
		}
		// Prefer the candidate nearer p on (near-)ties.
		score := sum / float64(cnt)
		if score < bestScore*(1-1e-9) || (score <= bestScore && abs(k-p) < abs(best-p)) {
			best, bestScore = k, score
		}
	}
	return best
}

// combTeeth bounds how many multiples refinePeriod averages, keeping it
// O(n) per candidate lag.
const combTeeth = 8

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

func significant(r []float64, n, k0, p int) bool {
	unbiased := r[p] * float64(n) / float64(n-p)
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
	a, b := olsLine(x)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v - (a + b*float64(i))
	}
	return out
}

// olsLine fits x[i] ≈ a + b*i by least squares.
func olsLine(x []float64) (a, b float64) {
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
