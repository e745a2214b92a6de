package analytics

import (
	"errors"
	"math"
	"testing"
)

var allAnomalyMethods = []AnomalyMethod{"", AnomalyAuto, AnomalyZScore, AnomalyMAD, AnomalySeasonal, AnomalyNovelty}

func TestAssessConstantScoresZero(t *testing.T) {
	for _, level := range []float64{0, 1, -3.5, 1e9, 1e-12} {
		for _, m := range allAnomalyMethods {
			x := make([]float64, 50)
			for i := range x {
				x[i] = level
			}
			a, err := AssessLast(x, m)
			if err != nil {
				t.Fatalf("level %v method %q: %v", level, m, err)
			}
			if a.Score != 0 || a.Sigma < 0 || math.IsNaN(a.Sigma) {
				t.Fatalf("level %v method %q: score %v sigma %v, want exactly 0 and a finite sigma", level, m, a.Score, a.Sigma)
			}
			lo, hi := a.Band(3)
			if lo > level || hi < level {
				t.Fatalf("level %v method %q: band [%v, %v] misses the level", level, m, lo, hi)
			}
		}
	}
}

func TestAssessJumpAfterConstantIsLargeAndFinite(t *testing.T) {
	for _, m := range allAnomalyMethods {
		x := []float64{5, 5, 5, 5, 5, 5, 5, 5, 6}
		a, err := AssessLast(x, m)
		if err != nil {
			t.Fatal(err)
		}
		if !(a.Score > 1e6) || math.IsInf(a.Score, 0) {
			t.Fatalf("method %q: score %v, want huge but finite", m, a.Score)
		}
		z := []float64{0, 0, 0, 0, 1}
		if a, _ := AssessLast(z, m); !(a.Score > 1e6) || math.IsInf(a.Score, 0) {
			t.Fatalf("method %q after zeros: score %v, want huge but finite", m, a.Score)
		}
	}
}

func TestAssessSpikeAtEnd(t *testing.T) {
	r := newRand(t, 5)
	for _, m := range allAnomalyMethods {
		for trial := range 10 {
			x := noise(r, 200, 1)
			for i := range x {
				x[i] += 100
			}
			x[len(x)-1] = 100 + 10 // ten sigma
			a, err := AssessLast(x, m)
			if err != nil {
				t.Fatal(err)
			}
			if a.Score <= 5 {
				t.Fatalf("method %q trial %d: spike scored %v, want > 5 (%+v)", m, trial, a.Score, a)
			}
		}
	}
}

// TestAssessScoresHaveUnitSpread checks the scale of each method: on
// Gaussian noise (plus a cycle for the seasonal method) the signed score of
// an ordinary newest point must have a root mean square near 1, so "k
// robust standard deviations" means what it says.
func TestAssessScoresHaveUnitSpread(t *testing.T) {
	r := newRand(t, 6)
	for _, tc := range []struct {
		name   string
		method AnomalyMethod
		slope  float64
		amp    float64
		period int
	}{
		{"zscore", AnomalyZScore, 0, 0, 1},
		{"mad", AnomalyMAD, 0, 0, 1},
		{"seasonal on a cycle with trend", AnomalySeasonal, 0.01, 5, 24},
		{"seasonal without a cycle (trend only)", AnomalySeasonal, 0.01, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const trials = 200
			var ss float64
			for range trials {
				x := seasonal(r, 24*8+1, tc.period, 10, tc.slope, tc.amp, 1)
				a, err := AssessLast(x, tc.method)
				if err != nil {
					t.Fatal(err)
				}
				z := (a.Value - a.Expected) / a.Sigma
				ss += z * z
			}
			if rms := math.Sqrt(ss / trials); rms < 0.85 || rms > 1.2 {
				t.Fatalf("rms score %v, want about 1", rms)
			}
		})
	}
}

// TestAssessSeasonalSeesPhaseAnomaly puts the cycle's peak value at a
// trough: ordinary for the level, so MAD barely notices, but seasonal (and
// auto, which detects the cycle) must.
func TestAssessSeasonalSeesPhaseAnomaly(t *testing.T) {
	r := newRand(t, 7)
	// The newest point, index 24*7+18, is at phase 18 where sin = -1 and
	// the cycle is at its trough, 40; put the peak value 60 there.
	x := seasonal(r, 24*7+19, 24, 50, 0, 10, 0.5)
	x[len(x)-1] = 60
	mad, err := AssessLast(x, AnomalyMAD)
	if err != nil {
		t.Fatal(err)
	}
	auto, err := AssessLast(x, AnomalyAuto)
	if err != nil {
		t.Fatal(err)
	}
	if mad.Score > 2 {
		t.Fatalf("mad scored %v, want < 2 (the value is within the overall range)", mad.Score)
	}
	if auto.Method != AnomalySeasonal || auto.Period != 24 || auto.Score < 10 {
		t.Fatalf("auto = %+v, want seasonal with period 24 and score > 10", auto)
	}
	if lo, hi := auto.Band(3); !(lo < 40 && 40 < hi) || hi > 45 {
		t.Fatalf("band at 3 sigma [%v, %v], want around 40", lo, hi)
	}
}

// TestAssessZScoreByHand checks a value worked by hand: history 1..5 has
// mean 3 and sample standard deviation sqrt(2.5).
func TestAssessZScoreByHand(t *testing.T) {
	a, err := AssessLast([]float64{1, 2, 3, 4, 5, 8}, AnomalyZScore)
	if err != nil {
		t.Fatal(err)
	}
	if want := 5 / math.Sqrt(2.5); !near(a.Score, want, 1e-12) || a.Expected != 3 {
		t.Fatalf("score %v expected %v, want %v and 3", a.Score, a.Expected, want)
	}
	// MAD of 1..5: median 3, deviations 2 1 0 1 2 → 1, so sigma 1.4826.
	a, _ = AssessLast([]float64{1, 2, 3, 4, 5, 8}, AnomalyMAD)
	if want := 5 / 1.4826; !near(a.Score, want, 1e-12) {
		t.Fatalf("mad score %v, want %v", a.Score, want)
	}
	lo, hi := a.Band(-2) // k is taken as |k|
	if !near(lo, 3-2*1.4826, 1e-12) || !near(hi, 3+2*1.4826, 1e-12) {
		t.Fatalf("band [%v, %v]", lo, hi)
	}
}

func TestAssessEdges(t *testing.T) {
	nan := math.NaN()
	f := func(name string, vs []float64, m AnomalyMethod, want error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			if _, err := AssessLast(vs, m); !errors.Is(err, want) {
				t.Fatalf("error %v, want %v", err, want)
			}
		})
	}
	f("empty", nil, AnomalyAuto, ErrTooFewSamples)
	f("one sample", []float64{1}, AnomalyAuto, ErrTooFewSamples)
	f("history of two", []float64{1, 2, 3}, AnomalyMAD, ErrTooFewSamples)
	f("history all NaN", []float64{nan, nan, nan, nan, 1}, AnomalyZScore, ErrTooFewSamples)
	f("newest missing", []float64{1, 2, 3, 4, nan}, AnomalyMAD, ErrInvalidArgument)
	f("unknown method", []float64{1, 2, 3, 4, 5}, "prophet", ErrUnknownMethod)

	// Missing history values are skipped.
	a, err := AssessLast([]float64{1, nan, 2, 3, nan, 4, 5, 8}, AnomalyZScore)
	if err != nil || !near(a.Score, 5/math.Sqrt(2.5), 1e-12) {
		t.Fatalf("with gaps: %+v, %v", a, err)
	}
}

func TestAssessRawSamples(t *testing.T) {
	ts := timestamps(0, 15000, 60)
	vs := make([]float64, len(ts))
	for i := range vs {
		vs[i] = 10 + float64(i%2) // alternating 10, 11
	}
	vs[20] = math.Float64frombits(StaleNaNBits) // interpolated over
	vs[len(vs)-1] = 30
	a, err := Assess(ts, vs, AnomalyMAD)
	if err != nil {
		t.Fatal(err)
	}
	if a.Value != 30 || a.Score < 20 {
		t.Fatalf("got %+v, want the value 30 scored > 20", a)
	}
	if _, err := Assess(nil, nil, AnomalyAuto); !errors.Is(err, ErrTooFewSamples) {
		t.Fatalf("empty: %v", err)
	}
}

// Novelty by hand: history 0..9 (n = 10, range 9), so the standard error
// is 9/(6·√10).
func TestAssessNoveltyByHand(t *testing.T) {
	hist := []float64{3, 0, 9, 1, 8, 2, 7, 4, 6, 5}
	unit := 9 / (6 * math.Sqrt(10))
	for _, tc := range []struct {
		x, want, nearest float64
	}{
		{x: 4, want: 0, nearest: 4},              // seen
		{x: 4.25, want: 0.25 / unit, nearest: 4}, // between two seen values
		{x: 12, want: 3 / unit, nearest: 9},      // beyond the highest
		{x: -1, want: 1 / unit, nearest: 0},      // below the lowest
	} {
		a, err := AssessLast(append(append([]float64(nil), hist...), tc.x), AnomalyNovelty)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(a.Score-tc.want) > 1e-12 || a.Expected != tc.nearest || math.Abs(a.Sigma-unit) > 1e-15 {
			t.Errorf("x %v: score %v expected %v sigma %v, want %v, %v, %v", tc.x, a.Score, a.Expected, a.Sigma, tc.want, tc.nearest, unit)
		}
		if lo, hi := a.Band(2); math.Abs(lo-(0-2*unit)) > 1e-12 || math.Abs(hi-(9+2*unit)) > 1e-12 {
			t.Errorf("x %v: band [%v, %v], want the range widened by 2 units", tc.x, lo, hi)
		}
	}
}

// A level shift scores at its first sample only: once the new level is in
// the history, it is no longer new. The deviation methods keep scoring it.
func TestAssessNoveltyLevelShiftScoresOnce(t *testing.T) {
	r := newRand(t, 7)
	x := make([]float64, 300)
	for i := range x {
		x[i] = 10 + r.NormFloat64()
		if i >= 290 {
			x[i] += 20
		}
	}
	first, _ := AssessLast(x[:291], AnomalyNovelty)
	if first.Score < 50 {
		t.Errorf("first sample of the new level scores %v, want a large score", first.Score)
	}
	later, _ := AssessLast(x[:300], AnomalyNovelty)
	mad, _ := AssessLast(x[:300], AnomalyMAD)
	if later.Score > 10 || mad.Score < 10 {
		t.Errorf("tenth sample of the new level: novelty %v (want small), mad %v (want large)", later.Score, mad.Score)
	}
}
