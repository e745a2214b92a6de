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
		df: float64(n - 2),
	}, nil
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
	}, nil
}
