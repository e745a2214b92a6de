package analytics

import (
	"errors"
	"math"
	"testing"
)

func TestSMAPE(t *testing.T) {
	f := func(name string, actual, predicted []float64, want float64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := SMAPE(actual, predicted)
			if err != nil || !near(got, want, 1e-9) {
				t.Fatalf("SMAPE = %v, %v; want %v", got, err, want)
			}
		})
	}
	// 2·10/210 and 2·20/380, averaged, in percent.
	f("by hand", []float64{100, 200}, []float64{110, 180}, 100*(20.0/210+40.0/380)/2)
	f("perfect", []float64{1, 2}, []float64{1, 2}, 0)
	f("zero forecast of zero counts as perfect", []float64{0, 4}, []float64{0, 4}, 0)
	f("opposite signs are the maximum", []float64{1}, []float64{-1}, 200)
	f("missing pairs skipped", []float64{100, math.NaN()}, []float64{110, 5}, 100*20.0/210)
	if _, err := SMAPE([]float64{1}, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("mismatch: %v", err)
	}
	if _, err := SMAPE(nil, nil); !errors.Is(err, ErrTooFewSamples) {
		t.Fatalf("empty: %v", err)
	}
}

func TestMASE(t *testing.T) {
	train := []float64{1, 3, 2, 4, 3}
	f := func(name string, actual, predicted []float64, period int, want float64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := MASE(actual, predicted, train, period)
			if err != nil || !near(got, want, 1e-12) {
				t.Fatalf("MASE = %v, %v; want %v", got, err, want)
			}
		})
	}
	// Naive errors |3-1| |2-3| |4-2| |3-4| average 1.5; forecast errors 1 and 2.
	f("naive scale", []float64{5, 6}, []float64{4, 8}, 1, 1)
	f("period 0 means 1", []float64{5, 6}, []float64{4, 8}, 0, 1)
	// Seasonal differences at lag 2: 2-1, 4-3, 3-2, average 1.
	f("seasonal scale", []float64{5, 6}, []float64{4, 8}, 2, 1.5)

	flat := []float64{2, 2, 2}
	if got, _ := MASE([]float64{1}, []float64{2}, flat, 1); !math.IsInf(got, 1) {
		t.Fatalf("zero scale: %v, want +Inf", got)
	}
	if got, _ := MASE([]float64{1}, []float64{1}, flat, 1); !math.IsNaN(got) {
		t.Fatalf("zero scale and error: %v, want NaN", got)
	}
	if _, err := MASE([]float64{1}, []float64{1}, []float64{1, 2}, 2); !errors.Is(err, ErrTooFewSamples) {
		t.Fatalf("train not longer than period: %v", err)
	}
}
