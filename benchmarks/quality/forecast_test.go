package quality

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/analytics"
)

// The forecasting backtest: rolling origins over regular series. At each
// origin T every method forecasts the next H steps from the window
// (T-W, T] through the engine, as a range query over (T, T+H·step] of
//
//	forecast(x[W] @ T, time() - T, method)
//	forecast_band(x[W] @ T, time() - T, level, method)
//
// so one query draws a method's whole path for every series of a set.
// Each path is scored against the actual values by sMAPE and MASE
// (analytics.SMAPE and analytics.MASE; MASE's scale is the in-sample
// seasonal naive error of the window at the set's period, or the naive
// error where there is none), and every band by whether it holds the
// actual value.

var forecastMethods = []string{"linear", "holt", "holt_winters", "seasonal_naive", "theta", "auto"}

var forecastLevels = []float64{0.8, 0.95}

// fcSeries is one series of a backtest set, regular or not.
type fcSeries struct {
	id string
	ts []int64
	vs []float64
}

// fcSet is a group of series backtested together.
type fcSet struct {
	name    string
	about   string
	series  []fcSeries
	step    int64   // sampling interval, ms
	window  int64   // W, ms
	horizon int     // H, in steps
	period  int     // MASE's seasonal period in steps (1: naive)
	origins []int64 // T, ms, each a sample time of every series
}

// fcPath names one forecast path: a series and an origin.
type fcPath struct {
	id string
	T  int64
}

// fcScore accumulates one method's errors on one set.
type fcScore struct {
	smape, mase map[fcPath]float64 // per path
	inside      []int              // per level: actual values inside the band
	banded      []int              // per level: actual values with a band
	paths       int                // origins × series with a forecast
	attempts    int                // origins × series asked
}

func (s *fcScore) coverage(k int) float64 {
	if s.banded[k] == 0 {
		return math.NaN()
	}
	return 100 * float64(s.inside[k]) / float64(s.banded[k])
}

// mean returns the mean of the finite values of xs over the paths in
// only, or over all when only is nil.
func mean(xs map[fcPath]float64, only map[fcPath]float64) float64 {
	var sum float64
	n := 0
	for p, x := range xs {
		if _, ok := only[p]; only != nil && !ok {
			continue
		}
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			sum += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// backtest runs every method on every origin of the set.
func (e *env) backtest(set fcSet) map[string]*fcScore {
	out := map[string]*fcScore{}
	byID := map[string]fcSeries{}
	for _, s := range set.series {
		byID[s.id] = s
	}
	sel := fmt.Sprintf(`fc{set=%q}`, set.name)
	rng := promDuration(set.window)
	for _, m := range forecastMethods {
		sc := newFcScore()
		out[m] = sc
		for _, T := range set.origins {
			at := strconv.FormatInt(T/1000, 10)
			start, end := T+set.step, T+int64(set.horizon)*set.step
			point := e.rangeQuery(fmt.Sprintf(`forecast(%s[%s] @ %s, time() - %s, %q)`, sel, rng, at, at, m), start, end, set.step)
			sc.attempts += len(set.series)
			for _, p := range point {
				s := byID[p.Metric.Get("id")]
				actual, predicted := s.future(p.Floats)
				if len(actual) == 0 {
					continue
				}
				sc.paths++
				train := s.window(T, set.window)
				path := fcPath{s.id, T}
				if v, err := analytics.SMAPE(actual, predicted); err == nil {
					sc.smape[path] = v
				}
				period := set.period
				if len(train) <= period {
					period = 1
				}
				if v, err := analytics.MASE(actual, predicted, train, period); err == nil {
					sc.mase[path] = v
				}
			}
			for k, level := range forecastLevels {
				band := e.rangeQuery(fmt.Sprintf(`forecast_band(%s[%s] @ %s, time() - %s, %g, %q)`, sel, rng, at, at, level, m), start, end, set.step)
				lower := map[string][]promql.FPoint{}
				for _, b := range band {
					if b.Metric.Get("band") == "lower" {
						lower[b.Metric.Get("id")] = b.Floats
					}
				}
				for _, b := range band {
					if b.Metric.Get("band") != "upper" {
						continue
					}
					s := byID[b.Metric.Get("id")]
					lo := map[int64]float64{}
					for _, p := range lower[s.id] {
						lo[p.T] = p.F
					}
					for _, p := range b.Floats {
						v, ok := s.at(p.T)
						l, okl := lo[p.T]
						if !ok || !okl {
							continue
						}
						sc.banded[k]++
						if l <= v && v <= p.F {
							sc.inside[k]++
						}
					}
				}
			}
		}
	}
	return out
}

// at returns the series' value at t, if it has one.
func (s fcSeries) at(t int64) (float64, bool) {
	i, ok := slices.BinarySearch(s.ts, t)
	if !ok {
		return 0, false
	}
	return s.vs[i], true
}

// window returns the values in (T-w, T].
func (s fcSeries) window(T, w int64) []float64 {
	lo, _ := slices.BinarySearch(s.ts, T-w+1)
	hi, _ := slices.BinarySearch(s.ts, T+1)
	return s.vs[lo:hi]
}

// future pairs the forecast points with the actual values at their times.
func (s fcSeries) future(pts []promql.FPoint) (actual, predicted []float64) {
	for _, p := range pts {
		if v, ok := s.at(p.T); ok {
			actual = append(actual, v)
			predicted = append(predicted, p.F)
		}
	}
	return actual, predicted
}

func (set fcSet) samples() []almanac.SeriesSamples {
	out := make([]almanac.SeriesSamples, 0, len(set.series))
	for _, s := range set.series {
		ss := almanac.SeriesSamples{Labels: labels.FromStrings("__name__", "fc", "set", set.name, "id", s.id)}
		for i, t := range s.ts {
			ss.Samples = append(ss.Samples, almanac.Sample{T: t, V: s.vs[i]})
		}
		out = append(out, ss)
	}
	return out
}

// Generated seasonal sets. Every series has a daily shape (two
// harmonics, random phase), AR(1) noise (φ 0.5) and its own level,
// amplitude and noise; the sets differ in sampling, trend, a weekly
// pattern and whether the cycle scales with the level.
const (
	genSeries  = 10
	genOrigins = 12
	genT0      = int64(1_704_067_200_000) // 2024-01-01T00:00:00Z
	day        = int64(24 * time.Hour / time.Millisecond)
)

type genSpec struct {
	name, about    string
	step           int64 // ms
	window         int64 // ms
	horizon        int   // steps
	period         int   // steps
	trend          bool
	weekly         bool
	multiplicative bool
}

var genSpecs = []genSpec{
	{name: "daily", about: "15 min samples, daily cycle, AR(1) noise", step: 15 * 60_000, window: 7 * day, horizon: 96, period: 96},
	{name: "daily+trend", about: "the same with a trend (±20–50% of the level over the month)", step: 15 * 60_000, window: 7 * day, horizon: 96, period: 96, trend: true},
	{name: "weekly+trend", about: "hourly samples, daily cycle damped to 40% on weekends, trend", step: 60 * 60_000, window: 28 * day, horizon: 48, period: 168, trend: true, weekly: true},
	{name: "multiplicative", about: "15 min samples, a daily cycle proportional to a trending level", step: 15 * 60_000, window: 7 * day, horizon: 96, period: 96, trend: true, multiplicative: true},
}

func generateSet(r *rand.Rand, g genSpec) fcSet {
	spacing := day
	total := g.window + int64(genOrigins)*spacing + int64(g.horizon)*g.step
	n := int(total / g.step)
	set := fcSet{name: g.name, about: g.about, step: g.step, window: g.window, horizon: g.horizon, period: g.period}
	for k := range genOrigins {
		set.origins = append(set.origins, genT0+g.window+int64(k)*spacing)
	}
	for s := range genSeries {
		level := 50 + 100*r.Float64()
		amp := level * (0.2 + 0.2*r.Float64())
		sigma := amp * (0.05 + 0.15*r.Float64())
		phase := r.Float64()
		slope := 0.0
		if g.trend {
			sign := float64(1 - 2*r.IntN(2))
			slope = sign * level * (0.2 + 0.3*r.Float64()) / float64(30*day)
		}
		fs := fcSeries{id: fmt.Sprint(s)}
		var ar float64
		for i := range n {
			t := genT0 + int64(i)*g.step
			tod := float64(t%day)/float64(day) + phase
			shape := math.Sin(2*math.Pi*tod) + 0.3*math.Sin(4*math.Pi*tod+1)
			if g.weekly && (t/day+3)%7 >= 5 { // 2024-01-01 is a Monday
				shape *= 0.4
			}
			lv := level + slope*float64(t-genT0)
			ar = 0.5*ar + r.NormFloat64()*sigma*math.Sqrt(1-0.25)
			v := lv + amp*shape + ar
			if g.multiplicative {
				v = lv*(1+0.3*shape) + ar
			}
			fs.ts = append(fs.ts, t)
			fs.vs = append(fs.vs, v)
		}
		set.series = append(set.series, fs)
	}
	return set
}

// nabForecastSets makes each NAB file a backtest set of one series:
// windows of 4 days, forecasts 12 steps ahead at the file's median
// interval, from origins spread evenly over the rows after the first
// window.
func nabForecastSets(files []nabFile, origins int) []fcSet {
	out := make([]fcSet, 0, len(files))
	for k, f := range files {
		ss := nabSeries(files[k : k+1])[0]
		fs := fcSeries{id: f.name}
		for _, s := range ss.Samples {
			fs.ts = append(fs.ts, s.T)
			fs.vs = append(fs.vs, s.V)
		}
		set := fcSet{name: "nab/" + f.name, series: []fcSeries{fs}, step: f.interval(), window: 4 * day, horizon: 12, period: 1}
		first, _ := slices.BinarySearch(fs.ts, fs.ts[0]+set.window)
		last, _ := slices.BinarySearch(fs.ts, fs.ts[len(fs.ts)-1]-int64(set.horizon)*set.step+1)
		for j := range origins {
			if i := first + (last-1-first)*j/max(1, origins-1); i >= first && i < last {
				set.origins = append(set.origins, fs.ts[i])
			}
		}
		set.origins = slices.Compact(set.origins)
		out = append(out, set)
	}
	return out
}

// merge adds o's counts to s.
func (s *fcScore) merge(o *fcScore) {
	maps.Copy(s.smape, o.smape)
	maps.Copy(s.mase, o.mase)
	for k := range s.inside {
		s.inside[k] += o.inside[k]
		s.banded[k] += o.banded[k]
	}
	s.paths += o.paths
	s.attempts += o.attempts
}

func newFcScore() *fcScore {
	return &fcScore{
		smape: map[fcPath]float64{}, mase: map[fcPath]float64{},
		inside: make([]int, len(forecastLevels)), banded: make([]int, len(forecastLevels)),
	}
}

// TestForecast measures forecast and forecast_band.
func TestForecast(t *testing.T) {
	needQuality(t)
	t.Logf("seed %d (replay with -quality.seed=%d)", *seedFlag, *seedFlag)
	r := rand.New(rand.NewPCG(*seedFlag, 0xf0))
	e := newEnv(t)
	type row struct {
		name string
		res  map[string]*fcScore
	}
	var rows []row
	sets := &table{
		title:  "#### Forecast backtest sets",
		header: []string{"set", "series", "sampling", "window W", "horizon H", "origins", "MASE period"},
	}
	for _, g := range genSpecs {
		set := generateSet(r, g)
		sets.add(set.name+": "+set.about, fmt.Sprint(len(set.series)), promDuration(set.step),
			promDuration(set.window), fmt.Sprintf("%d steps", set.horizon), fmt.Sprintf("%d, a day apart", len(set.origins)), fmt.Sprintf("%d steps", set.period))
		appendAll(t, e.db, set.samples())
		start := time.Now()
		rows = append(rows, row{set.name, e.backtest(set)})
		t.Logf("%s: %v", set.name, time.Since(start).Round(time.Millisecond))
	}

	files := loadNAB(t, *nabDirFlag)
	sets.add("NAB: every file of the corpus", "58", "the file's median interval", "4d", "12 steps", fmt.Sprintf("up to %d per file, evenly spread (-quality.subset)", *subsetFlag), "1 (naive)")
	start := time.Now()
	byGroup := map[string]map[string]*fcScore{}
	var groups []string
	all := map[string]*fcScore{}
	for _, m := range forecastMethods {
		all[m] = newFcScore()
	}
	for _, set := range nabForecastSets(files, *subsetFlag) {
		appendAll(t, e.db, set.samples())
		res := e.backtest(set)
		g := "NAB " + strings.SplitN(strings.TrimPrefix(set.name, "nab/"), "/", 2)[0]
		if _, ok := byGroup[g]; !ok {
			byGroup[g] = map[string]*fcScore{}
			for _, m := range forecastMethods {
				byGroup[g][m] = newFcScore()
			}
			groups = append(groups, g)
		}
		for _, m := range forecastMethods {
			byGroup[g][m].merge(res[m])
			all[m].merge(res[m])
		}
	}
	t.Logf("NAB: %v", time.Since(start).Round(time.Millisecond))
	slices.Sort(groups)
	for _, g := range groups {
		rows = append(rows, row{g, byGroup[g]})
	}
	rows = append(rows, row{"NAB, all 58 files", all})

	acc := &table{
		title:  "#### Forecast accuracy: mean sMAPE (%) / mean MASE",
		header: append([]string{"set"}, forecastMethods...),
	}
	pair := &table{
		title:  "#### auto against seasonal_naive on the same paths (those where seasonal_naive has a forecast): sMAPE (%) / MASE",
		header: []string{"set", "paths", "auto", "seasonal_naive", "auto is"},
	}
	cov := &table{
		title:  "#### Coverage of forecast_band: % of actual values inside the 80% / 95% band",
		header: append([]string{"set"}, forecastMethods...),
	}
	for _, r := range rows {
		arow := []string{r.name}
		crow := []string{r.name}
		for _, m := range forecastMethods {
			s := r.res[m]
			cell := fmt.Sprintf("%s / %s", f1(mean(s.smape, nil)), f2(mean(s.mase, nil)))
			if s.paths < s.attempts {
				cell += fmt.Sprintf(" (%d%%)", 100*s.paths/max(1, s.attempts))
			}
			arow = append(arow, cell)
			crow = append(crow, fmt.Sprintf("%s / %s", f1(s.coverage(0)), f1(s.coverage(1))))
		}
		acc.add(arow...)
		cov.add(crow...)
		// auto against seasonal naive on the paths both forecast.
		auto, sn := r.res["auto"], r.res["seasonal_naive"]
		both := map[fcPath]float64{}
		for p := range sn.mase {
			if _, ok := auto.mase[p]; ok {
				both[p] = 0
			}
		}
		verdict := "better"
		if !(mean(auto.mase, both) < mean(sn.mase, both) && mean(auto.smape, both) < mean(sn.smape, both)) {
			verdict = "**not better**"
		}
		if len(both) == 0 {
			verdict = "no seasonal paths"
		}
		pair.add(r.name, fmt.Sprint(len(both)),
			fmt.Sprintf("%s / %s", f1(mean(auto.smape, both)), f2(mean(auto.mase, both))),
			fmt.Sprintf("%s / %s", f1(mean(sn.smape, both)), f2(mean(sn.mase, both))), verdict)
	}
	report(t, sets, acc, pair, cov)
}
