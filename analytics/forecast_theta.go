package analytics

import (
	"fmt"
	"math"
)

// fitTheta fits the Theta method as Hyndman & Billah (2003) showed it to be:
// simple exponential smoothing with drift equal to half the OLS slope b of
// the series. With SES level ℓ and parameter α after n values,
//
//	ŷ(h) = ℓ + (b/2)·((h-1) + (1 - (1-α)ⁿ)/α)
//
// (the form used by R's forecast::thetaf). The interval is that of SES,
// sd(h) = σ·sqrt(1 + (h-1)α²), σ from the SES one-step errors.
func fitTheta(vs []float64, _ int) (model, error) {
	n := len(vs)
	if n < 3 {
		return model{}, fmt.Errorf("%w: theta needs 3 values, got %d", ErrTooFewSamples, n)
	}
	return thetaModel(vs, fitETS(sesFilter(vs), 1)), nil
}

// thetaModel is the Theta method over vs with SES parameter p.alpha.
func thetaModel(vs []float64, p etsParams) model {
	_, b := LinearFit(vs)
	ses := etsModel(sesFilter, vs, p, 1, 0, false)
	level, _ := ses.predict(1)
	drift := (1 - math.Pow(1-p.alpha, float64(len(vs)))) / p.alpha
	return model{
		predict: func(h int) (float64, float64) {
			_, sd := ses.predict(h)
			return level + b/2*(float64(h-1)+drift), sd
		},
		extend: func(longer []float64) model { return thetaModel(longer, p) },
	}
}
