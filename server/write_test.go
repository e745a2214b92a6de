package server

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/almanacdb/almanac"
)

// scrapes returns n samples 15 s apart ending at end, values start, start+step, ...
func scrapes(end int64, n int, start, step float64) []almanac.Sample {
	out := make([]almanac.Sample, n)
	for i := range out {
		out[i] = almanac.Sample{T: end - int64(n-1-i)*15000, V: start + float64(i)*step}
	}
	return out
}

func TestRemoteWriteRoundTrip(t *testing.T) {
	now := time.Now().Truncate(time.Second).UnixMilli()
	for _, tc := range []struct {
		name  string
		write func(*env, ...series) (*http.Response, string)
	}{
		{"v1", (*env).writeV1},
		{"v2", (*env).writeV2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, almanac.Options{}, Config{})
			in := []series{
				{labels.FromStrings("__name__", "http_requests_total", "job", "api", "code", "200"), scrapes(now, 20, 100, 10)},
				{labels.FromStrings("__name__", "http_requests_total", "job", "api", "code", "500"), scrapes(now, 20, 0, 1)},
				{labels.FromStrings("__name__", "node_load1", "job", "node", "zone", "é"), scrapes(now, 20, 0.5, -0.125)},
			}
			resp, body := tc.write(e, in...)
			if resp.StatusCode != http.StatusNoContent || body != "" {
				t.Fatalf("write: %d %q, want 204 and no body", resp.StatusCode, body)
			}

			// Every sample is stored as sent.
			got := e.stored(eq("job", "api"))
			for _, s := range in[:2] {
				if !slices.Equal(got[s.lset.String()], s.samples) {
					t.Fatalf("%s: stored %v, want %v", s.lset, got[s.lset.String()], s.samples)
				}
			}

			// The instant query at the last scrape sees the last values.
			r := e.api("/api/v1/query", url.Values{"query": {`http_requests_total{job="api"}`}, "time": {formatTime(now)}}, 200)
			var vec []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			}
			mustData(t, r, "vector", &vec)
			if len(vec) != 2 || vec[0].Metric["code"] != "200" || vec[0].Value[1] != "290" || vec[1].Value[1] != "19" {
				t.Fatalf("instant query: %+v", vec)
			}
			if ts, _ := vec[0].Value[0].(float64); int64(math.Round(ts*1000)) != now {
				t.Fatalf("instant query timestamp %v, want %d", vec[0].Value[0], now)
			}

			// A range query over the scrapes returns every value.
			r = e.api("/api/v1/query_range", url.Values{"query": {`node_load1`}, "start": {formatTime(now - 19*15000)},
				"end": {formatTime(now)}, "step": {"15s"}}, 200)
			var mat []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			}
			mustData(t, r, "matrix", &mat)
			if len(mat) != 1 || len(mat[0].Values) != 20 || mat[0].Metric["zone"] != "é" {
				t.Fatalf("range query: %+v", mat)
			}
			for i, p := range mat[0].Values {
				if want := strconv.FormatFloat(in[2].samples[i].V, 'f', -1, 64); p[1] != want {
					t.Fatalf("range point %d: %v, want %s", i, p[1], want)
				}
			}

			// /api/v1/series lists the written series.
			r = e.api("/api/v1/series", url.Values{"match[]": {`{job=~"api|node"}`}}, 200)
			var sets []map[string]string
			if err := json.Unmarshal(r.Data, &sets); err != nil {
				t.Fatal(err)
			}
			if len(sets) != 3 {
				t.Fatalf("series: %v", sets)
			}
			for i, s := range []series{in[0], in[1], in[2]} {
				if !labels.Equal(labels.FromMap(sets[i]), s.lset) {
					t.Fatalf("series %d: %v, want %s", i, sets[i], s.lset)
				}
			}
		})
	}
}

func TestRemoteWriteV2StartTimestamps(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})
	now := time.Now().UnixMilli()
	st := now - time.Hour.Milliseconds()
	samples := scrapes(now, 10, 5, 5)
	for i := range samples {
		samples[i].ST = st
	}
	gauge := scrapes(now, 3, 1, 0)
	in := []series{
		{labels.FromStrings("__name__", "jobs_total", "job", "batch"), samples},
		{labels.FromStrings("__name__", "temperature", "job", "batch"), gauge},
	}
	resp, body := e.writeV2(in...)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %d %s", resp.StatusCode, body)
	}
	for h, want := range map[string]string{
		"X-Prometheus-Remote-Write-Samples-Written":    "13",
		"X-Prometheus-Remote-Write-Histograms-Written": "0",
		"X-Prometheus-Remote-Write-Exemplars-Written":  "0",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Fatalf("%s: %q, want %q", h, got, want)
		}
	}
	got := e.stored(eq("job", "batch"))
	for _, s := range in {
		if !slices.Equal(got[s.lset.String()], s.samples) {
			t.Fatalf("%s: stored %v, want %v (start timestamps included)", s.lset, got[s.lset.String()], s.samples)
		}
	}
	// Remote write 1.0 answers carry no 2.0 headers.
	resp, _ = e.writeV1(series{labels.FromStrings("__name__", "x"), scrapes(now, 1, 1, 0)})
	if h := resp.Header.Get("X-Prometheus-Remote-Write-Samples-Written"); h != "" {
		t.Fatalf("1.0 answer has a written-samples header %q", h)
	}
}

// TestRemoteWriteBadInput sends every kind of bad request: each gets a 4xx
// naming the problem, and the server keeps serving.
func TestRemoteWriteBadInput(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{MaxWriteBytes: 4096})
	now := time.Now().UnixMilli()
	valid := encodeV1(t, []series{{labels.FromStrings("__name__", "up"), scrapes(now, 1, 1, 0)}})
	big := encodeV1(t, []series{{labels.FromStrings("__name__", "big", "pad", strings.Repeat("x", 8000)), scrapes(now, 1, 1, 0)}})
	hist := prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels:     []prompb.Label{{Name: "__name__", Value: "latency_seconds"}},
		Histograms: []prompb.Histogram{{Timestamp: now, Count: &prompb.Histogram_CountInt{CountInt: 1}, Sum: 0.5}},
	}}}
	histBody, _ := hist.Marshal()
	badRef := writev2.Request{Symbols: []string{"", "__name__", "up"}, Timeseries: []writev2.TimeSeries{{
		LabelsRefs: []uint32{1, 9}, Samples: []writev2.Sample{{Timestamp: now, Value: 1}},
	}}}
	badRefBody, _ := badRef.Marshal()

	for _, tc := range []struct {
		name, contentType string
		body              []byte
		code              int
		message           string
	}{
		{"corrupt snappy", contentTypeV1, []byte("definitely not snappy"), 400, "corrupt snappy compression"},
		{"truncated snappy", contentTypeV1, valid[:len(valid)-3], 400, "corrupt snappy compression"},
		{"bad protobuf v1", contentTypeV1, snappy.Encode(nil, []byte{0x0a, 0x05, 0x01}), 400, "malformed protobuf message: decoding prometheus.WriteRequest"},
		{"bad protobuf v2", contentTypeV2, snappy.Encode(nil, []byte{0x22, 0xff, 0xff, 0xff, 0xff, 0x0f}), 400, "malformed protobuf message: decoding io.prometheus.write.v2.Request"},
		{"wrong content type", "application/json", valid, 415, "unsupported media type"},
		{"unknown proto message", "application/x-protobuf;proto=io.prometheus.write.v3.Request", valid, 415, "unknown message"},
		{"oversized body", contentTypeV1, big, 413, "request body too large"},
		{"invalid labels", contentTypeV1, encodeV1(t, []series{{labels.FromStrings("__name__", "bad", "le", "\xff"), scrapes(now, 2, 1, 0)}}), 400, "invalid labels"},
		{"empty label set", contentTypeV1, encodeV1(t, []series{{labels.EmptyLabels(), scrapes(now, 1, 1, 0)}}), 400, "empty label set"},
		{"older than retention", contentTypeV1, encodeV1(t, []series{{labels.FromStrings("__name__", "old"), scrapes(now-60*24*time.Hour.Milliseconds(), 3, 1, 0)}}), 400, "older than the retention period"},
		{"in the future", contentTypeV2, encodeV2(t, []series{{labels.FromStrings("__name__", "future"), scrapes(now+48*time.Hour.Milliseconds(), 2, 1, 0)}}), 400, "too far in the future"},
		{"native histogram", contentTypeV1, snappy.Encode(nil, histBody), 400, "native histograms are not supported yet"},
		{"label ref out of range", contentTypeV2, snappy.Encode(nil, badRefBody), 400, "reference 9 outside the symbols table of 3 entries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.post(tc.contentType, tc.body)
			if resp.StatusCode != tc.code || !strings.Contains(body, tc.message) {
				t.Fatalf("got %d %q; want %d with %q", resp.StatusCode, body, tc.code, tc.message)
			}
			e.mustReady()
			if resp, body := e.post(contentTypeV1, valid); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("valid write after a bad one: %d %s", resp.StatusCode, body)
			}
		})
	}
	if got := e.stored(eq("__name__", "latency_seconds")); len(got) != 0 {
		t.Fatalf("a histogram series was stored: %v", got)
	}
}

// TestRemoteWriteMixed: the invalid parts of a request are dropped and
// named, everything else is stored, and the answer is 400 so the sender
// does not retry.
func TestRemoteWriteMixed(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})
	now := time.Now().UnixMilli()
	day := 24 * time.Hour.Milliseconds()
	good := series{labels.FromStrings("__name__", "good", "job", "mix"), scrapes(now, 5, 1, 1)}
	// Two samples older than retention, then valid ones: the old ones go.
	partly := series{labels.FromStrings("__name__", "partly", "job", "mix"), append(
		[]almanac.Sample{{T: now - 40*day, V: 1}, {T: now - 35*day, V: 2}}, scrapes(now, 3, 10, 1)...)}
	future := series{labels.FromStrings("__name__", "future", "job", "mix"), append(
		scrapes(now, 2, 7, 0), almanac.Sample{T: now + 2*day, V: 9})}
	badLabels := series{labels.FromStrings("__name__", "bad", "job", "mix", "x", "\xfe"), scrapes(now, 4, 1, 1)}
	hist := prompb.TimeSeries{
		Labels:     []prompb.Label{{Name: "__name__", Value: "hist"}, {Name: "job", Value: "mix"}},
		Samples:    []prompb.Sample{{Timestamp: now, Value: 3}},
		Histograms: []prompb.Histogram{{Timestamp: now, Count: &prompb.Histogram_CountInt{CountInt: 1}}},
	}

	var wr prompb.WriteRequest
	if err := wr.Unmarshal(snappyDecode(t, encodeV1(t, []series{good, partly, future, badLabels}))); err != nil {
		t.Fatal(err)
	}
	wr.Timeseries = append(wr.Timeseries, hist)
	raw, _ := wr.Marshal()
	resp, body := e.post(contentTypeV1, snappy.Encode(nil, raw))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("mixed write: %d %s, want 400", resp.StatusCode, body)
	}
	for _, want := range []string{
		"11 samples stored, 8 samples refused",
		`{__name__="partly", job="mix"} at t=`, "older than the retention period", "(1 samples)",
		`{__name__="future", job="mix"} at t=`, "too far in the future",
		`{__name__="bad", job="mix", x="\xfe"}`, "invalid labels", "(4 samples)",
		"native histograms are not supported yet",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("answer does not say %q:\n%s", want, body)
		}
	}
	got := e.stored(eq("job", "mix"))
	want := map[string][]almanac.Sample{
		good.lset.String():             good.samples,
		partly.lset.String():           partly.samples[2:],
		future.lset.String():           future.samples[:2],
		`{__name__="hist", job="mix"}`: {{T: now, V: 3}},
	}
	if len(got) != len(want) {
		t.Fatalf("stored series %v, want %v", got, want)
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Fatalf("%s: stored %v, want %v", k, got[k], w)
		}
	}
}

// TestRemoteWriteManyConflicts: more refused samples than one almanac error
// lists are isolated by splitting; every valid sample is stored.
func TestRemoteWriteManyConflicts(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})
	now := time.Now().UnixMilli()
	const n = 300
	first := make([]series, n)
	for i := range first {
		first[i] = series{labels.FromStrings("__name__", "conflict", "i", strconv.Itoa(i)), []almanac.Sample{{T: now - 60000, V: 1}}}
	}
	if resp, body := e.writeV2(first...); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("first write: %d %s", resp.StatusCode, body)
	}
	// Every third series resends its sample with another value (a
	// conflict); all add a new valid sample.
	second := make([]series, n)
	conflicts := 0
	for i := range second {
		second[i] = series{first[i].lset, []almanac.Sample{{T: now, V: 2}}}
		if i%3 == 0 {
			second[i].samples = append(second[i].samples, almanac.Sample{T: now - 60000, V: 5})
			conflicts++
		}
	}
	resp, body := e.writeV2(second...)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, fmt.Sprintf("%d samples stored, %d samples refused", n, conflicts)) ||
		!strings.Contains(body, "duplicate sample for timestamp with a different value") || !strings.Contains(body, fmt.Sprintf("%d more samples", conflicts-10)) {
		t.Fatalf("second write: %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Prometheus-Remote-Write-Samples-Written"); got != strconv.Itoa(n) {
		t.Fatalf("samples written header %q, want %d", got, n)
	}
	got := e.stored(eq("__name__", "conflict"))
	for _, s := range first {
		if want := []almanac.Sample{{T: now - 60000, V: 1}, {T: now, V: 2}}; !slices.Equal(got[s.lset.String()], want) {
			t.Fatalf("%s: %v, want %v", s.lset, got[s.lset.String()], want)
		}
	}
}

// TestRemoteWriteStorageFailure: a closed database is a storage failure,
// answered 503 with Retry-After so the sender retries later.
func TestRemoteWriteStorageFailure(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	resp, body := e.writeV1(series{labels.FromStrings("__name__", "up"), scrapes(time.Now().UnixMilli(), 1, 1, 0)})
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "database is closed") {
		t.Fatalf("write to a closed database: %d %q (Retry-After %q)", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
}

func snappyDecode(t *testing.T, b []byte) []byte {
	t.Helper()
	d, err := snappy.Decode(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// formatTime writes milliseconds as the float seconds the API takes.
func formatTime(t int64) string {
	return strconv.FormatFloat(float64(t)/1000, 'f', 3, 64)
}

// mustData checks a success envelope of the given result type and decodes
// its result into v.
func mustData(t *testing.T, r apiResponse, resultType string, v any) {
	t.Helper()
	if r.Status != "success" {
		t.Fatalf("status %q: %s", r.Status, r.Error)
	}
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.ResultType != resultType {
		t.Fatalf("resultType %q, want %q", d.ResultType, resultType)
	}
	if err := json.Unmarshal(d.Result, v); err != nil {
		t.Fatalf("result %s: %v", d.Result, err)
	}
}

// TestRemoteWriteBackfillBeyondBounds: a request with thousands of samples
// outside retention, or too old for their series' out-of-order window, is
// cleaned in a few appends (not ten refused samples at a time) and every
// valid sample is stored.
func TestRemoteWriteBackfillBeyondBounds(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})
	now := time.Now().UnixMilli()
	newest := series{labels.FromStrings("__name__", "lagging"), []almanac.Sample{{T: now, V: 1}}}
	if resp, body := e.writeV1(newest); resp.StatusCode != 204 {
		t.Fatalf("first write: %d %s", resp.StatusCode, body)
	}
	old := series{lset: labels.FromStrings("__name__", "backfill")}
	for i := range 2000 { // 1500 samples before retention, 500 inside it
		ts := now - 40*24*time.Hour.Milliseconds() + int64(i)*1000
		if i >= 1500 {
			ts = now - 2*time.Hour.Milliseconds() + int64(i)*1000
		}
		old.samples = append(old.samples, almanac.Sample{T: ts, V: float64(i)})
	}
	lagging := series{newest.lset, nil}
	for i := range 1000 { // too old for the 1h window, then one new sample
		lagging.samples = append(lagging.samples, almanac.Sample{T: now - 3*time.Hour.Milliseconds() + int64(i)*1000, V: 2})
	}
	lagging.samples = append(lagging.samples, almanac.Sample{T: now + 1000, V: 3})
	resp, body := e.writeV1(old, lagging)
	if resp.StatusCode != 400 || !strings.Contains(body, "501 samples stored, 2500 samples refused") {
		t.Fatalf("backfill: %d %.300s", resp.StatusCode, body)
	}
	got := e.stored(eq("__name__", "backfill"))[old.lset.String()]
	if !slices.Equal(got, old.samples[1500:]) {
		t.Fatalf("backfill stored %d samples, want the last 500", len(got))
	}
	if got := e.stored(eq("__name__", "lagging"))[newest.lset.String()]; len(got) != 2 {
		t.Fatalf("lagging series: %v", got)
	}
}
