package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"go.uber.org/goleak"

	"github.com/almanacdb/almanac"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is a real almanac DB on an in-memory file system behind a real
// server on loopback.
type env struct {
	t      testing.TB
	db     *almanac.DB
	srv    *Server
	hs     *httptest.Server
	client *http.Client
	reg    *prometheus.Registry
}

func newEnv(t testing.TB, opts almanac.Options, cfg Config) *env {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.FS = vfs.NewMem()
	opts.NoSync = true
	opts.Registerer = reg
	db, err := almanac.Open("db", &opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Registry = reg
	srv := New(db, cfg)
	hs := httptest.NewServer(srv)
	e := &env{t: t, db: db, srv: srv, hs: hs, client: hs.Client(), reg: reg}
	t.Cleanup(func() {
		hs.Close()
		if err := db.Close(); err != nil && err != almanac.ErrClosed {
			t.Errorf("closing db: %v", err)
		}
	})
	return e
}

// series is a test series: labels and samples.
type series struct {
	lset    labels.Labels
	samples []almanac.Sample
}

func encodeV1(t testing.TB, ss []series) []byte {
	t.Helper()
	var wr prompb.WriteRequest
	for _, s := range ss {
		ts := prompb.TimeSeries{Labels: prompb.FromLabels(s.lset, nil)}
		for _, smp := range s.samples {
			ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: smp.T, Value: smp.V})
		}
		wr.Timeseries = append(wr.Timeseries, ts)
	}
	data, err := wr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, data)
}

func encodeV2(t testing.TB, ss []series) []byte {
	t.Helper()
	st := writev2.NewSymbolTable()
	var wr writev2.Request
	for _, s := range ss {
		ts := writev2.TimeSeries{LabelsRefs: st.SymbolizeLabels(s.lset, nil)}
		for _, smp := range s.samples {
			ts.Samples = append(ts.Samples, writev2.Sample{Timestamp: smp.T, Value: smp.V, StartTimestamp: smp.ST})
		}
		wr.Timeseries = append(wr.Timeseries, ts)
	}
	wr.Symbols = st.Symbols()
	data, err := wr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, data)
}

const (
	contentTypeV1 = "application/x-protobuf"
	contentTypeV2 = "application/x-protobuf;proto=io.prometheus.write.v2.Request"
)

// post sends a remote-write body and returns the response and its body.
func (e *env) post(contentType string, body []byte) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.hs.URL+"/api/v1/write", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Content-Encoding", "snappy")
	if contentType == contentTypeV2 {
		req.Header.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
	} else {
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	}
	return e.do(req)
}

func (e *env) writeV1(ss ...series) (*http.Response, string) {
	return e.post(contentTypeV1, encodeV1(e.t, ss))
}

func (e *env) writeV2(ss ...series) (*http.Response, string) {
	return e.post(contentTypeV2, encodeV2(e.t, ss))
}

func (e *env) do(req *http.Request) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

// get sends a GET to path with params and returns the status and body.
func (e *env) get(path string, params url.Values) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.hs.URL+path+"?"+params.Encode(), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, body := e.do(req)
	return resp.StatusCode, body
}

// postForm sends params as a form body.
func (e *env) postForm(path string, params url.Values) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.hs.URL+path, strings.NewReader(params.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := e.do(req)
	return resp.StatusCode, body
}

// apiResponse is Prometheus's envelope.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
	Infos     []string        `json:"infos"`
}

// api calls a query API endpoint and decodes the envelope, failing the
// test unless the status code is wantCode.
func (e *env) api(path string, params url.Values, wantCode int) apiResponse {
	e.t.Helper()
	code, body := e.get(path, params)
	if code != wantCode {
		e.t.Fatalf("GET %s?%s: status %d, want %d; body %s", path, params.Encode(), code, wantCode, body)
	}
	var r apiResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		e.t.Fatalf("GET %s: body is not JSON: %v: %s", path, err, body)
	}
	return r
}

// mustReady checks the server still serves.
func (e *env) mustReady() {
	e.t.Helper()
	if code, body := e.get("/-/ready", nil); code != http.StatusOK {
		e.t.Fatalf("/-/ready: %d %s", code, body)
	}
}

// stored reads every sample of the series matching ms over all time.
func (e *env) stored(ms ...*labels.Matcher) map[string][]almanac.Sample {
	e.t.Helper()
	ss, err := e.db.Querier(-1<<62, 1<<62).Select(e.t.Context(), ms...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer ss.Close()
	out := map[string][]almanac.Sample{}
	for ss.Next() {
		s := ss.At()
		var samples []almanac.Sample
		for i := range s.T {
			smp := almanac.Sample{T: s.T[i], V: s.V[i]}
			if s.ST != nil {
				smp.ST = s.ST[i]
			}
			samples = append(samples, smp)
		}
		out[s.Labels.String()] = samples
	}
	if err := ss.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func eq(name, value string) *labels.Matcher {
	return labels.MustNewMatcher(labels.MatchEqual, name, value)
}
