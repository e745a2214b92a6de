package server

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
)

// This file replays the requests Grafana's Prometheus data source (Grafana
// 10 and 11, pkg/promlib and the frontend's language provider) sends, with
// its headers, and reads the answers the way Grafana's parser
// (pkg/promlib/converter) does: status, errorType, error, warnings,
// infos; data.resultType and data.result; [time as a JSON number, value as
// a string that strconv.ParseFloat reads]; label lists as arrays of
// strings; series as arrays of objects of strings.

// grafanaBase is the start of the replayed data: 2025-01-01T00:00:00Z.
const grafanaBase = int64(1735689600000)

func newGrafanaEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, almanac.Options{Retention: -1, OutOfOrderWindow: -1}, Config{})
	var ss []series
	add := func(lset labels.Labels, v func(i int) float64) {
		s := series{lset: lset}
		for i := range 40 { // 10 minutes of 15 s scrapes
			s.samples = append(s.samples, almanac.Sample{T: grafanaBase + int64(i)*15000, V: v(i)})
		}
		ss = append(ss, s)
	}
	add(labels.FromStrings("__name__", "up", "job", "node", "instance", "a:9100"), func(int) float64 { return 1 })
	add(labels.FromStrings("__name__", "up", "job", "api", "instance", "b:8080"), func(i int) float64 { return float64(i % 2) })
	add(labels.FromStrings("__name__", "http_requests_total", "job", "api", "code", "200"), func(i int) float64 { return float64(i * 10) })
	add(labels.FromStrings("__name__", "node_load1", "instance", "a:9100"), func(i int) float64 {
		if i == 3 {
			return math.NaN()
		}
		return 0.25 * float64(i)
	})
	if resp, body := e.writeV1(ss...); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %d %s", resp.StatusCode, body)
	}
	return e
}

// grafana sends a request the way Grafana's Prometheus client does: with
// the data source's default HTTP method POST, the parameters form-encoded
// in the body; with GET (and for the GET-only endpoints), in the URL.
func (e *env) grafana(method, path string, params url.Values) (*http.Response, []byte) {
	e.t.Helper()
	target := e.hs.URL + path
	var body *strings.Reader
	if method == http.MethodPost {
		body = strings.NewReader(params.Encode())
	} else {
		if len(params) > 0 {
			target += "?" + params.Encode()
		}
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", "Grafana/11.3.0")
	req.Header.Set("Accept", "application/json, text/plain, */*")
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("X-Grafana-Org-Id", "1")
	resp, b := e.do(req)
	return resp, []byte(b)
}

// grafanaEnvelope is the top level of an answer as Grafana reads it.
type grafanaEnvelope struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
	Infos     []string        `json:"infos"`
}

// grafanaOK sends a request as Grafana does, checks for a 200 JSON
// success answer and returns its envelope.
func (e *env) grafanaOK(t *testing.T, method, path string, params url.Values) grafanaEnvelope {
	t.Helper()
	resp, body := e.grafana(method, path, params)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var env grafanaEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	if env.Status != "success" || env.ErrorType != "" || env.Error != "" {
		t.Fatalf("not a success: %s", body)
	}
	return env
}

// grafanaPoint reads [time, "value"] as readTimeValuePair does: the time
// a JSON number of seconds, the value a string strconv.ParseFloat reads.
func grafanaPoint(t *testing.T, raw json.RawMessage) (float64, float64) {
	t.Helper()
	var pair []json.RawMessage
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
		t.Fatalf("point %s is not a pair: %v", raw, err)
	}
	ts, err := strconv.ParseFloat(string(pair[0]), 64)
	if err != nil {
		t.Fatalf("point %s: time is not a number: %v", raw, err)
	}
	var s string
	if err := json.Unmarshal(pair[1], &s); err != nil {
		t.Fatalf("point %s: value is not a string: %v", raw, err)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("point %s: value does not parse: %v", raw, err)
	}
	return ts, v
}

// grafanaResult is data of a query answer as Grafana reads it.
type grafanaResult struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

type grafanaSeries struct {
	Metric map[string]string `json:"metric"`
	Value  json.RawMessage   `json:"value"`
	Values []json.RawMessage `json:"values"`
}

func grafanaQueryResult(t *testing.T, env grafanaEnvelope, wantType string) grafanaResult {
	t.Helper()
	var r grafanaResult
	if err := json.Unmarshal(env.Data, &r); err != nil {
		t.Fatalf("data: %v: %s", err, env.Data)
	}
	if r.ResultType != wantType {
		t.Fatalf("resultType %q, want %q", r.ResultType, wantType)
	}
	return r
}

func grafanaStrings(t *testing.T, env grafanaEnvelope) []string {
	t.Helper()
	var list []string
	if err := json.Unmarshal(env.Data, &list); err != nil {
		t.Fatalf("data is not a list of strings: %v: %s", err, env.Data)
	}
	if list == nil {
		t.Fatalf("data is null, Grafana wants an array")
	}
	return list
}

// Grafana's time range parameters, in whole seconds, as the language
// provider sends them: the 10 minutes of data.
var grafanaRange = url.Values{"start": {"1735689600"}, "end": {"1735690200"}}

func with(base url.Values, kv ...string) url.Values {
	v := url.Values{}
	for k, vs := range base {
		v[k] = slices.Clone(vs)
	}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// TestGrafanaSaveAndTest replays "Save & test": the backend's health check
// (instant query 1+1 at t=4 s) and the heuristics' buildinfo request.
func TestGrafanaSaveAndTest(t *testing.T) {
	e := newGrafanaEnv(t)
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		env := e.grafanaOK(t, method, "/api/v1/query", url.Values{"query": {"1+1"}, "time": {"4"}})
		r := grafanaQueryResult(t, env, "scalar")
		if ts, v := grafanaPoint(t, r.Result); ts != 4 || v != 2 {
			t.Fatalf("%s 1+1: [%v, %v], want [4, 2]", method, ts, v)
		}
	}

	// Buildinfo is GET-only in Grafana's client. No "features" means
	// "Prometheus" (not Mimir) to Grafana's heuristics.
	env := e.grafanaOK(t, http.MethodGet, "/api/v1/status/buildinfo", nil)
	var info map[string]json.RawMessage
	if err := json.Unmarshal(env.Data, &info); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"version", "revision", "branch", "buildUser", "buildDate", "goVersion"} {
		var s string
		if err := json.Unmarshal(info[field], &s); err != nil {
			t.Fatalf("buildinfo %s: %s is not a string: %v", field, info[field], err)
		}
	}
	if _, ok := info["features"]; ok {
		t.Fatalf("buildinfo has features: Grafana would take almanac for Mimir: %s", env.Data)
	}
	var version string
	json.Unmarshal(info["version"], &version)
	if version == "" {
		t.Fatalf("empty version: %s", env.Data)
	}
}

// TestGrafanaExplorePickers replays the metric and label pickers of
// Explore and the query builder.
func TestGrafanaExplorePickers(t *testing.T) {
	e := newGrafanaEnv(t)

	t.Run("metric names", func(t *testing.T) {
		for _, params := range []url.Values{
			grafanaRange,
			with(grafanaRange, "limit", "40000"),
			with(grafanaRange, "match[]", `{__name__=~".*up.*"}`),
		} {
			env := e.grafanaOK(t, http.MethodGet, "/api/v1/label/__name__/values", params)
			got := grafanaStrings(t, env)
			want := []string{"http_requests_total", "node_load1", "up"}
			if params.Has("match[]") {
				want = []string{"up"}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: got %q, want %q", params.Encode(), got, want)
			}
		}
	})

	t.Run("label names", func(t *testing.T) {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			env := e.grafanaOK(t, method, "/api/v1/labels", with(grafanaRange, "match[]", `up`))
			if got, want := grafanaStrings(t, env), []string{"__name__", "instance", "job"}; !slices.Equal(got, want) {
				t.Fatalf("%s: got %q, want %q", method, got, want)
			}
			env = e.grafanaOK(t, method, "/api/v1/labels", grafanaRange)
			if got, want := grafanaStrings(t, env), []string{"__name__", "code", "instance", "job"}; !slices.Equal(got, want) {
				t.Fatalf("%s without match[]: got %q, want %q", method, got, want)
			}
		}
	})

	t.Run("label values", func(t *testing.T) {
		env := e.grafanaOK(t, http.MethodGet, "/api/v1/label/job/values", with(grafanaRange, "match[]", `up{instance="a:9100"}`))
		if got := grafanaStrings(t, env); !slices.Equal(got, []string{"node"}) {
			t.Fatalf("got %q", got)
		}
		env = e.grafanaOK(t, http.MethodGet, "/api/v1/label/job/values", grafanaRange)
		if got := grafanaStrings(t, env); !slices.Equal(got, []string{"api", "node"}) {
			t.Fatalf("got %q", got)
		}
		// A label nothing has: an empty array, not null.
		env = e.grafanaOK(t, http.MethodGet, "/api/v1/label/pod/values", grafanaRange)
		if got := grafanaStrings(t, env); len(got) != 0 {
			t.Fatalf("got %q", got)
		}
	})

	t.Run("series", func(t *testing.T) {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			env := e.grafanaOK(t, method, "/api/v1/series", with(grafanaRange, "match[]", `{__name__="up"}`))
			var got []map[string]string
			if err := json.Unmarshal(env.Data, &got); err != nil {
				t.Fatalf("data is not a list of label objects: %v: %s", err, env.Data)
			}
			want := []map[string]string{
				{"__name__": "up", "instance": "a:9100", "job": "node"},
				{"__name__": "up", "instance": "b:8080", "job": "api"},
			}
			if len(got) != len(want) {
				t.Fatalf("%s: got %v, want %v", method, got, want)
			}
			for i := range want {
				if !labels.Equal(labels.FromMap(got[i]), labels.FromMap(want[i])) {
					t.Fatalf("%s: series %d is %v, want %v", method, i, got[i], want[i])
				}
			}
		}
	})

	t.Run("metadata", func(t *testing.T) {
		// Grafana reads data as {metric: [{type, help, unit}]}; almanac
		// has none, which Grafana shows as metrics without help.
		for _, params := range []url.Values{nil, {"metric": {"up"}}, {"limit": {"10000"}}} {
			env := e.grafanaOK(t, http.MethodGet, "/api/v1/metadata", params)
			var md map[string][]struct{ Type, Help, Unit string }
			if err := json.Unmarshal(env.Data, &md); err != nil || md == nil {
				t.Fatalf("metadata data %s: %v", env.Data, err)
			}
		}
	})
}

// TestGrafanaPanel replays a dashboard panel: range and instant queries
// with the data source's query timeout, and the exemplars request.
func TestGrafanaPanel(t *testing.T) {
	e := newGrafanaEnv(t)

	t.Run("query_range", func(t *testing.T) {
		params := url.Values{
			"query":   {`sum by (job) (up)`},
			"start":   {"1735689600"},
			"end":     {"1735689900"},
			"step":    {"60"},
			"timeout": {"60s"},
		}
		env := e.grafanaOK(t, http.MethodPost, "/api/v1/query_range", params)
		r := grafanaQueryResult(t, env, "matrix")
		var got []grafanaSeries
		if err := json.Unmarshal(r.Result, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("got %d series: %s", len(got), r.Result)
		}
		for _, s := range got {
			if len(s.Values) != 6 || s.Value != nil {
				t.Fatalf("%v: %d values (value %s), want 6 values", s.Metric, len(s.Values), s.Value)
			}
			for i, raw := range s.Values {
				ts, v := grafanaPoint(t, raw)
				if ts != float64(1735689600+60*i) {
					t.Fatalf("%v: point %d at %v", s.Metric, i, ts)
				}
				want := 1.0
				if s.Metric["job"] == "api" {
					want = float64((4 * i) % 2) // sample i*4 of 0,1,0,1...
				}
				if v != want {
					t.Fatalf("%v: point %d is %v, want %v", s.Metric, i, v, want)
				}
			}
		}
	})

	t.Run("query_range NaN and subsecond times", func(t *testing.T) {
		// Grafana formats times with fractions when the range is not
		// aligned, and steps below a second as fractions.
		params := url.Values{"query": {"node_load1"}, "start": {"1735689645.5"}, "end": {"1735689646.5"}, "step": {"0.5"}}
		env := e.grafanaOK(t, http.MethodPost, "/api/v1/query_range", params)
		r := grafanaQueryResult(t, env, "matrix")
		var got []grafanaSeries
		if err := json.Unmarshal(r.Result, &got); err != nil || len(got) != 1 {
			t.Fatalf("%v: %s", err, r.Result)
		}
		if len(got[0].Values) != 3 {
			t.Fatalf("values %s", got[0].Values)
		}
		for i, raw := range got[0].Values {
			ts, v := grafanaPoint(t, raw)
			if ts != 1735689645.5+0.5*float64(i) || !math.IsNaN(v) { // the sample at 45 s is NaN
				t.Fatalf("point %d: [%v, %v]", i, ts, v)
			}
		}
	})

	t.Run("instant", func(t *testing.T) {
		params := url.Values{"query": {`up{job="node"}`}, "time": {"1735690000"}, "timeout": {"60s"}}
		env := e.grafanaOK(t, http.MethodPost, "/api/v1/query", params)
		r := grafanaQueryResult(t, env, "vector")
		var got []grafanaSeries
		if err := json.Unmarshal(r.Result, &got); err != nil || len(got) != 1 {
			t.Fatalf("%v: %s", err, r.Result)
		}
		if ts, v := grafanaPoint(t, got[0].Value); ts != 1735690000 || v != 1 {
			t.Fatalf("[%v, %v]", ts, v)
		}
		if !labels.Equal(labels.FromMap(got[0].Metric), labels.FromStrings("__name__", "up", "job", "node", "instance", "a:9100")) {
			t.Fatalf("metric %v", got[0].Metric)
		}
	})

	t.Run("warnings", func(t *testing.T) {
		params := url.Values{"query": {"rate(up[5m])"}, "start": {"1735689600"}, "end": {"1735689900"}, "step": {"60"}}
		env := e.grafanaOK(t, http.MethodPost, "/api/v1/query_range", params)
		if len(env.Infos)+len(env.Warnings) == 0 || !strings.Contains(strings.Join(append(env.Infos, env.Warnings...), " "), "might not be a counter") {
			t.Fatalf("warnings %q, infos %q; want the counter info", env.Warnings, env.Infos)
		}
	})

	t.Run("exemplars", func(t *testing.T) {
		params := url.Values{"query": {"up"}, "start": {"1735689600"}, "end": {"1735689900"}}
		env := e.grafanaOK(t, http.MethodPost, "/api/v1/query_exemplars", params)
		if string(env.Data) != "[]" {
			t.Fatalf("exemplars data %s, want []", env.Data)
		}
	})

	t.Run("errors", func(t *testing.T) {
		// Grafana shows "<errorType>: <error>" from the body whatever the
		// status; a 400 to a POST resource call is retried as GET, which
		// must then answer the same.
		for _, tc := range []struct {
			path   string
			params url.Values
			code   int
			typ    string
		}{
			{"/api/v1/query_range", url.Values{"query": {"sum(up"}, "start": {"1735689600"}, "end": {"1735689900"}, "step": {"60"}}, 400, "bad_data"},
			{"/api/v1/query_range", url.Values{"query": {"up"}, "start": {"1735689600"}, "end": {"1735689900"}, "step": {"0.001"}}, 400, "bad_data"},
			{"/api/v1/query", url.Values{"query": {`up * on() up`}, "time": {"1735690000"}}, 422, "execution"},
			{"/api/v1/series", grafanaRange, 400, "bad_data"},
		} {
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				resp, body := e.grafana(method, tc.path, tc.params)
				var env grafanaEnvelope
				if err := json.Unmarshal(body, &env); err != nil {
					t.Fatalf("%s %s: %v: %s", method, tc.path, err, body)
				}
				if resp.StatusCode != tc.code || env.Status != "error" || env.ErrorType != tc.typ || env.Error == "" {
					t.Fatalf("%s %s?%s: %d %s; want %d %s", method, tc.path, tc.params.Encode(), resp.StatusCode, body, tc.code, tc.typ)
				}
			}
		}
	})
}
