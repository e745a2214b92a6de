package server

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/almanacdb/almanac"
)

// TestRemoteRead: a sampled remote-read request returns what was written,
// as Prometheus's remote_read client expects it.
func TestRemoteRead(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})
	now := time.Now().UnixMilli()
	lset := labels.FromStrings("__name__", "rr_metric", "job", "a")
	want := []almanac.Sample{{T: now - 2000, V: 1.5}, {T: now - 1000, V: math.Inf(1)}}
	if resp, body := e.writeV1(series{lset, want}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %d %s", resp.StatusCode, body)
	}
	req := &prompb.ReadRequest{Queries: []*prompb.Query{{
		StartTimestampMs: now - 60_000, EndTimestampMs: now,
		Matchers: []*prompb.LabelMatcher{{Type: prompb.LabelMatcher_EQ, Name: "__name__", Value: "rr_metric"}},
	}}}
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	httpReq, err := http.NewRequest("POST", e.hs.URL+"/api/v1/read", bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		t.Fatal(err)
	}
	httpReq.Header.Set("Content-Type", "application/x-protobuf")
	httpReq.Header.Set("Content-Encoding", "snappy")
	httpReq.Header.Set("X-Prometheus-Remote-Read-Version", "0.1.0")
	resp, err := e.client.Do(httpReq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("read: %d %s %v", resp.StatusCode, body, err)
	}
	dec, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	var rr prompb.ReadResponse
	if err := rr.Unmarshal(dec); err != nil {
		t.Fatal(err)
	}
	if len(rr.Results) != 1 || len(rr.Results[0].Timeseries) != 1 {
		t.Fatalf("results %+v", rr.Results)
	}
	ts := rr.Results[0].Timeseries[0]
	if len(ts.Samples) != 2 || ts.Samples[0].Timestamp != want[0].T || ts.Samples[0].Value != want[0].V ||
		ts.Samples[1].Timestamp != want[1].T || !math.IsInf(ts.Samples[1].Value, 1) {
		t.Fatalf("samples %+v, want %+v", ts.Samples, want)
	}
}
