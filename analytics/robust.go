package analytics

import (
	"math"
	"slices"
)

// MADScale turns a median absolute deviation into an estimate of the standard
// deviation of normally distributed data: 1/Φ⁻¹(3/4).
const MADScale = 1.4826

// meanADScale does the same for the mean absolute deviation: sqrt(π/2).
const meanADScale = 1.2533141373155003

// Median returns the median of the non-missing values of xs (see IsMissing),
// the mean of the two middle values for an even count, or NaN when there are
// none. xs is not modified.
func Median(xs []float64) float64 {
	return Quantile(xs, 0.5)
}

// MAD returns the median absolute deviation from the median of the
// non-missing values of xs, multiplied by MADScale so that it estimates the
// standard deviation of Gaussian data while ignoring outliers. It returns NaN
// when there are no values and 0 when more than half the values are equal.
func MAD(xs []float64) float64 {
	s := sortedFinite(xs)
	if len(s) == 0 {
		return math.NaN()
	}
	return madSorted(s)
}

// Quantile returns the q-quantile (0 <= q <= 1) of the non-missing values of
// xs, interpolating linearly between order statistics: with the n values
// sorted as x[0..n-1] and h = (n-1)q, the result is x[⌊h⌋] + (h-⌊h⌋)(x[⌊h⌋+1]-x[⌊h⌋]).
// This is R's type 7, numpy's default and Prometheus's quantile_over_time.
// It returns NaN for no values or q outside [0, 1].
func Quantile(xs []float64, q float64) float64 {
	return quantileSorted(sortedFinite(xs), q)
}

// sortedFinite returns the non-missing values of xs, sorted, in a new slice.
func sortedFinite(xs []float64) []float64 {
	s := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !IsMissing(x) {
			s = append(s, x)
		}
	}
	slices.Sort(s)
	return s
}

func quantileSorted(s []float64, q float64) float64 {
	if len(s) == 0 || !(q >= 0 && q <= 1) {
		return math.NaN()
	}
	h := float64(len(s)-1) * q
	lo := int(h)
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// madSorted computes MAD of sorted, non-empty s, reusing a scratch slice.
func madSorted(s []float64) float64 {
	med := quantileSorted(s, 0.5)
	dev := make([]float64, len(s))
	for i, x := range s {
		dev[i] = math.Abs(x - med)
	}
	slices.Sort(dev)
	return MADScale * quantileSorted(dev, 0.5)
}

// robustCenterScale returns the median of xs and a scale that is never 0
// unless every value is equal: MAD, else the scaled mean absolute deviation
// from the median (MAD is 0 as soon as over half the values tie, which is
// common for integer-valued gauges).
func robustCenterScale(xs []float64) (center, scale float64) {
	s := sortedFinite(xs)
	if len(s) == 0 {
		return math.NaN(), math.NaN()
	}
	center = quantileSorted(s, 0.5)
	scale = madSorted(s)
	if scale > 0 {
		return center, scale
	}
	var sum float64
	for _, x := range s {
		sum += math.Abs(x - center)
	}
	return center, meanADScale * sum / float64(len(s))
}
