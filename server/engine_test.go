package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
)

// TestEngines asks the same queries of a server on almanac's engine and of
// one on Prometheus's, over the same data, and expects byte-identical
// answers; in auto mode standard PromQL goes to Prometheus's engine.
func TestEngines(t *testing.T) {
	now := time.Now().Truncate(time.Minute)
	var ss []series
	for i, job := range []string{"api", "db", "cache"} {
		for inst := range 2 {
			var smp []almanac.Sample
			for k := range 40 {
				smp = append(smp, almanac.Sample{T: now.Add(time.Duration(k-40) * 15 * time.Second).UnixMilli(), V: float64((k + 1) * (2*i + inst + 1))})
			}
			ss = append(ss, series{lset: labels.FromStrings("__name__", "requests_total", "job", job, "instance", string(rune('a'+inst))), samples: smp})
		}
	}
	envs := map[string]*env{}
	for _, engine := range []string{EngineAlmanac, EnginePrometheus, EngineAuto} {
		e := newEnv(t, almanac.Options{}, Config{Engine: engine})
		e.srv.now = func() time.Time { return now }
		if resp, body := e.writeV1(ss...); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: write: %d %s", engine, resp.StatusCode, body)
		}
		envs[engine] = e
	}
	for _, q := range []string{
		`requests_total`,
		`sum by (job) (requests_total)`,
		`requests_total > 20`,
		`topk(2, requests_total)`,
		`requests_total / on (job, instance) requests_total`,
		`count(requests_total) + 1`,
		`max_over_time(sum(requests_total)[2m:30s])`,
		`requests_total{job="nope"} or vector(1)`,
		`sum without (instance) (requests_total) unless requests_total{job="db"}`,
	} {
		for _, params := range []url.Values{
			{"query": {q}, "time": {formatUnix(now)}},
			{"query": {q}, "start": {formatUnix(now.Add(-5 * time.Minute))}, "end": {formatUnix(now)}, "step": {"30"}},
		} {
			path := "/api/v1/query"
			if params.Has("step") {
				path = "/api/v1/query_range"
			}
			_, want := envs[EnginePrometheus].get(path, params)
			for _, engine := range []string{EngineAlmanac, EngineAuto} {
				if _, got := envs[engine].get(path, params); got != want {
					t.Errorf("%s %s on %s:\n got %s\nwant %s", path, q, engine, got, want)
				}
			}
		}
	}
	if s := envs[EngineAuto].srv; s.engineFor(`requests_total`) != s.engine {
		t.Errorf("auto mode sends standard PromQL to almanac's engine")
	}
	// MetricsQL is answered in auto mode by almanac's engine, refused by
	// Prometheus's with its parse error; what almanac does not support is
	// said so.
	at := url.Values{"time": {formatUnix(now)}}
	for _, tc := range []struct {
		engine, query string
		code          int
		want          string
	}{
		{EngineAuto, `rate(requests_total[1m]) keep_metric_names`, http.StatusOK, `"__name__":"requests_total"`},
		{EngineAuto, `WITH (r = requests_total{job="api"}) sum(r)`, http.StatusOK, `"value":[`},
		{EngineAuto, `rate(requests_total)`, http.StatusBadRequest, `not supported`},
		{EngineAuto, `anomaly_score(requests_total[5m])`, http.StatusOK, `"resultType":"vector"`},
		{EngineAuto, `anomaly_score(requests_total[5m], "madd")`, http.StatusBadRequest, `unknown method \"madd\"`},
		{EnginePrometheus, `seasonality(requests_total[5m])`, http.StatusBadRequest, `unknown function`},
		{EnginePrometheus, `WITH (r = requests_total) sum(r)`, http.StatusBadRequest, `parse error`},
		{EngineAuto, `sum(requests_total`, http.StatusBadRequest, `parse error`},
	} {
		params := url.Values{"query": {tc.query}, "time": at["time"]}
		code, body := envs[tc.engine].get("/api/v1/query", params)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s on %s: %d %s; want %d containing %q", tc.query, tc.engine, code, body, tc.code, tc.want)
		}
	}
}

func formatUnix(t time.Time) string { return t.Format(time.RFC3339Nano) }
