package server

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
)

// wantBody checks a GET answers code with exactly body.
func (e *env) wantBody(path string, params url.Values, code int, body string) {
	e.t.Helper()
	gotCode, got := e.get(path, params)
	if gotCode != code || got != body {
		e.t.Fatalf("GET %s?%s: %d %s\nwant %d %s", path, params.Encode(), gotCode, got, code, body)
	}
}

func TestRuntimeInfo(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{Retention: 90 * 24 * time.Hour})
	before := time.Now()
	r := e.api("/api/v1/status/runtimeinfo", nil, 200)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.Data, &raw); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// Prometheus's RuntimeInfo fields, no more, no fewer.
	want := []string{"CWD", "GODEBUG", "GOGC", "GOMAXPROCS", "GOMEMLIMIT", "corruptionCount", "goroutineCount",
		"hostname", "lastConfigTime", "reloadConfigSuccess", "serverTime", "startTime", "storageRetention"}
	if !slices.Equal(keys, want) {
		t.Fatalf("runtimeinfo keys %v, want %v", keys, want)
	}
	var ri runtimeInfo
	if err := json.Unmarshal(r.Data, &ri); err != nil {
		t.Fatal(err)
	}
	cwd, _ := os.Getwd()
	if ri.CWD != cwd || !ri.ReloadConfigSuccess || ri.CorruptionCount != 0 || ri.StorageRetention != "90d" ||
		ri.GOMAXPROCS != runtime.GOMAXPROCS(0) || ri.GoroutineCount < 1 || ri.GOMEMLIMIT <= 0 ||
		ri.GOGC != os.Getenv("GOGC") || ri.Hostname == "" {
		t.Fatalf("runtimeinfo %+v", ri)
	}
	if ri.StartTime.IsZero() || ri.StartTime.After(before) || !ri.LastConfigTime.Equal(ri.StartTime) ||
		ri.ServerTime.Before(before.Add(-time.Second)) {
		t.Fatalf("runtimeinfo times: start %v, last config %v, server %v, asked at %v",
			ri.StartTime, ri.LastConfigTime, ri.ServerTime, before)
	}
}

func TestFormatRetention(t *testing.T) {
	f := func(d time.Duration, want string) {
		t.Helper()
		if got := formatRetention(d); got != want {
			t.Errorf("formatRetention(%v) = %q, want %q", d, got, want)
		}
	}
	f(0, "")
	f(-1, "forever")
	f(30*24*time.Hour, "30d")
	f(2*7*24*time.Hour, "2w")
	f(36*time.Hour, "1d12h")
}

func TestStaticStatusEndpoints(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{Flags: map[string]string{"retention": "90d", "listen": "localhost:9494"}})
	e.wantBody("/api/v1/status/flags", nil, 200, `{"status":"success","data":{"listen":"localhost:9494","retention":"90d"}}`)
	e.wantBody("/api/v1/status/config", nil, 200, `{"status":"success","data":{"yaml":""}}`)
	e.wantBody("/api/v1/status/walreplay", nil, 200, `{"status":"success","data":{"min":0,"max":0,"current":0}}`)
	e.wantBody("/api/v1/rules", nil, 200, `{"status":"success","data":{"groups":[]}}`)
	e.wantBody("/api/v1/rules", url.Values{"type": {"alert"}}, 200, `{"status":"success","data":{"groups":[]}}`)
	e.wantBody("/api/v1/rules", url.Values{"type": {"bogus"}}, 400,
		`{"status":"error","errorType":"bad_data","error":"invalid parameter \"type\": not supported value \"bogus\""}`)
	e.wantBody("/api/v1/alerts", nil, 200, `{"status":"success","data":{"alerts":[]}}`)

	bare := newEnv(t, almanac.Options{}, Config{})
	bare.wantBody("/api/v1/status/flags", nil, 200, `{"status":"success","data":{}}`)
	r := bare.api("/api/v1/status/runtimeinfo", nil, 200)
	if !strings.Contains(string(r.Data), `"storageRetention":""`) {
		t.Fatalf("runtimeinfo without Config.Retention: %s", r.Data)
	}
}

func TestFormatQuery(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})
	const q = `sum(rate(http_requests_total{job="api"}[5m]))by(code)`
	const want = `{"status":"success","data":"sum by (code) (rate(http_requests_total{job=\"api\"}[5m]))"}`
	e.wantBody("/api/v1/format_query", url.Values{"query": {q}}, 200, want)
	if code, body := e.postForm("/api/v1/format_query", url.Values{"query": {q}}); code != 200 || body != want {
		t.Fatalf("POST format_query: %d %s", code, body)
	}
	// An experimental function parses, as in queries.
	e.api("/api/v1/format_query", url.Values{"query": {"mad_over_time(x[5m])"}}, 200)

	r := e.api("/api/v1/format_query", url.Values{"query": {"sum(rate(x[5m]"}}, 400)
	if r.ErrorType != "bad_data" || !strings.HasPrefix(r.Error, `invalid parameter "query": `) || !strings.Contains(r.Error, "parse error") {
		t.Fatalf("bad query: %+v", r)
	}
	if r := e.api("/api/v1/format_query", nil, 400); r.ErrorType != "bad_data" {
		t.Fatalf("no query: %+v", r)
	}
}

// statusTSDB decodes /api/v1/status/tsdb.
func (e *env) statusTSDB(params url.Values) tsdbStatus {
	e.t.Helper()
	r := e.api("/api/v1/status/tsdb", params, 200)
	for _, list := range []string{"seriesCountByMetricName", "labelValueCountByLabelName",
		"memoryInBytesByLabelName", "seriesCountByLabelValuePair"} {
		if !strings.Contains(string(r.Data), `"`+list+`":[`) {
			e.t.Fatalf("tsdb status lacks list %q: %s", list, r.Data)
		}
	}
	var st tsdbStatus
	if err := json.Unmarshal(r.Data, &st); err != nil {
		e.t.Fatal(err)
	}
	return st
}

func TestTSDBStatus(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})

	empty := e.statusTSDB(nil)
	if want := (headStats{MinTime: math.MaxInt64, MaxTime: math.MinInt64}); empty.HeadStats != want ||
		len(empty.SeriesCountByMetricName)+len(empty.LabelValueCountByLabelName)+
			len(empty.MemoryInBytesByLabelName)+len(empty.SeriesCountByLabelValuePair) != 0 {
		t.Fatalf("empty database: %+v", empty)
	}

	now := time.Now().Truncate(time.Second).UnixMilli()
	var batch []almanac.SeriesSamples
	add := func(end int64, n int, kv ...string) {
		batch = append(batch, almanac.SeriesSamples{Labels: labels.FromStrings(kv...), Samples: scrapes(end, n, 1, 1)})
	}
	// 4 series of "up" (2 jobs), 2 of "requests_total", 1 of "temp".
	add(now, 3, "__name__", "up", "job", "node", "instance", "a")
	add(now, 3, "__name__", "up", "job", "node", "instance", "b")
	add(now-60_000, 5, "__name__", "up", "job", "node", "instance", "c")
	add(now, 1, "__name__", "up", "job", "api", "instance", "a")
	add(now-30_000, 2, "__name__", "requests_total", "job", "api", "instance", "a", "code", "200")
	add(now, 2, "__name__", "requests_total", "job", "api", "instance", "a", "code", "500")
	add(now-3_600_000, 1, "__name__", "temp", "room", "kitchen")
	if err := e.db.Append(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	wantMin, wantMax := now-3_600_000, now

	st := e.statusTSDB(nil)
	// Pairs: __name__ ×3, job ×2, instance ×3, code ×2, room ×1.
	if want := (headStats{NumSeries: 7, NumLabelPairs: 11, MinTime: wantMin, MaxTime: wantMax}); st.HeadStats != want {
		t.Fatalf("headStats %+v, want %+v", st.HeadStats, want)
	}
	f := func(name string, got, want []tsdbStat) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", name, got, want)
		}
	}
	f("seriesCountByMetricName", st.SeriesCountByMetricName, []tsdbStat{{"up", 4}, {"requests_total", 2}, {"temp", 1}})
	f("labelValueCountByLabelName", st.LabelValueCountByLabelName,
		[]tsdbStat{{"__name__", 3}, {"instance", 3}, {"code", 2}, {"job", 2}, {"room", 1}})
	f("seriesCountByLabelValuePair", st.SeriesCountByLabelValuePair, []tsdbStat{
		{"__name__=up", 4}, {"instance=a", 4}, {"job=api", 3}, {"job=node", 3}, {"__name__=requests_total", 2},
		{"__name__=temp", 1}, {"code=200", 1}, {"code=500", 1}, {"instance=b", 1}, {"instance=c", 1},
	})
	size := func(name string, valueCounts ...any) uint64 {
		var n uint64
		for i := 0; i < len(valueCounts); i += 2 {
			n += labels.SizeOfLabels(name, valueCounts[i].(string), uint64(valueCounts[i+1].(int)))
		}
		return n
	}
	wantBytes := []tsdbStat{
		{"__name__", size("__name__", "up", 4, "requests_total", 2, "temp", 1)},
		{"code", size("code", "200", 1, "500", 1)},
		{"instance", size("instance", "a", 4, "b", 1, "c", 1)},
		{"job", size("job", "api", 3, "node", 3)},
		{"room", size("room", "kitchen", 1)},
	}
	for _, s := range wantBytes {
		if !slices.Contains(st.MemoryInBytesByLabelName, s) {
			t.Errorf("memoryInBytesByLabelName %v lacks %v", st.MemoryInBytesByLabelName, s)
		}
	}
	if !slices.IsSortedFunc(st.MemoryInBytesByLabelName, func(a, b tsdbStat) int { return int(b.Value) - int(a.Value) }) {
		t.Errorf("memoryInBytesByLabelName not largest first: %v", st.MemoryInBytesByLabelName)
	}

	top := e.statusTSDB(url.Values{"limit": {"2"}})
	if top.HeadStats != st.HeadStats {
		t.Fatalf("limit changed headStats: %+v", top.HeadStats)
	}
	f("seriesCountByMetricName limit 2", top.SeriesCountByMetricName, st.SeriesCountByMetricName[:2])
	f("labelValueCountByLabelName limit 2", top.LabelValueCountByLabelName, st.LabelValueCountByLabelName[:2])
	f("memoryInBytesByLabelName limit 2", top.MemoryInBytesByLabelName, st.MemoryInBytesByLabelName[:2])
	f("seriesCountByLabelValuePair limit 2", top.SeriesCountByLabelValuePair, st.SeriesCountByLabelValuePair[:2])

	for _, tc := range []struct{ limit, msg string }{
		{"0", "limit must be a positive number"},
		{"-3", "limit must be a positive number"},
		{"ten", "limit must be a positive number"},
		{"10001", "limit must not exceed 10000"},
	} {
		r := e.api("/api/v1/status/tsdb", url.Values{"limit": {tc.limit}}, http.StatusBadRequest)
		if r.ErrorType != "bad_data" || r.Error != tc.msg {
			t.Errorf("limit=%s: %+v", tc.limit, r)
		}
	}
	e.api("/api/v1/status/tsdb", url.Values{"limit": {"10000"}}, 200)
}
