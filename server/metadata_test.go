package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/almanacdb/almanac"
)

// TestMetadataFromRemoteWrite sends metadata the way Prometheus does (1.0:
// a metadata list; 2.0: per series) and reads it back from
// /api/v1/metadata with Prometheus's parameters.
func TestMetadataFromRemoteWrite(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})
	now := time.Now().UnixMilli()

	v1 := prompb.WriteRequest{
		Timeseries: []prompb.TimeSeries{{Labels: []prompb.Label{{Name: "__name__", Value: "up"}}, Samples: []prompb.Sample{{Timestamp: now, Value: 1}}}},
		Metadata: []prompb.MetricMetadata{
			{Type: prompb.MetricMetadata_GAUGE, MetricFamilyName: "up", Help: "1 if the target is up."},
			{Type: prompb.MetricMetadata_COUNTER, MetricFamilyName: "http_requests_total", Help: "Requests.", Unit: "requests"},
		},
	}
	data, err := v1.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := e.post(contentTypeV1, snappy.Encode(nil, data)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("v1: %d %s", resp.StatusCode, body)
	}

	st := writev2.NewSymbolTable()
	ts := writev2.TimeSeries{
		LabelsRefs: st.SymbolizeLabels(labels.FromStrings("__name__", "node_load1", "instance", "a"), nil),
		Samples:    []writev2.Sample{{Timestamp: now, Value: 0.5}},
		Metadata:   writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_GAUGE, HelpRef: st.Symbolize("1m load average.")},
	}
	v2 := writev2.Request{Timeseries: []writev2.TimeSeries{ts}, Symbols: st.Symbols()}
	if data, err = v2.Marshal(); err != nil {
		t.Fatal(err)
	}
	if resp, body := e.post(contentTypeV2, snappy.Encode(nil, data)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("v2: %d %s", resp.StatusCode, body)
	}

	type entry struct{ Type, Help, Unit string }
	get := func(params url.Values) map[string][]entry {
		r := e.api("/api/v1/metadata", params, http.StatusOK)
		var out map[string][]entry
		if err := json.Unmarshal(r.Data, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := map[string][]entry{
		"up":                  {{"gauge", "1 if the target is up.", ""}},
		"http_requests_total": {{"counter", "Requests.", "requests"}},
		"node_load1":          {{"gauge", "1m load average.", ""}},
	}
	if got := get(nil); !reflect.DeepEqual(got, all) {
		t.Fatalf("metadata %v, want %v", got, all)
	}
	if got := get(url.Values{"metric": {"up"}}); !reflect.DeepEqual(got, map[string][]entry{"up": all["up"]}) {
		t.Fatalf("metric=up: %v", got)
	}
	if got := get(url.Values{"limit": {"2"}}); len(got) != 2 {
		t.Fatalf("limit=2: %v", got)
	}
	if code, body := e.get("/api/v1/metadata", url.Values{"limit": {"x"}}); code != http.StatusBadRequest {
		t.Fatalf("limit=x: %d %s", code, body)
	}
}
