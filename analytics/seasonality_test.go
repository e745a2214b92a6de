package analytics

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

// TestDetectPeriodFindsGeneratorPeriod checks noise-free cycles of several
// shapes: the detected period equals the generator's.
func TestDetectPeriodFindsGeneratorPeriod(t *testing.T) {
	shapes := map[string]func(i, p int) float64{
		"sine":     func(i, p int) float64 { return math.Sin(2 * math.Pi * float64(i) / float64(p)) },
		"sawtooth": func(i, p int) float64 { return float64(i % p) },
		"spike":    func(i, p int) float64 { return map[bool]float64{true: 10}[i%p == 1] },
		"square with trend": func(i, p int) float64 {
			return 0.01*float64(i) + map[bool]float64{true: 1, false: -1}[i%p < p/2]
		},
	}
	for name, shape := range shapes {
		for _, p := range []int{4, 7, 24, 96} {
			for _, cycles := range []int{3, 10} {
				t.Run(fmt.Sprintf("%s period %d cycles %d", name, p, cycles), func(t *testing.T) {
					x := make([]float64, p*cycles)
					for i := range x {
						x[i] = 50 + shape(i, p)
					}
					if got := DetectPeriod(x); got != p {
						t.Fatalf("DetectPeriod = %d, want %d", got, p)
					}
				})
			}
		}
	}
}

func TestDetectPeriodWithNoise(t *testing.T) {
	r := newRand(t, 2)
	for trial := range 20 {
		x := seasonal(r, 1000, 24, 10, 0.01, 1, 0.5)
		if got := DetectPeriod(x); got != 24 {
			t.Fatalf("trial %d: sine of period 24 in noise: got %d", trial, got)
		}
	}
}

// TestDetectPeriodNoneForAperiodic checks the significance rule: white
// noise, trends and constants give 0 on every seed tried.
func TestDetectPeriodNoneForAperiodic(t *testing.T) {
	r := newRand(t, 3)
	for _, n := range []int{20, 100, 500, 3000} {
		for trial := range 20 {
			if got := DetectPeriod(noise(r, n, 1)); got != 0 {
				t.Fatalf("white noise n=%d trial %d: period %d, want 0", n, trial, got)
			}
			trend := seasonal(r, n, 1, 5, 0.1, 0, 1) // amp 0: line plus noise
			for i := range trend {
				trend[i] += 2e-5 * float64(i*i) // and some curvature
			}
			if got := DetectPeriod(trend); got != 0 {
				t.Fatalf("trend n=%d trial %d: period %d, want 0", n, trial, got)
			}
		}
	}
	f := func(name string, x []float64) {
		t.Helper()
		if got := DetectPeriod(x); got != 0 {
			t.Fatalf("%s: period %d, want 0", name, got)
		}
	}
	f("empty", nil)
	f("one value", []float64{1})
	f("constant", []float64{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3})
	f("exact line", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f("all NaN", []float64{math.NaN(), math.NaN(), math.NaN()})
	f("two cycles only", seasonal(nil, 48, 24, 0, 0, 1, 0))
}

func TestSeasonality(t *testing.T) {
	const step = 60_000 // one minute
	x := seasonal(nil, 24*60*4, 24*60, 100, 0, 10, 0)
	ts := timestamps(1_700_000_000_000, step, len(x))
	// A gap of five minutes is interpolated and does not disturb detection.
	ts = append(ts[:1000], ts[1005:]...)
	x = append(x[:1000], x[1005:]...)
	got, err := Seasonality(ts, x)
	if err != nil || got != 24*time.Hour {
		t.Fatalf("Seasonality = %v, %v; want 24h", got, err)
	}
	if got, err := Seasonality(ts[:100], x[:100]); err != nil || got != 0 {
		t.Fatalf("a fraction of a cycle: %v, %v; want 0", got, err)
	}
	if _, err := Seasonality(nil, nil); !errors.Is(err, ErrTooFewSamples) {
		t.Fatalf("empty input: error %v, want ErrTooFewSamples", err)
	}
}
