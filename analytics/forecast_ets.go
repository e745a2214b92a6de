package analytics

import (
	"fmt"
	"math"
)

// The exponential smoothing family: simple (SES, used by Theta), Holt's
// additive trend, and Holt-Winters with additive or multiplicative seasons.
// Smoothing parameters are fitted by minimising the sum of squared one-step
// errors with Nelder-Mead (neldermead.go) over unbounded z, mapped into (0, 1) by the
// logistic function, so every trial point is a valid model. Initial states
// come from the first points (below) and are not fitted: for a series that
// is exactly linear, or exactly linear plus a fixed cycle, they are exact,
// and so is every forecast whatever the parameters.
//
// Intervals use the innovations state-space form (Hyndman et al., Forecasting
// with Exponential Smoothing, 2008, ch. 6): an h-step error is
// ε(n+h) + Σ_{j=1}^{h-1} c_j ε(n+h-j), so
//
//	sd(h) = σ · sqrt(1 + Σ_{j=1}^{h-1} c_j²)
//
// with c_j = α + βj + γ·[j mod m = 0], where β = α·β* and γ = (1-α)·γ* are
// the error-correction forms of the component smoothing parameters β*, γ*.
// σ² is the one-step SSE over (errors - parameters).

// etsParams are component-form smoothing parameters, each in (0, 1).
type etsParams struct {
	alpha, beta, gamma float64
}

// etsFilter runs a model with the given parameters over the values it
// was built for (by an etsFilterOf) and returns the sum of squared one-step
// errors, the number of errors, and the final state as a forecast
// function.
type etsFilter func(p etsParams) (sse float64, count int, forecast func(h int) float64)

// etsFilterOf builds a model's filter over vs.
type etsFilterOf func(vs []float64) etsFilter

// fitETS finds the parameters minimising SSE. dim is how many of alpha,
// beta, gamma the model uses (1, 2 or 3).
func fitETS(filter etsFilter, dim int) etsParams {
	toParams := func(z []float64) etsParams {
		var p etsParams
		p.alpha = logistic(z[0])
		if dim > 1 {
			p.beta = logistic(z[1])
		}
		if dim > 2 {
			p.gamma = logistic(z[2])
		}
		return p
	}
	obj := func(z []float64) float64 {
		sse, _, _ := filter(toParams(z))
		if math.IsNaN(sse) {
			return math.Inf(1)
		}
		return sse
	}
	// Start from α=0.3, β*=γ*=0.1, common defaults for operational data.
	z0 := []float64{logit(0.3), logit(0.1), logit(0.1)}[:dim]
	z, f := nelderMead(obj, z0, 1, 1e-8, 200*dim)
	if math.IsInf(f, 1) {
		// Every trial failed (only possible for data the filter cannot
		// follow at all); the defaults are still a valid model.
		return toParams(z0)
	}
	return toParams(z)
}

func logistic(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
func logit(p float64) float64    { return math.Log(p / (1 - p)) }

// etsModel runs the filter of vs with fitted parameters p and wraps its
// final state into a model with the innovations interval; nParams is how
// many parameters were fitted, m the seasonal period (0 for none).
func etsModel(filterOf etsFilterOf, vs []float64, p etsParams, nParams, m int, relative bool) model {
	sse, count, fc := filterOf(vs)(p)
	sigma := math.Sqrt(sse / float64(max(1, count-nParams)))
	beta := p.alpha * p.beta
	gamma := (1 - p.alpha) * p.gamma
	return model{
		predict: func(h int) (float64, float64) {
			mean := fc(h)
			sd := sigma * math.Sqrt(1+sumSquaredPsi(p.alpha, beta, gamma, m, h))
			if relative {
				sd *= math.Abs(mean)
			}
			return mean, sd
		},
		extend: func(longer []float64) model {
			return etsModel(filterOf, longer, p, nParams, m, relative)
		},
	}
}

// sumSquaredPsi is Σ_{j=1}^{h-1} (α + βj + γ·[m > 0 and j mod m = 0])² in
// closed form: (h-1)(α² + αβh + β²h(2h-1)/6) + γk(2α + γ + βm(k+1)) with
// k = ⌊(h-1)/m⌋ (Hyndman et al. 2008, table 6.1).
func sumSquaredPsi(alpha, beta, gamma float64, m, h int) float64 {
	hf := float64(h)
	s := (hf - 1) * (alpha*alpha + alpha*beta*hf + beta*beta*hf*(2*hf-1)/6)
	if m > 0 && gamma > 0 {
		k := float64((h - 1) / m)
		s += gamma * k * (2*alpha + gamma + beta*float64(m)*(k+1))
	}
	return s
}

// initialTrendLine returns the level and slope at index 0 of the OLS line
// through the first few points (a tenth of the series, 4 to 20), a less
// noisy start than y[1]-y[0].
func initialTrendLine(vs []float64) (level, slope float64) {
	k := min(len(vs), max(4, min(20, len(vs)/10)))
	return LinearFit(vs[:k])
}

// fitHolt fits Holt's additive trend method: one-step forecast ℓ + b, then
// ℓ ← ℓ + b + αe and b ← b + αβ*e for the error e. Forecast ℓ + h·b.
func fitHolt(vs []float64, _ int) (model, error) {
	if len(vs) < 4 {
		return model{}, fmt.Errorf("%w: holt needs 4 values, got %d", ErrTooFewSamples, len(vs))
	}
	return etsModel(holtFilter, vs, fitETS(holtFilter(vs), 2), 2, 0, false), nil
}

func holtFilter(vs []float64) etsFilter {
	l0, b0 := initialTrendLine(vs)
	return func(p etsParams) (float64, int, func(int) float64) {
		l, b := l0, b0
		var sse float64
		for _, y := range vs[1:] {
			e := y - (l + b)
			sse += e * e
			l += b + p.alpha*e
			b += p.alpha * p.beta * e
		}
		return sse, len(vs) - 1, func(h int) float64 { return l + float64(h)*b }
	}
}

// fitSES fits simple exponential smoothing from ℓ = y[0]: ℓ ← ℓ + αe. It
// returns the model with sd(h) = σ·sqrt(1 + (h-1)α²), the final level and α.
func fitSES(vs []float64) (m model, level, alpha float64) {
	p := fitETS(sesFilter(vs), 1)
	m = etsModel(sesFilter, vs, p, 1, 0, false)
	level, _ = m.predict(1)
	return m, level, p.alpha
}

func sesFilter(vs []float64) etsFilter {
	return func(p etsParams) (float64, int, func(int) float64) {
		l := vs[0]
		var sse float64
		for _, y := range vs[1:] {
			e := y - l
			sse += e * e
			l += p.alpha * e
		}
		return sse, len(vs) - 1, func(int) float64 { return l }
	}
}

// seasonalStart initialises Holt-Winters from the first two cycles: the
// slope from the difference of their means, the level at the end of the
// first cycle on the line through the first cycle's mean, and the seasonal
// indices as deviations (or ratios) of the first cycle from that line.
func seasonalStart(vs []float64, m int, multiplicative bool) (level, slope float64, season []float64) {
	var mean1, mean2 float64
	for i := range m {
		mean1 += vs[i]
		mean2 += vs[m+i]
	}
	mean1 /= float64(m)
	mean2 /= float64(m)
	slope = (mean2 - mean1) / float64(m)
	mid := float64(m-1) / 2
	season = make([]float64, m)
	for i := range m {
		line := mean1 + slope*(float64(i)-mid)
		if multiplicative {
			season[i] = vs[i] / line
		} else {
			season[i] = vs[i] - line
		}
	}
	return mean1 + slope*mid, slope, season
}

// phaseAhead returns (n-1+h) mod m, the seasonal phase h steps after the
// last of n values, without overflowing for huge h.
func phaseAhead(n, m, h int) int {
	return ((n-1)%m + h%m) % m
}

func checkSeasonal(vs []float64, m int, name string) error {
	if m < 2 {
		return fmt.Errorf("%w: %s needs a period of at least 2", ErrNoSeasonality, name)
	}
	if len(vs) < 2*m+1 {
		return fmt.Errorf("%w: %s with period %d needs %d values, got %d",
			ErrTooFewSamples, name, m, 2*m+1, len(vs))
	}
	return nil
}

// fitHoltWintersAdditive fits additive Holt-Winters: one-step forecast
// ℓ + b + s, then ℓ ← ℓ + b + αe, b ← b + αβ*e, s ← s + (1-α)γ*e, where s is
// the seasonal index of the current phase. Forecast ℓ + h·b + s(phase of
// n-1+h). The first cycle only initialises; errors start at the second.
func fitHoltWintersAdditive(vs []float64, m int) (model, error) {
	if err := checkSeasonal(vs, m, "holt_winters"); err != nil {
		return model{}, err
	}
	filterOf := func(vs []float64) etsFilter {
		l0, b0, s0 := seasonalStart(vs, m, false)
		s := make([]float64, m)
		return func(p etsParams) (float64, int, func(int) float64) {
			l, b := l0, b0
			copy(s, s0)
			var sse float64
			for t := m; t < len(vs); t++ {
				j := t % m
				e := vs[t] - (l + b + s[j])
				sse += e * e
				l += b + p.alpha*e
				b += p.alpha * p.beta * e
				s[j] += (1 - p.alpha) * p.gamma * e
			}
			n := len(vs)
			return sse, n - m, func(h int) float64 { return l + float64(h)*b + s[phaseAhead(n, m, h)] }
		}
	}
	return etsModel(filterOf, vs, fitETS(filterOf(vs), 3), 3, m, false), nil
}

// fitHoltWintersMultiplicative fits Holt-Winters with multiplicative
// seasons (component form): one-step forecast (ℓ + b)·s, then
// ℓ ← α(y/s) + (1-α)(ℓ + b), b ← β*(ℓ_new - ℓ) + (1-β*)b,
// s ← γ*(y/ℓ_new) + (1-γ*)s. Forecast (ℓ + h·b)·s(phase of n-1+h).
//
// There is no closed-form interval for this model; it is approximated by
// the additive formula applied to relative one-step errors e/ŷ and scaled
// by the forecast: sd(h) ≈ |ŷ(h)|·σ_rel·sqrt(1 + Σc_j²). Values must be
// positive (ErrNotPositive).
func fitHoltWintersMultiplicative(vs []float64, m int) (model, error) {
	if err := checkSeasonal(vs, m, "holt_winters_multiplicative"); err != nil {
		return model{}, err
	}
	for i, v := range vs {
		if v <= 0 {
			return model{}, fmt.Errorf("%w: value %v at index %d", ErrNotPositive, v, i)
		}
	}
	filterOf := func(vs []float64) etsFilter {
		l0, b0, s0 := seasonalStart(vs, m, true)
		s := make([]float64, m)
		return func(p etsParams) (float64, int, func(int) float64) {
			l, b := l0, b0
			copy(s, s0)
			var sse float64
			for t := m; t < len(vs); t++ {
				j := t % m
				y := vs[t]
				yhat := (l + b) * s[j]
				e := (y - yhat) / yhat
				sse += e * e
				lPrev := l
				l = p.alpha*(y/s[j]) + (1-p.alpha)*(l+b)
				b = p.beta*(l-lPrev) + (1-p.beta)*b
				s[j] = p.gamma*(y/l) + (1-p.gamma)*s[j]
			}
			n := len(vs)
			return sse, n - m, func(h int) float64 { return (l + float64(h)*b) * s[phaseAhead(n, m, h)] }
		}
	}
	return etsModel(filterOf, vs, fitETS(filterOf(vs), 3), 3, m, true), nil
}
