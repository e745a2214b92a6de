package ingest

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// testSeries is what the encoders below write: realistic series with a
// staleness marker, a start timestamp and a label with an empty value.
func testSeries() []Series {
	return []Series{
		{Labels: labels.FromStrings("__name__", "http_requests_total", "job", "api", "code", "200"),
			Samples: []Sample{{T: 1000, V: 1, ST: 500}, {T: 16000, V: 3, ST: 500}, {T: 31000, V: math.Float64frombits(value.StaleNaN), ST: 500}}},
		{Labels: labels.FromStrings("__name__", "node_load1", "instance", "a:9100"),
			Samples: []Sample{{T: -5, V: 0.25}, {T: 1 << 50, V: math.Inf(-1)}}},
		{Labels: labels.FromStrings("__name__", "up", "zone", "é"), Samples: []Sample{{T: 0, V: 1}}},
	}
}

func encodeV1(t testing.TB, series []Series) []byte {
	t.Helper()
	var wr prompb.WriteRequest
	for _, s := range series {
		ts := prompb.TimeSeries{Labels: prompb.FromLabels(s.Labels, nil)}
		for _, smp := range s.Samples {
			ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: smp.T, Value: smp.V})
		}
		wr.Timeseries = append(wr.Timeseries, ts)
	}
	data, err := wr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func encodeV2(t testing.TB, series []Series) []byte {
	t.Helper()
	st := writev2.NewSymbolTable()
	var wr writev2.Request
	for _, s := range series {
		ts := writev2.TimeSeries{LabelsRefs: st.SymbolizeLabels(s.Labels, nil)}
		for _, smp := range s.Samples {
			ts.Samples = append(ts.Samples, writev2.Sample{Timestamp: smp.T, Value: smp.V, StartTimestamp: smp.ST})
		}
		wr.Timeseries = append(wr.Timeseries, ts)
	}
	wr.Symbols = st.Symbols()
	data, err := wr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sameSeries compares decoded series with what was encoded, values by bits.
func sameSeries(t *testing.T, got, want []Series, withST bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d series, want %d", len(got), len(want))
	}
	for i := range want {
		if !labels.Equal(got[i].Labels, want[i].Labels) {
			t.Fatalf("series %d: labels %s, want %s", i, got[i].Labels, want[i].Labels)
		}
		if len(got[i].Samples) != len(want[i].Samples) {
			t.Fatalf("series %d: %d samples, want %d", i, len(got[i].Samples), len(want[i].Samples))
		}
		for j, w := range want[i].Samples {
			g := got[i].Samples[j]
			if !withST {
				w.ST = 0
			}
			if g.T != w.T || g.ST != w.ST || math.Float64bits(g.V) != math.Float64bits(w.V) {
				t.Fatalf("series %d sample %d: got %+v, want %+v", i, j, g, w)
			}
		}
	}
}

func TestRemoteWriteRoundTrip(t *testing.T) {
	want := testSeries()
	for _, tc := range []struct {
		name   string
		p      Protocol
		data   []byte
		withST bool
	}{
		{"v1", RemoteWriteV1, encodeV1(t, want), false},
		{"v2", RemoteWriteV2, encodeV2(t, want), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ReadRemoteWrite(bytes.NewReader(snappy.Encode(nil, tc.data)), tc.p, 0)
			if err != nil {
				t.Fatal(err)
			}
			sameSeries(t, req.Series, want, tc.withST)
			if req.Samples != 6 || len(req.Dropped) != 0 {
				t.Fatalf("samples %d, dropped %v; want 6 and none", req.Samples, req.Dropped)
			}
		})
	}
}

func TestRemoteWriteEmpty(t *testing.T) {
	for _, p := range []Protocol{RemoteWriteV1, RemoteWriteV2} {
		req, err := ReadRemoteWrite(bytes.NewReader(snappy.Encode(nil, nil)), p, 0)
		if err != nil || len(req.Series) != 0 {
			t.Fatalf("%v: empty body: %v, %d series", p, err, len(req.Series))
		}
	}
}

func TestRemoteWriteBadInput(t *testing.T) {
	valid := snappy.Encode(nil, encodeV1(t, testSeries()))
	big := snappy.Encode(nil, bytes.Repeat([]byte{0}, 2048))
	for _, tc := range []struct {
		name    string
		body    []byte
		max     int
		want    error
		message string
	}{
		{"not snappy", []byte("this is not snappy at all"), 0, ErrCompression, "corrupt snappy"},
		{"truncated snappy", valid[:len(valid)/2], 0, ErrCompression, "corrupt snappy"},
		{"snappy of garbage protobuf", snappy.Encode(nil, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}), 0, ErrMalformed, "decoding prometheus.WriteRequest"},
		{"wrong wire type", snappy.Encode(nil, []byte{0x0b}), 0, ErrMalformed, "malformed protobuf"},
		{"decompresses beyond limit", big, 1024, ErrTooLarge, "decompresses to 2048 bytes, limit 1024"},
		{"compressed beyond limit", bytes.Repeat([]byte{1}, 4096), 1024, ErrTooLarge, "compressed body exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadRemoteWrite(bytes.NewReader(tc.body), RemoteWriteV1, tc.max)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %q does not say %q", err, tc.message)
			}
		})
	}
}

func TestRemoteWriteV2LabelRefs(t *testing.T) {
	good := writev2.TimeSeries{LabelsRefs: []uint32{1, 2}, Samples: []writev2.Sample{{Timestamp: 5, Value: 1}}}
	for _, tc := range []struct {
		name    string
		refs    []uint32
		message string
	}{
		{"ref beyond table", []uint32{1, 7}, "reference 7 outside the symbols table of 3 entries"},
		{"huge ref", []uint32{math.MaxUint32, 1}, "reference 4294967295 outside"},
		{"odd refs", []uint32{1, 2, 1}, "3 label references, want name-value pairs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wr := writev2.Request{Symbols: []string{"", "__name__", "up"}, Timeseries: []writev2.TimeSeries{
				good,
				{LabelsRefs: tc.refs, Samples: []writev2.Sample{{Timestamp: 1, Value: 1}, {Timestamp: 2, Value: 2}}},
			}}
			data, err := wr.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			req, err := DecodeWriteV2(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(req.Series) != 1 || req.Samples != 1 {
				t.Fatalf("the valid series must survive: %d series, %d samples", len(req.Series), req.Samples)
			}
			if len(req.Dropped) != 1 || !errors.Is(req.Dropped[0], ErrLabelRef) || req.Dropped[0].Samples != 2 || req.Dropped[0].Index != 1 {
				t.Fatalf("dropped %v, want series 1 with 2 samples for a label reference", req.Dropped)
			}
			if msg := req.Dropped[0].Error(); !strings.Contains(msg, tc.message) {
				t.Fatalf("message %q does not say %q", msg, tc.message)
			}
		})
	}
}

func TestRemoteWriteHistograms(t *testing.T) {
	h := prompb.Histogram{Timestamp: 10, Count: &prompb.Histogram_CountInt{CountInt: 3}, Sum: 2}
	v1 := prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels:     []prompb.Label{{Name: "__name__", Value: "lat"}},
		Samples:    []prompb.Sample{{Timestamp: 10, Value: 1}},
		Histograms: []prompb.Histogram{h, h},
	}, {
		Labels:     []prompb.Label{{Name: "__name__", Value: "only_hist"}},
		Histograms: []prompb.Histogram{h},
	}}}
	d1, err := v1.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	v2 := writev2.Request{Symbols: []string{"", "__name__", "lat"}, Timeseries: []writev2.TimeSeries{{
		LabelsRefs: []uint32{1, 2},
		Samples:    []writev2.Sample{{Timestamp: 10, Value: 1}},
		Histograms: []writev2.Histogram{{Timestamp: 10, Count: &writev2.Histogram_CountInt{CountInt: 3}}, {Timestamp: 20}},
	}}}
	d2, err := v2.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		decode  func([]byte) (*Request, error)
		data    []byte
		dropped int
	}{
		{"v1", DecodeWriteV1, d1, 3},
		{"v2", DecodeWriteV2, d2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := tc.decode(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if len(req.Series) != 1 || req.Samples != 1 {
				t.Fatalf("float samples must be kept: %d series, %d samples", len(req.Series), req.Samples)
			}
			if got := req.DroppedSamples(); got != tc.dropped {
				t.Fatalf("dropped %d samples, want %d", got, tc.dropped)
			}
			for _, d := range req.Dropped {
				if !errors.Is(d, ErrNativeHistograms) || !strings.Contains(d.Error(), "not supported yet") {
					t.Fatalf("dropped %v, want native histograms", d)
				}
			}
		})
	}
}

func TestParseContentType(t *testing.T) {
	f := func(ct, enc string, want Protocol) {
		t.Helper()
		got, err := ParseContentType(ct, enc)
		if want == 0 {
			if !errors.Is(err, ErrUnsupportedMediaType) {
				t.Fatalf("%q %q: got %v, %v; want ErrUnsupportedMediaType", ct, enc, got, err)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("%q %q: got %v, %v; want %v", ct, enc, got, err, want)
		}
	}
	f("application/x-protobuf", "snappy", RemoteWriteV1)
	f("", "", RemoteWriteV1)
	f("application/x-protobuf;proto=prometheus.WriteRequest", "snappy", RemoteWriteV1)
	f("application/x-protobuf;proto=io.prometheus.write.v2.Request", "snappy", RemoteWriteV2)
	f("application/x-protobuf; proto=io.prometheus.write.v2.Request", "SNAPPY", RemoteWriteV2)
	f("Application/X-Protobuf;charset=utf-8", "", RemoteWriteV1)
	f("application/json", "snappy", 0)
	f("text/plain", "", 0)
	f("application/x-protobuf;proto=io.prometheus.write.v3.Request", "snappy", 0)
	f("application/x-protobuf;proto", "snappy", 0)
	f("application/x-protobuf", "gzip", 0)
	f("application/x-protobuf", "zstd", 0)
}
