package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// The expected values in this file are computed by hand from the
// definitions in VictoriaMetrics's MetricsQL documentation
// (docs.victoriametrics.com/metricsql), on the small data set below.

// mqlStorage is a Storage over series held in memory.
type mqlStorage []mqlSeries

type mqlSeries struct {
	lset labels.Labels
	t    []int64
	v    []float64
}

// mqlParseSeries parses "t:v t:v ..." (t in seconds) into a series of lset.
func mqlParseSeries(t *testing.T, lset, samples string) mqlSeries {
	t.Helper()
	ls, err := NewParser().ParseMetric(lset)
	if err != nil {
		t.Fatal(err)
	}
	s := mqlSeries{lset: ls}
	for _, tv := range strings.Fields(samples) {
		ts, v, _ := strings.Cut(tv, ":")
		sec, err1 := strconv.ParseInt(ts, 10, 64)
		f, err2 := strconv.ParseFloat(v, 64)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		s.t, s.v = append(s.t, sec*1000), append(s.v, f)
	}
	return s
}

func (m mqlStorage) Select(_ context.Context, mint, maxt int64, ms ...*labels.Matcher) (SeriesSet, error) {
	set := &mqlSet{i: -1}
	for _, s := range m {
		if !slices.ContainsFunc(ms, func(m *labels.Matcher) bool { return !m.Matches(s.lset.Get(m.Name)) }) {
			o := mqlSeries{lset: s.lset}
			for i, t := range s.t {
				if t >= mint && t <= maxt {
					o.t, o.v = append(o.t, t), append(o.v, s.v[i])
				}
			}
			if len(o.t) > 0 {
				set.series = append(set.series, o)
			}
		}
	}
	return set, nil
}

type mqlSet struct {
	series []mqlSeries
	i      int
}

func (s *mqlSet) Next() bool { s.i++; return s.i < len(s.series) }
func (s *mqlSet) At() (labels.Labels, []int64, []float64, []int64) {
	c := s.series[s.i]
	return c.lset, c.t, c.v, nil
}
func (s *mqlSet) Err() error   { return nil }
func (s *mqlSet) Close() error { return nil }

// metricsqlData is the data set of the tests, one sample a minute.
func metricsqlData(t *testing.T) mqlStorage {
	return mqlStorage{
		// Gauges for the range functions.
		mqlParseSeries(t, `g{i="a"}`, "0:1 60:3 120:3 180:2 240:8"),
		mqlParseSeries(t, `g{i="b"}`, "0:5 60:5 120:5 180:5 240:5"),
		// Counters: a resets at 120, b starts at 120.
		mqlParseSeries(t, `c{i="a"}`, "0:10 60:15 120:3 180:6 240:9"),
		mqlParseSeries(t, `c{i="b"}`, "120:4 180:6 240:7"),
		// Series with gaps (read with a 1m lookback delta).
		mqlParseSeries(t, `{__name__="h", i="a"}`, "0:1 60:2 240:5"),
		mqlParseSeries(t, `{__name__="h", i="b"}`, "120:7"),
		mqlParseSeries(t, `m{i="a"}`, "0:3 120:4"),
		// Values at 240 for the aggregations.
		mqlParseSeries(t, `s{j="x",i="1"}`, "240:1"),
		mqlParseSeries(t, `s{j="x",i="2"}`, "240:2"),
		mqlParseSeries(t, `s{j="x",i="3"}`, "240:8"),
		mqlParseSeries(t, `s{j="y",i="4"}`, "240:4"),
		mqlParseSeries(t, `s{j="y",i="5"}`, "240:5"),
	}
}

// mqlNum formats a value as the results are formatted.
func mqlNum(f float64) string { return strconv.FormatFloat(f, 'g', 10, 64) }

// mqlFormat prints a result: one line per series, sorted; a vector's as
// "labels value", a matrix's as "labels value@seconds ...".
func mqlFormat(v parser.Value) string {
	var lines []string
	switch v := v.(type) {
	case promql.Vector:
		for _, s := range v {
			lines = append(lines, s.Metric.String()+" "+mqlNum(s.F))
		}
	case promql.Matrix:
		for _, s := range v {
			line := s.Metric.String()
			for _, p := range s.Floats {
				line += " " + mqlNum(p.F) + "@" + strconv.FormatInt(p.T/1000, 10)
			}
			lines = append(lines, line)
		}
	case promql.Scalar:
		lines = append(lines, "scalar "+mqlNum(v.V))
	default:
		lines = append(lines, fmt.Sprint(v))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// mqlQuery says how runMetricsQL runs a query: as an instant query at
// `at` seconds, or, with step > 0, as a range query from `at` to end; a
// positive lookback overrides the lookback delta.
type mqlQuery struct {
	at, end, step int64 // seconds
	lookback      time.Duration
}

func runMetricsQL(t *testing.T, st Storage, q string, o mqlQuery) (string, error) {
	t.Helper()
	e := NewEngine(Options{})
	var opts *QueryOpts
	if o.lookback > 0 {
		opts = &QueryOpts{LookbackDelta: o.lookback}
	}
	var res *Result
	var err error
	if o.step > 0 {
		res, err = e.Range(context.Background(), st, q, time.Unix(o.at, 0), time.Unix(o.end, 0), time.Duration(o.step)*time.Second, opts)
	} else {
		res, err = e.Instant(context.Background(), st, q, time.Unix(o.at, 0), opts)
	}
	if err != nil {
		return "", err
	}
	return mqlFormat(res.Value), nil
}

func TestMetricsQLRangeFunctions(t *testing.T) {
	st := metricsqlData(t)
	f := func(q string, o mqlQuery, want ...string) {
		t.Helper()
		got, err := runMetricsQL(t, st, q, o)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if w := strings.Join(want, "\n"); got != w {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", q, got, w)
		}
	}
	at240 := mqlQuery{at: 240}
	// Window (0, 240]: a = 3 3 2 8, b = 5 5 5 5.
	// median_over_time and mode_over_time keep the metric name.
	f(`median_over_time(g[4m])`, at240, `{__name__="g", i="a"} 3`, `{__name__="g", i="b"} 5`)
	f(`mode_over_time(g[4m])`, at240, `{__name__="g", i="a"} 3`, `{__name__="g", i="b"} 5`)
	// range_over_time = max - min, name dropped.
	f(`range_over_time(g[4m])`, at240, `{i="a"} 6`, `{i="b"} 0`)
	// zscore_over_time = (last - mean) / stddev: mean 4, variance
	// (1+1+4+16)/4 = 5.5; b's last value is its mean.
	f(`zscore_over_time(g[4m])`, at240, `{i="a"} `+mqlNum(4/math.Sqrt(5.5)), `{i="b"} 0`)
	// rate_over_sum = sum / window seconds.
	f(`rate_over_sum(g[4m])`, at240, `{i="a"} `+mqlNum(16.0/240), `{i="b"} `+mqlNum(20.0/240))
	// The window in steps: [4i] with a 1m step is [4m].
	f(`range_over_time(g[4i])`, mqlQuery{at: 240, end: 240, step: 60}, `{i="a"} 6@240`, `{i="b"} 0@240`)
	// increase_pure from the sample before the window: at 180, window
	// (60, 180]: a goes 15 (at 60) -> 3 (reset) -> 6, an increase of 6;
	// b has no sample before 120 and starts from 0: 6. At 240, window
	// (120, 240]: a 3 -> 9 = 6, b 4 -> 7 = 3.
	f(`increase_pure(c[2m])`, mqlQuery{at: 180, end: 240, step: 60}, `{i="a"} 6@180 6@240`, `{i="b"} 6@180 3@240`)
	// With a sample before the window and none in it, the increase is 0;
	// with neither, nothing.
	f(`increase_pure(c[2m])`, mqlQuery{at: 480}, `{i="a"} 0`, `{i="b"} 0`)
	f(`increase_pure(c[2m])`, mqlQuery{at: 900}, ``)
	// keep_metric_names on a rollup.
	f(`range_over_time(g[4m]) keep_metric_names`, at240, `{__name__="g", i="a"} 6`, `{__name__="g", i="b"} 0`)
	f(`increase_pure(c[2m]) keep_metric_names`, at240, `{__name__="c", i="a"} 6`, `{__name__="c", i="b"} 3`)
	// offset, @ and subqueries.
	f(`max_over_time(g[4m] offset 1m)`, mqlQuery{at: 300}, `{i="a"} 8`, `{i="b"} 5`)
	f(`g @ 120`, at240, `{__name__="g", i="a"} 3`, `{__name__="g", i="b"} 5`)
	f(`g @ (end() - 2m)`, at240, `{__name__="g", i="a"} 3`, `{__name__="g", i="b"} 5`)
	f(`max_over_time(g[4m:1m]) default 0`, at240, `{i="a"} 8`, `{i="b"} 5`)
	// A range on an expression is a subquery with a 1i step.
	f(`max_over_time((g*2)[3m])`, mqlQuery{at: 240, end: 240, step: 60}, `{i="a"} 16@240`, `{i="b"} 10@240`)
	// increase_pure over a subquery reads the point before the window too.
	f(`increase_pure(c[2m:1m])`, at240, `{i="a"} 6`, `{i="b"} 3`)
	f(`sum(increase_pure(c[2i]))`, mqlQuery{at: 240, end: 240, step: 60}, `{} 9@240`)
	// A subquery without a step takes 1i.
	f(`max_over_time(g[4m:]) default 0`, mqlQuery{at: 240, end: 240, step: 60}, `{i="a"} 8@240`, `{i="b"} 5@240`)
	// Operators keep Prometheus's semantics; m{i="a"} is 4 at 240.
	f(`g * on(i) group_left m default 0`, at240, `{i="a"} 32`)
	f(`-g{i="a"} default 0`, at240, `{i="a"} -8`)
	f(`(g > 6) default 0`, at240, `{__name__="g", i="a"} 8`)
	// The same functions parse as PromQL (they join the function table).
	f(`median_over_time(g{i="a"}[4m]) + 0`, at240, `{i="a"} 3`)
}

func TestMetricsQLTransformFunctions(t *testing.T) {
	st := metricsqlData(t)
	f := func(q string, want ...string) {
		t.Helper()
		// Steps 0, 60, ..., 300 with a 1m lookback delta:
		// h{i="a"} = 1 2 _ _ 5 _, h{i="b"} = _ _ 7 _ _ _.
		got, err := runMetricsQL(t, st, q, mqlQuery{at: 0, end: 300, step: 60, lookback: time.Minute})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if w := strings.Join(want, "\n"); got != w {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", q, got, w)
		}
	}
	f(`h`, `{__name__="h", i="a"} 1@0 2@60 5@240`, `{__name__="h", i="b"} 7@120`)
	f(`keep_last_value(h)`, `{__name__="h", i="a"} 1@0 2@60 2@120 2@180 5@240 5@300`, `{__name__="h", i="b"} 7@120 7@180 7@240 7@300`)
	f(`interpolate(h)`, `{__name__="h", i="a"} 1@0 2@60 3@120 4@180 5@240`, `{__name__="h", i="b"} 7@120`)
	f(`running_sum(h)`, `{i="a"} 1@0 3@60 3@120 3@180 8@240 8@300`, `{i="b"} 7@120 7@180 7@240 7@300`)
	f(`running_sum(h) keep_metric_names`, `{__name__="h", i="a"} 1@0 3@60 3@120 3@180 8@240 8@300`, `{__name__="h", i="b"} 7@120 7@180 7@240 7@300`)
	f(`range_first(h)`, `{__name__="h", i="a"} 1@0 1@60 1@120 1@180 1@240 1@300`, `{__name__="h", i="b"} 7@0 7@60 7@120 7@180 7@240 7@300`)
	f(`range_last(h)`, `{__name__="h", i="a"} 5@0 5@60 5@120 5@180 5@240 5@300`, `{__name__="h", i="b"} 7@0 7@60 7@120 7@180 7@240 7@300`)
	// m{i="a"} = 3 _ 4 _ _ _. default fills gaps from the matching
	// mqlParseSeries (matched without the metric name); a series without a
	// match is left as it is.
	f(`h default m`, `{__name__="h", i="a"} 1@0 2@60 4@120 5@240`, `{__name__="h", i="b"} 7@120`)
	f(`h default 0`, `{__name__="h", i="a"} 1@0 2@60 0@120 0@180 5@240 0@300`, `{__name__="h", i="b"} 0@0 0@60 7@120 0@180 0@240 0@300`)
	// q1 default q2 is q2 when q1 has no series.
	f(`nothing default 42`, `{} 42@0 42@60 42@120 42@180 42@240 42@300`)
	// if keeps the steps where the match has a value, and only series
	// with a match; ifnot drops those steps.
	f(`h if m`, `{__name__="h", i="a"} 1@0`)
	f(`h ifnot m`, `{__name__="h", i="a"} 2@60 5@240`, `{__name__="h", i="b"} 7@120`)
	f(`h if on() sum(m)`, `{__name__="h", i="a"} 1@0`, `{__name__="h", i="b"} 7@120`)
	f(`h ifnot ignoring(i) m`, `{__name__="h", i="a"} 2@60 5@240`)
	f(`(h > bool 1) default -1`, `{i="a"} 0@0 1@60 -1@120 -1@180 1@240 -1@300`, `{i="b"} -1@0 -1@60 1@120 -1@180 -1@240 -1@300`)
}

func TestMetricsQLLabelFunctions(t *testing.T) {
	st := metricsqlData(t)
	f := func(q string, want ...string) {
		t.Helper()
		got, err := runMetricsQL(t, st, q, mqlQuery{at: 240})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if w := strings.Join(want, "\n"); got != w {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", q, got, w)
		}
	}
	f(`label_set(g{i="a"}, "env", "prod", "i", "")`, `{__name__="g", env="prod"} 8`)
	f(`label_set(g{i="a"}, "__name__", "renamed")`, `{__name__="renamed", i="a"} 8`)
	f(`label_del(g{i="a"}, "i")`, `{__name__="g"} 8`)
	f(`label_del(g{i="a"}, "__name__")`, `{i="a"} 8`)
	f(`label_keep(g{i="a"}, "i")`, `{i="a"} 8`)
	f(`label_keep(g{i="a"}, "__name__", "nothing")`, `{__name__="g"} 8`)
	// A missing source label leaves the destination alone.
	f(`label_copy(g{i="a"}, "i", "j", "missing", "i")`, `{__name__="g", i="a", j="a"} 8`)
	f(`label_move(g{i="a"}, "i", "j")`, `{__name__="g", j="a"} 8`)
	f(`label_move(g{i="a"}, "i", "j", "j", "k")`, `{__name__="g", k="a"} 8`)
	// A function that drops the metric name has dropped it for them.
	f(`label_copy(abs(g{i="a"}), "__name__", "n")`, `{i="a"} 8`)
	f(`label_set(abs(g{i="a"}), "__name__", "x")`, `{__name__="x", i="a"} 8`)
	// union: the first of series with the same labels wins.
	f(`union(g{i="a"}, g)`, `{__name__="g", i="a"} 8`, `{__name__="g", i="b"} 5`)
	f(`(g{i="a"}, m, 7)`, `{__name__="g", i="a"} 8`, `{__name__="m", i="a"} 4`, `{} 7`)
	f(`union(g{i="a"} * 2, g{i="a"} + 1)`, `{i="a"} 16`)
	// Selectors: regular expressions on the name and "or" filters.
	f(`{__name__=~"g|m", i="a"}`, `{__name__="g", i="a"} 8`, `{__name__="m", i="a"} 4`)
	f(`g{i="a" or i=~"a|b"} default 0`, `{__name__="g", i="a"} 8`, `{__name__="g", i="b"} 5`)
	// WITH templates.
	f(`WITH (x = g{i="a"}, f(q) = q * 2) f(x)`, `{i="a"} 16`)
	f(`WITH (sel = {i="a"}) range_over_time(g{sel}[4m]) + 0`, `{i="a"} 6`)
	// keep_metric_names on functions and on operations with a scalar.
	f(`abs(g) keep_metric_names`, `{__name__="g", i="a"} 8`, `{__name__="g", i="b"} 5`)
	f(`(g * 2) keep_metric_names`, `{__name__="g", i="a"} 16`, `{__name__="g", i="b"} 10`)
	f(`abs(g)`, `{i="a"} 8`, `{i="b"} 5`)
}

func TestMetricsQLAggregates(t *testing.T) {
	st := metricsqlData(t)
	f := func(q string, want ...string) {
		t.Helper()
		got, err := runMetricsQL(t, st, q, mqlQuery{at: 240})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if w := strings.Join(want, "\n"); got != w {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", q, got, w)
		}
	}
	// s: j=x has 1, 2, 8; j=y has 4, 5.
	f(`sum2(s) by (j)`, `{j="x"} 69`, `{j="y"} 41`)
	f(`sum2(s)`, `{} 110`)
	f(`geomean(s) by (j)`, `{j="x"} `+mqlNum(math.Pow(16, 1.0/3)), `{j="y"} `+mqlNum(math.Sqrt(20)))
	f(`geomean without (i) (s)`, `{j="x"} `+mqlNum(math.Pow(16, 1.0/3)), `{j="y"} `+mqlNum(math.Sqrt(20)))
	// mqlZScore = (v - mean) / stddev per group: x has mean 11/3 and
	// variance ((8/3)^2 + (5/3)^2 + (13/3)^2) / 3 = 258/27; y has mean
	// 4.5 and stddev 0.5.
	sd := math.Sqrt(258.0 / 27)
	f(`zscore(s) by (j)`,
		`{__name__="s", i="1", j="x"} `+mqlNum(-8.0/3/sd), `{__name__="s", i="2", j="x"} `+mqlNum(-5.0/3/sd), `{__name__="s", i="3", j="x"} `+mqlNum(13.0/3/sd),
		`{__name__="s", i="4", j="y"} -1`, `{__name__="s", i="5", j="y"} 1`)
	// outliers_mad: x has median 2 and deviations 1, 0, 6, so MAD 1: with
	// tolerance 2 only 8 is out; y has median 4.5 and MAD 0.5: none.
	f(`outliers_mad(2, s) by (j)`, `{__name__="s", i="3", j="x"} 8`)
	// Over all of s: median 4, deviations 3 2 4 0 1, MAD 2: 1 and 8 are
	// farther than 1.2*2.
	f(`outliers_mad(1.2, s)`, `{__name__="s", i="1", j="x"} 1`, `{__name__="s", i="3", j="x"} 8`)
	// outliersk: the k series farthest from the median (4): squared
	// distances 9, 4, 16, 0, 1.
	f(`outliersk(2, s)`, `{__name__="s", i="1", j="x"} 1`, `{__name__="s", i="3", j="x"} 8`)
	f(`outliersk(1, s) by (j)`, `{__name__="s", i="3", j="x"} 8`, `{__name__="s", i="4", j="y"} 4`)
	// PromQL aggregations keep Prometheus's semantics; median is
	// quantile(0.5).
	f(`median(s) by (j) default 0`, `{j="x"} 2`, `{j="y"} 4.5`)
	f(`sum(s) by (j) default 0`, `{j="x"} 11`, `{j="y"} 9`)
}

func TestMetricsQLErrors(t *testing.T) {
	st := metricsqlData(t)
	mqlUnsupported := func(q, want string) {
		t.Helper()
		_, err := runMetricsQL(t, st, q, mqlQuery{at: 240})
		if !errors.Is(err, ErrMetricsQLUnsupported) || err.Error() != want {
			t.Errorf("%s: got error %v, want %q", q, err, want)
		}
	}
	mqlUnsupported(`rate(c)`, `MetricsQL: rate() without a lookbehind window [d] is not supported`)
	mqlUnsupported(`rate(sum(c))`, `MetricsQL: rate() over an expression without a subquery (write (expr)[d:step]) is not supported`)
	mqlUnsupported(`sum(g) by (i) limit 1`, `MetricsQL: the limit clause of sum() is not supported`)
	mqlUnsupported(`now()`, `MetricsQL: the function now() is not supported`)
	mqlUnsupported(`mad(g)`, `MetricsQL: the aggregate function mad() is not supported`)
	mqlUnsupported(`sum(g, m)`, `MetricsQL: sum() over several arguments is not supported`)
	mqlUnsupported(`(g + g) keep_metric_names`, `MetricsQL: keep_metric_names on an operation between two vectors is not supported`)
	mqlUnsupported(`g == (1, 2)`, `MetricsQL: comparing with a list (q == (C1, ..., CN)) is not supported`)
	mqlUnsupported(`rate(g{i="a" or i="b"}[5m])`, `MetricsQL: a range [d] over a series selector with or filters is not supported`)
	mqlUnsupported(`sum(g) offset 5m`, `MetricsQL: offset or @ on an expression other than a series selector or a subquery (sum(g) offset 5m) is not supported`)
	mqlUnsupported(`g * on(i) group_left(*) m`, `MetricsQL: group_left(*) is not supported`)

	// Input that is neither PromQL nor MetricsQL fails with Prometheus's
	// parse error, position included.
	for _, q := range []string{`sum(g`, `g{i="a"`, `rate(g[5m]`, `g +`} {
		_, want := NewParser().ParseExpr(q)
		_, err := NewEngine(Options{}).Parse(q, time.Unix(0, 0), time.Unix(0, 0), 0)
		var pe parser.ParseErrors
		if want == nil || err == nil || err.Error() != want.Error() || !errors.As(err, &pe) {
			t.Errorf("%s: got error %v, want Prometheus's %v", q, err, want)
		}
	}
}

func TestMetricsQLDialectChoice(t *testing.T) {
	e := NewEngine(Options{})
	parse := func(q string) parser.Expr {
		t.Helper()
		expr, err := e.Parse(q, time.Unix(0, 0), time.Unix(60, 0), time.Minute)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return expr
	}
	// PromQL goes through Prometheus's parser: its AST, untouched.
	for _, q := range []string{`rate(c[2m])`, `sum by (i) (g)`, `median_over_time(g[4m])`, `label_set(g, "a", "b")`} {
		want, err := NewParser().ParseExpr(q)
		if err != nil {
			t.Fatal(err)
		}
		want, err = promql.PreprocessExpr(want, time.Unix(0, 0), time.Unix(60, 0), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if got := parse(q); got.String() != want.String() || hasMetricsQLNode(got) {
			t.Errorf("%s: got %s (%T), want Prometheus's %s", q, got, got, want)
		}
	}
	// MetricsQL lowers to Prometheus's nodes where PromQL has the
	// construct.
	if _, ok := parse(`sum(rate(c[2i])) by (i)`).(*parser.AggregateExpr); !ok {
		t.Errorf("sum(rate(c[2i])) by (i) is not lowered to an aggregation")
	}
	if _, ok := parse(`g default 0`).(*metricsqlCondOp); !ok {
		t.Errorf("g default 0 is not lowered to a default node")
	}
}

// FuzzMetricsQLParse checks that no input makes Parse panic, and that
// every lowered expression prints.
func FuzzMetricsQLParse(f *testing.F) {
	for _, q := range []string{
		`rate(c)`, `sum(g) by (i) limit 1`, `h default m`, `h if on() sum(m)`, `WITH (x = g{i="a"}, f(q) = q * 2) f(x)`,
		`increase_pure(c[2m] offset 1m)`, `outliersk(2, s) by (j)`, `zscore(s)`, `max_over_time((g*2)[3m])`,
		`g{i="a" or i="b"} @ end()`, `label_move(g, "i", "j") keep_metric_names`, `(g, 1)`, `g[5i:1i] offset -1i`,
		`sum(g) offset 5m`, `round(g, 0.1) keep_metric_names`, `quantile(0.9, g) without (i)`, `geomean(g{a!~"x"})`,
	} {
		f.Add(q)
	}
	e := NewEngine(Options{})
	f.Fuzz(func(t *testing.T, q string) {
		for _, step := range []time.Duration{0, time.Minute} {
			expr, err := e.Parse(q, time.Unix(0, 0), time.Unix(3600, 0), step)
			if err == nil {
				_ = expr.String()
			}
		}
	})
}
