package server

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
)

func TestLabelsAndSeries(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})
	now := time.Now().UnixMilli()
	in := []series{
		{labels.FromStrings("__name__", "up", "job", "api", "instance", "a"), scrapes(now, 2, 1, 0)},
		{labels.FromStrings("__name__", "up", "job", "node", "instance", "b"), scrapes(now, 2, 1, 0)},
		{labels.FromStrings("__name__", "http.server.duration", "job", "api", "service.name", "checkout"), scrapes(now, 2, 1, 0)},
	}
	if resp, body := e.writeV1(in...); resp.StatusCode != 204 {
		t.Fatalf("write: %d %s", resp.StatusCode, body)
	}
	f := func(path string, params url.Values, want string) {
		t.Helper()
		code, body := e.get(path, params)
		if code != 200 || body != want {
			t.Fatalf("%s %v:\n got %d %s\nwant 200 %s", path, params, code, body, want)
		}
	}
	f("/api/v1/labels", nil, `{"status":"success","data":["__name__","instance","job","service.name"]}`)
	f("/api/v1/labels", url.Values{"match[]": {`up`}}, `{"status":"success","data":["__name__","instance","job"]}`)
	f("/api/v1/labels", url.Values{"match[]": {`{job="node"}`, `{"http.server.duration"}`}}, `{"status":"success","data":["__name__","instance","job","service.name"]}`)
	f("/api/v1/labels", url.Values{"limit": {"2"}}, `{"status":"success","data":["__name__","instance"],"warnings":["results truncated due to limit"]}`)
	f("/api/v1/label/job/values", nil, `{"status":"success","data":["api","node"]}`)
	f("/api/v1/label/job/values", url.Values{"match[]": {`up{instance="b"}`}}, `{"status":"success","data":["node"]}`)
	f("/api/v1/label/__name__/values", nil, `{"status":"success","data":["http.server.duration","up"]}`)
	f("/api/v1/label/U__service_2e_name/values", nil, `{"status":"success","data":["checkout"]}`)
	f("/api/v1/label/nope/values", nil, `{"status":"success","data":[]}`)
	f("/api/v1/series", url.Values{"match[]": {`up`}},
		`{"status":"success","data":[{"__name__":"up","instance":"a","job":"api"},{"__name__":"up","instance":"b","job":"node"}]}`)
	f("/api/v1/series", url.Values{"match[]": {`{job="api"}`, `up`}, "limit": {"2"}},
		`{"status":"success","data":[{"__name__":"http.server.duration","job":"api","service.name":"checkout"},{"__name__":"up","instance":"a","job":"api"}],"warnings":["results truncated due to limit"]}`)
	// A range before the data holds no series.
	old := formatTime(now - 30*24*time.Hour.Milliseconds())
	f("/api/v1/series", url.Values{"match[]": {`up`}, "start": {old}, "end": {old}}, `{"status":"success","data":[]}`)
	f("/api/v1/labels", url.Values{"start": {old}, "end": {old}}, `{"status":"success","data":[]}`)
	// POST form works for labels and series.
	if code, body := e.postForm("/api/v1/series", url.Values{"match[]": {`{instance="b"}`}}); code != 200 ||
		body != `{"status":"success","data":[{"__name__":"up","instance":"b","job":"node"}]}` {
		t.Fatalf("POST series: %d %s", code, body)
	}

	for _, tc := range []struct {
		path    string
		params  url.Values
		message string
	}{
		{"/api/v1/series", nil, "no match[] parameter provided"},
		{"/api/v1/series", url.Values{"match[]": {`{job=~".*"}`}}, "match[] must contain at least one non-empty matcher"},
		{"/api/v1/series", url.Values{"match[]": {`up{`}}, `invalid parameter "match[]"`},
		{"/api/v1/labels", url.Values{"start": {"x"}}, `invalid parameter "start"`},
		{"/api/v1/label/job/values", url.Values{"limit": {"many"}}, `invalid parameter "limit"`},
		{"/api/v1/label/%ff/values", nil, `invalid label name: "\xff"`},
	} {
		r := e.api(tc.path, tc.params, 400)
		if r.Status != "error" || r.ErrorType != "bad_data" || !strings.Contains(r.Error, tc.message) {
			t.Fatalf("%s %v: %+v, want bad_data with %q", tc.path, tc.params, r, tc.message)
		}
	}
}
