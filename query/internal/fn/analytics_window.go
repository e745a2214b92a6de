package fn

import (
	"math"
	"slices"

	"github.com/almanacdb/almanac/analytics"
)

// meanADScale turns a mean absolute deviation into an estimate of the
// standard deviation of Gaussian data, sqrt(π/2), as analytics does when
// the MAD is 0.
var meanADScale = math.Sqrt(math.Pi / 2)

// sortedWindow is a multiset of values kept sorted, for the robust
// statistics of a window that slides: adding or removing a value is a
// binary search and a memmove, O(n) but with a tiny constant (a day of
// 15 s samples is 46 KiB), and median and MAD are O(1) and O(log n)
// reads. analytics.SlidingMedian evicts by count; windows here are
// bounded by time, so their counts change from step to step.
type sortedWindow struct {
	s []float64
}

func (w *sortedWindow) add(x float64) {
	i, _ := slices.BinarySearch(w.s, x)
	w.s = slices.Insert(w.s, i, x)
}

func (w *sortedWindow) remove(x float64) {
	if i, ok := slices.BinarySearch(w.s, x); ok {
		w.s = slices.Delete(w.s, i, i+1)
	}
}

// median is analytics.Median of the values (NaN when empty).
func (w *sortedWindow) median() float64 {
	n := len(w.s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return w.s[n/2]
	}
	return w.s[n/2-1] + 0.5*(w.s[n/2]-w.s[n/2-1])
}

// robust returns the median and the robust scale analytics uses: the
// MAD scaled to a standard deviation or, when over half the values tie
// and the MAD is 0, the scaled mean absolute deviation from the median.
func (w *sortedWindow) robust() (center, scale float64) {
	n := len(w.s)
	center = w.median()
	if n == 0 {
		return center, math.NaN()
	}
	var mad float64
	if n%2 == 1 {
		mad = w.kthDeviation(center, n/2)
	} else {
		lo, hi := w.kthDeviation(center, n/2-1), w.kthDeviation(center, n/2)
		mad = lo + 0.5*(hi-lo)
	}
	if mad > 0 {
		return center, analytics.MADScale * mad
	}
	var sum float64
	for _, x := range w.s {
		sum += math.Abs(x - center)
	}
	return center, meanADScale * sum / float64(n)
}

// kthDeviation returns the k-th smallest (0-based) |x - m|.
func (w *sortedWindow) kthDeviation(m float64, k int) float64 {
	c, _ := slices.BinarySearch(w.s, m) // w.s[:c] < m
	return analytics.KthDeviation(m, k, len(w.s), c, func(i int) float64 { return w.s[i] })
}

// slidingSet is a sortedWindow over src[lo:hi] that follows a window as
// its bounds rise, with the sums zscore needs. NaN values of src are
// left out.
type slidingSet struct {
	sortedWindow
	src    []float64
	lo, hi int
	valid  bool
	// s1 and s2 are the sums of x-ref and (x-ref)²; they are recomputed
	// from the sorted values after as many removals as the set holds,
	// so rounding cannot build up.
	ref, s1, s2 float64
	removed     int
}

// invalidate makes the next moveTo rebuild the set (src changed).
func (s *slidingSet) invalidate() { s.valid = false }

// moveTo makes the set hold the values of src[lo:hi].
func (s *slidingSet) moveTo(src []float64, lo, hi int) {
	hi = max(lo, hi)
	moved := (lo - s.lo) + (hi - s.hi)
	if !s.valid || lo < s.lo || hi < s.hi || lo >= s.hi || moved > len(s.s)/4+8 {
		s.rebuild(src, lo, hi)
		return
	}
	for i := s.lo; i < lo; i++ {
		if x := src[i]; !math.IsNaN(x) {
			s.remove(x)
			s.s1 -= x - s.ref
			s.s2 -= (x - s.ref) * (x - s.ref)
			s.removed++
		}
	}
	for i := s.hi; i < hi; i++ {
		if x := src[i]; !math.IsNaN(x) {
			s.add(x)
			s.s1 += x - s.ref
			s.s2 += (x - s.ref) * (x - s.ref)
		}
	}
	s.lo, s.hi = lo, hi
	if s.removed > len(s.s) {
		s.resum()
	}
}

func (s *slidingSet) rebuild(src []float64, lo, hi int) {
	s.src, s.lo, s.hi, s.valid = src, lo, hi, true
	s.s = s.s[:0]
	for _, x := range src[lo:hi] {
		if !math.IsNaN(x) {
			s.s = append(s.s, x)
		}
	}
	slices.Sort(s.s)
	s.resum()
}

func (s *slidingSet) resum() {
	s.ref = 0
	if len(s.s) > 0 {
		s.ref = s.median()
	}
	s.s1, s.s2, s.removed = 0, 0, 0
	for _, x := range s.s {
		s.s1 += x - s.ref
		s.s2 += (x - s.ref) * (x - s.ref)
	}
}

// meanStdDev returns the mean and the sample standard deviation.
func (s *slidingSet) meanStdDev() (mean, sd float64) {
	n := float64(len(s.s))
	mean = s.ref + s.s1/n
	v := (s.s2 - s.s1*s.s1/n) / (n - 1)
	return mean, math.Sqrt(max(v, 0))
}
