package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	promstorage "github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/teststorage"

	"github.com/almanacdb/almanac/query"
)

// TestInfoAgainstPrometheus runs info() queries beyond those of
// Prometheus's info.test on both engines, over data with churning info
// series, every identifying-label pattern, and the data that makes
// info() fail (equal info series, conflicting info metrics, a duplicate
// output label set). Results, and errors with their messages, must agree.
func TestInfoAgainstPrometheus(t *testing.T) {
	loads := map[string][]string{
		"churn": {
			`metric{instance="a", job="1"} 0+1x20`,
			`metric{instance="b", job="1", code="500"} 10+1x20`,
			`metric{job="1"} 5 _ _ 6 7 stale 8 9 10 _ _ _ _ _ _ _ 11`,
			`metric{instance="c"} 1+2x20`,
			`metric{other="x"} 3+0x20`,
			`other{instance="a", job="1", version="base"} 1+1x20`,
			`target_info{instance="a", job="1", version="v1"} 1 1 1 1 stale`,
			`target_info{instance="a", job="1", version="v2", zone="z"} _ _ _ _ 1 1 1 1 _ _ _ _ _ _ _ _ _ _ _ 1`,
			`target_info{instance="b", job="1", version="v1"} 1+0x20`,
			`target_info{job="1", version="jobonly"} _ _ 1 1 1`,
			`target_info{instance="c", version="instonly"} 1+0x20`,
			`build_info{instance="a", job="1", commit="abc"} 1 _ _ _ _ _ _ 1 1 1`,
			`build_info{instance="b", job="1", commit="def", version="v1"} 1+0x20`,
			`other_info{instance="a", job="1", owner="me"} 1+0x20`,
		},
		"conflict": {
			`metric{instance="a", job="1"} 0+1x10`,
			`target_info{instance="a", job="1", x="t"} _ _ _ _ _ 1+0x5`,
			`build_info{instance="a", job="1", x="b"} 1+0x10`,
		},
		"duplicate": {
			`metric{instance="a", job="1"} 0+1x10`,
			`target_info{instance="a", job="1", v="x"} 1+0x10`,
			`target_info{instance="a", job="1", v="y"} _ _ _ _ _ _ 1+0x4`,
		},
		"samelabels": {
			`metric{instance="a", job="1"} 0+1x10`,
			`metric{instance="a", job="1", v="x"} _ _ _ _ _ _ 1+1x4`,
			`target_info{instance="a", job="1", v="x"} 1+0x10`,
		},
	}
	queries := map[string][]string{
		"churn": {
			`info(metric)`,
			`info(metric, {version=~".+"})`,
			`info(metric, {version=~"v.*"})`,
			`info(metric, {zone=""})`,
			`info(metric, {__name__=~".+_info"})`,
			`info(metric, {__name__=~".+_info", version=~".*"})`,
			`info(metric, {__name__="build_info"})`,
			`info(metric, {__name__!="build_info"})`,
			`info({job="1"})`,
			`info({job="1"}, {__name__=~".+_info", version!="v1"})`,
			`info(metric offset 3m)`,
			`info(metric offset -2m)`,
			`info(metric @ 240)`,
			`info(metric @ 240 offset 1m)`,
			`info(rate(metric[5m]))`,
			`info(-metric)`,
			`info(metric + other)`,
			`info(metric or other @ 300)`,
			`info(sum by (instance, job) (metric))`,
			`sum by (version) (info(metric))`,
			`max_over_time(info(metric)[5m:1m])`,
			`info(max_over_time(metric[5m:1m] offset 2m))`,
			`info(info(metric, {__name__="build_info"}))`,
			`info(label_replace(metric, "instance", "b", "instance", "a"))`,
			`info(vector(time()))`,
		},
		"conflict":   {`info(metric, {__name__=~".+_info"})`, `info(metric, {__name__=~".+_info", x=~".*"})`, `info(metric, {__name__=~".+_info", y=~".*"})`},
		"duplicate":  {`info(metric)`, `info(metric offset 2m)`},
		"samelabels": {`info(metric)`},
	}

	p := parser.NewParser(parser.Options{EnableExperimentalFunctions: true})
	promEngine := promql.NewEngine(promql.EngineOpts{
		MaxSamples:               50_000_000,
		Timeout:                  time.Minute,
		LookbackDelta:            5 * time.Minute,
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		EnableDelayedNameRemoval: true,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		Parser:                   p,
	})
	almEngine := query.PromEngine{Engine: query.NewEngine(query.Options{})}

	for name, series := range loads {
		prom := teststorage.New(t)
		alm := newTestStorage(t, 0)
		t.Cleanup(func() { alm.Close() })
		for _, st := range []promstorage.Storage{prom, alm} {
			app := st.Appender(context.Background())
			for _, desc := range series {
				lset, vals, err := p.ParseSeriesDesc(desc)
				if err != nil {
					t.Fatalf("%s: %v", desc, err)
				}
				for i, v := range vals {
					if v.Omitted {
						continue
					}
					if _, err := app.Append(0, lset, int64(i)*60_000, v.Value); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range queries[name] {
			t.Run(name+"/"+q, func(t *testing.T) {
				check := func(what string, pe, ae promql.Query, err error) {
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					defer pe.Close()
					defer ae.Close()
					pr, ar := pe.Exec(context.Background()), ae.Exec(context.Background())
					switch {
					case pr.Err != nil || ar.Err != nil:
						if pr.Err == nil || ar.Err == nil || pr.Err.Error() != ar.Err.Error() {
							t.Errorf("%s: Prometheus error %v, almanac error %v", what, pr.Err, ar.Err)
						}
					default:
						want, got := pr.Value, ar.Value
						if v, ok := want.(promql.Vector); ok {
							want, got = vectorMatrix(v), vectorMatrix(got.(promql.Vector))
						}
						if d := diffValues(want, got); d != "" {
							t.Errorf("%s:\n%s", what, d)
						}
					}
				}
				for _, r := range []struct{ start, end, step int64 }{{0, 1200, 60}, {180, 420, 60}, {30, 1170, 90}} {
					start, end, step := time.Unix(r.start, 0), time.Unix(r.end, 0), time.Duration(r.step)*time.Second
					pq, err1 := promEngine.NewRangeQuery(context.Background(), prom, nil, q, start, end, step)
					aq, err2 := almEngine.NewRangeQuery(context.Background(), alm, nil, q, start, end, step)
					check("range "+start.String(), pq, aq, errorsOf(err1, err2))
				}
				for _, at := range []int64{0, 120, 270, 300, 600, 1140, 1500} {
					ts := time.Unix(at, 0)
					pq, err1 := promEngine.NewInstantQuery(context.Background(), prom, nil, q, ts)
					aq, err2 := almEngine.NewInstantQuery(context.Background(), alm, nil, q, ts)
					check("instant at "+ts.String(), pq, aq, errorsOf(err1, err2))
				}
			})
		}
	}
}

func errorsOf(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// vectorMatrix turns an instant result into a matrix for diffValues.
func vectorMatrix(v promql.Vector) promql.Matrix {
	m := make(promql.Matrix, 0, len(v))
	for _, s := range v {
		m = append(m, promql.Series{Metric: s.Metric, Floats: []promql.FPoint{{T: s.T, F: s.F}}})
	}
	return m
}
