package server

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	promstorage "github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/almanacdb/almanac"
)

// testData is loaded into Prometheus's TSDB and, by remote write, into
// almanac: counters with a gap and a reset, gauges with NaN, ±Inf, tiny
// and huge values, and a staleness marker.
const testData = `
load 15s
	http_requests_total{job="api", code="200", instance="a"} 0+10x200
	http_requests_total{job="api", code="500", instance="a"} 0+1x100 _x20 3+2x79
	http_requests_total{job="web", code="200", instance="b"} 100+7x200
	node_load1{instance="a"} 0.5 0.25 NaN 1e-7 1e22 -Inf Inf 0.125x193
	node_memory_bytes{instance="b"} 1e9+5e6x200
	stale_gauge{instance="c"} 1 2 3 stale 4 5 6
`

// newComparison loads testData into Prometheus's TSDB and copies every
// series into almanac through /api/v1/write.
func newComparison(t *testing.T) (*env, promstorage.Storage) {
	e := newEnv(t, almanac.Options{Retention: -1, OutOfOrderWindow: -1}, Config{})
	ref := promqltest.LoadedStorage(t, testData)
	t.Cleanup(func() { ref.Close() })
	q, err := ref.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	var in []series
	var it chunkenc.Iterator
	for ss.Next() {
		s := series{lset: ss.At().Labels()}
		it = ss.At().Iterator(it)
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			s.samples = append(s.samples, almanac.Sample{T: ts, V: v})
		}
		in = append(in, s)
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	if resp, body := e.writeV2(in...); resp.StatusCode != 204 {
		t.Fatalf("loading almanac: %d %s", resp.StatusCode, body)
	}
	return e, ref
}

// referenceEngine is Prometheus's engine configured as the server's.
func referenceEngine(t *testing.T) *promql.Engine {
	return promqltest.NewTestEngineWithOpts(t, promql.EngineOpts{
		MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute,
		EnableAtModifier: true, EnableNegativeOffset: true,
		NoStepSubqueryIntervalFn: func(int64) int64 { return 60000 },
		Parser:                   parser.NewParser(parser.Options{EnableExperimentalFunctions: true}),
	})
}

// point is a decoded [timestamp, "value"] pair; values compare by bits
// (NaN equals NaN).
type point struct {
	T int64
	V float64
}

func (p *point) UnmarshalJSON(b []byte) error {
	var raw [2]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	ts, _ := raw[0].(float64)
	s, _ := raw[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	p.T, p.V = int64(math.Round(ts*1000)), v
	return nil
}

type resultSeries struct {
	Metric map[string]string `json:"metric"`
	Value  *point            `json:"value"`
	Values []point           `json:"values"`
}

// decodeResult decodes a query result of any type into a common form.
func decodeResult(t *testing.T, resultType string, raw []byte) []resultSeries {
	t.Helper()
	switch resultType {
	case "vector", "matrix":
		var out []resultSeries
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if resultType == "vector" {
			// An instant vector's order is the storage's, which PromQL
			// leaves undefined: compare as sets.
			slices.SortFunc(out, func(a, b resultSeries) int {
				return labels.Compare(labels.FromMap(a.Metric), labels.FromMap(b.Metric))
			})
		}
		return out
	case "scalar":
		var p point
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		return []resultSeries{{Value: &p}}
	case "string":
		var v [2]any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		return []resultSeries{{Metric: map[string]string{"string": v[1].(string)}}}
	}
	t.Fatalf("unknown result type %q", resultType)
	return nil
}

func samePoints(a, b []point) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].T != b[i].T || (a[i].V != b[i].V && !(math.IsNaN(a[i].V) && math.IsNaN(b[i].V))) {
			return false
		}
	}
	return true
}

func sameResults(a, b []resultSeries) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !reflect.DeepEqual(a[i].Metric, b[i].Metric) && (len(a[i].Metric) != 0 || len(b[i].Metric) != 0) {
			return false
		}
		if (a[i].Value == nil) != (b[i].Value == nil) || (a[i].Value != nil && !samePoints([]point{*a[i].Value}, []point{*b[i].Value})) {
			return false
		}
		if !samePoints(a[i].Values, b[i].Values) {
			return false
		}
	}
	return true
}

// TestQueryMatchesPrometheus runs instant and range queries through the
// HTTP API on almanac and through Prometheus's engine on Prometheus's TSDB
// holding the same data; results, warnings and infos must agree.
func TestQueryMatchesPrometheus(t *testing.T) {
	e, ref := newComparison(t)
	ng := referenceEngine(t)
	queries := []string{
		`http_requests_total`,
		`http_requests_total{code!="200"}`,
		`rate(http_requests_total[1m])`,
		`sum by (job) (rate(http_requests_total[5m]))`,
		`increase(http_requests_total{code="500"}[10m])`,
		`resets(http_requests_total[30m])`,
		`topk(1, http_requests_total)`,
		`node_load1`,
		`node_load1 * 2`,
		`avg_over_time(node_load1[2m])`,
		`quantile_over_time(0.5, node_memory_bytes[10m])`,
		`predict_linear(node_memory_bytes[10m], 3600)`,
		`mad_over_time(node_memory_bytes[5m])`,
		`rate(node_memory_bytes[5m])`,
		`quantile(2, http_requests_total)`,
		`stale_gauge`,
		`absent(nothing_here)`,
		`label_replace(http_requests_total, "svc", "$1", "job", "(.*)")`,
		`count_over_time({__name__=~".+"}[1m])`,
		`1 + 1`,
		`time()`,
		`"a string"`,
		`http_requests_total @ 1500`,
		`max_over_time(rate(http_requests_total[1m])[5m:30s])`,
	}
	for _, qs := range queries {
		for _, at := range []int64{0, 45_000, 1_520_000, 3_000_000} {
			params := url.Values{"query": {qs}, "time": {formatTime(at)}}
			r := e.api("/api/v1/query", params, 200)
			qry, err := ng.NewInstantQuery(t.Context(), ref, nil, qs, time.UnixMilli(at))
			if err != nil {
				t.Fatal(err)
			}
			compare(t, "instant "+qs+" at "+formatTime(at), r, qry.Exec(t.Context()), qs)
			qry.Close()
		}
		for _, step := range []int64{15_000, 60_000, 37_000} {
			params := url.Values{"query": {qs}, "start": {"0"}, "end": {"3000"}, "step": {formatTime(step)}}
			if strings.HasPrefix(qs, `"`) {
				continue // a string is not valid in a range query
			}
			r := e.api("/api/v1/query_range", params, 200)
			qry, err := ng.NewRangeQuery(t.Context(), ref, nil, qs, time.UnixMilli(0), time.UnixMilli(3_000_000), time.Duration(step)*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, "range "+qs+" step "+formatTime(step), r, qry.Exec(t.Context()), qs)
			qry.Close()
		}
	}
}

func compare(t *testing.T, what string, got apiResponse, want *promql.Result, qs string) {
	t.Helper()
	if want.Err != nil {
		t.Fatalf("%s: reference failed: %v", what, want.Err)
	}
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(got.Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.ResultType != string(want.Value.Type()) {
		t.Fatalf("%s: result type %s, want %s", what, d.ResultType, want.Value.Type())
	}
	wantJSON, err := json.Marshal(want.Value) // Prometheus's own marshalling
	if err != nil {
		t.Fatal(err)
	}
	g, w := decodeResult(t, d.ResultType, d.Result), decodeResult(t, d.ResultType, wantJSON)
	if !sameResults(g, w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, d.Result, wantJSON)
	}
	ww, wi := want.Warnings.AsStrings(qs, 10, 10)
	if !reflect.DeepEqual(nonNil(got.Warnings), ww) || !reflect.DeepEqual(nonNil(got.Infos), wi) {
		t.Fatalf("%s: warnings %q infos %q, want %q and %q", what, got.Warnings, got.Infos, ww, wi)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TestQueryJSONShapes checks the envelope and each result type field by
// field, as Grafana and the Prometheus clients read them.
func TestQueryJSONShapes(t *testing.T) {
	e, _ := newComparison(t)
	f := func(path string, params url.Values, want string) {
		t.Helper()
		code, body := e.get(path, params)
		if code != 200 || body != want {
			t.Fatalf("%s %v:\n got %d %s\nwant 200 %s", path, params, code, body, want)
		}
	}
	f("/api/v1/query", url.Values{"query": {`node_load1`}, "time": {"30.5"}},
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"node_load1","instance":"a"},"value":[30.500,"NaN"]}]}}`) // Prometheus's spelling: milliseconds in full
	f("/api/v1/query", url.Values{"query": {`node_load1`}, "time": {"75"}},
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"node_load1","instance":"a"},"value":[75,"-Inf"]}]}}`)
	f("/api/v1/query_range", url.Values{"query": {`node_load1`}, "start": {"45"}, "end": {"90.001"}, "step": {"15"}},
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"node_load1","instance":"a"},"values":[[45,"1e-07"],[60,"1e+22"],[75,"-Inf"],[90,"+Inf"]]}]}}`)
	f("/api/v1/query", url.Values{"query": {`2.5`}, "time": {"1.234"}},
		`{"status":"success","data":{"resultType":"scalar","result":[1.234,"2.5"]}}`)
	f("/api/v1/query", url.Values{"query": {`"x<y"`}, "time": {"-1.5"}},
		`{"status":"success","data":{"resultType":"string","result":[-1.5,"x\u003cy"]}}`)
	f("/api/v1/query", url.Values{"query": {`nothing`}, "time": {"100"}},
		`{"status":"success","data":{"resultType":"vector","result":[]}}`)
	f("/api/v1/query_range", url.Values{"query": {`nothing`}, "start": {"0"}, "end": {"100"}, "step": {"1m"}},
		`{"status":"success","data":{"resultType":"matrix","result":[]}}`)
	f("/api/v1/query", url.Values{"query": {`quantile(2, node_memory_bytes)`}, "time": {"100"}},
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[100,"+Inf"]}]},"warnings":["PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)"]}`)
	f("/api/v1/query", url.Values{"query": {`rate(node_memory_bytes[1m])`}, "time": {"100"}},
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"b"},"value":[100,"333333.3333333333"]}]},"infos":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"node_memory_bytes\" (1:6)"]}`)
	f("/api/v1/query", url.Values{"query": {`topk(1, http_requests_total)`}, "time": {"15"}, "limit": {"1"}},
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"http_requests_total","code":"200","instance":"b","job":"web"},"value":[15,"107"]}]}}`)
	f("/api/v1/query", url.Values{"query": {`http_requests_total`}, "time": {"15"}, "limit": {"1"}},
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"http_requests_total","code":"200","instance":"a","job":"api"},"value":[15,"10"]}]},"warnings":["results truncated due to limit"]}`)

	// POST form parameters work as GET parameters.
	code, body := e.postForm("/api/v1/query", url.Values{"query": {`2.5`}, "time": {"1.234"}})
	if code != 200 || body != `{"status":"success","data":{"resultType":"scalar","result":[1.234,"2.5"]}}` {
		t.Fatalf("POST query: %d %s", code, body)
	}
	// stats=all adds query statistics.
	r := e.api("/api/v1/query", url.Values{"query": {`http_requests_total`}, "time": {"15"}, "stats": {"all"}}, 200)
	var withStats struct {
		Stats struct {
			Timings map[string]any `json:"timings"`
			Samples map[string]any `json:"samples"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(r.Data, &withStats); err != nil || withStats.Stats.Timings == nil || withStats.Stats.Samples["totalQueryableSamples"] == nil {
		t.Fatalf("stats: %s (%v)", r.Data, err)
	}
}

// TestQueryErrors: every mistake is answered in Prometheus's error envelope
// with its type and status code, and the server keeps serving.
func TestQueryErrors(t *testing.T) {
	e, _ := newComparison(t)
	p := parser.NewParser(parser.Options{EnableExperimentalFunctions: true})
	_, parseErr := p.ParseExpr("sum(rate(x[5m])")
	for _, tc := range []struct {
		name    string
		path    string
		params  url.Values
		code    int
		typ     string
		message string
	}{
		{"parse error", "/api/v1/query", url.Values{"query": {"sum(rate(x[5m])"}}, 400, "bad_data", `invalid parameter "query": ` + parseErr.Error()},
		{"empty query", "/api/v1/query", url.Values{}, 400, "bad_data", `invalid parameter "query"`},
		{"unknown function", "/api/v1/query", url.Values{"query": {"nofunc(x)"}}, 400, "bad_data", `unknown function with name "nofunc"`},
		{"bad time", "/api/v1/query", url.Values{"query": {"1"}, "time": {"yesterday"}}, 400, "bad_data", `invalid parameter "time": invalid time value for 'time': cannot parse "yesterday" to a valid timestamp`},
		{"bad timeout", "/api/v1/query", url.Values{"query": {"1"}, "timeout": {"soon"}}, 400, "bad_data", `invalid parameter "timeout": cannot parse "soon" to a valid duration`},
		{"bad limit", "/api/v1/query", url.Values{"query": {"1"}, "limit": {"-1"}}, 400, "bad_data", `invalid parameter "limit": limit must be non-negative`},
		{"many-to-many", "/api/v1/query", url.Values{"query": {`http_requests_total + on(job) http_requests_total`}, "time": {"100"}}, 422, "execution", "many-to-many matching not allowed"},
		{"timeout", "/api/v1/query", url.Values{"query": {`count_over_time({__name__=~".+"}[1h])`}, "time": {"3000"}, "timeout": {"0.000000001"}}, 503, "timeout", "query timed out"},
		{"missing start", "/api/v1/query_range", url.Values{"query": {"1"}, "end": {"10"}, "step": {"1"}}, 400, "bad_data", `invalid parameter "start": cannot parse "" to a valid timestamp`},
		{"end before start", "/api/v1/query_range", url.Values{"query": {"1"}, "start": {"10"}, "end": {"5"}, "step": {"1"}}, 400, "bad_data", `invalid parameter "end": end timestamp must not be before start time`},
		{"zero step", "/api/v1/query_range", url.Values{"query": {"1"}, "start": {"0"}, "end": {"5"}, "step": {"0"}}, 400, "bad_data", `invalid parameter "step": zero or negative query resolution step widths are not accepted`},
		{"bad step", "/api/v1/query_range", url.Values{"query": {"1"}, "start": {"0"}, "end": {"5"}, "step": {"often"}}, 400, "bad_data", `invalid parameter "step": cannot parse "often" to a valid duration`},
		{"too many points", "/api/v1/query_range", url.Values{"query": {"1"}, "start": {"0"}, "end": {"100000"}, "step": {"1"}}, 400, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries"},
		{"string in range query", "/api/v1/query_range", url.Values{"query": {`"s"`}, "start": {"0"}, "end": {"5"}, "step": {"1"}}, 400, "bad_data", "invalid expression type \"string\" for range query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.api(tc.path, tc.params, tc.code)
			if r.Status != "error" || r.ErrorType != tc.typ || !strings.Contains(r.Error, tc.message) || r.Data != nil {
				t.Fatalf("got %+v; want %s with %q", r, tc.typ, tc.message)
			}
			e.mustReady()
		})
	}
}
