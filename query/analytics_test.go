package query_test

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/query"
)

var analyticsSeed = flag.Uint64("analytics-seed", 1, "seed of the generated series of the analytics tests")

// The analytics tests run PromQL through the engine on almanac storage
// holding generated series, sampled every minute for two days from t0:
//
//	sine{kind="clean"}   100 + 10·sin(2πt/1h), no noise
//	sine{kind="noisy"}   the same plus Gaussian noise σ=0.5
//	flat                 42
//	spike                10 + noise σ=1, one sample +30 at tSpike
//	trend                5 + 0.01/min + noise σ=0.05
//	gappy                the noisy sine with gaps (10 minutes, 2 hours)
//	                     and a stale marker followed by new samples
//	rc{role="cause"}     a random walk with smooth (AR(1), φ 0.9)
//	                     steps, like a load; rc_target is cause 5 minutes
//	                     later plus noise; the other rc series are
//	                     distractors: two with a shared trend, two with a
//	                     shared hourly cycle, five of noise
const (
	t0        = int64(1_700_000_000_000) - 1_700_000_000_000%3_600_000 // on the hour
	minute    = int64(60_000)
	hour      = 60 * minute
	genPoints = 2 * 24 * 60
)

var (
	tSpike  = t0 + 30*hour + 17*minute
	tGapEnd = t0 + 20*hour // the 2-hour gap of gappy ends here
	tStale  = t0 + 26*hour // gappy's stale marker
	tEnd    = t0 + genPoints*minute
)

func sineAt(t int64) float64 {
	return 100 + 10*math.Sin(2*math.Pi*float64(t-t0)/float64(hour))
}

// analyticsDB opens almanac on an in-memory file system with the
// generated series.
func analyticsDB(t testing.TB) *almanac.DB {
	t.Helper()
	db, err := almanac.Open("analytics", &almanac.Options{
		FS: vfs.NewMem(), Retention: -1, OutOfOrderWindow: -1, NoSync: true,
		MaxFutureSkew: 100 * 365 * 24 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	seed := *analyticsSeed
	t.Logf("seed %d (replay with -analytics-seed=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 0xa1))
	series := map[string]*almanac.SeriesSamples{}
	add := func(lset labels.Labels, ts int64, v float64) {
		key := lset.String()
		s, ok := series[key]
		if !ok {
			s = &almanac.SeriesSamples{Labels: lset}
			series[key] = s
		}
		s.Samples = append(s.Samples, almanac.Sample{T: ts, V: v})
	}
	ls := func(kv ...string) labels.Labels { return labels.FromStrings(kv...) }
	var cause, change float64
	causes := make([]float64, genPoints)
	for i := range genPoints {
		change = 0.9*change + r.NormFloat64()
		cause += change
		causes[i] = cause
	}
	for i := range genPoints {
		ts := t0 + int64(i)*minute
		add(ls("__name__", "sine", "kind", "clean", "job", "a"), ts, sineAt(ts))
		add(ls("__name__", "sine", "kind", "noisy", "job", "a"), ts, sineAt(ts)+0.5*r.NormFloat64())
		add(ls("__name__", "flat", "job", "a"), ts, 42)
		spike := 10 + r.NormFloat64()
		if ts == tSpike {
			spike += 30
		}
		add(ls("__name__", "spike", "job", "a"), ts, spike)
		add(ls("__name__", "trend", "job", "a"), ts, 5+0.01*float64(i)+0.05*r.NormFloat64())
		gapped := (ts >= t0+10*hour && ts < t0+10*hour+10*minute) || (ts >= tGapEnd-2*hour && ts < tGapEnd)
		switch {
		case ts == tStale:
			add(ls("__name__", "gappy", "job", "a"), ts, math.Float64frombits(value.StaleNaN))
		case !gapped:
			add(ls("__name__", "gappy", "job", "a"), ts+int64(r.IntN(3000)), sineAt(ts)+0.5*r.NormFloat64())
		}
		add(ls("__name__", "rc", "role", "cause"), ts, causes[i])
		if i >= 5 {
			add(ls("__name__", "rc_target"), ts, causes[i-5]+0.3*r.NormFloat64())
		}
		add(ls("__name__", "rc", "role", "trend"), ts, 0.05*float64(i)+r.NormFloat64())
		add(ls("__name__", "rc", "role", "cycle"), ts, 10*math.Sin(2*math.Pi*float64(i)/60)+r.NormFloat64())
		add(ls("__name__", "rc", "role", "cycle2"), ts, 10*math.Sin(2*math.Pi*float64(i)/60)+r.NormFloat64())
		add(ls("__name__", "rc", "role", "trend2"), ts, 0.05*float64(i)+r.NormFloat64())
		for d := range 5 {
			add(ls("__name__", "rc", "role", fmt.Sprintf("noise%d", d)), ts, r.NormFloat64())
		}
	}
	var batch []almanac.SeriesSamples
	for _, s := range series {
		batch = append(batch, *s)
	}
	if err := db.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	return db
}

type analyticsEnv struct {
	t   *testing.T
	db  *almanac.DB
	eng *query.Engine
}

func newAnalyticsEnv(t *testing.T) *analyticsEnv {
	return &analyticsEnv{t: t, db: analyticsDB(t), eng: query.NewEngine(query.Options{})}
}

func (e *analyticsEnv) instant(q string, at int64) promql.Vector {
	e.t.Helper()
	res, err := e.eng.Instant(context.Background(), e.db.QueryStorage(), q, time.UnixMilli(at), nil)
	if err != nil {
		e.t.Fatalf("%s at %d: %v", q, at, err)
	}
	v, ok := res.Value.(promql.Vector)
	if !ok {
		e.t.Fatalf("%s: got %T, want a vector", q, res.Value)
	}
	return v
}

// one returns the value of the only sample of an instant query.
func (e *analyticsEnv) one(q string, at int64) float64 {
	e.t.Helper()
	v := e.instant(q, at)
	if len(v) != 1 {
		e.t.Fatalf("%s at %d: got %d samples, want 1: %v", q, at, len(v), v)
	}
	return v[0].F
}

func (e *analyticsEnv) rangeQuery(q string, start, end, step int64) promql.Matrix {
	e.t.Helper()
	res, err := e.eng.Range(context.Background(), e.db.QueryStorage(), q, time.UnixMilli(start), time.UnixMilli(end), time.Duration(step)*time.Millisecond, nil)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return res.Value.(promql.Matrix)
}

func TestAnalyticsArgumentChecks(t *testing.T) {
	p := query.NewParser()
	f := func(q, wantErr string) {
		t.Helper()
		expr, err := p.ParseExpr(q)
		if err == nil {
			err = query.CheckAnalytics(expr)
		}
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%s: unexpected error %v", q, err)
		case wantErr != "" && err == nil:
			t.Errorf("%s: no error, want one containing %q", q, wantErr)
		case wantErr != "" && !strings.Contains(err.Error(), wantErr):
			t.Errorf("%s: error %q, want one containing %q", q, err, wantErr)
		}
	}
	f(`anomaly_score(x[1h])`, "")
	f(`anomaly_score(x[1h], "mad")`, "")
	f(`anomaly_score(x[1h], "madd")`, `anomaly_score: unknown method "madd"; want one of "auto", "zscore", "mad", "seasonal"`)
	f(`anomaly_score(x[1h], "mad", "zscore")`, "expected at most 2 argument(s)")
	f(`anomaly_score(x)`, "expected type range vector")
	f(`anomaly_band(x[1h], 3)`, "")
	f(`anomaly_band(x[1h], 0)`, "anomaly_band: k must be a positive finite number, got 0")
	f(`anomaly_band(x[1h], -2, "zscore")`, "k must be a positive finite number, got -2")
	f(`anomaly_band(x[1h], (3), "holt")`, `anomaly_band: unknown method "holt"`)
	f(`anomaly_band(x[1h], scalar(y))`, "") // checked at each step
	f(`forecast(x[1d], 3600)`, "")
	f(`forecast(x[1d], 3600, "theta")`, "")
	f(`forecast(x[1d], 3600, "mad")`, `forecast: unknown method "mad"; want one of "auto", "linear", "holt", "holt_winters", "seasonal_naive", "theta"`)
	f(`forecast(x[1d], Inf)`, "forecast: horizon must be a positive finite number, got +Inf")
	f(`forecast(x[1d])`, "expected at least 2 argument(s)")
	f(`forecast(x[1d] @ 1700000000, time() - 1700000000)`, "")
	f(`forecast_band(x[1d], 3600, 0.95)`, "")
	f(`forecast_band(x[1d], 3600, 1)`, "forecast_band: level must be between 0 and 1 (exclusive), got 1")
	f(`forecast_band(x[1d], 3600, 95, "linear")`, "level must be between 0 and 1 (exclusive), got 95")
	f(`forecast_band(x[1d], NaN, 0.9)`, "horizon must be a positive finite number, got NaN")
	f(`correlate(x[1h], y[1h])`, "")
	f(`correlate(x[1h], y[1h], "kendall")`, `correlate: unknown method "kendall"; want one of "auto", "pearson", "spearman"`)
	f(`correlation_lag(x[1h], y[1h], 600)`, "")
	f(`correlation_lag(x[1h], y[1h], -1)`, "correlation_lag: max_lag must be a finite number >= 0, got -1")
	f(`correlation_lag(x[1h], y[1h])`, "expected 3 argument(s)")
	f(`seasonality(x[1d])`, "")
	f(`sum(rate(x[5m])) / seasonality(y[1d])`, "")
	f(`1 + topk(5, abs(correlate(x[1h], y[1h], "bogus")))`, `unknown method "bogus"`)
}

func TestAnomalyScore(t *testing.T) {
	e := newAnalyticsEnv(t)
	for _, m := range []string{"", `, "auto"`, `, "zscore"`, `, "mad"`, `, "seasonal"`} {
		t.Run("method"+m, func(t *testing.T) {
			if got := e.one(`anomaly_score(flat[6h]`+m+`)`, t0+20*hour); got != 0 {
				t.Errorf("constant series scores %v, want 0", got)
			}
			if got := e.one(`anomaly_score(spike[6h]`+m+`)`, tSpike); got < 8 {
				t.Errorf("spike scores %v, want >= 8", got)
			}
			if got := e.one(`anomaly_score(spike[6h]`+m+`)`, tSpike+10*minute); got > 4 {
				t.Errorf("10 minutes after the spike: score %v, want <= 4", got)
			}
		})
	}
	// A seasonal series: the seasonal model knows where the cycle is and
	// expects the noise only (σ 0.5), a plain median expects the whole
	// cycle (amplitude 10).
	width := func(q string) float64 {
		v := e.instant(q, t0+20*hour+15*minute)
		if len(v) != 2 {
			t.Fatalf("%s: %v", q, v)
		}
		return math.Abs(v[1].F - v[0].F)
	}
	if w := width(`anomaly_band(sine{kind="noisy"}[6h], 1)`); w > 2 {
		t.Errorf("auto band at k=1 on a noisy cycle: %v wide, want about 1", w)
	}
	if w := width(`anomaly_band(sine{kind="noisy"}[6h], 1, "mad")`); w < 15 {
		t.Errorf("mad band at k=1 on a noisy cycle: %v wide, want about 2·10·0.7", w)
	}

	// Labels: the name is dropped, the rest kept.
	v := e.instant(`anomaly_score(sine[1h])`, tSpike)
	if len(v) != 2 {
		t.Fatalf("got %v, want two series", v)
	}
	for _, s := range v {
		if s.Metric.Get("__name__") != "" || s.Metric.Get("job") != "a" || s.Metric.Get("kind") == "" {
			t.Errorf("labels %v: want the name dropped, job and kind kept", s.Metric)
		}
	}

	// Too few samples: no value, not NaN.
	if v := e.instant(`anomaly_score(flat[3m])`, t0+hour); len(v) != 0 {
		t.Errorf("3 samples: got %v, want no result", v)
	}
}

func TestAnomalyScoreRange(t *testing.T) {
	e := newAnalyticsEnv(t)
	for _, m := range []string{"auto", "zscore", "mad", "seasonal"} {
		q := fmt.Sprintf(`anomaly_score(spike[6h], %q)`, m)
		mat := e.rangeQuery(q, tSpike-2*hour, tSpike+2*hour, minute)
		if len(mat) != 1 || len(mat[0].Floats) != 241 {
			t.Fatalf("%s: got %d series, want 1 with 241 points: %v", m, len(mat), mat)
		}
		var high int
		for _, p := range mat[0].Floats {
			if p.T == tSpike && p.F < 8 {
				t.Errorf("%s: %v at the spike, want >= 8", m, p.F)
			}
			if p.F > 5 {
				high++
			}
		}
		if high != 1 {
			t.Errorf("%s: %d steps score above 5, want only the spike", m, high)
		}
		// A step where the range query fits (its first) agrees with the
		// instant query exactly.
		if got := e.one(q, tSpike-2*hour); got != mat[0].Floats[0].F {
			t.Errorf("%s: instant %v, first step of the range query %v", m, got, mat[0].Floats[0].F)
		}
	}
}

func TestAnomalyBand(t *testing.T) {
	e := newAnalyticsEnv(t)
	at := t0 + 20*hour + 7*minute
	v := e.instant(`anomaly_band(sine{kind="noisy"}[6h], 4)`, at)
	if len(v) != 2 {
		t.Fatalf("got %v, want a lower and an upper series", v)
	}
	bands := map[string]float64{}
	for _, s := range v {
		if s.Metric.Get("__name__") != "" || s.Metric.Get("kind") != "noisy" {
			t.Errorf("labels %v: want the name dropped and kind kept", s.Metric)
		}
		bands[s.Metric.Get("band")] = s.F
	}
	truth := sineAt(at)
	if !(bands["lower"] < truth && truth < bands["upper"]) || bands["upper"]-bands["lower"] > 8 {
		t.Errorf("band [%v, %v] should hold the cycle's value %v and be narrow (noise σ=0.5)", bands["lower"], bands["upper"], truth)
	}
	score := e.one(`anomaly_score(sine{kind="noisy"}[6h])`, at)
	actual := e.one(`last_over_time(sine{kind="noisy"}[6h])`, at)
	// The newest value is outside the band at k exactly when it scores above k.
	for _, k := range []float64{0.5, 1, 2, 4} {
		b := e.instant(fmt.Sprintf(`anomaly_band(sine{kind="noisy"}[6h], %v)`, k), at)
		lo, hi := b[0].F, b[1].F
		if b[0].Metric.Get("band") == "upper" {
			lo, hi = hi, lo
		}
		if inside := lo <= actual && actual <= hi; inside != (score <= k) {
			t.Errorf("k=%v: %v in [%v, %v] is %v, but the score is %v", k, actual, lo, hi, inside, score)
		}
	}
	// A computed k: steps where it is not positive have no band.
	mat := e.rangeQuery(`anomaly_band(flat[1h], time() - `+fmt.Sprint((t0+5*hour)/1000)+`)`, t0+5*hour-5*minute, t0+5*hour+5*minute, minute)
	for _, s := range mat {
		if len(s.Floats) != 5 || s.Floats[0].T != t0+5*hour+minute {
			t.Errorf("band with k = time()-T: %v, want the 5 steps after T", s)
		}
	}
}

func TestForecast(t *testing.T) {
	e := newAnalyticsEnv(t)
	at := t0 + 30*hour
	// A pure seasonal signal forecasts itself.
	for _, m := range []string{"auto", "holt_winters", "seasonal_naive"} {
		for _, h := range []int64{60, 1800, 7200} {
			got := e.one(fmt.Sprintf(`forecast(sine{kind="clean"}[6h], %d, %q)`, h, m), at)
			if want := sineAt(at + h*1000); math.Abs(got-want) > 0.05 {
				t.Errorf("%s, horizon %ds: %v, want %v", m, h, got, want)
			}
		}
	}
	// A line forecasts its continuation.
	got := e.one(`forecast(trend[6h], 3600, "linear")`, at)
	if want := 5 + 0.01*float64((at-t0)/minute+60); math.Abs(got-want) > 0.1 {
		t.Errorf("linear: %v, want %v", got, want)
	}
	for _, m := range []string{"auto", "holt", "theta"} {
		got := e.one(fmt.Sprintf(`forecast(trend[6h], 3600, %q)`, m), at)
		if want := 5 + 0.01*float64((at-t0)/minute+60); math.Abs(got-want) > 0.3 {
			t.Errorf("%s on a trend: %v, want %v", m, got, want)
		}
	}
	// No cycle for holt_winters: no value, and a warning.
	res, err := e.eng.Instant(context.Background(), e.db.QueryStorage(), `forecast(trend[6h], 60, "holt_winters")`, time.UnixMilli(at), nil)
	if err != nil || len(res.Value.(promql.Vector)) != 0 || len(res.Warnings) == 0 {
		t.Errorf("holt_winters without a cycle: %v, %v (warnings %v), want no value and a warning", res.Value, err, res.Warnings)
	}

	// The band holds the forecast and is labelled; the name is dropped.
	v := e.instant(`forecast_band(sine{kind="noisy"}[6h], 1800, 0.9)`, at)
	point := e.one(`forecast(sine{kind="noisy"}[6h], 1800)`, at)
	if len(v) != 2 {
		t.Fatalf("forecast_band: %v", v)
	}
	for _, s := range v {
		b := s.Metric.Get("band")
		if s.Metric.Get("__name__") != "" || (b == "lower") != (s.F < point) || (b == "upper") != (s.F > point) {
			t.Errorf("forecast_band %v = %v around %v", s.Metric, s.F, point)
		}
	}
	wide := e.instant(`forecast_band(sine{kind="noisy"}[6h], 1800, 0.99)`, at)
	if w90, w99 := math.Abs(v[1].F-v[0].F), math.Abs(wide[1].F-wide[0].F); !(w99 > w90) {
		t.Errorf("99%% interval %v not wider than 90%% %v", w99, w90)
	}
}

// TestForecastAt draws a forecast into the future: the window is pinned
// at T and the horizon grows with the step time.
func TestForecastAt(t *testing.T) {
	e := newAnalyticsEnv(t)
	T := t0 + 30*hour
	q := fmt.Sprintf(`forecast(sine{kind="clean"}[6h] @ %d, time() - %d)`, T/1000, T/1000)
	mat := e.rangeQuery(q, T-hour, T+3*hour, 5*minute)
	if len(mat) != 1 {
		t.Fatalf("got %v", mat)
	}
	pts := mat[0].Floats
	if len(pts) != 36 || pts[0].T != T+5*minute {
		t.Fatalf("got %d points from %d, want 36 from T+5m (none at or before T)", len(pts), pts[0].T)
	}
	for _, p := range pts {
		if want := sineAt(p.T); math.Abs(p.F-want) > 0.05 {
			t.Errorf("at T+%dm: %v, want %v", (p.T-T)/minute, p.F, want)
		}
	}
	if mat[0].Metric.Get("__name__") != "" || mat[0].Metric.Get("kind") != "clean" {
		t.Errorf("labels %v", mat[0].Metric)
	}
}

func TestForecastRange(t *testing.T) {
	e := newAnalyticsEnv(t)
	// Every step forecasts an hour past its own window; on the clean
	// cycle that is the cycle itself, at every step of a day.
	start := t0 + 7*hour
	mat := e.rangeQuery(`forecast(sine{kind="clean"}[6h], 3600)`, start, start+24*hour, 10*minute)
	if len(mat) != 1 || len(mat[0].Floats) != 145 {
		t.Fatalf("got %v", mat)
	}
	for _, p := range mat[0].Floats {
		if want := sineAt(p.T + hour); math.Abs(p.F-want) > 0.05 {
			t.Errorf("at %d: %v, want %v", p.T, p.F, want)
		}
	}
}

func TestCorrelate(t *testing.T) {
	e := newAnalyticsEnv(t)
	at := t0 + 40*hour
	for _, m := range []string{"", `, "auto"`, `, "pearson"`, `, "spearman"`} {
		v := e.instant(`topk(1, abs(correlate(rc_target[6h], rc[6h]`+m+`)))`, at)
		if len(v) != 1 || v[0].Metric.Get("role") != "cause" {
			t.Errorf("method%s: top candidate %v, want role=cause", m, v)
		}
	}
	// auto correlates changes: a shared trend or a shared cycle does not
	// pass for a relation, as it does for pearson.
	for _, pair := range [][2]string{{"cycle", "cycle2"}, {"trend", "trend2"}} {
		q := fmt.Sprintf(`correlate(rc{role=%q}[6h], rc{role=%q}[6h]`, pair[0], pair[1])
		if got := e.one(q+`, "pearson")`, at); got < 0.8 {
			t.Errorf("pearson %s and %s: %v, want > 0.8", pair[0], pair[1], got)
		}
		if got := e.one(q+`)`, at); math.Abs(got) > 0.2 {
			t.Errorf("auto %s and %s: %v, want about 0", pair[0], pair[1], got)
		}
	}
	// The target must be one series.
	_, err := e.eng.Instant(context.Background(), e.db.QueryStorage(), `correlate(rc[6h], rc[6h])`, time.UnixMilli(at), nil)
	if err == nil || !strings.Contains(err.Error(), "must select exactly one series") {
		t.Errorf("two targets: %v", err)
	}
	// A constant target correlates with nothing: NaN, honestly.
	v := e.instant(`correlate(flat[1h], rc{role="cause"}[1h], "pearson")`, at)
	if len(v) != 1 || !math.IsNaN(v[0].F) {
		t.Errorf("constant target: %v, want NaN", v)
	}
}

// An offset or @ on one argument moves its window against the other's:
// the target is paired with the candidates' window shifted back in time.
func TestCorrelateOffsetOnOneSide(t *testing.T) {
	e := newAnalyticsEnv(t)
	at := t0 + 40*hour
	// rc_target is the cause 5 minutes later: unshifted, the pairs are 5
	// minutes apart (0.986 on this smooth cause); shifted, they coincide.
	aligned := e.one(`correlate(rc_target[6h], rc{role="cause"}[6h], "pearson")`, at)
	for _, q := range []string{
		`correlate(rc_target[6h], rc{role="cause"}[6h] offset 5m, "pearson")`,
		`correlate(rc_target[6h] offset -5m, rc{role="cause"}[6h], "pearson")`,
		fmt.Sprintf(`correlate(rc_target[6h] @ %d, rc{role="cause"}[6h] @ %d, "pearson")`, (at+5*minute)/1000, at/1000),
	} {
		got := e.one(q, at)
		if !(got > 0.999) || !(got > aligned) {
			t.Errorf("%s: %v, want above 0.999 and the unshifted %v", q, got, aligned)
		}
	}
	// The lag is counted from the shifted windows: none is left.
	if got := e.one(`correlation_lag(rc_target[6h], rc{role="cause"}[6h] offset 5m, 1800)`, at); got != 0 {
		t.Errorf("lag after the offset: %v s, want 0", got)
	}
	// A range query moves every step's window the same way.
	mat := e.rangeQuery(`correlate(rc_target[3h], rc{role="cause"}[3h] offset 5m, "pearson")`, at-hour, at, 15*minute)
	if len(mat) != 1 || len(mat[0].Floats) != 5 {
		t.Fatalf("range: %v", mat)
	}
	for _, p := range mat[0].Floats {
		if want := e.one(`correlate(rc_target[3h], rc{role="cause"}[3h] offset 5m, "pearson")`, p.T); p.F != want {
			t.Errorf("range step %d: %v, instant %v", p.T, p.F, want)
		}
	}
	// Windows of different lengths cannot be paired.
	_, err := e.eng.Instant(context.Background(), e.db.QueryStorage(), `correlate(rc_target[1h], rc[6h])`, time.UnixMilli(at), nil)
	if err == nil || !strings.Contains(err.Error(), "the target's range 1h differs from the candidates' 6h") {
		t.Errorf("different ranges: %v", err)
	}
}

func TestCorrelationLag(t *testing.T) {
	e := newAnalyticsEnv(t)
	at := t0 + 40*hour
	// rc_target is cause 5 minutes later: the cause moves first.
	if got := e.one(`correlation_lag(rc_target[6h], rc{role="cause"}[6h], 1800)`, at); got != 300 {
		t.Errorf("lag %v s, want 300", got)
	}
	// Swapped, the candidate follows.
	if got := e.one(`correlation_lag(rc{role="cause"}[6h], rc_target[6h], 1800)`, at); got != -300 {
		t.Errorf("swapped: lag %v s, want -300", got)
	}
	// Outside max_lag the lag is not found.
	if got := e.one(`correlation_lag(rc_target[6h], rc{role="cause"}[6h], 120)`, at); math.Abs(got) > 120 {
		t.Errorf("lag %v beyond max_lag 120", got)
	}
	mat := e.rangeQuery(`correlation_lag(rc_target[3h], rc{role="cause"}[3h], 900)`, at-hour, at, 15*minute)
	for _, p := range mat[0].Floats {
		if p.F != 300 {
			t.Errorf("range query at %d: lag %v, want 300", p.T, p.F)
		}
	}
}

func TestSeasonality(t *testing.T) {
	e := newAnalyticsEnv(t)
	at := t0 + 30*hour
	if got := e.one(`seasonality(sine{kind="noisy"}[6h])`, at); math.Abs(got-3600) > 120 {
		t.Errorf("hourly cycle: %v s", got)
	}
	for _, q := range []string{`seasonality(flat[6h])`, `seasonality(trend[6h])`, `seasonality(rc{role="noise0"}[6h])`} {
		if got := e.one(q, at); got != 0 {
			t.Errorf("%s: %v, want 0", q, got)
		}
	}
	mat := e.rangeQuery(`seasonality(sine{kind="clean"}[4h])`, at, at+6*hour, 5*minute)
	for _, p := range mat[0].Floats {
		if p.F != 3600 {
			t.Errorf("at %d: %v, want 3600", p.T, p.F)
		}
	}
}

// TestAnalyticsGaps runs every function over a series with jittered
// timestamps, a short gap (interpolated), a long one (the window restarts
// after it) and a stale marker.
func TestAnalyticsGaps(t *testing.T) {
	e := newAnalyticsEnv(t)
	for _, q := range []string{
		`anomaly_score(gappy[3h])`,
		`anomaly_band(gappy[3h], 3)`,
		`forecast(gappy[3h], 600)`,
		`forecast_band(gappy[3h], 600, 0.9)`,
		`seasonality(gappy[3h])`,
		`correlate(sine{kind="noisy"}[3h], gappy[3h])`,
	} {
		mat := e.rangeQuery(q, t0+9*hour, t0+28*hour, 5*minute)
		if len(mat) == 0 {
			t.Errorf("%s: no result", q)
			continue
		}
		for _, s := range mat {
			missing := map[int64]bool{}
			for ts := t0 + 9*hour; ts <= t0+28*hour; ts += 5 * minute {
				missing[ts] = true
			}
			for _, p := range s.Floats {
				delete(missing, p.T)
				if math.IsNaN(p.F) || math.IsInf(p.F, 0) {
					t.Errorf("%s at %d: %v", q, p.T, p.F)
				}
			}
			// Only the long gap leaves steps without a value: those whose
			// window holds no sample, or the 3 after it that have too
			// little history.
			for ts := range missing {
				if ts < tGapEnd-2*hour || ts > tGapEnd+5*minute {
					t.Errorf("%s %v: no value at %d (%v after the gap)", q, s.Metric, ts, time.Duration(ts-tGapEnd)*time.Millisecond)
				}
			}
		}
	}
	// The stale marker is not a value: the score right after it is normal.
	if got := e.one(`anomaly_score(gappy[3h])`, tStale+2*minute); got > 4 {
		t.Errorf("after the stale marker: %v", got)
	}
	// Next to the cycle, the window after the 2h gap is seasonal again once
	// it holds three cycles.
	if got := e.one(`seasonality(gappy[6h])`, tGapEnd+4*hour); math.Abs(got-3600) > 120 {
		t.Errorf("after the long gap: period %v", got)
	}
}

// BenchmarkAnalytics is the speed target, scaled down: a range
// query over 7 days at 1m step with 1d windows of minutely samples, each
// analytics function next to avg_over_time on the same data.
func BenchmarkAnalytics(b *testing.B) {
	db, err := almanac.Open("analytics", &almanac.Options{
		FS: vfs.NewMem(), Retention: -1, OutOfOrderWindow: -1, NoSync: true,
		MaxFutureSkew: 100 * 365 * 24 * time.Hour,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(1, 2))
	const nSeries, days = 8, 8
	var batch []almanac.SeriesSamples
	for s := range nSeries {
		ss := almanac.SeriesSamples{Labels: labels.FromStrings("__name__", "x", "i", fmt.Sprint(s))}
		level := 100 * r.Float64()
		for j := range days * 1440 {
			ts := t0 + int64(j)*minute + int64(r.IntN(2000))
			v := level + 10*math.Sin(2*math.Pi*float64(j)/float64(60*(s%3+1))) + r.NormFloat64()
			if j%1440 == 700 {
				v += 20
			}
			ss.Samples = append(ss.Samples, almanac.Sample{T: ts, V: v})
		}
		batch = append(batch, ss)
	}
	if err := db.Append(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
	eng := query.NewEngine(query.Options{})
	start := time.UnixMilli(t0 + 24*hour)
	end := start.Add(7 * 24 * time.Hour)
	for _, q := range []string{
		"avg_over_time(x[1d])",
		"anomaly_score(x[1d])",
		`anomaly_score(x[1d], "mad")`,
		`anomaly_score(x[1d], "zscore")`,
		`anomaly_score(x[1d], "novelty")`,
		"forecast(x[1d], 3600)",
		"seasonality(x[1d])",
	} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				if _, err := eng.Range(context.Background(), db.QueryStorage(), q, start, end, time.Minute, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/nSeries*1000, "ms/series")
		})
	}
}
