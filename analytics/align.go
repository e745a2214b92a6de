package analytics

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// StaleNaNBits is the bit pattern of the Prometheus staleness marker, a NaN
// that says "this series ended" rather than "this value is unknown". Both are
// missing values to this package.
const StaleNaNBits uint64 = 0x7ff0000000000002

// maxGridPoints bounds the grid Regularize and Align will allocate, so that a
// tiny step over a long range (or a few samples far apart) fails with an
// error instead of exhausting memory and time. 1<<22 points is 48 days at
// a 1 s step, two years at 15 s, and 32 MiB of float64s.
const maxGridPoints = 1 << 22

// IsMissing reports whether v carries no usable value: any NaN (including the
// stale marker, see StaleNaNBits) or ±Inf. Infinities are dropped because no
// statistic in this package is meaningful with them.
func IsMissing(v float64) bool {
	return math.IsNaN(v) || math.IsInf(v, 0)
}

// Grid is a regular series: Values[i] is the value at Start + i*Step
// milliseconds, NaN where no sample fell. The zero Grid is empty.
type Grid struct {
	Start  int64 // timestamp of Values[0], milliseconds since the epoch
	Step   int64 // spacing in milliseconds, > 0 for a non-empty grid
	Values []float64
}

// Len returns the number of grid points.
func (g Grid) Len() int { return len(g.Values) }

// Time returns the timestamp of grid point i.
func (g Grid) Time(i int) int64 { return g.Start + int64(i)*g.Step }

// Span converts a count of grid steps (a period or a lag) to a duration.
func (g Grid) Span(steps int) time.Duration {
	return time.Duration(steps) * time.Duration(g.Step) * time.Millisecond
}

// InferStep returns the scrape interval of a regularly scraped series
// despite jitter and gaps: the median positive difference between
// consecutive timestamps, refined to the mean of the differences within
// 25% of it (rounded to the millisecond). The median alone is off by the
// noise of the jitter (84 ms for 0-5 s of jitter on 1000 scrapes of 30 s),
// and a grid whose step is off drifts by a whole step over a few hundred
// points; the mean of the regular differences is the time they span over
// their count, without that noise. It returns ErrTooFewSamples when there
// are not two distinct timestamps.
func InferStep(ts []int64) (int64, error) {
	deltas := make([]int64, 0, len(ts))
	for i := 1; i < len(ts); i++ {
		if d := ts[i] - ts[i-1]; d > 0 {
			deltas = append(deltas, d)
		}
	}
	if len(deltas) == 0 {
		return 0, fmt.Errorf("%w: need 2 distinct timestamps to infer a step, got %d samples", ErrTooFewSamples, len(ts))
	}
	slices.Sort(deltas)
	median := deltas[(len(deltas)-1)/2]
	var sum, n int64 // the median is among them: n > 0
	for _, d := range deltas {
		if off := d - median; off >= -median/4 && off <= median/4 { // no overflow
			if sum+d < sum {
				return median, nil // a span beyond int64: keep the median
			}
			sum, n = sum+d, n+1
		}
	}
	return max(1, sum/n+(sum%n+n/2)/n), nil
}

// Regularize places samples onto a regular grid that ends exactly at the last
// usable sample and reaches back to the first, so the newest sample is always
// the last grid point. A sample goes to the nearest grid point; when two land on the
// same point the later one wins. Points with no sample are NaN. Missing
// values (see IsMissing) are dropped before gridding.
//
// step is in milliseconds; 0 means InferStep over the usable timestamps.
// Timestamps must be non-decreasing and len(ts) == len(vs).
func Regularize(ts []int64, vs []float64, step int64) (Grid, error) {
	uts, uvs, err := usable(ts, vs)
	if err != nil {
		return Grid{}, err
	}
	if step < 0 {
		return Grid{}, fmt.Errorf("%w: negative step %d", ErrInvalidArgument, step)
	}
	if step == 0 {
		if step, err = InferStep(uts); err != nil {
			return Grid{}, err
		}
	}
	// Round the span so the first sample lands on the first point, and
	// anchor at the end so the newest sample's time is exact.
	end := uts[len(uts)-1]
	n, err := gridLen(uts[0], end, step, true)
	if err != nil {
		return Grid{}, err
	}
	start := end - int64(n-1)*step
	g := Grid{Start: start, Step: step, Values: make([]float64, n)}
	place(g.Values, uts, uvs, start, step)
	return g, nil
}

// Align puts two series on one grid over the time both cover, for
// correlation. The grid ends at the earlier of the two last samples and uses
// step, or when step is 0 the larger of the two inferred steps (the coarser
// series decides, so the finer one is not mostly NaN).
func Align(ta []int64, va []float64, tb []int64, vb []float64, step int64) (a, b Grid, err error) {
	uta, uva, err := usable(ta, va)
	if err != nil {
		return Grid{}, Grid{}, err
	}
	utb, uvb, err := usable(tb, vb)
	if err != nil {
		return Grid{}, Grid{}, err
	}
	if step < 0 {
		return Grid{}, Grid{}, fmt.Errorf("%w: negative step %d", ErrInvalidArgument, step)
	}
	if step == 0 {
		sa, err := InferStep(uta)
		if err != nil {
			return Grid{}, Grid{}, err
		}
		sb, err := InferStep(utb)
		if err != nil {
			return Grid{}, Grid{}, err
		}
		step = max(sa, sb)
	}
	lo := max(uta[0], utb[0])
	hi := min(uta[len(uta)-1], utb[len(utb)-1])
	if hi < lo {
		return Grid{}, Grid{}, fmt.Errorf("%w: series do not overlap in time", ErrTooFewSamples)
	}
	n, err := gridLen(lo, hi, step, false)
	if err != nil {
		return Grid{}, Grid{}, err
	}
	// Anchor at hi so the newest common point is exact; the first point may
	// sit up to half a step after lo.
	start := hi - int64(n-1)*step
	a = Grid{Start: start, Step: step, Values: make([]float64, n)}
	b = Grid{Start: start, Step: step, Values: make([]float64, n)}
	place(a.Values, uta, uva, start, step)
	place(b.Values, utb, uvb, start, step)
	return a, b, nil
}

// Fill returns a copy of g that has no NaN, for algorithms that need a
// complete series (recursive forecasters, differencing). Interior runs of at
// most maxGap missing points are linearly interpolated between their
// neighbours. A longer gap splits the series and only the part after the last
// such gap is kept, because the newest data matters most. Leading and
// trailing NaN are trimmed. The result may be empty.
func Fill(g Grid, maxGap int) Grid {
	vs := g.Values
	first := slices.IndexFunc(vs, func(v float64) bool { return !math.IsNaN(v) })
	if first < 0 {
		return Grid{Start: g.Start, Step: g.Step}
	}
	last := len(vs) - 1
	for math.IsNaN(vs[last]) {
		last--
	}
	out := slices.Clone(vs[first : last+1])
	keep := 0 // index into out where the kept part starts
	for i := 0; i < len(out); {
		if !math.IsNaN(out[i]) {
			i++
			continue
		}
		j := i
		for math.IsNaN(out[j]) {
			j++
		}
		// out[i-1] and out[j] are finite: i > 0 because out[0] is finite.
		if j-i > maxGap {
			keep = j
		} else {
			lo, hi := out[i-1], out[j]
			for k := i; k < j; k++ {
				f := float64(k-i+1) / float64(j-i+1)
				out[k] = lo + f*(hi-lo)
			}
		}
		i = j
	}
	return Grid{Start: g.Time(first + keep), Step: g.Step, Values: out[keep:]}
}

// defaultMaxGap is the gap the ts/vs entry points interpolate over: a tenth
// of the window, at least 3 points. Longer outages split the series (see
// Fill).
func defaultMaxGap(n int) int { return max(3, n/10) }

// prepare is the common front of the entry points that take raw samples:
// regularize at the inferred step, then Fill with defaultMaxGap.
func prepare(ts []int64, vs []float64) (Grid, error) {
	g, err := Regularize(ts, vs, 0)
	if err != nil {
		return Grid{}, err
	}
	return Fill(g, defaultMaxGap(g.Len())), nil
}

// usable validates ts/vs and returns the samples that are not missing.
func usable(ts []int64, vs []float64) ([]int64, []float64, error) {
	if len(ts) != len(vs) {
		return nil, nil, fmt.Errorf("%w: %d timestamps but %d values", ErrInvalidArgument, len(ts), len(vs))
	}
	uts := make([]int64, 0, len(ts))
	uvs := make([]float64, 0, len(vs))
	for i, t := range ts {
		if i > 0 && t < ts[i-1] {
			return nil, nil, fmt.Errorf("%w: timestamp %d at index %d is before %d", ErrInvalidArgument, t, i, ts[i-1])
		}
		if !IsMissing(vs[i]) {
			uts = append(uts, t)
			uvs = append(uvs, vs[i])
		}
	}
	if len(uts) == 0 {
		return nil, nil, fmt.Errorf("%w: no usable samples among %d", ErrTooFewSamples, len(ts))
	}
	return uts, uvs, nil
}

// gridLen returns the number of grid points of the given step from lo to
// hi (hi >= lo), the span rounded to the nearest step or down, refusing
// huge grids. It works in uint64 so that timestamps at the ends of the
// int64 range cannot overflow.
func gridLen(lo, hi, step int64, round bool) (int, error) {
	d := uint64(hi) - uint64(lo)
	steps := d / uint64(step)
	if round && 2*(d%uint64(step)) >= uint64(step) {
		steps++
	}
	if steps >= maxGridPoints {
		return 0, fmt.Errorf("%w: %d ms at step %d ms exceeds the limit of %d points",
			ErrInvalidArgument, d, step, maxGridPoints)
	}
	return int(steps) + 1, nil
}

// place writes each sample to its nearest point of dst (NaN elsewhere);
// samples outside the grid are dropped. Offsets are computed in uint64 so
// that no timestamp can overflow them.
func place(dst []float64, ts []int64, vs []float64, start, step int64) {
	for i := range dst {
		dst[i] = math.NaN()
	}
	ustep := uint64(step)
	for i, t := range ts {
		var k uint64
		if t < start {
			if 2*(uint64(start)-uint64(t)) > ustep {
				continue // more than half a step before the first point
			}
		} else {
			off := uint64(t) - uint64(start)
			k = off / ustep
			if 2*(off%ustep) >= ustep {
				k++
			}
		}
		if k < uint64(len(dst)) {
			dst[k] = vs[i]
		}
	}
}
