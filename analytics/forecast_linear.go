package analytics

import (
	"fmt"
	"math"
)

// fitLinear fits y[t] = a + b·t by ordinary least squares. The interval is
// the exact one for a line with independent Gaussian errors:
//
//	ŷ(t₀) ± t_{n-2} · s · sqrt(1 + 1/n + (t₀ - t̄)² / Σ(t - t̄)²)
//
// with s² = SSE/(n-2) and t₀ = n-1+h, so it widens as the forecast leaves
// the data and covers exactly `level` when the model holds.
func fitLinear(vs []float64, _ int) (model, error) {
	n := len(vs)
	if n < 3 {
		return model{}, fmt.Errorf("%w: linear needs 3 values, got %d", ErrTooFewSamples, n)
	}
	a, b := LinearFit(vs)
	var sse float64
	for i, v := range vs {
		r := v - (a + b*float64(i))
		sse += r * r
	}
	s := math.Sqrt(sse / float64(n-2))
	tm := float64(n-1) / 2
	sxx := float64(n) * (float64(n)*float64(n) - 1) / 12 // Σ(t - t̄)² for t = 0..n-1
	return model{
		predict: func(h int) (float64, float64) {
			t0 := float64(n-1) + float64(h)
			return a + b*t0, s * math.Sqrt(1+1/float64(n)+(t0-tm)*(t0-tm)/sxx)
		},
		df:     float64(n - 2),
		extend: refitter(fitLinear, 0),
	}, nil
}

// refitter is model.extend for a method without parameters: extending it
// is fitting it anew, which cannot fail on more values than it was
// fitted to.
func refitter(fit fitFunc, period int) func([]float64) model {
	return func(longer []float64) model {
		m, err := fit(longer, period)
		if err != nil {
			panic(fmt.Sprintf("analytics: refitting on %d values: %v", len(longer), err)) // a bug: fewer values than the first fit
		}
		return m
	}
}

// fitSeasonalNaive forecasts the value one or more whole cycles back:
// ŷ(n-1+h) = y[n-1+h-m(k+1)] with k = ⌊(h-1)/m⌋. Its residuals are the
// seasonal differences y[t] - y[t-m], with σ² their mean square; the error
// of a forecast k+1 cycles ahead is a sum of k+1 such steps, so
//
//	sd(h) = σ · sqrt(k+1)
//
// (Hyndman & Athanasopoulos, Forecasting: Principles and Practice, 5.5). It
// needs two full cycles.
func fitSeasonalNaive(vs []float64, m int) (model, error) {
	n := len(vs)
	if m < 1 {
		return model{}, fmt.Errorf("%w: seasonal naive needs a period", ErrNoSeasonality)
	}
	if n < 2*m {
		return model{}, fmt.Errorf("%w: seasonal naive with period %d needs %d values, got %d",
			ErrTooFewSamples, m, 2*m, n)
	}
	var ss float64
	for t := m; t < n; t++ {
		d := vs[t] - vs[t-m]
		ss += d * d
	}
	sigma := math.Sqrt(ss / float64(n-m))
	return model{
		predict: func(h int) (float64, float64) {
			// n-1+h-m(k+1) rewritten so that a huge h cannot overflow.
			k := (h - 1) / m
			return vs[n-m+(h-1)%m], sigma * math.Sqrt(float64(k+1))
		},
		extend: refitter(fitSeasonalNaive, m),
	}, nil
}

// fitSeasonalLinear fits y[t] = b·t + s[t mod m] by ordinary least
// squares: a line and a seasonal profile, each phase's value the mean of
// every cycle seen once the line is removed, so that the forecast carries
// the noise of no single cycle (as seasonal naive does). With the n_j
// values at phase j, their mean time t̄_j and mean ȳ_j, the slope is the
// within-phase estimate b = Σ(t - t̄_j)(y - ȳ_j) / S, S = Σ(t - t̄_j)², and
// the forecast ȳ_j + b(t₀ - t̄_j). The interval is the exact one for
// independent Gaussian errors:
//
//	ŷ(t₀) ± t_{n-m-1} · s · sqrt(1 + 1/n_j + (t₀ - t̄_j)² / S)
//
// with s² = SSE/(n-m-1), t₀ = n-1+h and j its phase. It needs two full
// cycles.
func fitSeasonalLinear(vs []float64, m int) (model, error) {
	n := len(vs)
	if m < 2 {
		return model{}, fmt.Errorf("%w: seasonal linear needs a period of at least 2", ErrNoSeasonality)
	}
	if n < 2*m {
		return model{}, fmt.Errorf("%w: seasonal linear with period %d needs %d values, got %d",
			ErrTooFewSamples, m, 2*m, n)
	}
	// Phase j holds t = j, j+m, ..., so its count and mean time are known.
	count := func(j int) float64 { return float64((n-1-j)/m + 1) }
	meanT := func(j int) float64 { return float64(j) + float64(m)*(count(j)-1)/2 }
	mean := make([]float64, m)
	for t, v := range vs {
		mean[t%m] += v
	}
	for j := range mean {
		mean[j] /= count(j)
	}
	var sxy, sxx float64
	for t, v := range vs {
		d := float64(t) - meanT(t%m)
		sxy += d * (v - mean[t%m])
		sxx += d * d
	}
	b := sxy / sxx
	var sse float64
	for t, v := range vs {
		r := v - mean[t%m] - b*(float64(t)-meanT(t%m))
		sse += r * r
	}
	df := float64(n - m - 1)
	s := math.Sqrt(sse / df)
	return model{
		predict: func(h int) (float64, float64) {
			j := phaseAhead(n, m, h)
			d := float64(n-1) + float64(h) - meanT(j)
			return mean[j] + b*d, s * math.Sqrt(1+1/count(j)+d*d/sxx)
		},
		df:     df,
		extend: refitter(fitSeasonalLinear, m),
	}, nil
}
