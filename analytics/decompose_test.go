package analytics

import (
	"errors"
	"math"
	"testing"
)

// TestDecomposeRecoversExactComponents builds a line plus a fixed cycle with
// no noise: the trend must be the line (up to the cycle's mean, which
// Decompose puts in the trend), the seasonal part the centred cycle, and
// the extrapolation the continuation of both.
func TestDecomposeRecoversExactComponents(t *testing.T) {
	for _, tc := range []struct {
		name           string
		period, cycles int
	}{
		{"period 2", 2, 5},
		{"period 7 two cycles", 7, 2},
		{"period 24", 24, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.period
			cycle := func(i int) float64 { return 3*math.Sin(2*math.Pi*float64(i)/float64(p)) + float64(i%p%3) }
			var cycleMean float64
			for i := range p {
				cycleMean += cycle(i) / float64(p)
			}
			y := func(i int) float64 { return 100 + 0.7*float64(i) + cycle(i) }
			x := make([]float64, p*tc.cycles)
			for i := range x {
				x[i] = y(i)
			}
			d, err := Decompose(x, p)
			if err != nil {
				t.Fatal(err)
			}
			for i := range x {
				if tr := 100 + 0.7*float64(i) + cycleMean; !near(d.Trend[i], tr, 1e-6) {
					t.Fatalf("trend[%d] = %v, want %v", i, d.Trend[i], tr)
				}
				if s := cycle(i) - cycleMean; !near(d.Seasonal[i], s, 1e-6) {
					t.Fatalf("seasonal[%d] = %v, want %v", i, d.Seasonal[i], s)
				}
				if !near(d.Trend[i]+d.Seasonal[i]+d.Residual[i], x[i], 1e-9) {
					t.Fatalf("components at %d do not add up to %v", i, x[i])
				}
			}
			for h := 1; h <= 2*p; h++ {
				if got, want := d.Extrapolate(h), y(len(x)-1+h); !near(got, want, 1e-6) {
					t.Fatalf("Extrapolate(%d) = %v, want %v", h, got, want)
				}
			}
		})
	}
}

// TestDecomposeIsRobust puts one huge spike into noisy seasonal data: the
// spike must stay in the residual instead of bending trend or season.
func TestDecomposeIsRobust(t *testing.T) {
	r := newRand(t, 4)
	x := seasonal(r, 240, 24, 10, 0.05, 2, 0.1)
	clean := append([]float64(nil), x...)
	x[100] += 1000
	d, err := Decompose(x, 24)
	if err != nil {
		t.Fatal(err)
	}
	if d.Residual[100] < 990 {
		t.Fatalf("spike residual %v, want about 1000", d.Residual[100])
	}
	for i := range x {
		want := 10 + 0.05*float64(i) + 2*math.Sin(2*math.Pi*float64(i)/24)
		if got := d.Trend[i] + d.Seasonal[i]; math.Abs(got-want) > 0.3 {
			t.Fatalf("fit at %d = %v, want %v ± 0.3 (clean value %v)", i, got, want, clean[i])
		}
	}
}

func TestDecomposeEdges(t *testing.T) {
	if _, err := Decompose([]float64{1, 2, 3, 4, 5}, 3); !errors.Is(err, ErrTooFewSamples) {
		t.Fatalf("under two cycles: error %v, want ErrTooFewSamples", err)
	}
	if _, err := Decompose(nil, 0); !errors.Is(err, ErrTooFewSamples) {
		t.Fatalf("empty: error %v, want ErrTooFewSamples", err)
	}
	// No period: trend only, seasonal all zero; an exact line is its own trend.
	d, err := Decompose([]float64{1, 2, 3, 4, 5, 6, 7, 8}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range d.Trend {
		if !near(v, float64(i+1), 1e-9) || d.Seasonal[i] != 0 {
			t.Fatalf("trend-only: trend[%d]=%v seasonal=%v", i, v, d.Seasonal[i])
		}
	}
	if got := d.Extrapolate(2); !near(got, 10, 1e-9) {
		t.Fatalf("Extrapolate(2) of 1..8 = %v, want 10", got)
	}
	// Missing values are skipped by the fits and keep NaN residuals.
	x := seasonal(nil, 48, 12, 0, 0, 1, 0)
	x[5] = math.NaN()
	d, err = Decompose(x, 12)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(d.Residual[5]) || math.IsNaN(d.Trend[5]) || !near(d.Residual[6], 0, 1e-6) {
		t.Fatalf("NaN input: residual %v trend %v, next residual %v", d.Residual[5], d.Trend[5], d.Residual[6])
	}
}
