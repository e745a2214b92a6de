package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
)

// postImport sends an import body to path?query and returns the response
// and its body.
func (e *env) postImport(path, query string, header http.Header, body []byte) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.hs.URL+path+"?"+query, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return e.do(req)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// importEnv is a server whose clock stands at now.
func importEnv(t *testing.T, now int64) *env {
	e := newEnv(t, almanac.Options{}, Config{})
	e.srv.now = func() time.Time { return time.UnixMilli(now) }
	return e
}

// wantStored checks the samples stored for the series lset.
func (e *env) wantStored(lset labels.Labels, want ...almanac.Sample) {
	e.t.Helper()
	var ms []*labels.Matcher
	lset.Range(func(l labels.Label) { ms = append(ms, eq(l.Name, l.Value)) })
	got := e.stored(ms...)[lset.String()]
	if !slices.Equal(got, want) {
		e.t.Fatalf("%s: stored %v, want %v", lset, got, want)
	}
}

// wantQuery checks an instant query's result at t, as "labels value" lines.
func (e *env) wantQuery(query string, t int64, want ...string) {
	e.t.Helper()
	r := e.api("/api/v1/query", url.Values{"query": {query}, "time": {formatTime(t)}}, 200)
	var vec []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	mustData(e.t.(*testing.T), r, "vector", &vec)
	var got []string
	for _, s := range vec {
		got = append(got, labels.FromMap(s.Metric).String()+" "+s.Value[1].(string))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		e.t.Fatalf("%s at %d:\ngot  %q\nwant %q", query, t, got, want)
	}
}

func wantStatus(t *testing.T, resp *http.Response, body string, code int, contains ...string) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("status %d, want %d; body %q", resp.StatusCode, code, body)
	}
	for _, c := range contains {
		if !strings.Contains(body, c) {
			t.Fatalf("body %q does not contain %q", body, c)
		}
	}
}

func TestImportPrometheus(t *testing.T) {
	now := time.Now().Truncate(time.Second).UnixMilli()
	const path = "/api/v1/import/prometheus"
	text := http.Header{"Content-Type": {"text/plain; version=0.0.4"}}

	t.Run("text", func(t *testing.T) {
		e := importEnv(t, now)
		resp, body := e.postImport(path, "", text, []byte(`# TYPE http_requests_total counter
http_requests_total{code="200"} 10
http_requests_total{code="500"} 2 `+itoa(now-1000)+`
`))
		wantStatus(t, resp, body, http.StatusNoContent)
		e.wantStored(labels.FromStrings("__name__", "http_requests_total", "code", "500"), almanac.Sample{T: now - 1000, V: 2})
		e.wantQuery("http_requests_total", now, `{__name__="http_requests_total", code="200"} 10`,
			`{__name__="http_requests_total", code="500"} 2`)
	})
	t.Run("timestamp parameter and gzip", func(t *testing.T) {
		e := importEnv(t, now)
		h := http.Header{"Content-Encoding": {"gzip"}}
		resp, body := e.postImport(path, "timestamp="+itoa(now-60000), h, gzipped(t, "up{job=\"a\"} 1\n"))
		wantStatus(t, resp, body, http.StatusNoContent)
		e.wantStored(labels.FromStrings("__name__", "up", "job", "a"), almanac.Sample{T: now - 60000, V: 1})
		resp, body = e.postImport(path, "timestamp=soon", nil, []byte("up 1\n"))
		wantStatus(t, resp, body, http.StatusBadRequest, "timestamp")
	})
	t.Run("openmetrics", func(t *testing.T) {
		e := importEnv(t, now)
		h := http.Header{"Content-Type": {"application/openmetrics-text; version=1.0.0"}}
		sec := formatTime(now - 5000)
		resp, body := e.postImport(path, "", h, []byte(`# TYPE jobs counter
jobs_total{q="x"} 7 `+sec+` # {trace_id="abc"} 1
# EOF
`))
		wantStatus(t, resp, body, http.StatusNoContent)
		if got := resp.Header.Get("X-Almanac-Ignored"); got != "1 exemplars" {
			t.Fatalf("X-Almanac-Ignored %q", got)
		}
		e.wantStored(labels.FromStrings("__name__", "jobs_total", "q", "x"), almanac.Sample{T: now - 5000, V: 7})
	})
	t.Run("bad lines: the rest is stored, 400 names them", func(t *testing.T) {
		e := importEnv(t, now)
		resp, body := e.postImport(path, "", text, []byte("good 1\nbad{ 2\nalso_good 3\n"))
		wantStatus(t, resp, body, http.StatusBadRequest, "1 invalid lines", "line 2:", "2 samples of the valid lines stored")
		e.wantQuery(`{__name__=~"good|also_good|bad"}`, now, `{__name__="also_good"} 3`, `{__name__="good"} 1`)
	})
	t.Run("first ten bad lines listed", func(t *testing.T) {
		e := importEnv(t, now)
		resp, body := e.postImport(path, "", text, []byte(strings.Repeat("}\n", 12)))
		wantStatus(t, resp, body, http.StatusBadRequest, "12 invalid lines not stored (no valid line, nothing stored)",
			"line 10:", "and 2 more")
		if strings.Contains(body, "line 11:") {
			t.Fatalf("body lists more than 10 lines: %s", body)
		}
	})
	t.Run("storage refusals are reported", func(t *testing.T) {
		e := importEnv(t, now)
		resp, body := e.postImport(path, "", text, []byte("ok 1\nold 1 1000\n"))
		wantStatus(t, resp, body, http.StatusBadRequest, "1 samples stored", "retention")
	})
	t.Run("protobuf refused", func(t *testing.T) {
		e := importEnv(t, now)
		resp, body := e.postImport(path, "", http.Header{"Content-Type": {"application/vnd.google.protobuf"}}, []byte{1})
		wantStatus(t, resp, body, http.StatusUnsupportedMediaType)
	})
	t.Run("limits and encodings", func(t *testing.T) {
		e := newEnv(t, almanac.Options{}, Config{MaxWriteBytes: 64})
		resp, body := e.postImport(path, "", text, []byte(strings.Repeat("up 1\n", 20)))
		wantStatus(t, resp, body, http.StatusRequestEntityTooLarge)
		resp, body = e.postImport(path, "", http.Header{"Content-Encoding": {"gzip"}}, gzipped(t, strings.Repeat("up 1\n", 20)))
		wantStatus(t, resp, body, http.StatusRequestEntityTooLarge)
		resp, body = e.postImport(path, "", http.Header{"Content-Encoding": {"br"}}, []byte("up 1\n"))
		wantStatus(t, resp, body, http.StatusUnsupportedMediaType)
		resp, body = e.postImport(path, "", http.Header{"Content-Encoding": {"gzip"}}, []byte("up 1\n"))
		wantStatus(t, resp, body, http.StatusBadRequest, "gzip")
		e.mustReady()
	})
}

func TestImportInflux(t *testing.T) {
	now := time.Now().Truncate(time.Second).UnixMilli()
	for _, tc := range []struct{ name, path, params string }{
		{"v1", "/write", "db=telegraf&precision=ms"},
		{"v2", "/api/v2/write", "bucket=telegraf&org=o&precision=ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := importEnv(t, now)
			resp, body := e.postImport(tc.path, tc.params, nil, []byte(`# telegraf
cpu,host=a,cpu=cpu0 usage_user=12.5,usage_idle=80i `+itoa(now-1000)+`
mem,host=a used=1024u,ok=true,note="fine"
temp value=21
`))
			wantStatus(t, resp, body, http.StatusNoContent)
			if got := resp.Header.Get("X-Almanac-Ignored"); got != "1 string fields" {
				t.Fatalf("X-Almanac-Ignored %q", got)
			}
			e.wantStored(labels.FromStrings("__name__", "cpu_usage_user", "host", "a", "cpu", "cpu0", "db", "telegraf"),
				almanac.Sample{T: now - 1000, V: 12.5})
			e.wantQuery(`{host="a"}`, now,
				`{__name__="cpu_usage_idle", cpu="cpu0", db="telegraf", host="a"} 80`,
				`{__name__="cpu_usage_user", cpu="cpu0", db="telegraf", host="a"} 12.5`,
				`{__name__="mem_ok", db="telegraf", host="a"} 1`,
				`{__name__="mem_used", db="telegraf", host="a"} 1024`)
			e.wantQuery(`temp`, now, `{__name__="temp", db="telegraf"} 21`)
		})
	}
	t.Run("bad lines", func(t *testing.T) {
		e := importEnv(t, now)
		resp, body := e.postImport("/write", "", http.Header{"Content-Encoding": {"gzip"}},
			gzipped(t, "a v=1\nb v=oops\nc v=3\n"))
		wantStatus(t, resp, body, http.StatusBadRequest, `line 2, column 5: field "v": invalid number "oops"`)
		e.wantQuery(`{__name__=~"a_v|b_v|c_v"}`, now, `{__name__="a_v"} 1`, `{__name__="c_v"} 3`)
	})
	t.Run("bad precision", func(t *testing.T) {
		e := importEnv(t, now)
		resp, body := e.postImport("/write", "precision=d", nil, []byte("a v=1\n"))
		wantStatus(t, resp, body, http.StatusBadRequest, "precision")
	})
}

func TestImportVMJSON(t *testing.T) {
	now := time.Now().Truncate(time.Second).UnixMilli()
	e := importEnv(t, now)
	resp, body := e.postImport("/api/v1/import", "", nil, []byte(`{"metric":{"__name__":"up","job":"a"},"values":[1,0,1],"timestamps":[`+
		itoa(now-30000)+`,`+itoa(now-15000)+`,`+itoa(now)+`]}
{"metric":{"__name__":"up","job":"b"},"values":[1],"timestamps":[`+itoa(now)+`]}
`))
	wantStatus(t, resp, body, http.StatusNoContent)
	e.wantStored(labels.FromStrings("__name__", "up", "job", "a"),
		almanac.Sample{T: now - 30000, V: 1}, almanac.Sample{T: now - 15000, V: 0}, almanac.Sample{T: now, V: 1})
	e.wantQuery(`up`, now, `{__name__="up", job="a"} 1`, `{__name__="up", job="b"} 1`)

	r := e.api("/api/v1/series", url.Values{"match[]": {`up`}, "start": {formatTime(now - 60000)}, "end": {formatTime(now)}}, 200)
	var series []map[string]string
	mustData2(t, r, &series)
	if len(series) != 2 {
		t.Fatalf("series %v", series)
	}

	resp, body = e.postImport("/api/v1/import", "", http.Header{"Content-Encoding": {"gzip"}}, gzipped(t,
		`{"metric":{"__name__":"late"},"values":[1,2],"timestamps":[`+itoa(now)+`]}
{"metric":{"__name__":"late"},"values":[5],"timestamps":[`+itoa(now)+`]}
`))
	wantStatus(t, resp, body, http.StatusBadRequest, "line 1: 2 values but 1 timestamps")
	e.wantQuery(`late`, now, `{__name__="late"} 5`)

	resp, body = e.postImport("/api/v1/import", "", nil, []byte("{\n"))
	wantStatus(t, resp, body, http.StatusBadRequest, "nothing stored", "line 1")
}

// mustData2 decodes the data of a success envelope whose data is not a
// query result.
func mustData2(t *testing.T, r apiResponse, v any) {
	t.Helper()
	if r.Status != "success" {
		t.Fatalf("status %q: %s", r.Status, r.Error)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatal(err)
	}
}

func TestImportCSV(t *testing.T) {
	now := time.Now().Truncate(time.Second).UnixMilli()
	const path = "/api/v1/import/csv"
	e := importEnv(t, now)
	format := url.Values{"format": {"1:label:job,2:metric:up,3:time:unix_ms,4:metric:load"}}.Encode()
	resp, body := e.postImport(path, format, nil, []byte("api,1,"+itoa(now-15000)+",0.5\nweb,0,"+itoa(now)+",\n"))
	wantStatus(t, resp, body, http.StatusNoContent)
	e.wantStored(labels.FromStrings("__name__", "up", "job", "api"), almanac.Sample{T: now - 15000, V: 1})
	e.wantQuery(`{__name__=~"up|load"}`, now,
		`{__name__="up", job="api"} 1`, `{__name__="up", job="web"} 0`, `{__name__="load", job="api"} 0.5`)

	// Without a time column, the time of the request.
	resp, body = e.postImport(path, "format=2:metric:temp,1:label:room", nil, []byte("kitchen,21.5\n"))
	wantStatus(t, resp, body, http.StatusNoContent)
	e.wantStored(labels.FromStrings("__name__", "temp", "room", "kitchen"), almanac.Sample{T: now, V: 21.5})

	resp, body = e.postImport(path, format, nil, []byte("db,x,"+itoa(now)+",1\ndb,1,"+itoa(now)+",2\n"))
	wantStatus(t, resp, body, http.StatusBadRequest, `line 1, column 2: metric "up": invalid value "x"`)
	e.wantQuery(`{job="db"}`, now, `{__name__="up", job="db"} 1`, `{__name__="load", job="db"} 2`)

	resp, body = e.postImport(path, "format=1:label:job", nil, []byte("a\n"))
	wantStatus(t, resp, body, http.StatusBadRequest, "no metric column")
	resp, body = e.postImport(path, "", nil, []byte("a\n"))
	wantStatus(t, resp, body, http.StatusBadRequest, "format")
}
