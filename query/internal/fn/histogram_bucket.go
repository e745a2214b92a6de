package fn

import (
	"math"
	"slices"
	"sort"

	"github.com/prometheus/prometheus/promql/parser/posrange"
	"github.com/prometheus/prometheus/util/almost"
	"github.com/prometheus/prometheus/util/annotations"
)

// The arithmetic of classic histogram buckets at one step, as Prometheus
// does it (promql/quantile.go), special cases and all.
//
// Both functions work in place on the caller's buckets: they sort them,
// then merge the buckets with equal upper bounds into the front of the
// slice (the tail keeps stale copies) and bucketQuantile also raises
// counts to make them monotonic. Prometheus computes histogram_quantiles'
// quantiles one after the other on the same slice, tail included, so the
// later quantiles of a histogram with repeated upper bounds see the
// result of those steps; callers keep that by passing the whole slice
// each time.

// bucket is one bucket of a classic histogram at one step.
type bucket struct {
	upper float64 // the le label
	count float64 // observations up to upper
}

// smallDeltaTolerance is the relative difference between two cumulative
// counts below which they are taken as equal: float error, not a
// decrease.
const smallDeltaTolerance = 1e-12

// bucketQuantile returns the q-quantile of the observations in b,
// interpolating linearly within the bucket that holds it:
//
//   - q NaN: NaN; q < 0: -Inf; q > 1: +Inf.
//   - No +Inf bucket, fewer than two buckets or no observation: NaN.
//   - In the +Inf bucket: the upper bound of the bucket below it.
//   - In the lowest bucket: interpolated from 0 if its upper bound is
//     positive, else that upper bound.
//
// It also says whether counts had to be raised to be monotonic.
func bucketQuantile(q float64, b []bucket) (float64, monotonicityFix) {
	var fix monotonicityFix
	switch {
	case math.IsNaN(q):
		return math.NaN(), fix
	case q < 0:
		return math.Inf(-1), fix
	case q > 1:
		return math.Inf(+1), fix
	case len(b) == 0:
		return math.NaN(), fix
	}
	sortBuckets(b)
	if !math.IsInf(b[len(b)-1].upper, +1) {
		return math.NaN(), fix
	}
	b = coalesceBuckets(b)
	fix = makeMonotonic(b)
	if len(b) < 2 {
		return math.NaN(), fix
	}
	total := b[len(b)-1].count
	if total == 0 {
		return math.NaN(), fix
	}
	rank := q * total
	// The first bucket holding rank observations; never the +Inf one,
	// which is the answer when none does (a NaN rank included).
	k := sort.Search(len(b)-1, func(i int) bool { return b[i].count >= rank })
	switch {
	case k == len(b)-1:
		return b[len(b)-2].upper, fix
	case k == 0 && b[0].upper <= 0:
		return b[0].upper, fix
	}
	var (
		lo    float64
		hi    = b[k].upper
		count = b[k].count
	)
	if k > 0 {
		lo = b[k-1].upper
		count -= b[k-1].count
		rank -= b[k-1].count
	}
	return lo + (hi-lo)*(rank/count), fix
}

// bucketFraction returns the fraction of the observations in b that lie
// between lower and upper, interpolating linearly within buckets; the
// lowest bucket starts at 0 if its upper bound is positive, else at -Inf,
// and a bound inside a bucket of infinite width counts none of it.
// NaN without a +Inf bucket, observations, or with a NaN bound; 0 if
// lower >= upper.
func bucketFraction(lower, upper float64, b []bucket) float64 {
	if len(b) == 0 {
		return math.NaN()
	}
	sortBuckets(b)
	if !math.IsInf(b[len(b)-1].upper, +1) {
		return math.NaN()
	}
	b = coalesceBuckets(b)
	total := b[len(b)-1].count
	if total == 0 || math.IsNaN(lower) || math.IsNaN(upper) {
		return math.NaN()
	}
	if lower >= upper {
		return 0
	}

	var (
		rank                 float64 // observations below the current bucket
		lowerRank, upperRank float64 // observations below lower and upper
		lowerSet, upperSet   bool
		bucketLo             = 0.0
	)
	if b[0].upper <= 0 {
		bucketLo = math.Inf(-1)
	}
	// rankAt interpolates the observations below x in bucket k.
	rankAt := func(k int, x float64) float64 {
		if math.IsInf(bucketLo, -1) {
			return b[k].count
		}
		return rank + (b[k].count-rank)*(x-bucketLo)/(b[k].upper-bucketLo)
	}
	for k := range b {
		if k > 0 {
			bucketLo = b[k-1].upper
		}
		// A bound at or below the bucket's lower edge: everything below.
		if !lowerSet && bucketLo >= lower {
			lowerRank, lowerSet = rank, true
		}
		if !upperSet && bucketLo >= upper {
			upperRank, upperSet = rank, true
		}
		if lowerSet && upperSet {
			break
		}
		// A bound strictly inside the bucket.
		if !lowerSet && bucketLo < lower && b[k].upper > lower {
			lowerRank, lowerSet = rankAt(k, lower), true
		}
		if !upperSet && bucketLo < upper && b[k].upper > upper {
			upperRank, upperSet = rankAt(k, upper), true
		}
		if lowerSet && upperSet {
			break
		}
		rank = b[k].count
	}
	if !lowerSet || lowerRank > total {
		lowerRank = total
	}
	if !upperSet || upperRank > total {
		upperRank = total
	}
	return (upperRank - lowerRank) / total
}

// sortBuckets sorts b by upper bound with the same (unstable) sort as
// Prometheus, so equal bounds are merged in the same order.
func sortBuckets(b []bucket) {
	slices.SortFunc(b, func(x, y bucket) int {
		switch {
		case x.upper < y.upper:
			return -1
		case x.upper > y.upper:
			return +1
		}
		return 0
	})
}

// coalesceBuckets merges the buckets of sorted b with equal upper bounds
// (le="1" and le="1.0"), adding their counts, into the front of b, and
// returns that front.
func coalesceBuckets(b []bucket) []bucket {
	n := 0
	for k := 1; k < len(b); k++ {
		if b[k].upper == b[n].upper {
			b[n].count += b[k].count
			continue
		}
		n++
		b[n] = b[k]
	}
	return b[:n+1]
}

// monotonicityFix records that makeMonotonic raised counts: where and by
// how much at most.
type monotonicityFix struct {
	forced             bool
	minUpper, maxUpper float64 // lowest and highest upper bound raised
	maxDiff            float64 // the largest raise
}

// makeMonotonic makes the counts of sorted b non-decreasing. A count
// within smallDeltaTolerance of the one below (float error, either way) is
// silently set to it; a count below it is raised to it, which is
// reported. Each count is compared with the last one kept as it was; a
// NaN count is kept, and so is the count after it.
func makeMonotonic(b []bucket) monotonicityFix {
	fix := monotonicityFix{minUpper: math.Inf(+1), maxUpper: math.Inf(-1)}
	prev := b[0].count
	for k := 1; k < len(b); k++ {
		cur := b[k].count
		switch {
		case cur == prev:
		case almost.Equal(prev, cur, smallDeltaTolerance):
			b[k].count = prev
		case cur < prev:
			b[k].count = prev
			fix.forced = true
			fix.minUpper = min(fix.minUpper, b[k].upper)
			fix.maxUpper = max(fix.maxUpper, b[k].upper)
			fix.maxDiff = max(fix.maxDiff, prev-cur)
		default:
			prev = cur
		}
	}
	return fix
}

// monotonicityInfos collects, step by step, a call's infos that buckets
// had to be made monotonic, and hands them over as Prometheus does.
//
// Infos about one metric are one annotation that counts the samples it
// covers. Prometheus's engine merges a function's annotations at each step
// into the function's running set, then that whole set into the call's,
// and a merge updates the earlier info in place: so from a call's first
// info on, each step (with a new info or not) merges the info with itself,
// doubling its count plus one. Queries report that count; mergeInto
// reproduces it, so that the answers are the same.
type monotonicityInfos []annotations.Annotations // by step; nil without info

// add records the info of a histogram named name at step i (time t), if
// fix says its buckets were raised.
func (m monotonicityInfos) add(i int, fix monotonicityFix, name string, pos posrange.PositionRange, t int64) {
	if fix.forced {
		m[i].Add(annotations.NewHistogramQuantileForcedMonotonicityInfo(name, pos, t, fix.minUpper, fix.maxUpper, fix.maxDiff))
	}
}

// mergeInto merges the infos into annos as Prometheus's engine would.
func (m monotonicityInfos) mergeInto(annos *annotations.Annotations) {
	var fn, call annotations.Annotations
	started := false
	for _, step := range m {
		started = started || step != nil
		if started {
			fn.Merge(step)
			call.Merge(fn)
		}
	}
	annos.Merge(call)
}
