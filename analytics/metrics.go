package analytics

import (
	"fmt"
	"math"
)

// SMAPE returns the symmetric mean absolute percentage error of predicted
// against actual, in percent:
//
//	100/n · Σ |p - a| / ((|a| + |p|)/2)
//
// in [0, 200]. A term where both are 0 counts as 0 (a perfect forecast of
// zero). Pairs with a missing value on either side are skipped. It returns
// ErrInvalidArgument for slices of different lengths and ErrTooFewSamples
// when no pair is usable.
func SMAPE(actual, predicted []float64) (float64, error) {
	if len(actual) != len(predicted) {
		return 0, fmt.Errorf("%w: %d actual values but %d predicted", ErrInvalidArgument, len(actual), len(predicted))
	}
	var sum float64
	n := 0
	for i, a := range actual {
		p := predicted[i]
		if IsMissing(a) || IsMissing(p) {
			continue
		}
		n++
		if den := math.Abs(a) + math.Abs(p); den > 0 {
			sum += 2 * math.Abs(p-a) / den
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: no usable pairs for sMAPE", ErrTooFewSamples)
	}
	return 100 * sum / float64(n), nil
}

// MASE returns the mean absolute scaled error (Hyndman & Koehler 2006): the
// mean absolute error of predicted against actual divided by the in-sample
// mean absolute error of the seasonal naive forecast on train,
// mean |train[t] - train[t-period]|. period < 1 is taken as 1 (the naive
// forecast). Below 1 the forecast beats the naive one. It returns NaN when
// train is constant at that lag (the scale is 0) and the errors are 0, +Inf
// when only the scale is 0; ErrInvalidArgument for mismatched lengths and
// ErrTooFewSamples when train is not longer than period or no pair is
// usable. Missing values are skipped.
func MASE(actual, predicted, train []float64, period int) (float64, error) {
	if len(actual) != len(predicted) {
		return 0, fmt.Errorf("%w: %d actual values but %d predicted", ErrInvalidArgument, len(actual), len(predicted))
	}
	period = max(period, 1)
	var scale float64
	ns := 0
	for t := period; t < len(train); t++ {
		if d := train[t] - train[t-period]; !IsMissing(d) {
			scale += math.Abs(d)
			ns++
		}
	}
	if ns == 0 {
		return 0, fmt.Errorf("%w: MASE with period %d needs more than %d training values, got %d",
			ErrTooFewSamples, period, period, len(train))
	}
	scale /= float64(ns)
	var mae float64
	n := 0
	for i, a := range actual {
		if d := predicted[i] - a; !IsMissing(d) {
			mae += math.Abs(d)
			n++
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: no usable pairs for MASE", ErrTooFewSamples)
	}
	mae /= float64(n)
	if scale == 0 {
		if mae == 0 {
			return math.NaN(), nil
		}
		return math.Inf(1), nil
	}
	return mae / scale, nil
}
