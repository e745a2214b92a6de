package analytics

import (
	"math"
	"testing"
)

// TestSlidingMedianMatchesRecomputation pushes random data, with ties and
// missing values, and compares every step with Median and MAD of the window
// recomputed from scratch.
func TestSlidingMedianMatchesRecomputation(t *testing.T) {
	r := newRand(t, 1)
	for _, tc := range []struct {
		name   string
		window int
		gen    func() float64
	}{
		{"window 1", 1, r.NormFloat64},
		{"window 2", 2, r.NormFloat64},
		{"odd window gaussian", 7, r.NormFloat64},
		{"even window gaussian", 50, r.NormFloat64},
		{"many ties", 31, func() float64 { return float64(r.IntN(4)) }},
		{"with missing values", 16, func() float64 {
			switch r.IntN(5) {
			case 0:
				return math.NaN()
			case 1:
				return math.Float64frombits(StaleNaNBits)
			}
			return r.ExpFloat64()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSlidingMedian(tc.window)
			var all []float64
			for step := range 1500 {
				x := tc.gen()
				s.Push(x)
				all = append(all, x)
				win := all[max(0, len(all)-tc.window):]
				if got, want := s.Median(), Median(win); !near(got, want, 1e-12) {
					t.Fatalf("step %d: Median = %v, want %v over %v", step, got, want, win)
				}
				if got, want := s.MAD(), MAD(win); !near(got, want, 1e-12) {
					t.Fatalf("step %d: MAD = %v, want %v over %v", step, got, want, win)
				}
				if got, want := s.Count(), countFinite(win); got != want {
					t.Fatalf("step %d: Count = %d, want %d", step, got, want)
				}
			}
		})
	}
}

func TestSlidingMedianEdges(t *testing.T) {
	s := NewSlidingMedian(0) // treated as 1
	if !math.IsNaN(s.Median()) || !math.IsNaN(s.MAD()) {
		t.Fatalf("empty window: median %v MAD %v, want NaN", s.Median(), s.MAD())
	}
	s.Push(3)
	s.Push(8)
	if s.Median() != 8 {
		t.Fatalf("window of 1 after 3, 8: median %v, want 8", s.Median())
	}
	s.Reset()
	if s.Count() != 0 || !math.IsNaN(s.Median()) {
		t.Fatalf("after Reset: count %d median %v", s.Count(), s.Median())
	}
	s.Push(math.NaN())
	if !math.IsNaN(s.Median()) {
		t.Fatalf("window holding only NaN: median %v, want NaN", s.Median())
	}
}
