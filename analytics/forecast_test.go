package analytics

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestForecastExactSignals: methods whose model holds exactly, with no
// noise, must reproduce the signal's continuation.
func TestForecastExactSignals(t *testing.T) {
	line := func(i int) float64 { return 3 + 0.5*float64(i) }
	cycle := func(i int) float64 { return []float64{4, -1, 0, 2, -5, 3, -3}[i%7] }
	trendCycle := func(i int) float64 { return 200 + 0.8*float64(i) + 10*cycle(i) }
	mulCycle := func(i int) float64 { return (100 + 0.5*float64(i)) * (1 + 0.05*cycle(i)) }
	f := func(name string, method ForecastMethod, period, n int, y func(int) float64, tol float64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			vs := make([]float64, n)
			for i := range vs {
				vs[i] = y(i)
			}
			for _, h := range []int{1, 2, 7, 15, 50} {
				p, err := ForecastSteps(vs, h, 0.9, method, period)
				if err != nil {
					t.Fatal(err)
				}
				want := y(n - 1 + h)
				if math.Abs(p.Value-want) > tol*math.Abs(want) {
					t.Fatalf("h=%d: forecast %v, want %v (relative tolerance %g)", h, p.Value, want, tol)
				}
				if !(p.Lower <= p.Value && p.Value <= p.Upper) {
					t.Fatalf("h=%d: interval [%v, %v] excludes the forecast %v", h, p.Lower, p.Upper, p.Value)
				}
			}
		})
	}
	f("linear on a line", ForecastLinear, -1, 30, line, 1e-12)
	f("holt on a line", ForecastHolt, -1, 30, line, 1e-9)
	f("holt-winters additive on trend plus cycle", ForecastHoltWinters, 7, 70, trendCycle, 1e-6)
	f("holt-winters multiplicative on a scaled cycle", ForecastHoltWintersMultiplicative, 7, 70, mulCycle, 1e-6)
	f("seasonal naive on a cycle", ForecastSeasonalNaive, 7, 30, func(i int) float64 { return cycle(i) + 10 }, 0)
	f("seasonal linear on trend plus cycle", ForecastSeasonalLinear, 7, 30, trendCycle, 1e-12)
	f("theta on a constant", ForecastTheta, -1, 30, func(int) float64 { return 42 }, 1e-12)
	f("auto on trend plus cycle detects the period", ForecastAuto, 0, 70, trendCycle, 1e-6)
	f("auto on a line", ForecastAuto, 0, 40, line, 1e-9)
}

func TestForecastSeasonalNaiveRepeatsLastCycle(t *testing.T) {
	vs := []float64{1, 2, 3, 4, 10, 20, 30, 40} // period 4: last cycle 10 20 30 40
	for h, want := range []float64{10, 20, 30, 40, 10, 20} {
		p, err := ForecastSteps(vs, h+1, 0.95, ForecastSeasonalNaive, 4)
		if err != nil {
			t.Fatal(err)
		}
		if p.Value != want || p.Period != 4 {
			t.Fatalf("h=%d: %v (period %d), want %v", h+1, p.Value, p.Period, want)
		}
	}
	// Residuals y[t]-y[t-4] are 9 18 27 36: σ² = (81+324+729+1296)/4.
	// h=6 is in the second cycle ahead, so sd = σ·sqrt(2).
	p, _ := ForecastSteps(vs, 6, 0.95, ForecastSeasonalNaive, 4)
	sd := math.Sqrt((81.0+324+729+1296)/4) * math.Sqrt(2)
	if want := 20 + 1.959963984540054*sd; !near(p.Upper, want, 1e-9) {
		t.Fatalf("upper %v, want %v", p.Upper, want)
	}
}

// TestForecastLinearIntervalByHand: y = 0, 1, 3 has OLS line -1/6 + 1.5t,
// residuals 1/6, -1/3, 1/6, s² = (1/36+1/9+1/36)/1 = 1/6. At t₀ = 3:
// forecast 4.333…, sd = s·sqrt(1 + 1/3 + (3-1)²/2) and the t quantile with
// 1 degree of freedom at 0.95 is tan(0.45π).
func TestForecastLinearIntervalByHand(t *testing.T) {
	p, err := ForecastSteps([]float64{0, 1, 3}, 1, 0.9, ForecastLinear, -1)
	if err != nil {
		t.Fatal(err)
	}
	sd := math.Sqrt(1.0/6) * math.Sqrt(1+1.0/3+2)
	q := math.Tan(0.45 * math.Pi)
	if !near(p.Value, 13.0/3, 1e-12) || !near(p.Upper-p.Value, q*sd, 1e-9) {
		t.Fatalf("got %+v, want value %v half-width %v", p, 13.0/3, q*sd)
	}
}

// TestForecastThetaFormula checks the Hyndman & Billah form on a line:
// SES with α and level ℓ plus half the OLS slope with the thetaf drift
// term, recomputed here from the SES model alone.
func TestForecastThetaFormula(t *testing.T) {
	vs := make([]float64, 20)
	for i := range vs {
		vs[i] = 2 * float64(i)
	}
	_, level, alpha := fitSES(vs)
	p, err := ForecastSteps(vs, 5, 0.95, ForecastTheta, -1)
	if err != nil {
		t.Fatal(err)
	}
	want := level + 1*(4+(1-math.Pow(1-alpha, 20))/alpha) // b/2 = 1
	if !near(p.Value, want, 1e-9) {
		t.Fatalf("theta forecast %v, want %v", p.Value, want)
	}
}

// TestForecastIntervalCoverage checks that 95% intervals on Gaussian noise
// (around a line or a cycle, as the method models) cover about 95% of
// actual future values over many independent trials.
func TestForecastIntervalCoverage(t *testing.T) {
	r := newRand(t, 8)
	for _, tc := range []struct {
		method ForecastMethod
		period int
		amp    float64
		trials int
		lo, hi float64
	}{
		{ForecastLinear, -1, 0, 400, 0.92, 0.98},
		{ForecastHolt, -1, 0, 300, 0.89, 0.99},
		{ForecastTheta, -1, 0, 300, 0.89, 0.99},
		{ForecastSeasonalNaive, 12, 5, 300, 0.89, 0.99},
		{ForecastHoltWinters, 12, 5, 200, 0.88, 0.99},
		{ForecastSeasonalLinear, 12, 5, 300, 0.92, 0.98},
	} {
		for _, h := range []int{1, 6} {
			t.Run(fmt.Sprintf("%s h=%d", tc.method, h), func(t *testing.T) {
				covered := 0
				const n = 120
				for range tc.trials {
					all := seasonal(r, n+h, max(tc.period, 1), 20, 0.05, tc.amp, 1)
					p, err := ForecastSteps(all[:n], h, 0.95, tc.method, tc.period)
					if err != nil {
						t.Fatal(err)
					}
					if y := all[n-1+h]; p.Lower <= y && y <= p.Upper {
						covered++
					}
				}
				c := float64(covered) / float64(tc.trials)
				t.Logf("coverage %.3f over %d trials", c, tc.trials)
				if c < tc.lo || c > tc.hi {
					t.Fatalf("coverage %.3f, want in [%v, %v]", c, tc.lo, tc.hi)
				}
			})
		}
	}
}

func TestForecastAutoPrefersSeasonalOnSeasonalData(t *testing.T) {
	r := newRand(t, 9)
	vs := seasonal(r, 24*8, 24, 100, 0.1, 20, 1)
	p, err := ForecastSteps(vs, 12, 0.95, ForecastAuto, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !isSeasonal(p.Method) {
		t.Fatalf("auto chose %s, want a seasonal method", p.Method)
	}
	if p.Period != 24 {
		t.Fatalf("period %d, want 24", p.Period)
	}
	want := 100 + 0.1*float64(24*8-1+12) + 20*math.Sin(2*math.Pi*float64(24*8-1+12)/24)
	if math.Abs(p.Value-want) > 4 {
		t.Fatalf("forecast %v, want %v ± 4", p.Value, want)
	}
}

func TestForecastEdges(t *testing.T) {
	ok := []float64{1, 2, 3, 4, 5, 6}
	f := func(name string, vs []float64, h int, level float64, m ForecastMethod, period int, want error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			if _, err := ForecastSteps(vs, h, level, m, period); !errors.Is(err, want) {
				t.Fatalf("error %v, want %v", err, want)
			}
		})
	}
	f("empty", nil, 1, 0, ForecastAuto, 0, ErrTooFewSamples)
	f("one sample", []float64{1}, 1, 0, ForecastLinear, 0, ErrTooFewSamples)
	f("NaN inside", []float64{1, math.NaN(), 3, 4}, 1, 0, ForecastLinear, 0, ErrInvalidArgument)
	f("level 1", ok, 1, 1, ForecastLinear, 0, ErrInvalidArgument)
	f("negative level", ok, 1, -0.5, ForecastLinear, 0, ErrInvalidArgument)
	f("zero horizon", ok, 0, 0, ForecastLinear, 0, ErrInvalidArgument)
	f("unknown method", ok, 1, 0, "arima", 0, ErrUnknownMethod)
	f("seasonal method without a period", ok, 1, 0, ForecastHoltWinters, -1, ErrNoSeasonality)
	f("holt-winters with under two cycles", ok, 1, 0, ForecastHoltWinters, 4, ErrTooFewSamples)
	f("multiplicative with a zero", []float64{1, 0, 1, 2, 1, 2, 1, 2, 1}, 1, 0, ForecastHoltWintersMultiplicative, 2, ErrNotPositive)

	// Level 0 means 0.95; auto works on the shortest accepted input.
	p, err := ForecastSteps([]float64{1, 2, 3}, 1, 0, ForecastAuto, 0)
	if err != nil || p.Level != 0.95 {
		t.Fatalf("got %+v, %v", p, err)
	}
}

func TestForecastRawSamples(t *testing.T) {
	ts := timestamps(0, 10_000, 30)
	vs := make([]float64, len(ts))
	for i := range vs {
		vs[i] = float64(ts[i]) / 1000 // one per second
	}
	vs[10] = math.NaN()
	// 95 s is 9.5 steps, rounded to 10: the value at t = 290 + 100 s.
	p, err := Forecast(ts, vs, 95*time.Second, 0.8, ForecastLinear)
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps != 10 || !near(p.Value, 390, 1e-9) {
		t.Fatalf("got %+v, want 10 steps and 390", p)
	}
	if _, err := Forecast(ts, vs, 0, 0.8, ForecastLinear); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("zero horizon: %v", err)
	}
	if _, err := Forecast(nil, nil, time.Minute, 0, ForecastAuto); !errors.Is(err, ErrTooFewSamples) {
		t.Fatalf("empty: %v", err)
	}
}

// TestForecastSeasonalLinearAveragesCycles: on a noisy seasonal series
// with a trend, the seasonal profile averaged over every cycle forecasts
// a cycle ahead better than the last cycle repeated, which carries that
// cycle's noise: with k cycles its error variance is about σ²(1 + 1/k)
// against seasonal naive's 2σ².
func TestForecastSeasonalLinearAveragesCycles(t *testing.T) {
	r := newRand(t, 11)
	const period, cycles, trials = 24, 7, 100
	var sl, sn float64
	for range trials {
		all := seasonal(r, (cycles+1)*period, period, 50, 0.05, 10, 2)
		train, test := all[:cycles*period], all[cycles*period:]
		for h := 1; h <= period; h++ {
			a, err := ForecastSteps(train, h, 0.8, ForecastSeasonalLinear, period)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ForecastSteps(train, h, 0.8, ForecastSeasonalNaive, period)
			if err != nil {
				t.Fatal(err)
			}
			sl += math.Abs(test[h-1] - a.Value)
			sn += math.Abs(test[h-1] - b.Value)
		}
	}
	// E|N(0, σ²v)| = σ·sqrt(2v/π): about 1.71 for σ = 2 (seasonal
	// naive's 2.26 is more, as it also lags the trend by a cycle).
	sl /= trials * period
	sn /= trials * period
	t.Logf("mean absolute error a cycle ahead: seasonal_linear %.3f, seasonal_naive %.3f", sl, sn)
	if !(sl < 0.85*sn) || math.Abs(sl-1.71) > 0.15 {
		t.Fatalf("seasonal_linear error %.3f, want about 1.71 and well below seasonal_naive's %.3f", sl, sn)
	}
}

// TestForecastAutoIntervalCoverage: auto's interval comes from its own
// backtest errors, so it holds about its level of the actual values even
// where the models' formulas are off: here the noise is AR(1) (φ 0.6),
// which every formula takes for independent, and heavy-tailed (Student
// t with 3 degrees of freedom), which every formula takes for Gaussian.
func TestForecastAutoIntervalCoverage(t *testing.T) {
	r := newRand(t, 12)
	const period, n, trials = 24, 24 * 8, 400
	horizons := []int{1, 6, 12, 24}
	for _, level := range []float64{0.8, 0.95} {
		covered, total := 0, 0
		for range trials {
			all := seasonal(r, n+period, period, 100, 0.02, 10, 0)
			var ar float64
			for i := range all {
				ar = 0.6*ar + studentT3(r)
				all[i] += ar
			}
			for _, h := range horizons {
				p, err := ForecastSteps(all[:n], h, level, ForecastAuto, period)
				if err != nil {
					t.Fatal(err)
				}
				total++
				if y := all[n-1+h]; p.Lower <= y && y <= p.Upper {
					covered++
				}
			}
		}
		c := float64(covered) / float64(total)
		t.Logf("level %v: coverage %.3f over %d forecasts", level, c, total)
		if math.Abs(c-level) > 0.05 {
			t.Errorf("level %v: coverage %.3f, want within 0.05", level, c)
		}
	}
}

// studentT3 draws from Student's t with 3 degrees of freedom, scaled to
// unit variance.
func studentT3(r *rand.Rand) float64 {
	var chi2 float64
	for range 3 {
		z := r.NormFloat64()
		chi2 += z * z
	}
	return r.NormFloat64() / math.Sqrt(chi2/3) / math.Sqrt(3)
}
