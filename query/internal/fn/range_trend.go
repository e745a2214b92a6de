package fn

import (
	"fmt"
	"math"

	"github.com/prometheus/prometheus/util/annotations"
)

// Functions that fit or accumulate over a window's samples in time
// order: least-squares slope and prediction, double exponential
// smoothing, and the integral. Each window is computed afresh, in
// Prometheus's order of operations (its Kahan sums round differently
// from any running update).

func init() {
	Range["deriv"] = RangeFunction{Call: rangeDeriv}
	Range["predict_linear"] = RangeFunction{Call: rangePredictLinear}
	Range["double_exponential_smoothing"] = RangeFunction{Call: rangeDoubleExponentialSmoothing}
	Range["integral"] = RangeFunction{Call: rangeIntegral}
}

// rangeDeriv is deriv: the slope per second of the least-squares line
// through the window's samples (two at least).
func rangeDeriv(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		lo, hi := w.at(c.In.T, end-c.Range, end)
		if hi-lo < 2 {
			continue
		}
		// Times relative to the first sample keep the sums small.
		slope, _ := rangeLeastSquares(c.In.T[lo:hi], c.In.V[lo:hi], c.In.T[lo])
		c.Out[i] = slope
	}
}

// rangePredictLinear is predict_linear(v, d): the least-squares line's
// value d (Scalars[0]) seconds after the step's evaluation time.
func rangePredictLinear(c *RangeCall) {
	var w window
	steps := c.stepTimes()
	for i, end := range c.Ends {
		lo, hi := w.at(c.In.T, end-c.Range, end)
		if hi-lo < 2 {
			continue
		}
		duration := c.Scalars[0][i]
		slope, intercept := rangeLeastSquares(c.In.T[lo:hi], c.In.V[lo:hi], steps[i])
		c.Out[i] = slope*duration + intercept
	}
}

// rangeLeastSquares fits a line to the samples by least squares, with Kahan
// sums, and returns its slope per second and its value at
// interceptTime. Constant values give slope 0 (NaN for infinities).
func rangeLeastSquares(ts []int64, vs []float64, interceptTime int64) (slope, intercept float64) {
	var (
		n          float64
		sumX, cX   float64
		sumY, cY   float64
		sumXY, cXY float64
		sumX2, cX2 float64
		initY      = vs[0]
		constY     = true
	)
	for j, y := range vs {
		if constY && j > 0 && y != initY {
			constY = false
		}
		n += 1.0
		x := float64(ts[j]-interceptTime) / 1e3
		sumX, cX = rangeKahanInc(x, sumX, cX)
		sumY, cY = rangeKahanInc(y, sumY, cY)
		sumXY, cXY = rangeKahanInc(x*y, sumXY, cXY)
		sumX2, cX2 = rangeKahanInc(x*x, sumX2, cX2)
	}
	if constY {
		if math.IsInf(initY, 0) {
			return math.NaN(), math.NaN()
		}
		return 0, initY
	}
	sumX += cX
	sumY += cY
	sumXY += cXY
	sumX2 += cX2

	covXY := sumXY - sumX*sumY/n
	varX := sumX2 - sumX*sumX/n

	slope = covXY / varX
	intercept = sumY/n - slope*sumX/n
	return slope, intercept
}

// rangeDoubleExponentialSmoothing is double_exponential_smoothing(v,
// sf, tf) (Holt's linear method): the smoothed value at the window's
// last sample. Factors outside (0, 1) fail the query at the first step
// with samples, as in Prometheus (a NaN factor passes).
func rangeDoubleExponentialSmoothing(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		lo, hi := w.at(c.In.T, end-c.Range, end)
		if hi == lo {
			continue
		}
		sf, tf := c.Scalars[0][i], c.Scalars[1][i]
		if sf <= 0 || sf >= 1 {
			c.Err = fmt.Errorf("invalid smoothing factor. Expected: 0 < sf < 1, got: %f", sf)
			return
		}
		if tf <= 0 || tf >= 1 {
			c.Err = fmt.Errorf("invalid trend factor. Expected: 0 < tf < 1, got: %f", tf)
			return
		}
		if hi-lo < 2 {
			continue
		}
		c.Out[i] = rangeSmooth(c.In.V[lo:hi], sf, tf)
	}
}

func rangeSmooth(vs []float64, sf, tf float64) float64 {
	var s0, s1, b float64
	s1 = vs[0]
	b = vs[1] - vs[0]
	var x, y float64
	for j := 1; j < len(vs); j++ {
		// The raw value weighed by the smoothing factor, plus the last
		// smoothed value moved by the trend.
		x = sf * vs[j]
		b = rangeTrend(j-1, tf, s0, s1, b)
		y = (1 - sf) * (s1 + b)
		s0, s1 = s1, x+y
	}
	return s1
}

// rangeTrend is the trend at step j from the two last smoothed values
// s0, s1 and the previous trend b.
func rangeTrend(j int, tf, s0, s1, b float64) float64 {
	if j == 0 {
		return b
	}
	x := tf * (s1 - s0)
	y := (1 - tf) * b
	return x + y
}

// Quadrature rules of integral, by the value of its second argument.
const (
	rangeIntegralLeft = iota
	rangeIntegralRight
	rangeIntegralTrapezoidal
)

// rangeIntegral is integral(v[, strategy]): the area under the window's
// samples over time, by the left-point, right-point or (the default)
// trapezoidal rule (strategy 0, 1 or 2, Scalars[0] if given). NaN
// values count as zero. Another strategy gives a warning and the
// default.
func rangeIntegral(c *RangeCall) {
	var w window
	for i, end := range c.Ends {
		lo, hi := w.at(c.In.T, end-c.Range, end)
		if hi == lo {
			continue
		}
		strategy := rangeIntegralTrapezoidal
		if len(c.Scalars) > 0 {
			s := c.Scalars[0][i]
			if math.IsNaN(s) || math.IsInf(s, 0) || math.Trunc(s) != s || s < rangeIntegralLeft || s > rangeIntegralTrapezoidal {
				c.annotate(annotations.NewInvalidIntegralStrategyWarning(s, c.scalarPos(0)))
			} else {
				strategy = int(s)
			}
		}
		c.Out[i] = rangeIntegrate(c.In.T[lo:hi], c.In.V[lo:hi], strategy)
	}
}

func rangeIntegrate(ts []int64, vs []float64, strategy int) float64 {
	var (
		sum, comp float64
		prevT     int64
		prevV     float64
	)
	for j, v := range vs {
		// A NaN counts as zero, leaving its neighbours' share.
		currVal, prevVal := rangeNaNAsZero(v), rangeNaNAsZero(prevV)
		var value, cValue float64
		switch strategy {
		case rangeIntegralLeft:
			value = prevVal
		case rangeIntegralRight:
			value = currVal
		case rangeIntegralTrapezoidal:
			// (prev+curr)/2 with a Kahan sum of the two; halve first
			// if the sum of two finite values overflows.
			if prevVal != 0 || currVal != 0 {
				value, cValue = rangeKahanInc(currVal, prevVal, 0)
				if math.IsInf(value, 0) && !math.IsInf(currVal, 0) && !math.IsInf(prevVal, 0) {
					value, cValue = rangeKahanInc(currVal/2, prevVal/2, 0)
				} else {
					value /= 2
					cValue /= 2
				}
			}
		}
		if j > 0 && (value != 0 || cValue != 0) {
			deltaT := float64(ts[j]-prevT) / 1000
			sum, comp = rangeKahanInc(value*deltaT, sum, comp+cValue*deltaT)
		}
		prevT, prevV = ts[j], v
	}
	if math.IsInf(sum, 0) {
		return sum
	}
	return sum + comp
}

func rangeNaNAsZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}
