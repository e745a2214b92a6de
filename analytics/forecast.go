package analytics

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// ForecastMethod names a forecasting model.
type ForecastMethod string

// Forecast methods. The empty string means ForecastAuto. Each method's
// prediction interval formula is documented at its fit function in the
// forecast_*.go files and summarised in doc.go.
const (
	// ForecastAuto fits the candidates below on the first 80% of the
	// series, scores their forecasts of the last 20% by sMAPE, and refits
	// the best on all of it. Candidates: linear, holt, theta, and when a
	// period is known or detected, seasonal_naive, holt_winters and (for
	// positive series) holt_winters_multiplicative.
	ForecastAuto ForecastMethod = "auto"
	// ForecastLinear extrapolates the least-squares line.
	ForecastLinear ForecastMethod = "linear"
	// ForecastHolt is Holt's linear (additive) trend exponential smoothing.
	ForecastHolt ForecastMethod = "holt"
	// ForecastHoltWinters is additive Holt-Winters: level, trend and an
	// additive seasonal cycle.
	ForecastHoltWinters ForecastMethod = "holt_winters"
	// ForecastHoltWintersMultiplicative is Holt-Winters with a seasonal
	// cycle that scales with the level; values must be positive.
	ForecastHoltWintersMultiplicative ForecastMethod = "holt_winters_multiplicative"
	// ForecastSeasonalNaive repeats the last observed cycle.
	ForecastSeasonalNaive ForecastMethod = "seasonal_naive"
	// ForecastTheta is the Theta method of Assimakopoulos & Nikolopoulos
	// in the form of Hyndman & Billah (2003): simple exponential smoothing
	// with a drift of half the least-squares slope.
	ForecastTheta ForecastMethod = "theta"
)

// defaultLevel is the prediction level used when 0 is passed.
const defaultLevel = 0.95

// holdoutFraction is the share of the series ForecastAuto holds out.
const holdoutFraction = 0.2

// Prediction is a point forecast with its prediction interval.
type Prediction struct {
	Value  float64 // point forecast
	Lower  float64 // lower bound of the prediction interval
	Upper  float64 // upper bound of the prediction interval
	Level  float64 // the interval's nominal coverage, e.g. 0.95
	Steps  int     // how many grid steps past the last sample
	Method ForecastMethod
	Period int // seasonal period in samples used by the method, 0 if none
}

// Forecast predicts raw samples horizon past the newest one. The samples are
// regularized at their inferred step with short gaps interpolated (see
// Fill), and horizon is rounded to a whole number of steps, at least one.
// level is the interval's coverage in (0, 1); 0 means 0.95. The period is
// detected (DetectPeriod).
func Forecast(ts []int64, vs []float64, horizon time.Duration, level float64, method ForecastMethod) (Prediction, error) {
	if horizon <= 0 {
		return Prediction{}, fmt.Errorf("%w: horizon %v must be positive", ErrInvalidArgument, horizon)
	}
	g, err := prepare(ts, vs)
	if err != nil {
		return Prediction{}, err
	}
	// In milliseconds, so that no product can overflow a Duration.
	ms := horizon.Milliseconds()
	h := int(max(1, ms/g.Step+(ms%g.Step*2)/g.Step))
	return ForecastSteps(g.Values, h, level, method, 0)
}

// ForecastSteps predicts a complete regular series (no missing values) h >= 1
// steps past its last value. period is the seasonal period in samples for
// the seasonal methods: 0 means detect it, a negative value means none.
// level is the interval's coverage in (0, 1); 0 means 0.95.
func ForecastSteps(vs []float64, h int, level float64, method ForecastMethod, period int) (Prediction, error) {
	if level == 0 {
		level = defaultLevel
	}
	if !(level > 0 && level < 1) {
		return Prediction{}, fmt.Errorf("%w: prediction level %v outside (0, 1)", ErrInvalidArgument, level)
	}
	if h < 1 {
		return Prediction{}, fmt.Errorf("%w: horizon of %d steps must be at least 1", ErrInvalidArgument, h)
	}
	if method == "" {
		method = ForecastAuto
	}
	fit, ok := fitterFor(method)
	if !ok && method != ForecastAuto {
		return Prediction{}, fmt.Errorf("%w: forecast method %q", ErrUnknownMethod, method)
	}
	for i, v := range vs {
		if IsMissing(v) {
			return Prediction{}, fmt.Errorf("%w: value %d is missing; Fill the series first", ErrInvalidArgument, i)
		}
	}
	if len(vs) < 3 {
		return Prediction{}, fmt.Errorf("%w: forecasting needs 3 values, got %d", ErrTooFewSamples, len(vs))
	}
	if period == 0 {
		period = DetectPeriod(vs)
	}
	period = max(period, 0)
	if method == ForecastAuto {
		method = chooseMethod(vs, period)
		fit, _ = fitterFor(method)
	}
	if isSeasonal(method) && period == 0 {
		return Prediction{}, fmt.Errorf("%w: method %q needs a seasonal period", ErrNoSeasonality, method)
	}
	m, err := fit(vs, period)
	if err != nil {
		return Prediction{}, fmt.Errorf("forecast %s: %w", method, err)
	}
	mean, sd := m.predict(h)
	q := quantile(0.5+level/2, m.df)
	p := Prediction{Value: mean, Lower: mean - q*sd, Upper: mean + q*sd, Level: level, Steps: h, Method: method}
	if isSeasonal(method) {
		p.Period = period
	}
	return p, nil
}

// model is a fitted forecaster.
type model struct {
	// predict returns the point forecast h >= 1 steps ahead and the
	// standard deviation of its error.
	predict func(h int) (mean, sd float64)
	// df is the degrees of freedom of the Student t quantile for the
	// interval, or 0 for the normal quantile.
	df float64
}

// fitFunc fits one method to a complete series; period is 0 when there is
// no seasonal period.
type fitFunc func(vs []float64, period int) (model, error)

// fitterFor returns the fit function of a concrete method (a switch rather
// than a package-level map, so there is no mutable global).
func fitterFor(m ForecastMethod) (fitFunc, bool) {
	switch m {
	case ForecastLinear:
		return fitLinear, true
	case ForecastHolt:
		return fitHolt, true
	case ForecastHoltWinters:
		return fitHoltWintersAdditive, true
	case ForecastHoltWintersMultiplicative:
		return fitHoltWintersMultiplicative, true
	case ForecastSeasonalNaive:
		return fitSeasonalNaive, true
	case ForecastTheta:
		return fitTheta, true
	}
	return nil, false
}

func isSeasonal(m ForecastMethod) bool {
	return m == ForecastHoltWinters || m == ForecastHoltWintersMultiplicative || m == ForecastSeasonalNaive
}

// chooseMethod implements ForecastAuto: holdout sMAPE over the candidates
// that can be fitted on the training part. Ties keep the earlier, simpler
// candidate; linear is the fallback when nothing can be scored.
func chooseMethod(vs []float64, period int) ForecastMethod {
	n := len(vs)
	hold := max(1, int(math.Round(holdoutFraction*float64(n))))
	train, test := vs[:n-hold], vs[n-hold:]
	candidates := []ForecastMethod{ForecastLinear, ForecastHolt, ForecastTheta}
	if period > 0 {
		candidates = append(candidates, ForecastSeasonalNaive, ForecastHoltWinters, ForecastHoltWintersMultiplicative)
	}
	best, bestErr := ForecastLinear, math.Inf(1)
	pred := make([]float64, hold)
	for _, c := range candidates {
		if len(train) < 3 {
			break
		}
		fit, _ := fitterFor(c)
		m, err := fit(train, period)
		if err != nil {
			continue // e.g. too few cycles in the training part
		}
		for h := range pred {
			pred[h], _ = m.predict(h + 1)
		}
		e, err := SMAPE(test, pred)
		if err == nil && e < bestErr {
			best, bestErr = c, e
		}
	}
	return best
}

// quantile of the standard normal, or of Student's t with df degrees of
// freedom when df > 0.
func quantile(p, df float64) float64 {
	if df > 0 {
		return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
	}
	return distuv.UnitNormal.Quantile(p)
}
