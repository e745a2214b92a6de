package analytics

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// AnomalyMethod names how Assess predicts the newest sample from the rest of
// the window.
type AnomalyMethod string

// Anomaly methods. The empty string means AnomalyAuto.
const (
	// AnomalyAuto uses AnomalySeasonal when the history before the newest
	// point has a detectable period (DetectPeriod, which needs three
	// cycles) and AnomalyMAD otherwise.
	AnomalyAuto AnomalyMethod = "auto"
	// AnomalyZScore compares with the mean and sample standard deviation
	// of the history. Outliers in the history inflate both.
	AnomalyZScore AnomalyMethod = "zscore"
	// AnomalyMAD compares with the median and MAD of the history.
	AnomalyMAD AnomalyMethod = "mad"
	// AnomalySeasonal decomposes the history (Decompose at the detected
	// period, or trend only when there is none), extrapolates trend and
	// season to the newest point and scales by the robust spread of the
	// residuals.
	AnomalySeasonal AnomalyMethod = "seasonal"
	// AnomalyNovelty asks whether the window has seen the newest value:
	// Expected is the history's value nearest to it and Sigma the standard
	// error range/(6·√n) of the n history values, range/6 standing for
	// their standard deviation. A value seen before scores 0, one beyond
	// every value seen scores more the longer the history that never held
	// it, so a level shift scores at its first sample and not again once
	// the new level is part of the history. It is the method that scores
	// best on the NAB corpus (docs/analytics.md).
	AnomalyNovelty AnomalyMethod = "novelty"
)

// minHistory is the least number of usable values before the newest point
// that any anomaly method accepts.
const minHistory = 3

// relFloor sets the noise floor of a score, relative to the magnitude of the
// data: a deviation below relFloor·magnitude counts as none, and no scale is
// taken smaller than it. This keeps a constant series at score 0 despite
// rounding, and a jump after a constant series finite.
const relFloor = 1e-9

// Assessment says how unusual the newest sample is.
type Assessment struct {
	// Score is |Value - Expected| / Sigma, >= 0: the newest value's
	// distance from its prediction in robust standard deviations. It is
	// exactly 0 when the deviation is below the noise floor (1e-9 of the
	// data's magnitude), e.g. for a constant series.
	Score    float64
	Value    float64       // the newest value
	Expected float64       // what the rest of the window predicts for it
	Sigma    float64       // the scale of the deviation, > 0
	Method   AnomalyMethod // the method used, never AnomalyAuto
	Period   int           // the seasonal period in samples, 0 if none was used

	lowest, highest float64 // the history's extremes (novelty)
}

// Band returns Expected ∓ |k|·Sigma, the range in which the newest value
// would have scored at most |k|. For AnomalyNovelty it is the history's
// range widened by |k|·Sigma on each side: every value in it is within
// that of a value seen, except in gaps of the history wider than 2|k|·Sigma.
func (a Assessment) Band(k float64) (lower, upper float64) {
	k = math.Abs(k)
	if a.Method == AnomalyNovelty {
		return a.lowest - k*a.Sigma, a.highest + k*a.Sigma
	}
	return a.Expected - k*a.Sigma, a.Expected + k*a.Sigma
}

// Assess scores the newest of raw samples against the rest of them: the
// samples are regularized at their inferred step with short gaps
// interpolated (see Fill), then passed to AssessLast. AnomalyNovelty takes
// the usable samples as they are instead: an interpolated value was never
// seen.
func Assess(ts []int64, vs []float64, method AnomalyMethod) (Assessment, error) {
	if method == AnomalyNovelty {
		_, uvs, err := usable(ts, vs)
		if err != nil {
			return Assessment{}, err
		}
		return AssessLast(uvs, method)
	}
	g, err := prepare(ts, vs)
	if err != nil {
		return Assessment{}, err
	}
	return AssessLast(g.Values, method)
}

// AssessLast scores the last value of a regular series against the values
// before it (the history), which must hold at least 3 usable values; missing
// history values are skipped (seasonal: ignored by the fits). It returns
// ErrInvalidArgument when the last value is missing.
func AssessLast(vs []float64, method AnomalyMethod) (Assessment, error) {
	switch method {
	case "", AnomalyAuto, AnomalyZScore, AnomalyMAD, AnomalySeasonal, AnomalyNovelty:
	default:
		return Assessment{}, fmt.Errorf("%w: anomaly method %q", ErrUnknownMethod, method)
	}
	if len(vs) == 0 {
		return Assessment{}, fmt.Errorf("%w: empty series", ErrTooFewSamples)
	}
	x := vs[len(vs)-1]
	if IsMissing(x) {
		return Assessment{}, fmt.Errorf("%w: newest value is missing", ErrInvalidArgument)
	}
	hist := vs[:len(vs)-1]
	if c := countFinite(hist); c < minHistory {
		return Assessment{}, fmt.Errorf("%w: anomaly scoring needs %d values before the newest, got %d",
			ErrTooFewSamples, minHistory, c)
	}
	a := Assessment{Value: x, Method: method}
	period := 0
	if method == "" || method == AnomalyAuto || method == AnomalySeasonal {
		period = DetectPeriod(hist)
		a.Method = AnomalySeasonal
		if period == 0 && method != AnomalySeasonal {
			a.Method = AnomalyMAD
		}
	}
	switch a.Method {
	case AnomalyZScore:
		a.Expected, a.Sigma = stat.MeanStdDev(finiteOnly(hist), nil)
	case AnomalyMAD:
		a.Expected, a.Sigma = robustCenterScale(hist)
	case AnomalySeasonal:
		var err error
		if a.Expected, a.Sigma, err = seasonalExpectation(hist, period); err != nil {
			return Assessment{}, err
		}
		a.Period = period
	case AnomalyNovelty:
		a.Expected, a.Sigma, a.lowest, a.highest = nearestSeen(hist, x)
	}
	a.Score = scoreOf(x, &a.Expected, &a.Sigma, hist)
	return a, nil
}

// nearestSeen returns the finite value of hist nearest to x, the standard
// error range/(6·√n) of hist's n finite values, and their extremes.
func nearestSeen(hist []float64, x float64) (nearest, stdErr, lowest, highest float64) {
	h := finiteOnly(hist)
	lowest, highest = slices.Min(h), slices.Max(h)
	nearest = h[0]
	for _, v := range h[1:] {
		if math.Abs(x-v) < math.Abs(x-nearest) {
			nearest = v
		}
	}
	return nearest, (highest - lowest) / (6 * math.Sqrt(float64(len(h)))), lowest, highest
}

// seasonalExpectation decomposes hist and predicts the next point. Its
// scale is not taken from the decomposition's residuals: with few cycles
// each point pulls the median at its phase towards itself (with three
// cycles a third of the residuals are exactly 0), so they understate the
// error of a true prediction. Instead each point is predicted from the
// median of the other cycles at its phase (leave-one-out), and the robust
// spread of those errors is inflated by sqrt(1 + 4/w) for extrapolating the
// trend line, fitted on w points, one step past its end (a line's
// prediction variance there is about σ²(1 + 4/w)). anomaly_test.go checks
// that the resulting scores have unit spread on Gaussian noise.
func seasonalExpectation(hist []float64, period int) (expected, sigma float64, err error) {
	d, err := Decompose(hist, period)
	if err != nil {
		return 0, 0, err
	}
	expected = d.Extrapolate(1)
	resid := d.Residual
	if period > 0 {
		resid = leaveOneOutResiduals(hist, d.Trend, period)
	}
	_, sigma = robustCenterScale(resid)
	w := min(2*period+1, len(hist))
	if period == 0 {
		w = min(max(5, len(hist)/4)|1, len(hist))
	}
	return expected, sigma * math.Sqrt(1+4/float64(w)), nil
}

// leaveOneOutResiduals returns vs - trend - s, where s at each point is the
// median of the detrended values at the same phase in the other cycles,
// shifted like the decomposition's seasonal part (by the mean of the
// per-phase medians). A phase seen in only one cycle gives NaN.
func leaveOneOutResiduals(vs, trend []float64, period int) []float64 {
	out := make([]float64, len(vs))
	type member struct {
		v float64
		i int
	}
	var members []member
	var shift float64
	for j := range period {
		members = members[:0]
		for i := j; i < len(vs); i += period {
			out[i] = math.NaN()
			if v := vs[i] - trend[i]; !IsMissing(v) {
				members = append(members, member{v, i})
			}
		}
		slices.SortFunc(members, func(a, b member) int { return cmp.Compare(a.v, b.v) })
		m := len(members) - 1 // size with one left out
		if full := len(members); full > 0 {
			shift += (members[(full-1)/2].v + members[full/2].v) / 2
		}
		if m < 1 {
			continue
		}
		// at maps a rank among the others to a rank among all, skipping k.
		for k, mem := range members {
			at := func(r int) float64 {
				if r >= k {
					r++
				}
				return members[r].v
			}
			out[mem.i] = mem.v - (at((m-1)/2)+at(m/2))/2
		}
	}
	shift /= float64(period)
	for i := range out {
		out[i] += shift
	}
	return out
}

// scoreOf applies the noise floor to the deviation and the scale and
// returns the score. The floor is relFloor times the largest of |x|,
// |expected| and the median magnitude of the history.
func scoreOf(x float64, expected, sigma *float64, hist []float64) float64 {
	if math.IsNaN(*expected) || math.IsInf(*expected, 0) {
		// A fit that broke down (e.g. values so small that its arithmetic
		// underflowed) predicts nothing: fall back to the robust centre.
		*expected, *sigma = robustCenterScale(hist)
	}
	mag := math.Max(math.Abs(x), math.Abs(*expected))
	var absHist []float64
	for _, h := range hist {
		if !IsMissing(h) {
			absHist = append(absHist, math.Abs(h))
		}
	}
	mag = math.Max(mag, Median(absHist))
	floor := relFloor * mag
	if !(*sigma > floor) { // also catches NaN
		*sigma = floor
	}
	// dev > floor implies mag > 0, so sigma >= floor > 0 below.
	dev := math.Abs(x - *expected)
	if dev <= floor {
		return 0
	}
	return dev / *sigma
}
