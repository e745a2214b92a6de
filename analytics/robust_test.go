package analytics

import (
	"math"
	"testing"
)

func TestMedianMADQuantile(t *testing.T) {
	nan := math.NaN()
	f := func(name string, xs []float64, wantMedian, wantMAD float64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			if got := Median(xs); !near(got, wantMedian, 1e-12) {
				t.Fatalf("Median(%v) = %v, want %v", xs, got, wantMedian)
			}
			if got := MAD(xs); !near(got, wantMAD, 1e-12) {
				t.Fatalf("MAD(%v) = %v, want %v", xs, got, wantMAD)
			}
		})
	}
	// Worked by hand: median 3, deviations 2 1 0 1 97 → median 1.
	f("odd with outlier", []float64{4, 1, 100, 3, 2}, 3, 1.4826)
	// median (2+4)/2 = 3, deviations 2 1 1 4 → median (1+2)/2 = 1.5.
	f("even", []float64{7, 1, 2, 4}, 3, 1.5*1.4826)
	f("single", []float64{5}, 5, 0)
	f("constant", []float64{2, 2, 2}, 2, 0)
	f("missing values ignored", []float64{nan, 1, math.Inf(1), 2, 3, math.Float64frombits(StaleNaNBits)}, 2, 1.4826)
	f("empty", nil, nan, nan)
	f("all NaN", []float64{nan, nan}, nan, nan)
}

func TestQuantile(t *testing.T) {
	xs := []float64{4, 2, 3, 1}
	f := func(q, want float64) {
		t.Helper()
		if got := Quantile(xs, q); !near(got, want, 1e-12) {
			t.Fatalf("Quantile(%v, %v) = %v, want %v", xs, q, got, want)
		}
	}
	// Type 7: h = (n-1)q over 1 2 3 4.
	f(0, 1)
	f(0.25, 1.75) // h = 0.75
	f(0.5, 2.5)
	f(0.9, 3.7) // h = 2.7
	f(1, 4)
	f(-0.1, math.NaN())
	f(1.1, math.NaN())
	f(math.NaN(), math.NaN())
}

func TestMedianDoesNotModifyInput(t *testing.T) {
	xs := []float64{3, 1, 2}
	Median(xs)
	MAD(xs)
	if xs[0] != 3 || xs[1] != 1 || xs[2] != 2 {
		t.Fatalf("input reordered to %v", xs)
	}
}

func TestRobustScaleFallsBackWhenMADIsZero(t *testing.T) {
	// Over half the values tie, so MAD is 0; the mean absolute deviation
	// from the median 5 is 2/5, scaled by sqrt(π/2).
	c, s := robustCenterScale([]float64{5, 5, 5, 6, 6})
	if c != 5 || !near(s, 0.4*math.Sqrt(math.Pi/2), 1e-12) {
		t.Fatalf("got center %v scale %v, want 5 and %v", c, s, 0.4*math.Sqrt(math.Pi/2))
	}
}
