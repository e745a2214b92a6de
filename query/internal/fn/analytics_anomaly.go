package fn

import (
	"cmp"
	"math"
	"slices"

	"github.com/almanacdb/almanac/analytics"
)

// anomaly_score and anomaly_band: the newest point of each step's window
// against what the points before it (the history) predict, the model of
// analytics.AssessLast evaluated so that a range query slides instead of
// starting over at every step.
//
//   - zscore: mean and sample standard deviation of the history, from
//     running sums.
//   - mad: median and MAD of the history (the scaled mean absolute
//     deviation when the MAD is 0), from a sorted window that slides.
//   - seasonal: the history's seasonal profile (per-phase medians of the
//     detrended values at the period analytics.DetectPeriod finds; none
//     when it finds none) plus a trend line through the deseasonalised
//     history's last 2·period+1 points (a quarter of the history without
//     a period), extrapolated to the newest point. The scale is the
//     robust spread of the same one-step prediction made at each history
//     point from the trend-line points before it, with the seasonal value
//     of a point inside the fitted history taken from the other cycles
//     only (leave one out), so that a point does not predict itself.
//     Period and profile are refitted as refit says, the trend line and
//     the scale are the step's own.
//   - auto: seasonal when the history has a period, mad otherwise.
//   - novelty: the history's value nearest to the newest is the
//     expectation, and the scale is the standard error range/(6·√n) of
//     the n history values (range/6 estimates their standard deviation).
//     A value the window has seen scores 0; one beyond every value seen
//     scores more the longer the history that never held it. The band is
//     [min, max] of the history widened by k·scale on each side. It reads
//     the samples themselves, not the grid: an interpolated value was
//     never seen, and a gap does not cut the history short.
//
// The score is |newest - expected| / scale, 0 when the deviation is
// below 1e-9 of the values' magnitude (a constant series scores 0), and
// the band expected ∓ k·scale.

// minHistory is the least number of points before the newest that a
// score needs, as in analytics.
const minHistory = 3

// relFloor is analytics' noise floor relative to the magnitude of the
// values: smaller deviations count as none and no scale is smaller.
const relFloor = 1e-9

// assessment is how unusual a step's newest value is. The band at k is
// [lo - k·sigma, hi + k·sigma]; lo and hi are the expectation except for
// novelty. A NaN score means the window could not be scored.
type assessment struct {
	score, expected, sigma float64
	lo, hi                 float64
}

func anomalyScore(c *RangeCall) {
	assessSteps(c, "anomaly_score", func(i int, a assessment) { c.Out[i] = a.score })
}

func anomalyBand(c *RangeCall, lower, upper []float64) {
	ks := c.Scalars[0]
	assessSteps(c, "anomaly_band", func(i int, a assessment) {
		k := ks[i]
		if !(k > 0) || math.IsInf(k, 0) {
			return
		}
		lower[i], upper[i] = a.lo-k*a.sigma, a.hi+k*a.sigma
	})
}

// assessSteps calls emit for every step whose window can be scored.
func assessSteps(c *RangeCall, fname string, emit func(i int, a assessment)) {
	method := c.method(fname)
	if method == "" {
		return
	}
	if method == "novelty" {
		noveltySteps(c, emit)
		return
	}
	g, ok := newSeriesGrid(c.In, c.Range)
	if !ok {
		return
	}
	m := &anomalyModel{g: g, method: method}
	for i, end := range c.Ends {
		a, k, ok := g.at(end, c.Range)
		if !ok || k-a < minHistory {
			continue
		}
		if method == "auto" || method == "seasonal" {
			if m.rf.due(end, c.Range, k-a+1) || a < m.fitA {
				m.fit(a, k)
				m.rf.mark(end, k-a+1)
			}
		}
		if sc := m.assess(a, k); !math.IsNaN(sc.score) {
			emit(i, sc)
		}
	}
}

// anomalyModel scores the newest point of successive windows of one
// series.
type anomalyModel struct {
	g      *seriesGrid
	method string // as requested
	rf     refit
	set    slidingSet // values (zscore, mad) or residuals (seasonal) of the history

	// The seasonal model of the last fit; seasonal is false when auto
	// found no period and scores with mad.
	seasonal   bool
	period     int
	profile    []float64 // seasonal value by phase j mod period; nil without a period
	fitA, fitK int       // the history fitted on, grid points [fitA, fitK)
	loo        []float64 // leave-one-out seasonal values of that history, from fitA
	wt         int       // points of the trend line
	// Running sums from fitA over y = v - seasonal - ref, extended as
	// windows advance: p0[j] = Σ y, p1[j] = Σ (i-fitA)·y and pn[j] the
	// number of missing points, over grid points fitA..fitA+j-1.
	ref        float64
	p0, p1, pn []float64
	resid      []float64 // residual of grid point fitA+j (NaN if none)
	scratch    sortedWindow
}

// fit detects the period of the history v[a:k] and fits the seasonal
// profile (auto and seasonal).
func (m *anomalyModel) fit(a, k int) {
	hist := m.g.v[a:k]
	p := analytics.DetectPeriod(hist)
	m.set.invalidate()
	if p == 0 && m.method == "auto" {
		m.seasonal = false
		return
	}
	m.seasonal, m.period, m.fitA, m.fitK = true, p, a, k
	m.profile, m.loo = nil, nil
	if p >= 2 {
		m.profile, m.loo = seasonalProfile(hist, a, p)
		m.wt = 2*p + 1
	} else {
		m.wt = max(5, len(hist)/4) | 1
	}
	m.wt = min(m.wt, len(hist))
	m.ref = hist[len(hist)-1]
	m.p0, m.p1, m.pn = append(m.p0[:0], 0), append(m.p1[:0], 0), append(m.pn[:0], 0)
	m.resid = m.resid[:0]
}

// seasonalAt is the profile's value at grid point j.
func (m *anomalyModel) seasonalAt(j int) float64 {
	if m.profile == nil {
		return 0
	}
	return m.profile[j%m.period]
}

// extend computes the running sums and residuals up to grid point end
// (exclusive).
func (m *anomalyModel) extend(end int) {
	v := m.g.v
	for j := m.fitA + len(m.p0) - 1; j < end; j++ {
		y, missing := v[j]-m.seasonalAt(j)-m.ref, 0.0
		if math.IsNaN(y) {
			y, missing = 0, 1
		}
		n := len(m.p0) - 1
		m.p0 = append(m.p0, m.p0[n]+y)
		m.p1 = append(m.p1, m.p1[n]+float64(n)*y)
		m.pn = append(m.pn, m.pn[n]+missing)
	}
	for j := m.fitA + len(m.resid); j < end; j++ {
		r := math.NaN()
		if o := j - m.fitA; o >= m.wt && m.pn[o+1] == m.pn[o-m.wt] {
			s := m.seasonalAt(j)
			if j < m.fitK && m.loo != nil {
				s = m.loo[o]
			}
			r = v[j] - s - m.trend(j-m.wt, j, j)
		}
		m.resid = append(m.resid, r)
	}
}

// trend evaluates at grid point x the least-squares line through the
// deseasonalised values of grid points [l, r), r-l >= 1.
func (m *anomalyModel) trend(l, r, x int) float64 {
	ol, or := l-m.fitA, r-m.fitA
	n := float64(or - ol)
	sy := m.p0[or] - m.p0[ol]
	if or-ol == 1 {
		return m.ref + sy
	}
	jbar := float64(ol+or-1) / 2
	suy := (m.p1[or] - m.p1[ol]) - jbar*sy
	suu := n * (n*n - 1) / 12
	return m.ref + sy/n + suy/suu*(float64(x-m.fitA)-jbar)
}

// assess scores v[k] against the history v[a:k], which holds at least
// minHistory points.
func (m *anomalyModel) assess(a, k int) assessment {
	v := m.g.v
	x := v[k]
	var expected, sigma float64
	switch {
	case m.method == "zscore":
		m.set.moveTo(v, a, k)
		expected, sigma = m.set.meanStdDev()
	case m.seasonal:
		m.extend(k + 1)
		l := max(a, k-m.wt)
		m.set.moveTo(m.resid, min(a+m.wt, k)-m.fitA, k-m.fitA)
		if k-l < 2 || len(m.set.s) < minHistory {
			// Too short a history for the model since the fit (a gap
			// cut the window): score against its median.
			m.scratch.s = append(m.scratch.s[:0], v[a:k]...)
			slices.Sort(m.scratch.s)
			expected, sigma = m.scratch.robust()
			break
		}
		expected = m.trend(l, k, k) + m.seasonalAt(k)
		_, sigma = m.set.robust()
	default: // mad
		m.set.moveTo(v, a, k)
		expected, sigma = m.set.robust()
	}
	if m.method == "auto" && len(m.set.s) > 1 {
		// auto scales by the larger of the robust and the classical
		// spread: on quantized, bursty or exactly repeating series the
		// robust spread is tiny and ordinary moves would score in the
		// thousands, so one alert threshold could not serve all series.
		_, sd := m.set.meanStdDev()
		sigma = max(sigma, sd)
	}
	return score(x, expected, sigma)
}

// score applies the noise floor to the deviation and the scale.
func score(x, expected, sigma float64) assessment {
	floor := relFloor * max(math.Abs(x), math.Abs(expected))
	if !(sigma > floor) { // also catches NaN
		sigma = floor
	}
	a := assessment{expected: expected, sigma: sigma, lo: expected, hi: expected}
	if dev := math.Abs(x - expected); dev > floor {
		a.score = dev / sigma
	}
	return a
}

// noveltySteps is assessSteps for novelty: a sorted window of the
// history's samples slides over the steps.
func noveltySteps(c *RangeCall, emit func(i int, a assessment)) {
	var ts []int64
	var vs []float64
	for i, v := range c.In.V {
		if !analytics.IsMissing(v) {
			ts, vs = append(ts, c.In.T[i]), append(vs, v)
		}
	}
	var w window
	var set slidingSet
	for i, end := range c.Ends {
		lo, hi := w.at(ts, end-c.Range, end)
		if hi-lo <= minHistory {
			continue
		}
		set.moveTo(vs, lo, hi-1)
		if a := novelty(&set.sortedWindow, vs[hi-1]); !math.IsNaN(a.score) {
			emit(i, a)
		}
	}
}

// novelty scores x against the sorted history h (see the file's comment);
// NaN when h holds fewer than minHistory values.
func novelty(h *sortedWindow, x float64) assessment {
	s := h.s
	n := len(s)
	if n < minHistory {
		return assessment{score: math.NaN()}
	}
	i, _ := slices.BinarySearch(s, x)
	nearest := s[min(i, n-1)]
	if i > 0 && (i == n || x-s[i-1] < s[i]-x) {
		nearest = s[i-1]
	}
	a := score(x, nearest, (s[n-1]-s[0])/(6*math.Sqrt(float64(n))))
	a.lo, a.hi = s[0], s[n-1]
	return a
}

// seasonalProfile fits the seasonal part of hist, whose first point is
// grid point a, at period p: per-phase medians of the values less a
// least-squares line, centred to sum to zero over a cycle, refined once
// by fitting the line to the deseasonalised values. Phases are grid
// points mod p, so the profile applies to any window of the same grid.
// loo[j] is the seasonal value of hist[j] from the other cycles only
// (NaN when its phase has no other), for honest residuals.
func seasonalProfile(hist []float64, a, p int) (profile, loo []float64) {
	n := len(hist)
	d := make([]float64, n)
	profile = make([]float64, p)
	detrend := func(season []float64) {
		des := d // the deseasonalised values, then the residuals of their line
		for j, x := range hist {
			des[j] = x - season[(a+j)%p]
		}
		b0, b1 := analytics.LinearFit(des)
		for j, x := range hist {
			d[j] = x - (b0 + b1*float64(j))
		}
	}
	type member struct {
		v float64
		j int
	}
	var members []member
	phaseMedians := func() (shift float64) {
		for ph := range p {
			members = members[:0]
			for j := ((ph-a)%p + p) % p; j < n; j += p {
				members = append(members, member{d[j], j})
			}
			slices.SortFunc(members, func(x, y member) int { return cmp.Compare(x.v, y.v) })
			if c := len(members); c > 0 {
				profile[ph] = members[(c-1)/2].v + 0.5*(members[c/2].v-members[(c-1)/2].v)
			}
			shift += profile[ph]
		}
		shift /= float64(p)
		return shift
	}
	zero := make([]float64, p)
	detrend(zero)
	shift := phaseMedians()
	for ph := range profile {
		profile[ph] -= shift
	}
	detrend(profile)
	shift = phaseMedians()
	loo = make([]float64, n)
	for ph := range p {
		members = members[:0]
		for j := ((ph-a)%p + p) % p; j < n; j += p {
			members = append(members, member{d[j], j})
		}
		slices.SortFunc(members, func(x, y member) int { return cmp.Compare(x.v, y.v) })
		c := len(members) - 1 // the others
		for r, mem := range members {
			if c < 1 {
				loo[mem.j] = math.NaN()
				continue
			}
			at := func(q int) float64 { // rank q among the others
				if q >= r {
					q++
				}
				return members[q].v
			}
			lo, hi := at((c-1)/2), at(c/2)
			loo[mem.j] = lo + 0.5*(hi-lo) - shift
		}
	}
	for ph := range profile {
		profile[ph] -= shift
	}
	return profile, loo
}
