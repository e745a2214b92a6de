package fn

import (
	"flag"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac/analytics"
)

var analyticsSeed = flag.Uint64("analytics-seed", 0, "seed of the randomised analytics tests (0: each test's default)")

func analyticsRand(t testing.TB, def uint64) *rand.Rand {
	t.Helper()
	seed := def
	if *analyticsSeed != 0 {
		seed = *analyticsSeed
	}
	t.Logf("seed %d (replay with -analytics-seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, 0xa2))
}

// genSeries returns n samples every step ms from t0 of
// level + amp·sin(2πi/period) + slope·i + noise.
func genSeries(r *rand.Rand, n int, step int64, level, amp float64, period int, slope, noise float64) Samples {
	s := Samples{Labels: labels.FromStrings("__name__", "x")}
	for i := range n {
		v := level + slope*float64(i) + noise*r.NormFloat64()
		if period > 0 {
			v += amp * math.Sin(2*math.Pi*float64(i)/float64(period))
		}
		s.T = append(s.T, 1_000_000+int64(i)*step)
		s.V = append(s.V, v)
	}
	return s
}

// window returns the samples of s in (end-rng, end].
func windowOf(s Samples, end, rng int64) (ts []int64, vs []float64) {
	lo, _ := slices.BinarySearch(s.T, end-rng+1)
	hi, _ := slices.BinarySearch(s.T, end+1)
	return s.T[lo:hi], s.V[lo:hi]
}

// ends returns n step ends every step ms, the last at the last sample.
func ends(s Samples, n int, step int64) []int64 {
	last := s.T[len(s.T)-1]
	e := make([]int64, n)
	for i := range e {
		e[i] = last - int64(n-1-i)*step
	}
	return e
}

func newCall(s Samples, es []int64, rng int64, scalars [][]float64, strs ...string) *RangeCall {
	return &RangeCall{Ends: es, Range: rng, In: s, Out: NewValues(len(es)), Scalars: scalars, Strings: strs}
}

func constScalar(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func near(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol*max(1, math.Abs(want))
}

// The methods without fitted structure (zscore, mad, novelty) slide over the
// windows and must agree with analytics.Assess on every window.
func TestAnalyticsAnomalyMatchesAssess(t *testing.T) {
	r := analyticsRand(t, 1)
	s := genSeries(r, 2000, 15_000, 50, 5, 240, 0.001, 1)
	s.V[1500] += 20 // a spike, and a run of equal values (MAD 0)
	for i := 600; i < 700; i++ {
		s.V[i] = 7
	}
	es := ends(s, 300, 15_000*5)
	const rng = 3600_000
	for _, method := range []string{"zscore", "mad", "novelty"} {
		c := newCall(s, es, rng, nil, method)
		anomalyScore(c)
		lower, upper := NewValues(len(es)), NewValues(len(es))
		bc := newCall(s, es, rng, [][]float64{constScalar(len(es), 3)}, method)
		anomalyBand(bc, lower, upper)
		for i, end := range es {
			ts, vs := windowOf(s, end, rng)
			a, err := analytics.Assess(ts, vs, analytics.AnomalyMethod(method))
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := a.Band(3)
			if !near(c.Out[i], a.Score, 1e-9) || !near(lower[i], lo, 1e-9) || !near(upper[i], hi, 1e-9) {
				t.Errorf("%s at step %d: score %v band [%v, %v], analytics %v [%v, %v]", method, i, c.Out[i], lower[i], upper[i], a.Score, lo, hi)
			}
		}
	}
}

// novelty reads the samples, not the grid: across a long gap, NaN
// values and a level shift it must agree with analytics.Assess on every
// window, and score the shift at its first sample only.
func TestAnalyticsNoveltyMatchesAssessAcrossGaps(t *testing.T) {
	r := analyticsRand(t, 3)
	s := genSeries(r, 3000, 15_000, 50, 5, 240, 0, 1)
	s.T = append(s.T[:1000:1000], s.T[1400:]...) // a 100-minute gap
	s.V = append(s.V[:1000:1000], s.V[1400:]...)
	s.V[1700] = math.NaN()
	for i := 2500; i < len(s.V); i++ {
		s.V[i] += 40 // a level shift to values never seen
	}
	es := ends(s, 900, 15_000*3)
	const rng = 6 * 3600_000
	c := newCall(s, es, rng, nil, "novelty")
	anomalyScore(c)
	lower, upper := NewValues(len(es)), NewValues(len(es))
	anomalyBand(newCall(s, es, rng, [][]float64{constScalar(len(es), 2)}, "novelty"), lower, upper)
	shift := s.T[2500]
	sawShift := false
	for i, end := range es {
		ts, vs := windowOf(s, end, rng)
		a, err := analytics.Assess(ts, vs, analytics.AnomalyNovelty)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := a.Band(2)
		if !near(c.Out[i], a.Score, 1e-9) || !near(lower[i], lo, 1e-9) || !near(upper[i], hi, 1e-9) {
			t.Fatalf("step %d: score %v band [%v, %v], analytics %v [%v, %v]", i, c.Out[i], lower[i], upper[i], a.Score, lo, hi)
		}
		sawShift = sawShift || end == shift
		switch {
		case end == shift && c.Out[i] < 100:
			t.Errorf("the first sample of the shift scores %v", c.Out[i])
		case end > shift+5*15_000 && c.Out[i] > 20:
			t.Errorf("%d samples into the shift the score is still %v", (end-shift)/15_000, c.Out[i])
		}
	}
	if !sawShift {
		t.Fatal("no step ends at the shift's first sample")
	}
}

// The seasonal model is analytics' in spirit, not to the bit: the
// profile is refitted every half range. It must find the same spike
// and give Gaussian noise scores of unit spread.
func TestAnalyticsSeasonalScores(t *testing.T) {
	r := analyticsRand(t, 2)
	s := genSeries(r, 3000, 60_000, 100, 10, 60, 0.002, 1)
	s.V[2900] += 12
	es := ends(s, 600, 60_000)
	const rng = 8 * 3600_000
	for _, method := range []string{"auto", "seasonal"} {
		c := newCall(s, es, rng, nil, method)
		anomalyScore(c)
		var scores []float64
		for i, end := range es {
			if end == s.T[2900] {
				if c.Out[i] < 6 {
					t.Errorf("%s: spike scores %v", method, c.Out[i])
				}
				ts, vs := windowOf(s, end, rng)
				a, _ := analytics.Assess(ts, vs, analytics.AnomalySeasonal)
				t.Logf("%s: spike scores %v, analytics %v", method, c.Out[i], a.Score)
				continue
			}
			if end < s.T[2900] || end > s.T[2900]+3600_000 {
				scores = append(scores, c.Out[i])
			}
		}
		// An instant query fits on its own window; the range query's
		// score differs by the noise of estimating the profile.
		var diffs []float64
		for i := 0; i < len(es); i += 7 {
			ic := newCall(s, es[i:i+1], rng, nil, method)
			anomalyScore(ic)
			diffs = append(diffs, math.Abs(ic.Out[0]-c.Out[i]))
		}
		if med := analytics.Median(diffs); med > 0.3 {
			t.Errorf("%s: range and instant scores differ by %v (median), want < 0.3", method, med)
		}
		// |N(0,1)| has median 0.674 and 99th percentile 2.58.
		med, p99 := analytics.Quantile(scores, 0.5), analytics.Quantile(scores, 0.99)
		if med < 0.5 || med > 0.9 || p99 > 3.5 {
			t.Errorf("%s: noise scores median %v, 99th percentile %v; want about 0.67 and 2.6", method, med, p99)
		}
	}
}

func TestAnalyticsForecastMatches(t *testing.T) {
	r := analyticsRand(t, 3)
	s := genSeries(r, 1500, 60_000, 100, 10, 60, 0.01, 1)
	es := ends(s, 16, 60_000*7)
	const rng = 6 * 3600_000
	for _, tc := range []struct {
		method string
		exact  bool // no parameters to fit: the same arithmetic as analytics
	}{
		{"linear", true}, {"seasonal_naive", true}, {"holt", false}, {"theta", false}, {"holt_winters", false}, {"auto", false},
	} {
		for _, horizon := range []float64{60, 1800} {
			// As a range query (the parameters refitted every half
			// range) and as instant queries (fitted on each window).
			c := newCall(s, es, rng, [][]float64{constScalar(len(es), horizon)}, tc.method)
			forecastValue(c)
			lower, upper := NewValues(len(es)), NewValues(len(es))
			bc := newCall(s, es, rng, [][]float64{constScalar(len(es), horizon), constScalar(len(es), 0.9)}, tc.method)
			forecastBand(bc, lower, upper)
			for i, end := range es {
				ic := newCall(s, []int64{end}, rng, [][]float64{{horizon}, {0.9}}, tc.method)
				il, iu := NewValues(1), NewValues(1)
				forecastBand(ic, il, iu)
				ts, vs := windowOf(s, end, rng)
				p, err := analytics.Forecast(ts, vs, time.Duration(horizon)*time.Second, 0.9, analytics.ForecastMethod(tc.method))
				if err != nil {
					t.Fatal(err)
				}
				// The smoothing parameters come from another optimiser:
				// fitted on the same window, the forecast and the interval
				// agree to a hundredth of the interval. In a range query
				// they come from a window up to half a range older, and
				// agree to a quarter of it. auto's band also takes its
				// scale from that window's backtest, whose quantile moves
				// more (a tenth of the width at the median on such data,
				// up to about 40% at the worst).
				wantWidth := p.Upper - p.Lower
				tolInstant, tolRange, tolWidth := 1e-2*wantWidth, 0.25*wantWidth, 0.25*wantWidth
				if tc.exact {
					tolInstant, tolRange, tolWidth = 1e-9*wantWidth, 1e-9*wantWidth, 1e-9*wantWidth
				}
				if tc.method == "auto" {
					tolWidth = 0.45 * wantWidth
				}
				if math.Abs(il[0]-p.Lower) > tolInstant || math.Abs(iu[0]-p.Upper) > tolInstant {
					t.Errorf("%s h=%vs at %d, fitted on its window: [%v, %v], analytics [%v, %v] (%s)", tc.method, horizon, end,
						il[0], iu[0], p.Lower, p.Upper, p.Method)
				}
				if math.Abs(c.Out[i]-p.Value) > tolRange || math.Abs(upper[i]-lower[i]-wantWidth) > tolWidth {
					t.Errorf("%s h=%vs step %d: %v [%v, %v], analytics %v [%v, %v] (%s)", tc.method, horizon, i,
						c.Out[i], lower[i], upper[i], p.Value, p.Lower, p.Upper, p.Method)
				}
			}
		}
	}
}

func TestAnalyticsCorrelationMatches(t *testing.T) {
	r := analyticsRand(t, 4)
	target := genSeries(r, 1000, 30_000, 10, 3, 120, 0.01, 1)
	cand := genSeries(r, 1000, 30_000, 10, 3, 120, 0.01, 1)
	for i := 7; i < len(cand.V); i++ {
		cand.V[i-7] += 2 * (target.V[i] - 10) // the candidate moves 7 steps first
	}
	cand.V[300] = math.NaN()
	jittered := cand
	jittered.T = slices.Clone(cand.T)
	for i := range jittered.T {
		jittered.T[i] += int64(r.IntN(5000))
	}
	const rng = 4 * 3600_000
	for _, tc := range []struct {
		name string
		cand Samples
		tol  float64
	}{
		// On a regular grid the windows' grids are the shared grid.
		{"regular", cand, 1e-9},
		// With jitter the shared grid's step (the median interval of the
		// whole query) and anchor differ from each window's by a little.
		{"jittered", jittered, 0.15},
	} {
		for _, method := range []string{"pearson", "spearman", "auto"} {
			// One step per call, so that auto's prewhitening is fitted on
			// the step's own window, as an instant query does.
			for _, end := range []int64{target.T[480], target.T[700], target.T[999]} {
				c := &PairCall{Target: target, RangeCall: *newCall(tc.cand, []int64{end}, rng, nil, method)}
				correlate(c)
				tt, tv := windowOf(target, end, rng)
				ct, cv := windowOf(tc.cand, end, rng)
				want, err := analytics.Correlate(tt, tv, ct, cv, analytics.CorrelationMethod(method))
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case tc.name == "jittered" && method == "auto":
					// The shared grid's window can hold a point more than
					// the window's own grid, and the period detected for
					// the prewhitening then differ by one (118 against
					// 119 here), which moves a lagged correlation of
					// changes by up to 0.3: both must find the copy.
					if !(math.Abs(c.Out[0]) > 0.5) || !(math.Abs(want) > 0.5) || (c.Out[0] > 0) != (want > 0) {
						t.Errorf("%s %s at %d: %v, analytics %v, want both strong and of one sign", tc.name, method, end, c.Out[0], want)
					}
				case math.Abs(c.Out[0]-want) > tc.tol:
					t.Errorf("%s %s at %d: %v, analytics %v", tc.name, method, end, c.Out[0], want)
				}
			}
		}
		for _, end := range []int64{target.T[480], target.T[700], target.T[999]} {
			lc := &PairCall{Target: target, RangeCall: *newCall(tc.cand, []int64{end}, rng, [][]float64{{600}})}
			correlationLag(lc)
			tt, tv := windowOf(target, end, rng)
			ct, cv := windowOf(tc.cand, end, rng)
			lag, err := analytics.CorrelationLag(tt, tv, ct, cv, 600*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(lc.Out[0]-lag.Lag.Seconds()) > tc.tol*lag.Lag.Seconds() || lag.Steps != 7 {
				t.Errorf("%s lag at %d: %v s, analytics %v (%d steps), want 7 steps", tc.name, end, lc.Out[0], lag.Lag, lag.Steps)
			}
		}
	}
}

func TestAnalyticsSeasonalityMatches(t *testing.T) {
	r := analyticsRand(t, 5)
	s := genSeries(r, 2000, 60_000, 10, 3, 90, 0, 1)
	const rng = 8 * 3600_000
	for _, end := range []int64{s.T[100], s.T[600], s.T[1999]} {
		c := newCall(s, []int64{end}, rng, nil)
		seasonality(c)
		ts, vs := windowOf(s, end, rng)
		want, err := analytics.Seasonality(ts, vs)
		if err != nil {
			t.Fatal(err)
		}
		if c.Out[0] != want.Seconds() {
			t.Errorf("at %d: %v s, analytics %v", end, c.Out[0], want)
		}
	}
}

func TestSortedWindow(t *testing.T) {
	r := analyticsRand(t, 6)
	f := func(name string, vs []float64) {
		t.Helper()
		var w sortedWindow
		for _, v := range vs {
			w.add(v)
		}
		center, scale := w.robust()
		wantScale := analytics.MAD(vs)
		if wantScale == 0 {
			var sum float64
			for _, v := range vs {
				sum += math.Abs(v - analytics.Median(vs))
			}
			wantScale = meanADScale * sum / float64(len(vs))
		}
		if !near(center, analytics.Median(vs), 1e-12) || !near(scale, wantScale, 1e-12) {
			t.Errorf("%s: median %v scale %v, want %v %v", name, center, scale, analytics.Median(vs), wantScale)
		}
	}
	f("one", []float64{3})
	f("two", []float64{3, 1})
	f("odd", []float64{5, 1, 9, 3, 7})
	f("ties", []float64{2, 2, 2, 2, 9, 1})
	f("all equal", []float64{4, 4, 4})
	f("negative zero", []float64{-0.0, 0, 1, -1})
	vs := make([]float64, 501)
	for i := range vs {
		vs[i] = math.Round(r.NormFloat64() * 10)
	}
	f("random integers", vs)

	// A slidingSet that moves by random amounts holds what it should.
	src := make([]float64, 5000)
	for i := range src {
		src[i] = r.ExpFloat64()
		if i%17 == 0 {
			src[i] = math.NaN()
		}
	}
	var s slidingSet
	lo, hi := 0, 0
	for range 2000 {
		hi = min(len(src), hi+r.IntN(5))
		lo = min(hi, lo+r.IntN(5))
		if r.IntN(50) == 0 {
			lo = r.IntN(hi + 1) // back: rebuilds
		}
		s.moveTo(src, lo, hi)
		var want []float64
		for _, v := range src[lo:hi] {
			if !math.IsNaN(v) {
				want = append(want, v)
			}
		}
		slices.Sort(want)
		if !slices.Equal(s.s, want) {
			t.Fatalf("[%d, %d): holds %d values, want %d", lo, hi, len(s.s), len(want))
		}
		if len(want) > 1 {
			mean, sd := s.meanStdDev()
			var wm, ws float64
			for _, v := range want {
				wm += v
			}
			wm /= float64(len(want))
			for _, v := range want {
				ws += (v - wm) * (v - wm)
			}
			ws = math.Sqrt(ws / float64(len(want)-1))
			if !near(mean, wm, 1e-9) || !near(sd, ws, 1e-9) {
				t.Fatalf("[%d, %d): mean %v sd %v, want %v %v", lo, hi, mean, sd, wm, ws)
			}
		}
	}
}

func TestAnalyticsUnknownMethod(t *testing.T) {
	s := genSeries(rand.New(rand.NewPCG(1, 1)), 100, 60_000, 1, 0, 0, 0, 1)
	c := newCall(s, ends(s, 3, 60_000), 3600_000, nil, "nope")
	anomalyScore(c)
	if c.Err == nil || slices.ContainsFunc(c.Out, func(v float64) bool { return !IsAbsent(v) }) {
		t.Errorf("unknown method: err %v, out %v", c.Err, c.Out)
	}
}

// TestAnomalyScoreNoiseTails measures how often anomaly_score exceeds
// the thresholds docs/analytics.md discusses on series without
// anomalies: 6h windows of minutely samples stepped every minute for two
// weeks. On Gaussian noise the scores must have the tails of |N(0,1)|
// (P(>3) = 0.27%, P(>4) = 0.006%). Run with -v for the table.
func TestAnomalyScoreNoiseTails(t *testing.T) {
	r := analyticsRand(t, 7)
	const n, window = 15 * 1440, 360
	gens := []struct {
		name string
		next func(i int, prev float64) float64
	}{
		{"gaussian", func(int, float64) float64 { return r.NormFloat64() }},
		{"daily+hourly cycle+gaussian", func(i int, _ float64) float64 {
			return 10*math.Sin(2*math.Pi*float64(i)/1440) + 3*math.Sin(2*math.Pi*float64(i)/60) + r.NormFloat64()
		}},
		{"AR(1) φ=0.9", func(_ int, prev float64) float64 { return 0.9*prev + r.NormFloat64() }},
		{"Student t, 3 df", func(int, float64) float64 {
			var chi2 float64
			for range 3 {
				z := r.NormFloat64()
				chi2 += z * z
			}
			return r.NormFloat64() / math.Sqrt(chi2/3)
		}},
	}
	thresholds := []float64{3, 4, 5, 6, 8}
	t.Logf("%-28s %-7s %s", "series", "method", "share of steps scoring above 3, 4, 5, 6, 8")
	for _, g := range gens {
		s := Samples{}
		prev := 0.0
		for i := range n {
			prev = g.next(i, prev)
			s.T = append(s.T, int64(i)*60_000)
			s.V = append(s.V, prev)
		}
		var es []int64
		for e := int64(window * 60_000); e < n*60_000; e += 60_000 {
			es = append(es, e)
		}
		for _, method := range []string{"auto", "zscore", "mad", "novelty"} {
			c := newCall(s, es, window*60_000, nil, method)
			anomalyScore(c)
			above := make([]float64, len(thresholds))
			for _, v := range c.Out {
				for j, th := range thresholds {
					if v > th {
						above[j] += 100 / float64(len(es))
					}
				}
			}
			t.Logf("%-28s %-7s %.3f%%  %.3f%%  %.3f%%  %.3f%%  %.3f%%", g.name, method, above[0], above[1], above[2], above[3], above[4])
			if g.name == "gaussian" && method != "novelty" && (above[0] > 0.6 || above[1] > 0.05 || above[3] > 0) {
				t.Errorf("%s on Gaussian noise: %.3f%% above 3, %.3f%% above 4, %.3f%% above 6", method, above[0], above[1], above[3])
			}
		}
	}
}

// TestAnalyticsRandomInput runs every function on random series (NaN,
// ±Inf, duplicate timestamps, bursts, long gaps, constant runs, huge and
// tiny values) and random steps (rising, falling, repeated as under @):
// no panic, no ±Inf, NaN only from the correlations, nothing when a
// window has fewer samples than any method needs.
func TestAnalyticsRandomInput(t *testing.T) {
	r := analyticsRand(t, 8)
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, 1e100, -1e-300, 5}
	for iter := range 300 {
		n := r.IntN(400)
		s := Samples{Labels: labels.FromStrings("__name__", "x")}
		ts := int64(r.IntN(1000))
		level := []float64{0, 1, 1e9, -3}[r.IntN(4)]
		for range n {
			switch r.IntN(20) {
			case 0:
				ts += int64(r.IntN(3_600_000)) // a long gap
			case 1: // same timestamp
			default:
				ts += 1000 + int64(r.IntN(30_000))
			}
			v := level + r.NormFloat64()*math.Pow(10, float64(r.IntN(6)-3))
			if r.IntN(10) == 0 {
				v = special[r.IntN(len(special))]
			}
			s.T = append(s.T, ts)
			s.V = append(s.V, v)
		}
		var es []int64
		end := int64(r.IntN(100_000))
		for range 1 + r.IntN(60) {
			switch r.IntN(10) {
			case 0:
				end -= int64(r.IntN(600_000))
			case 1: // repeated, as under @
			default:
				end += int64(r.IntN(900_000))
			}
			es = append(es, end)
		}
		rng := int64(60_000 * (1 + r.IntN(600)))
		k := len(es)
		scal := func(v float64) []float64 { return constScalar(k, v) }
		check := func(name string, out []float64, nanOK bool) {
			t.Helper()
			for i, v := range out {
				if IsAbsent(v) {
					continue
				}
				if math.IsInf(v, 0) || (math.IsNaN(v) && !nanOK) {
					t.Fatalf("iteration %d, %s, step %d (end %d, range %d): %v", iter, name, i, es[i], rng, v)
				}
			}
		}
		for _, m := range anomalyMethods {
			c := newCall(s, es, rng, nil, m)
			anomalyScore(c)
			check("anomaly_score "+m, c.Out, false)
			lo, hi := NewValues(k), NewValues(k)
			anomalyBand(newCall(s, es, rng, [][]float64{scal(2)}, m), lo, hi)
			check("anomaly_band "+m, lo, false)
			check("anomaly_band "+m, hi, false)
		}
		for _, m := range forecastMethods {
			c := newCall(s, es, rng, [][]float64{scal(600)}, m)
			forecastValue(c)
			check("forecast "+m, c.Out, level == 1e9) // a huge level can overflow a fit
			lo, hi := NewValues(k), NewValues(k)
			forecastBand(newCall(s, es, rng, [][]float64{scal(600), scal(0.8)}, m), lo, hi)
		}
		c := newCall(s, es, rng, nil)
		seasonality(c)
		check("seasonality", c.Out, false)
		cand := s
		cand.V = slices.Clone(s.V)
		for i := range cand.V {
			cand.V[i] += r.NormFloat64()
		}
		for _, m := range correlationMethods {
			pc := &PairCall{Target: s, RangeCall: *newCall(cand, es, rng, nil, m)}
			correlate(pc)
			check("correlate "+m, pc.Out, true)
		}
		pc := &PairCall{Target: s, RangeCall: *newCall(cand, es, rng, [][]float64{scal(300)})}
		correlationLag(pc)
		check("correlation_lag", pc.Out, true)
	}
}
