package analytics

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// CorrelationMethod names how Correlate measures association.
type CorrelationMethod string

// Correlation methods. The empty string means CorrelationAuto.
const (
	// CorrelationAuto is the Pearson correlation of the two series after
	// Prewhiten: correlation of their changes with the trend and each
	// one's detected seasonal cycle removed, so that two series that both
	// grow, or both follow the daily cycle, do not look related for that
	// reason alone. Changes line up only at the delay between the series,
	// so it is taken at the lag within ±AutoLags where its absolute value
	// is largest (BestLag): a cause a few scrapes ahead still correlates.
	CorrelationAuto CorrelationMethod = "auto"
	// CorrelationPearson is the linear correlation of the raw values.
	CorrelationPearson CorrelationMethod = "pearson"
	// CorrelationSpearman is the rank correlation of the raw values, the
	// Pearson correlation of their ranks (ties get their average rank).
	CorrelationSpearman CorrelationMethod = "spearman"
)

// autoLagDivisor sets CorrelationAuto's lag search: ±1/30 of the window,
// 12 scrapes of a 6-hour window of minutely samples. In the correlation
// benchmark (docs/analytics.md) it raised the recall of lagged copies of
// a cause in the top 5 from 64% to 90% (6-hour windows) and from 79% to
// 87% (3-day windows); ±1/100 gave 76% and 90%, ±1/15 87% and 85%.
const autoLagDivisor = 30

// AutoLags is the largest lag, in grid steps, that CorrelationAuto tries
// for n changes.
func AutoLags(n int) int { return n / autoLagDivisor }

// minPairs is the least number of complete pairs a correlation needs.
const minPairs = 3

// Pearson returns the linear correlation coefficient of x and y over the
// pairs where neither value is missing, in [-1, 1], or NaN when either side
// is constant over those pairs. It returns ErrInvalidArgument when the
// lengths differ and ErrTooFewSamples for fewer than 3 complete pairs.
func Pearson(x, y []float64) (float64, error) {
	px, py, err := pairs(x, y)
	if err != nil {
		return 0, err
	}
	return pearson(px, py), nil
}

// Spearman returns the rank correlation of x and y over the pairs where
// neither value is missing: Pearson's coefficient of their ranks, tied
// values sharing the average of the ranks they span. Errors and NaN as for
// Pearson.
func Spearman(x, y []float64) (float64, error) {
	px, py, err := pairs(x, y)
	if err != nil {
		return 0, err
	}
	return pearson(ranks(px), ranks(py)), nil
}

// Prewhiten returns the "auto" preprocessing of a regular series: its first
// differences (removing level and linear trend; len(vs)-1 values) minus the
// median difference at each phase of the seasonal period, which removes the
// cycle. period 0 means DetectPeriod(vs), a negative period means none.
// Missing values give missing differences, which are ignored by the
// medians.
func Prewhiten(vs []float64, period int) []float64 {
	if len(vs) < 2 {
		return nil
	}
	if period == 0 {
		period = DetectPeriod(vs)
	}
	d := make([]float64, len(vs)-1)
	for i := range d {
		d[i] = vs[i+1] - vs[i]
	}
	if period < 2 {
		return d
	}
	buf := make([]float64, 0, len(d)/period+1)
	for j := range period {
		buf = buf[:0]
		for i := j; i < len(d); i += period {
			buf = append(buf, d[i])
		}
		m := Median(buf)
		if math.IsNaN(m) {
			continue
		}
		for i := j; i < len(d); i += period {
			d[i] -= m
		}
	}
	return d
}

// BestLag searches lags L in [-maxLag, maxLag] for the one that maximises
// |Pearson(target[t], candidate[t-L])| and returns it with that correlation.
// A positive L means the candidate moves first: its value L steps earlier
// matches the target now. maxLag is reduced so that every lag keeps at
// least half the series (and 3 pairs) in the overlap; ties go to the
// smaller |L|, then to the positive one. When every lag is undefined
// (constant data) it returns lag 0 and NaN. It returns ErrInvalidArgument
// for a negative maxLag or different lengths, ErrTooFewSamples for fewer
// than 3 values.
func BestLag(target, candidate []float64, maxLag int) (lag int, r float64, err error) {
	n := len(target)
	if n != len(candidate) {
		return 0, 0, fmt.Errorf("%w: target has %d values, candidate %d", ErrInvalidArgument, n, len(candidate))
	}
	if maxLag < 0 {
		return 0, 0, fmt.Errorf("%w: negative max lag %d", ErrInvalidArgument, maxLag)
	}
	if n < minPairs {
		return 0, 0, fmt.Errorf("%w: lag search needs %d values, got %d", ErrTooFewSamples, minPairs, n)
	}
	maxLag = min(maxLag, n-max(minPairs, (n+1)/2))
	best, bestR := 0, math.NaN()
	for k := 0; k <= 2*maxLag; k++ {
		l := (k + 1) / 2 // 0, 1, -1, 2, -2, ...
		if k%2 == 0 {
			l = -l
		}
		var c float64
		if l >= 0 {
			c, err = Pearson(target[l:], candidate[:n-l])
		} else {
			c, err = Pearson(target[:n+l], candidate[-l:])
		}
		if err != nil || math.IsNaN(c) {
			continue // too many missing pairs or constant at this lag
		}
		if math.IsNaN(bestR) || math.Abs(c) > math.Abs(bestR) {
			best, bestR = l, c
		}
	}
	return best, bestR, nil
}

// Correlate measures how two raw series move together, over the time both
// cover on a common grid (see Align). Grid points missing in either series
// are skipped; no values are interpolated.
func Correlate(ta []int64, va []float64, tb []int64, vb []float64, method CorrelationMethod) (float64, error) {
	a, b, err := Align(ta, va, tb, vb, 0)
	if err != nil {
		return 0, err
	}
	switch method {
	case "", CorrelationAuto:
		za, zb := Prewhiten(a.Values, 0), Prewhiten(b.Values, 0)
		if _, r, err := BestLag(za, zb, AutoLags(len(za))); err == nil && !math.IsNaN(r) {
			return r, nil
		}
		return Pearson(za, zb) // the error, or NaN for constant data
	case CorrelationPearson:
		return Pearson(a.Values, b.Values)
	case CorrelationSpearman:
		return Spearman(a.Values, b.Values)
	}
	return 0, fmt.Errorf("%w: correlation method %q", ErrUnknownMethod, method)
}

// Lag is the result of CorrelationLag.
type Lag struct {
	Lag         time.Duration // positive when the candidate moves first
	Steps       int           // Lag in grid steps
	Correlation float64       // the correlation at that lag, NaN if none was defined
}

// CorrelationLag finds the lag within ±maxLag at which candidate best
// explains target: both are put on a common grid (Align), preprocessed with
// Prewhiten as CorrelationAuto does, and searched with BestLag. maxLag is
// rounded down to whole steps.
func CorrelationLag(tt []int64, vt []float64, tc []int64, vc []float64, maxLag time.Duration) (Lag, error) {
	if maxLag < 0 {
		return Lag{}, fmt.Errorf("%w: negative max lag %v", ErrInvalidArgument, maxLag)
	}
	a, b, err := Align(tt, vt, tc, vc, 0)
	if err != nil {
		return Lag{}, err
	}
	steps := int(maxLag.Milliseconds() / a.Step)
	l, r, err := BestLag(Prewhiten(a.Values, 0), Prewhiten(b.Values, 0), steps)
	if err != nil {
		return Lag{}, err
	}
	return Lag{Lag: a.Span(l), Steps: l, Correlation: r}, nil
}

// pairs returns the pairs of x and y where neither value is missing.
func pairs(x, y []float64) (px, py []float64, err error) {
	if len(x) != len(y) {
		return nil, nil, fmt.Errorf("%w: %d values against %d", ErrInvalidArgument, len(x), len(y))
	}
	px = make([]float64, 0, len(x))
	py = make([]float64, 0, len(y))
	for i := range x {
		if !IsMissing(x[i]) && !IsMissing(y[i]) {
			px = append(px, x[i])
			py = append(py, y[i])
		}
	}
	if len(px) < minPairs {
		return nil, nil, fmt.Errorf("%w: correlation needs %d complete pairs, got %d", ErrTooFewSamples, minPairs, len(px))
	}
	return px, py, nil
}

// pearson computes the coefficient on complete pairs with two-pass sums,
// NaN when a side has no variance. The result is clamped to [-1, 1]
// against rounding.
func pearson(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(len(x))
	my /= float64(len(y))
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return max(-1, min(1, sxy/math.Sqrt(sxx*syy)))
}

// ranks returns the 1-based rank of each value, ties sharing the mean of
// the ranks they occupy.
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && x[idx[j]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean of ranks i+1 .. j
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}
