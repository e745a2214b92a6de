package analytics

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestPearsonSpearmanByHand(t *testing.T) {
	nan := math.NaN()
	f := func(name string, x, y []float64, wantP, wantS float64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			p, err := Pearson(x, y)
			if err != nil || !near(p, wantP, 1e-12) {
				t.Fatalf("Pearson = %v, %v; want %v", p, err, wantP)
			}
			s, err := Spearman(x, y)
			if err != nil || !near(s, wantS, 1e-12) {
				t.Fatalf("Spearman = %v, %v; want %v", s, err, wantS)
			}
		})
	}
	// dx = -2 -1 0 1 2, dy = -2 0 1 0 1: Σdxdy 6, Σdx² 10, Σdy² 6.
	// Ranks of y = 2 4 5 4 5 with ties averaged: 1 2.5 4.5 2.5 4.5,
	// centred -2 -0.5 1.5 -0.5 1.5: Σdx·dr = 4+0.5+0-0.5+3 = 7 and
	// Σdr² = 4+0.25+2.25+0.25+2.25 = 9.
	f("known vectors", []float64{1, 2, 3, 4, 5}, []float64{2, 4, 5, 4, 5}, 6/math.Sqrt(60), 7/math.Sqrt(90))
	f("perfect negative", []float64{1, 2, 3}, []float64{30, 20, 10}, -1, -1)
	// Monotone but not linear: Spearman 1, Pearson below 1.
	// x = 1 2 3 4, y = 1 8 27 64: dy = -24 -17 2 39 (mean 25), Σdxdy
	// = 36+8.5+1+58.5 = 104, Σdy² = 576+289+4+1521 = 2390, Σdx² = 5.
	f("monotone", []float64{1, 2, 3, 4}, []float64{1, 8, 27, 64}, 104/math.Sqrt(5*2390), 1)
	// Ties on both sides: x ranks 1.5 1.5 3 4, y ranks 1 2.5 2.5 4;
	// centred -1 -1 0.5 1.5 and -1.5 0 0 1.5: Σ 1.5+0+0+2.25 = 3.75,
	// Σx² 1+1+0.25+2.25 = 4.5, Σy² 2.25+0+0+2.25 = 4.5.
	f("ties on both sides", []float64{1, 1, 2, 3}, []float64{5, 6, 6, 9}, pearsonByDef([]float64{1, 1, 2, 3}, []float64{5, 6, 6, 9}), 3.75/4.5)
	f("missing pairs dropped", []float64{1, nan, 2, 3, 4}, []float64{2, 5, 4, nan, 8}, 1, 1)
	f("constant side is NaN", []float64{1, 2, 3}, []float64{7, 7, 7}, nan, nan)
}

// pearsonByDef is the textbook formula, written independently of pearson.
func pearsonByDef(x, y []float64) float64 {
	n := float64(len(x))
	var sx, sy, sxy, sxx, syy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxy += x[i] * y[i]
		sxx += x[i] * x[i]
		syy += y[i] * y[i]
	}
	return (n*sxy - sx*sy) / math.Sqrt((n*sxx-sx*sx)*(n*syy-sy*sy))
}

func TestCorrelationErrors(t *testing.T) {
	if _, err := Pearson([]float64{1, 2}, []float64{1, 2, 3}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("length mismatch: %v", err)
	}
	if _, err := Spearman([]float64{1, 2}, []float64{1, 2}); !errors.Is(err, ErrTooFewSamples) {
		t.Fatalf("two pairs: %v", err)
	}
	if _, _, err := BestLag([]float64{1, 2, 3}, []float64{1, 2, 3}, -1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative lag: %v", err)
	}
	if _, _, err := BestLag(nil, nil, 3); !errors.Is(err, ErrTooFewSamples) {
		t.Fatalf("empty: %v", err)
	}
	if _, err := Correlate([]int64{0, 1}, []float64{1, 2}, []int64{0, 1}, []float64{1, 2}, "kendall"); !errors.Is(err, ErrUnknownMethod) {
		t.Fatalf("unknown method: %v", err)
	}
}

// TestBestLagFindsShiftWithSign: the target is the candidate delayed by 5
// steps, so the candidate moves first and the lag is +5; swapping the
// roles gives -5.
func TestBestLagFindsShiftWithSign(t *testing.T) {
	r := newRand(t, 10)
	const n, shift = 300, 5
	src := noise(r, n+shift, 1)
	candidate := src[shift:] // candidate[t] = src[t+5]
	target := src[:n]        // target[t] = src[t] = candidate[t-5]
	lag, c, err := BestLag(target, candidate, 20)
	if err != nil || lag != shift || !near(c, 1, 1e-12) {
		t.Fatalf("BestLag = %d, %v, %v; want %d, 1", lag, c, err, shift)
	}
	lag, _, _ = BestLag(candidate, target, 20)
	if lag != -shift {
		t.Fatalf("roles swapped: lag %d, want %d", lag, -shift)
	}
	// Out of reach: the true lag is beyond maxLag, so it is not reported.
	if lag, _, _ := BestLag(target, candidate, 3); lag == shift {
		t.Fatalf("found lag %d beyond max lag 3", lag)
	}
	// An inverted copy is found too, with negative correlation.
	neg := make([]float64, n)
	for i := range neg {
		neg[i] = -candidate[i]
	}
	if lag, c, _ := BestLag(target, neg, 20); lag != shift || !near(c, -1, 1e-12) {
		t.Fatalf("inverted copy: lag %d correlation %v", lag, c)
	}
}

// TestCorrelationLagOnRawSamples: the candidate leads the target by 2
// minutes on a trending, daily-cycling background; CorrelationLag must say
// +2m.
func TestCorrelationLagOnRawSamples(t *testing.T) {
	r := newRand(t, 11)
	const step = 60_000
	n := 3 * 24 * 60
	shock := noise(r, n+2, 1)
	base := seasonal(r, n, 24*60, 100, 0.01, 20, 0)
	cand, targ := make([]float64, n), make([]float64, n)
	var c, tg float64
	for i := range n {
		c += shock[i+2] // random walk of the shocks, two steps early
		tg += shock[i]
		cand[i] = base[i] + c
		targ[i] = 50 + 0.5*base[i] + 3*tg
	}
	ts := timestamps(0, step, n)
	got, err := CorrelationLag(ts, targ, ts, cand, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lag != 2*time.Minute || got.Steps != 2 || got.Correlation < 0.99 {
		t.Fatalf("got %+v, want +2m with correlation near 1", got)
	}
}

// TestCorrelateAutoIgnoresSharedTrendAndCycle: two independent noises on a
// shared trend and daily cycle look strongly related to Pearson but not
// after the auto preprocessing.
func TestCorrelateAutoIgnoresSharedTrendAndCycle(t *testing.T) {
	r := newRand(t, 12)
	n := 24 * 6
	a := seasonal(r, n, 24, 10, 0.5, 20, 1)
	b := seasonal(r, n, 24, 300, 0.5, 20, 1)
	ts := timestamps(0, 3600_000, n)
	p, err := Correlate(ts, a, ts, b, CorrelationPearson)
	if err != nil || p < 0.9 {
		t.Fatalf("pearson %v, %v; want > 0.9", p, err)
	}
	s, err := Correlate(ts, a, ts, b, CorrelationSpearman)
	if err != nil || s < 0.9 {
		t.Fatalf("spearman %v, %v; want > 0.9", s, err)
	}
	auto, err := Correlate(ts, a, ts, b, CorrelationAuto)
	if err != nil || math.Abs(auto) > 0.3 {
		t.Fatalf("auto %v, %v; want |r| < 0.3", auto, err)
	}
}

func TestPrewhiten(t *testing.T) {
	// Differences of 1 3 6 10 are 2 3 4; no period.
	if got := Prewhiten([]float64{1, 3, 6, 10}, -1); !sameFloats(got, []float64{2, 3, 4}) {
		t.Fatalf("differences: %v", got)
	}
	// A line plus a period-3 cycle: differences repeat with period 3, and
	// removing each phase's median leaves zeros.
	x := []float64{0, 5, 1, 3, 8, 4, 6, 11, 7, 9, 14, 10}
	for i, d := range Prewhiten(x, 3) {
		if d != 0 {
			t.Fatalf("deseasonalised difference %d = %v, want 0", i, d)
		}
	}
	if got := Prewhiten([]float64{1}, 0); len(got) != 0 {
		t.Fatalf("one value: %v", got)
	}
}
