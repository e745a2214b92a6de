package analytics

import (
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// ForecastMethod names a forecasting model.
type ForecastMethod string

// Forecast methods. The empty string means ForecastAuto. Each method's
// prediction interval formula is documented at its fit function in the
// forecast_*.go files and summarised in doc.go.
const (
	// ForecastAuto backtests the candidates below on the last 20% of the
	// series: each is fitted on the first 80% and run on from several
	// origins spread over the rest, forecasting up to the requested
	// horizon from each. The one with the least sMAPE over those
	// forecasts is refitted on the whole series, and its interval comes
	// from the quantiles of its backtest errors rather than from its
	// formula alone (see doc.go). Candidates: linear, holt, theta, and
	// when a period is known or detected, seasonal_naive,
	// seasonal_linear, holt_winters and (for positive series)
	// holt_winters_multiplicative.
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
	// ForecastSeasonalLinear is a least-squares line plus a seasonal
	// profile: the mean of every cycle seen, after the line is removed.
	// Where seasonal naive repeats the noise of the last cycle, this
	// averages it away, which pays at horizons of a cycle or so.
	ForecastSeasonalLinear ForecastMethod = "seasonal_linear"
	// ForecastTheta is the Theta method of Assimakopoulos & Nikolopoulos
	// in the form of Hyndman & Billah (2003): simple exponential smoothing
	// with a drift of half the least-squares slope.
	ForecastTheta ForecastMethod = "theta"
)

// defaultLevel is the prediction level used when 0 is passed.
const defaultLevel = 0.95

// ForecastAuto's backtest: it holds out the last holdoutFraction of the
// series and forecasts it from origins spread evenly over it, one every
// h values but at least minOrigins and at most maxOrigins of them. More
// origins than one make the choice less a matter of chance; h-spaced
// ones cover the holdout when h is short. With fewer than
// minCalibration backtest errors the interval keeps the model's formula.
const (
	holdoutFraction = 0.2
	minOrigins      = 8
	maxOrigins      = 64
	minCalibration  = 20
)

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
	var bt *BacktestErrors
	if method == ForecastAuto {
		method, bt = chooseMethod(vs, h, period)
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
	d := quantile(0.5+level/2, m.df) * sd
	if bt != nil {
		d = bt.halfWidth(m, h, level)
	}
	p := Prediction{Value: mean, Lower: mean - d, Upper: mean + d, Level: level, Steps: h, Method: method}
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
	// extend runs the model, with the parameters fitted, over values
	// that begin with the ones it was fitted to: ForecastAuto's backtest
	// fits once and forecasts from several later origins.
	extend func(longer []float64) model
}

// errorShape is how the model's error standard deviation grows from one
// step ahead to h steps ahead, sd(h)/sd(1), or 1 when sd(1) is 0.
func errorShape(m model, h int) float64 {
	_, sd1 := m.predict(1)
	_, sd := m.predict(h)
	if g := sd / sd1; g > 0 && !math.IsInf(g, 0) {
		return g
	}
	return 1
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
	case ForecastSeasonalLinear:
		return fitSeasonalLinear, true
	case ForecastTheta:
		return fitTheta, true
	}
	return nil, false
}

func isSeasonal(m ForecastMethod) bool {
	switch m {
	case ForecastHoltWinters, ForecastHoltWintersMultiplicative, ForecastSeasonalNaive, ForecastSeasonalLinear:
		return true
	}
	return false
}

// chooseMethod implements ForecastAuto for a forecast h steps ahead. It
// returns the candidate with the least backtest sMAPE (ties keep the
// earlier, simpler one; linear when nothing can be scored) and its
// backtest, nil when it has fewer than minCalibration errors.
func chooseMethod(vs []float64, h, period int) (ForecastMethod, *BacktestErrors) {
	n := len(vs)
	hold := max(1, int(math.Round(holdoutFraction*float64(n))))
	train := n - hold
	if train < 3 {
		return ForecastLinear, nil
	}
	origins := min(hold, maxOrigins, max(minOrigins, (hold+h-1)/h))
	// Each origin forecasts h steps ahead, and at least the spacing of
	// minOrigins origins: so every held-out value is forecast, and a short
	// horizon does not choose among near-equal one-step errors.
	reach := max(h, (hold+minOrigins-1)/minOrigins)
	candidates := []ForecastMethod{ForecastLinear, ForecastHolt, ForecastTheta}
	if period > 0 {
		candidates = append(candidates, ForecastSeasonalNaive, ForecastSeasonalLinear, ForecastHoltWinters)
		// Only for a positive series: the backtest runs the model fitted
		// on the first part over the rest too.
		if !slices.ContainsFunc(vs, func(v float64) bool { return v <= 0 }) {
			candidates = append(candidates, ForecastHoltWintersMultiplicative)
		}
	}
	best, bestErr := ForecastLinear, math.Inf(1)
	var cur, bt BacktestErrors
	for _, c := range candidates {
		fit, _ := fitterFor(c)
		m, err := fit(vs[:train], period)
		if err != nil {
			continue // e.g. too few cycles in the training part
		}
		cur.Reset()
		var sum float64
		for k := range origins {
			o := train + k*hold/origins // forecast from vs[:o]
			run := m
			if o > train {
				run = m.extend(vs[:o])
			}
			for j := 1; j <= min(reach, n-o); j++ {
				f, sd := run.predict(j)
				e := math.Abs(vs[o+j-1] - f)
				if d := math.Abs(vs[o+j-1]) + math.Abs(f); d > 0 {
					sum += 2 * e / d
				}
				cur.Add(e, sd, errorShape(run, j))
			}
		}
		if e := sum / float64(cur.Len()); e < bestErr {
			best, bestErr = c, e
			bt.CopyFrom(&cur)
		}
	}
	if bt.Len() < minCalibration {
		return best, nil
	}
	bt.Finish(hold)
	return best, &bt
}

// BacktestErrors is what ForecastAuto keeps of its choice's backtest
// errors for the interval: each absolute error divided by the model's
// standard deviation at its origin and horizon, so that the interval h
// steps ahead is their level-quantile times sd(h). The model's formula
// thus says how the error grows with h and how noisy the series is, and
// the backtest corrects its scale and tails to the errors actually seen.
// Where a model's sd is 0 (it fitted its training values exactly) the
// errors are divided by the error's shape instead (how it grows with h),
// and the interval is the quantile times that shape at h. The engine's
// forecast_band keeps the same errors.
//
// The quantile is taken at ⌈(k+1)·level⌉/k for the k held-out values
// rather than at level (the split-conformal correction): the errors of
// a few held-out values understate the spread of the next ones.
type BacktestErrors struct {
	bySD, byShape []float64 // the errors divided one way and the other
	sdOK          bool      // every sd was positive and finite
	held          int       // the number of held-out values
}

// Reset empties b for another candidate's backtest.
func (b *BacktestErrors) Reset() {
	b.bySD, b.byShape, b.sdOK = b.bySD[:0], b.byShape[:0], true
}

// Add records an absolute error e of a forecast whose standard deviation
// was sd and error shape shape.
func (b *BacktestErrors) Add(e, sd, shape float64) {
	if !(sd > 0) || math.IsInf(sd, 0) {
		b.sdOK = false
	}
	b.bySD = append(b.bySD, e/sd)
	b.byShape = append(b.byShape, e/shape)
}

// Len is the number of errors recorded.
func (b *BacktestErrors) Len() int { return len(b.bySD) }

// CopyFrom makes b a copy of o, reusing b's memory.
func (b *BacktestErrors) CopyFrom(o *BacktestErrors) {
	b.bySD = append(b.bySD[:0], o.bySD...)
	b.byShape = append(b.byShape[:0], o.byShape...)
	b.sdOK = o.sdOK
}

// Finish readies b for Quantile: held is the number of held-out values
// the errors came from.
func (b *BacktestErrors) Finish(held int) {
	b.held = held
	if b.sdOK {
		slices.Sort(b.bySD)
	} else {
		slices.Sort(b.byShape)
	}
}

// Quantile returns the interval's half-width at level in units of the
// forecast's standard deviation at the horizon (bySD) or, when some
// standard deviation was 0, of its error shape there.
func (b *BacktestErrors) Quantile(level float64) (q float64, bySD bool) {
	k := float64(b.held)
	level = min(1, math.Ceil((k+1)*level)/k)
	if b.sdOK {
		return quantileSorted(b.bySD, level), true
	}
	return quantileSorted(b.byShape, level), false
}

// halfWidth is half the interval at level h steps ahead of m.
func (b *BacktestErrors) halfWidth(m model, h int, level float64) float64 {
	q, bySD := b.Quantile(level)
	if bySD {
		_, sd := m.predict(h)
		return q * sd
	}
	return q * errorShape(m, h)
}

// quantile of the standard normal, or of Student's t with df degrees of
// freedom when df > 0.
func quantile(p, df float64) float64 {
	if df > 0 {
		return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
	}
	return distuv.UnitNormal.Quantile(p)
}
