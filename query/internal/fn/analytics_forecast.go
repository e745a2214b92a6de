package fn

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/almanacdb/almanac/analytics"
)

// forecast and forecast_band: the value expected horizon seconds after
// each step's window ends, and its prediction interval, from the window's
// samples, with the models of analytics.ForecastSteps:
//
//	linear          least-squares line; exact interval with Student's t
//	holt            Holt's additive trend exponential smoothing
//	holt_winters    additive Holt-Winters at the detected period
//	seasonal_naive  the last cycle repeated
//	theta           simple exponential smoothing with half the OLS slope
//	auto            the candidate with the least sMAPE in a backtest
//	                over the last 20% of the window: fitted on the first
//	                80%, run on from several origins, forecasting up to
//	                the horizon (linear, holt, theta, and with a period
//	                seasonal_naive, seasonal_linear, holt_winters and
//	                multiplicative Holt-Winters for positive series);
//	                its band is the quantile of its backtest errors
//
// seasonal_linear, a line plus the mean seasonal profile, is a candidate
// of auto only, as multiplicative Holt-Winters is. The horizon auto
// chooses for is the longest any step of the call asks for: a pinned
// window's range query draws one path, 1 to H steps ahead, from one fit.
//
// Fitting is the expensive part (the smoothing parameters are searched
// for, auto fits every candidate twice), so the model (method, period,
// parameters and auto's backtest errors) is fitted as refit says and in
// between run over each step's own window: a step's forecast starts from
// its newest samples, only the parameters come from a window up to half
// a range older.
// The smoothing parameters are searched in the same space and from the
// same start as analytics does, with a pattern search rather than
// Nelder-Mead, so they agree with analytics' to the optimiser's
// tolerance rather than to the bit.
//
// The horizon counts from the window's end (the evaluation time, or the
// @ time of a pinned window) and is rounded to whole grid steps past the
// newest sample, at least one. A horizon that is not positive and finite
// at a step, or a level outside (0, 1), leaves the step without a value.

func forecastValue(c *RangeCall) {
	forecastSteps(c, "forecast", func(i int, r *fcRun, h int) {
		c.Out[i], _ = r.predict(h)
	})
}

func forecastBand(c *RangeCall, lower, upper []float64) {
	levels := c.Scalars[1]
	var q quantileCache
	forecastSteps(c, "forecast_band", func(i int, r *fcRun, h int) {
		level := levels[i]
		if !(level > 0 && level < 1) {
			return
		}
		mean, sd := r.predict(h)
		d := q.at(0.5+level/2, r.df()) * sd
		if bt := r.m.backtest; bt != nil {
			d = backtestHalfWidth(bt, r, h, level)
		}
		lower[i], upper[i] = mean-d, mean+d
	})
}

// maxHorizonSteps bounds the horizon in grid steps, so that it fits an
// int everywhere.
const maxHorizonSteps = 1 << 31

// forecastSteps calls emit with the model run over each step's window
// and the horizon in grid steps.
func forecastSteps(c *RangeCall, fname string, emit func(i int, r *fcRun, h int)) {
	method := c.method(fname)
	if method == "" {
		return
	}
	g, ok := newSeriesGrid(c.In, c.Range)
	if !ok {
		return
	}
	horizons := c.Scalars[0]
	// The longest horizon asked, counted from the window's end rather
	// than its newest sample, which each step adds below.
	longest := 1
	for _, hz := range horizons {
		if steps := math.Round(hz * 1000 / float64(g.step)); steps > float64(longest) && steps < maxHorizonSteps {
			longest = int(steps)
		}
	}
	var (
		rf         refit
		model      *fcModel
		run        fcRun
		ranA, ranK = -1, -1
	)
	for i, end := range c.Ends {
		a, k, ok := g.at(end, c.Range)
		if !ok || k-a+1 < 3 {
			continue
		}
		vs := g.v[a : k+1]
		hz := horizons[i]
		newest := g.start + int64(k)*g.step
		steps := math.Round((float64(end-newest) + hz*1000) / float64(g.step))
		valid := hz > 0 && !math.IsInf(hz, 0) && steps < maxHorizonSteps
		if rf.due(end, c.Range, len(vs)) {
			h := longest
			if valid {
				h = max(h, int(steps))
			}
			var noCycle bool
			model, noCycle = fitForecast(method, vs, h)
			if noCycle {
				c.warnf("%s: method %q needs a seasonal cycle and none was detected in the window%s", fname, method, forMetric(c.MetricName))
			}
			rf.mark(end, len(vs))
			ranA = -1
		}
		if model == nil || !valid {
			continue
		}
		if a != ranA || k != ranK {
			ranA, ranK = -1, -1
			if !run.over(model, vs) {
				continue // fewer points since the fit (a gap)
			}
			ranA, ranK = a, k
		}
		emit(i, &run, max(1, int(steps)))
	}
}

// Concrete forecast methods beyond the ones users name, which auto may
// choose: multiplicative Holt-Winters for a positive series, and a line
// plus the mean seasonal profile.
const (
	holtWintersMultiplicative = "holt_winters_multiplicative"
	seasonalLinear            = "seasonal_linear"
)

// fcModel is a fitted forecast model: the method and its parameters,
// which are run over windows (fcRun.over).
type fcModel struct {
	method string
	period int
	// alpha, beta and gamma are the component-form smoothing parameters
	// (analytics' etsParams), each in (0, 1).
	alpha, beta, gamma float64
	// backtest is, for a model auto chose, its backtest errors, from
	// which the band comes; nil: the model's formula.
	backtest *analytics.BacktestErrors
}

// fitForecast fits method ("auto" or a concrete one) to vs, auto for
// forecasts up to h steps ahead. It returns nil when the method cannot be
// fitted to these values (too few of them, values that are not
// positive), and noCycle when that is because a seasonal method found no
// period.
func fitForecast(method string, vs []float64, h int) (m *fcModel, noCycle bool) {
	period := 0
	if method == "auto" || isSeasonalForecast(method) {
		period = analytics.DetectPeriod(vs)
	}
	var backtest *analytics.BacktestErrors
	if method == "auto" {
		method, backtest = chooseForecast(vs, period, h)
	}
	if isSeasonalForecast(method) && period == 0 {
		return nil, true
	}
	m, ok := fitMethod(method, vs, period)
	if ok {
		m.backtest = backtest
	}
	return m, false
}

func isSeasonalForecast(method string) bool {
	switch method {
	case "holt_winters", "seasonal_naive", holtWintersMultiplicative, seasonalLinear:
		return true
	}
	return false
}

// auto's backtest, as in analytics: the last holdoutFraction of the
// window, forecast from origins spread evenly over it, one every h
// values but minOrigins to maxOrigins of them; with fewer than
// minCalibration errors the band keeps the model's formula.
const (
	holdoutFraction = 0.2
	minOrigins      = 8
	maxOrigins      = 64
	minCalibration  = 20
)

// chooseForecast is analytics' automatic choice for forecasts up to h
// steps ahead: the candidate with the least sMAPE when fitted on the
// first 80% of vs and run on from origins over the rest; ties keep the
// earlier, simpler one; linear when nothing can be scored.
// It returns the candidate's backtest for the band, nil when it has
// fewer than minCalibration errors.
func chooseForecast(vs []float64, period, h int) (string, *analytics.BacktestErrors) {
	n := len(vs)
	hold := max(1, int(math.Round(holdoutFraction*float64(n))))
	train := n - hold
	if train < 3 {
		return "linear", nil
	}
	origins := min(hold, maxOrigins, max(minOrigins, (hold+h-1)/h))
	// Each origin forecasts h steps ahead, and at least the spacing of
	// minOrigins origins: so every held-out value is forecast, and a short
	// horizon does not choose among near-equal one-step errors.
	reach := max(h, (hold+minOrigins-1)/minOrigins)
	candidates := []string{"linear", "holt", "theta"}
	if period > 0 {
		candidates = append(candidates, "seasonal_naive", seasonalLinear, "holt_winters")
		if !slices.ContainsFunc(vs, func(v float64) bool { return v <= 0 }) {
			candidates = append(candidates, holtWintersMultiplicative)
		}
	}
	best, bestErr := "linear", math.Inf(1)
	var (
		cur, bt analytics.BacktestErrors
		run     fcRun
	)
	for _, method := range candidates {
		m, ok := fitMethod(method, vs[:train], period)
		if !ok {
			continue
		}
		cur.Reset()
		var sum float64
		for k := range origins {
			o := train + k*hold/origins // forecast from vs[:o]
			run.over(m, vs[:o])         // cannot fail: vs[:train] did not, and vs is positive for multiplicative Holt-Winters
			for j := 1; j <= min(reach, n-o); j++ {
				f, sd := run.predict(j)
				e := math.Abs(vs[o+j-1] - f)
				if d := math.Abs(vs[o+j-1]) + math.Abs(f); d > 0 {
					sum += 2 * e / d
				}
				cur.Add(e, sd, run.errorShape(j))
			}
		}
		if e := sum / float64(cur.Len()); e < bestErr {
			best, bestErr = method, e
			bt.CopyFrom(&cur)
		}
	}
	if bt.Len() < minCalibration {
		return best, nil
	}
	bt.Finish(hold)
	return best, &bt
}

// backtestHalfWidth is half of auto's band at level h steps ahead of r,
// from the backtest errors of its choice (analytics.BacktestErrors).
func backtestHalfWidth(b *analytics.BacktestErrors, r *fcRun, h int, level float64) float64 {
	q, bySD := b.Quantile(level)
	if bySD {
		_, sd := r.predict(h)
		return q * sd
	}
	return q * r.errorShape(h)
}

// fitMethod fits a concrete method's smoothing parameters to vs by
// least squares on the one-step errors.
func fitMethod(method string, vs []float64, period int) (*fcModel, bool) {
	m := &fcModel{method: method, period: period}
	var run fcRun
	if !run.over(m, vs) { // checks lengths and positivity
		return nil, false
	}
	dim := 0
	switch method {
	case "theta":
		dim = 1
	case "holt":
		dim = 2
	case "holt_winters", holtWintersMultiplicative:
		dim = 3
	}
	if dim == 0 {
		return m, true
	}
	sse := func(z []float64) float64 {
		m.setParams(z)
		if !run.over(m, vs) || math.IsNaN(run.sse) {
			return math.Inf(1)
		}
		return run.sse
	}
	m.setParams(patternSearch(sse, dim))
	return m, true
}

// setParams maps unbounded z to parameters in (0, 1).
func (m *fcModel) setParams(z []float64) {
	m.alpha = logistic(z[0])
	if len(z) > 1 {
		m.beta = logistic(z[1])
	}
	if len(z) > 2 {
		m.gamma = logistic(z[2])
	}
}

func logistic(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
func logit(p float64) float64    { return math.Log(p / (1 - p)) }

// patternSearch minimises f over dim unbounded coordinates from α = 0.3,
// β* = γ* = 0.1 (analytics' start): it moves one coordinate at a time by
// a step, halving the step when no move helps, until the step is below
// 1e-3 or 200·dim evaluations are spent (analytics' Nelder-Mead budget).
func patternSearch(f func([]float64) float64, dim int) []float64 {
	z := []float64{logit(0.3), logit(0.1), logit(0.1)}[:dim]
	best := f(z)
	step := 1.0
	for evals := 1; step > 1e-3 && evals < 200*dim; {
		improved := false
		for i := range z {
			for _, dir := range [2]float64{1, -1} {
				old := z[i]
				z[i] = max(-15, min(15, old+dir*step))
				v := f(z)
				evals++
				if v < best {
					best, improved = v, true
					break
				}
				z[i] = old
			}
		}
		if !improved {
			step /= 2
		}
	}
	return z
}

// fcRun is a model run over one window: its final state, from which
// predict forecasts any number of steps ahead.
type fcRun struct {
	m   *fcModel
	vs  []float64
	n   int
	sse float64 // sum of squared one-step errors (relative, multiplicative)
	// sigma is the residual standard deviation the interval scales.
	sigma float64
	// line (linear, theta's drift, seasonal_linear's slope), level and
	// trend (ETS), season by phase t mod period (Holt-Winters; the phase
	// means for seasonal_linear), and sxx, seasonal_linear's Σ(t - t̄_j)².
	b0, b1, level, trend, sxx float64
	season                    []float64
}

// over runs m over vs; false when vs is too short for the method (or
// not positive, for multiplicative Holt-Winters).
func (r *fcRun) over(m *fcModel, vs []float64) bool {
	n, p := len(vs), m.period
	*r = fcRun{m: m, vs: vs, n: n, season: r.season[:0]}
	switch m.method {
	case "linear":
		if n < 3 {
			return false
		}
		r.b0, r.b1 = analytics.LinearFit(vs)
		for i, v := range vs {
			e := v - (r.b0 + r.b1*float64(i))
			r.sse += e * e
		}
		r.sigma = math.Sqrt(r.sse / float64(n-2))
	case "seasonal_naive":
		if p < 1 || n < 2*p {
			return false
		}
		for t := p; t < n; t++ {
			d := vs[t] - vs[t-p]
			r.sse += d * d
		}
		r.sigma = math.Sqrt(r.sse / float64(n-p))
	case seasonalLinear:
		if p < 2 || n < 2*p {
			return false
		}
		// analytics' arithmetic: phase means, the within-phase slope.
		for range p {
			r.season = append(r.season, 0)
		}
		mean := r.season
		for t, v := range vs {
			mean[t%p] += v
		}
		for j := range mean {
			mean[j] /= r.phaseCount(j)
		}
		var sxy float64
		for t, v := range vs {
			d := float64(t) - r.phaseTime(t%p)
			sxy += d * (v - mean[t%p])
			r.sxx += d * d
		}
		r.b1 = sxy / r.sxx
		for t, v := range vs {
			e := v - mean[t%p] - r.b1*(float64(t)-r.phaseTime(t%p))
			r.sse += e * e
		}
		r.sigma = math.Sqrt(r.sse / float64(n-p-1))
	case "holt":
		if n < 4 {
			return false
		}
		l, b := initialTrendLine(vs)
		beta := m.alpha * m.beta
		for _, y := range vs[1:] {
			e := y - (l + b)
			r.sse += e * e
			l += b + m.alpha*e
			b += beta * e
		}
		r.level, r.trend = l, b
		r.sigma = math.Sqrt(r.sse / float64(max(1, n-1-2)))
	case "theta":
		if n < 3 {
			return false
		}
		_, r.b1 = analytics.LinearFit(vs)
		l := vs[0]
		for _, y := range vs[1:] {
			e := y - l
			r.sse += e * e
			l += m.alpha * e
		}
		r.level = l
		r.sigma = math.Sqrt(r.sse / float64(max(1, n-1-1)))
	case "holt_winters", holtWintersMultiplicative:
		mult := m.method == holtWintersMultiplicative
		if p < 2 || n < 2*p+1 {
			return false
		}
		if mult {
			for _, v := range vs {
				if v <= 0 {
					return false
				}
			}
		}
		var l, b float64
		l, b, r.season = seasonalStart(r.season, vs, p, mult)
		s := r.season
		for t := p; t < n; t++ {
			j, y := t%p, vs[t]
			if mult {
				yhat := (l + b) * s[j]
				e := (y - yhat) / yhat
				r.sse += e * e
				prev := l
				l = m.alpha*(y/s[j]) + (1-m.alpha)*(l+b)
				b = m.beta*(l-prev) + (1-m.beta)*b
				s[j] = m.gamma*(y/l) + (1-m.gamma)*s[j]
				continue
			}
			e := y - (l + b + s[j])
			r.sse += e * e
			l += b + m.alpha*e
			b += m.alpha * m.beta * e
			s[j] += (1 - m.alpha) * m.gamma * e
		}
		r.level, r.trend = l, b
		r.sigma = math.Sqrt(r.sse / float64(max(1, n-p-3)))
	default:
		return false
	}
	return true
}

// predict returns the forecast h >= 1 steps past the window's last point
// and the standard deviation of its error, by analytics' formulas.
func (r *fcRun) predict(h int) (mean, sd float64) {
	m, n, p := r.m, r.n, r.m.period
	hf := float64(h)
	switch m.method {
	case "linear":
		tm := float64(n-1) / 2
		t0 := float64(n-1) + hf
		sxx := float64(n) * (float64(n)*float64(n) - 1) / 12
		return r.b0 + r.b1*t0, r.sigma * math.Sqrt(1+1/float64(n)+(t0-tm)*(t0-tm)/sxx)
	case "seasonal_naive":
		k := (h - 1) / p
		return r.vs[n-p+(h-1)%p], r.sigma * math.Sqrt(float64(k+1))
	case seasonalLinear:
		j := ((n-1)%p + h%p) % p
		d := float64(n-1) + hf - r.phaseTime(j)
		return r.season[j] + r.b1*d, r.sigma * math.Sqrt(1+1/r.phaseCount(j)+d*d/r.sxx)
	case "holt":
		return r.level + hf*r.trend, r.sigma * math.Sqrt(1+sumSquaredPsi(m.alpha, m.alpha*m.beta, 0, 0, h))
	case "theta":
		drift := (1 - math.Pow(1-m.alpha, float64(n))) / m.alpha
		return r.level + r.b1/2*(hf-1+drift), r.sigma * math.Sqrt(1+sumSquaredPsi(m.alpha, 0, 0, 0, h))
	}
	// Holt-Winters.
	s := r.season[((n-1)%p+h%p)%p]
	psi := sumSquaredPsi(m.alpha, m.alpha*m.beta, (1-m.alpha)*m.gamma, p, h)
	if m.method == holtWintersMultiplicative {
		mean = (r.level + hf*r.trend) * s
		return mean, math.Abs(mean) * r.sigma * math.Sqrt(1+psi)
	}
	return r.level + hf*r.trend + s, r.sigma * math.Sqrt(1+psi)
}

// phaseCount and phaseTime are the number and mean index of the window's
// points at phase j of the period: j, j+p, j+2p, ...
func (r *fcRun) phaseCount(j int) float64 { return float64((r.n-1-j)/r.m.period + 1) }
func (r *fcRun) phaseTime(j int) float64 {
	return float64(j) + float64(r.m.period)*(r.phaseCount(j)-1)/2
}

// df is the degrees of freedom of the interval's Student t quantile, 0
// for the normal quantile.
func (r *fcRun) df() float64 {
	switch r.m.method {
	case "linear":
		return float64(r.n - 2)
	case seasonalLinear:
		return float64(r.n - r.m.period - 1)
	}
	return 0
}

// errorShape is analytics' errorShape: how the error's standard
// deviation grows from 1 to h steps ahead, sd(h)/sd(1), or 1 when sd(1)
// is 0.
func (r *fcRun) errorShape(h int) float64 {
	_, sd1 := r.predict(1)
	_, sd := r.predict(h)
	if g := sd / sd1; g > 0 && !math.IsInf(g, 0) {
		return g
	}
	return 1
}

// sumSquaredPsi is Σ_{j=1}^{h-1} (α + βj + γ·[m > 0 and j mod m = 0])²
// in closed form (analytics' innovations-form interval).
func sumSquaredPsi(alpha, beta, gamma float64, m, h int) float64 {
	hf := float64(h)
	s := (hf - 1) * (alpha*alpha + alpha*beta*hf + beta*beta*hf*(2*hf-1)/6)
	if m > 0 && gamma > 0 {
		k := float64((h - 1) / m)
		s += gamma * k * (2*alpha + gamma + beta*float64(m)*(k+1))
	}
	return s
}

// initialTrendLine is Holt's start: the line through the first tenth of
// the values (4 to 20 of them), at index 0.
func initialTrendLine(vs []float64) (level, slope float64) {
	return analytics.LinearFit(vs[:min(len(vs), max(4, min(20, len(vs)/10)))])
}

// seasonalStart is Holt-Winters' start from the first two cycles, as in
// analytics: the slope from their means, the level at the end of the
// first cycle, the seasonal indices as deviations (ratios) from the line.
func seasonalStart(dst, vs []float64, m int, multiplicative bool) (level, slope float64, season []float64) {
	var mean1, mean2 float64
	for i := range m {
		mean1 += vs[i]
		mean2 += vs[m+i]
	}
	mean1 /= float64(m)
	mean2 /= float64(m)
	slope = (mean2 - mean1) / float64(m)
	mid := float64(m-1) / 2
	season = dst[:0]
	for i := range m {
		line := mean1 + slope*(float64(i)-mid)
		if multiplicative {
			season = append(season, vs[i]/line)
		} else {
			season = append(season, vs[i]-line)
		}
	}
	return mean1 + slope*mid, slope, season
}

// quantileCache returns the normal (df 0) or Student t quantile,
// remembering the last one: a band's level and df rarely change.
type quantileCache struct {
	p, df, q float64
	ok       bool
}

func (c *quantileCache) at(p, df float64) float64 {
	if c.ok && c.p == p && c.df == df {
		return c.q
	}
	if df > 0 {
		c.q = distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
	} else {
		c.q = distuv.UnitNormal.Quantile(p)
	}
	c.p, c.df, c.ok = p, df, true
	return c.q
}
