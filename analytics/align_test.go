package analytics

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

func TestInferStep(t *testing.T) {
	f := func(name string, ts []int64, want int64, wantErr error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := InferStep(ts)
			if !errors.Is(err, wantErr) || got != want {
				t.Fatalf("InferStep(%v) = %d, %v; want %d, %v", ts, got, err, want, wantErr)
			}
		})
	}
	f("regular", []int64{0, 15, 30, 45}, 15, nil)
	f("jitter and a gap", []int64{0, 14, 30, 46, 60, 120}, 15, nil)        // deltas 14 16 16 14 (mean 15, median 16) and 60
	f("two intervals", []int64{0, 15, 45, 60, 90, 105, 135, 165}, 30, nil) // 15 and 30: the median's, not their mean
	f("duplicates ignored", []int64{0, 0, 10, 10, 20}, 10, nil)
	f("single", []int64{5}, 0, ErrTooFewSamples)
	f("empty", nil, 0, ErrTooFewSamples)
	f("all equal", []int64{7, 7}, 0, ErrTooFewSamples)
}

// With jitter of seconds the median interval is tens of milliseconds off,
// enough for a grid to drift by a whole step over a few hundred points.
func TestInferStepUnderJitter(t *testing.T) {
	r := newRand(t, 5)
	ts := make([]int64, 1000)
	for i := range ts {
		ts[i] = int64(i)*30_000 + r.Int64N(5000)
	}
	step, err := InferStep(ts)
	if err != nil || step < 29_990 || step > 30_010 {
		t.Fatalf("step %d, %v; want 30000 within 10 ms", step, err)
	}
}

func TestRegularize(t *testing.T) {
	nan := math.NaN()
	stale := math.Float64frombits(StaleNaNBits)
	f := func(name string, ts []int64, vs []float64, step int64, want Grid) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := Regularize(ts, vs, step)
			if err != nil {
				t.Fatalf("Regularize: %v", err)
			}
			if got.Start != want.Start || got.Step != want.Step || !sameFloats(got.Values, want.Values) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
	f("regular", []int64{1000, 1015, 1030}, []float64{1, 2, 3}, 0,
		Grid{Start: 1000, Step: 15, Values: []float64{1, 2, 3}})
	f("jitter rounds to nearest", []int64{0, 16, 29, 44}, []float64{1, 2, 3, 4}, 15,
		Grid{Start: -1, Step: 15, Values: []float64{1, 2, 3, 4}})
	f("gap becomes NaN", []int64{0, 10, 40}, []float64{1, 2, 5}, 10,
		Grid{Start: 0, Step: 10, Values: []float64{1, 2, nan, nan, 5}})
	f("stale, NaN and Inf are missing", []int64{0, 10, 20, 30, 40}, []float64{1, stale, nan, math.Inf(-1), 5}, 10,
		Grid{Start: 0, Step: 10, Values: []float64{1, nan, nan, nan, 5}})
	f("later sample wins a point", []int64{0, 9, 11, 20}, []float64{1, 2, 3, 4}, 10,
		Grid{Start: 0, Step: 10, Values: []float64{1, 3, 4}})
	f("leading missing trimmed", []int64{0, 10, 20}, []float64{nan, 2, 3}, 0,
		Grid{Start: 10, Step: 10, Values: []float64{2, 3}})
	f("single sample with step", []int64{100}, []float64{7}, 10,
		Grid{Start: 100, Step: 10, Values: []float64{7}})
}

func TestRegularizeErrors(t *testing.T) {
	nan := math.NaN()
	f := func(name string, ts []int64, vs []float64, step int64, want error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			if _, err := Regularize(ts, vs, step); !errors.Is(err, want) {
				t.Fatalf("got error %v, want %v", err, want)
			}
		})
	}
	f("empty", nil, nil, 0, ErrTooFewSamples)
	f("all NaN", []int64{0, 1}, []float64{nan, nan}, 0, ErrTooFewSamples)
	f("one sample, step to infer", []int64{0}, []float64{1}, 0, ErrTooFewSamples)
	f("length mismatch", []int64{0, 1}, []float64{1}, 0, ErrInvalidArgument)
	f("out of order", []int64{0, 20, 10}, []float64{1, 2, 3}, 0, ErrInvalidArgument)
	f("negative step", []int64{0, 10}, []float64{1, 2}, -5, ErrInvalidArgument)
	f("grid too large", []int64{0, 1 << 40}, []float64{1, 2}, 1, ErrInvalidArgument)
}

func TestFill(t *testing.T) {
	nan := math.NaN()
	f := func(name string, in []float64, maxGap int, wantStart int64, want []float64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := Fill(Grid{Start: 0, Step: 10, Values: in}, maxGap)
			if got.Start != wantStart || !sameFloats(got.Values, want) {
				t.Fatalf("Fill(%v, %d) = start %d %v, want start %d %v", in, maxGap, got.Start, got.Values, wantStart, want)
			}
		})
	}
	f("complete", []float64{1, 2}, 3, 0, []float64{1, 2})
	f("short gap interpolated", []float64{1, nan, nan, 4}, 2, 0, []float64{1, 2, 3, 4})
	f("long gap keeps the newer part", []float64{1, nan, nan, nan, 5, 6}, 2, 40, []float64{5, 6})
	f("edges trimmed", []float64{nan, 1, nan, 3, nan}, 1, 10, []float64{1, 2, 3})
	f("all NaN", []float64{nan, nan}, 5, 0, []float64{})
	if in := []float64{1, nan, 3}; Fill(Grid{Step: 1, Values: in}, 1).Values[1] != 2 || !math.IsNaN(in[1]) {
		t.Fatalf("Fill must not modify its input")
	}
}

func TestAlign(t *testing.T) {
	// a every 10 ms over [0, 100], b every 20 ms over [35, 155]: common
	// step 20, common range ends at 100.
	ta := timestamps(0, 10, 11)
	va := make([]float64, len(ta))
	for i := range va {
		va[i] = float64(ta[i])
	}
	tb := timestamps(35, 20, 7)
	vb := make([]float64, len(tb))
	for i := range vb {
		vb[i] = -float64(tb[i])
	}
	a, b, err := Align(ta, va, tb, vb, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Step != 20 || b.Step != 20 || a.Start != b.Start || a.Len() != b.Len() {
		t.Fatalf("grids differ: %+v %+v", a, b)
	}
	if a.Time(a.Len()-1) != 100 {
		t.Fatalf("grid ends at %d, want 100 (the earlier of the two ends)", a.Time(a.Len()-1))
	}
	wantA := []float64{40, 60, 80, 100} // grid 40 60 80 100
	wantB := []float64{-35, -55, -75, -95}
	if !sameFloats(a.Values, wantA) || !sameFloats(b.Values, wantB) {
		t.Fatalf("got %v and %v, want %v and %v", a.Values, b.Values, wantA, wantB)
	}
	if _, _, err := Align([]int64{0, 10}, []float64{1, 2}, []int64{50, 60}, []float64{1, 2}, 0); !errors.Is(err, ErrTooFewSamples) {
		t.Fatalf("disjoint ranges: got %v, want ErrTooFewSamples", err)
	}
}

func TestGridSpan(t *testing.T) {
	g := Grid{Start: 0, Step: 15000}
	if got := g.Span(4); got != time.Minute {
		t.Fatalf("Span(4) at 15s = %v, want 1m", got)
	}
}

// sameFloats compares slices treating NaN as equal to NaN.
func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool {
		return x == y || (math.IsNaN(x) && math.IsNaN(y))
	})
}
