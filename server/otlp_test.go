package server

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/storage/remote"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/almanacdb/almanac"
)

const otlpPath = "/api/v1/otlp/v1/metrics"

// otlpProto encodes md as an OTLP/HTTP protobuf body.
func otlpProto(t testing.TB, md pmetric.Metrics) []byte {
	t.Helper()
	b, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// postOTLP sends an OTLP body with the given Content-Type and
// Content-Encoding (empty: none).
func (e *env) postOTLP(contentType, encoding string, body []byte) (*http.Response, string) {
	e.t.Helper()
	h := http.Header{"Content-Type": {contentType}}
	if encoding != "" {
		h.Set("Content-Encoding", encoding)
	}
	return e.postImport(otlpPath, "", h, body)
}

// otlpResponse decodes a 200 answer: an ExportMetricsServiceResponse in
// the encoding of the request.
func otlpResponse(t *testing.T, resp *http.Response, body string) pmetricotlp.ExportResponse {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200; body %q", resp.StatusCode, body)
	}
	r := pmetricotlp.NewExportResponse()
	var err error
	switch ct := resp.Header.Get("Content-Type"); ct {
	case "application/x-protobuf":
		err = r.UnmarshalProto([]byte(body))
	case "application/json":
		err = r.UnmarshalJSON([]byte(body))
	default:
		t.Fatalf("Content-Type %q", ct)
	}
	if err != nil {
		t.Fatalf("response %q: %v", body, err)
	}
	return r
}

// wantOTLPStatus checks a failed answer: its code, and a google.rpc.Status
// body (protobuf, or JSON when asJSON) whose message contains each of
// contains.
func wantOTLPStatus(t *testing.T, resp *http.Response, body string, code int, asJSON bool, contains ...string) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("status %d, want %d; body %q", resp.StatusCode, code, body)
	}
	var msg string
	if asJSON {
		var st struct {
			Code    int32  `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil || st.Code == 0 {
			t.Fatalf("body %q is not a JSON google.rpc.Status: %v", body, err)
		}
		msg = st.Message
	} else {
		var ok bool
		if msg, ok = decodeStatusProto([]byte(body)); !ok {
			t.Fatalf("body %q is not a protobuf google.rpc.Status", body)
		}
	}
	for _, c := range contains {
		if !strings.Contains(msg, c) {
			t.Fatalf("status message %q does not contain %q", msg, c)
		}
	}
}

// decodeStatusProto reads the message of a google.rpc.Status: a varint
// field 1 (code) and a length-delimited field 2 (message), in any order.
func decodeStatusProto(b []byte) (msg string, ok bool) {
	sawCode := false
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return "", false
		}
		b = b[n:]
		switch tag {
		case 1<<3 | 0:
			code, n := binary.Uvarint(b)
			if n <= 0 || code == 0 {
				return "", false
			}
			b, sawCode = b[n:], true
		case 2<<3 | 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return "", false
			}
			msg, b = string(b[n:n+int(l)]), b[n+int(l):]
		default:
			return "", false
		}
	}
	return msg, sawCode
}

// wantSeries checks every series named name: its labels (as
// labels.String) and samples.
func (e *env) wantSeries(name string, want map[string][]almanac.Sample) {
	e.t.Helper()
	got := e.stored(eq("__name__", name))
	if len(got) != len(want) {
		e.t.Fatalf("%s: %d series stored, want %d:\ngot  %v\nwant %v", name, len(got), len(want), got, want)
	}
	for ls, samples := range want {
		if !slices.Equal(got[ls], samples) {
			e.t.Fatalf("%s: series %s: stored %v, want %v (stored series: %v)", name, ls, got[ls], samples, got)
		}
	}
}

// otlpService adds a resource of service api in namespace shop, instance
// host-1:8080, with one more attribute for target_info, and returns its
// scope's metrics.
func otlpService(md pmetric.Metrics) pmetric.MetricSlice {
	rm := md.ResourceMetrics().AppendEmpty()
	attrs := rm.Resource().Attributes()
	attrs.PutStr("service.name", "api")
	attrs.PutStr("service.namespace", "shop")
	attrs.PutStr("service.instance.id", "host-1:8080")
	attrs.PutStr("deployment.environment", "prod")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("almanac-test")
	return sm.Metrics()
}

func ts(ms int64) pcommon.Timestamp { return pcommon.Timestamp(ms * 1e6) }

func addGauge(ms pmetric.MetricSlice, name, unit string, t int64, v float64, attrs ...string) {
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(ts(t))
	dp.SetDoubleValue(v)
	for i := 0; i+1 < len(attrs); i += 2 {
		dp.Attributes().PutStr(attrs[i], attrs[i+1])
	}
}

func addExponentialHistogram(ms pmetric.MetricSlice, name string, t int64, points int) {
	m := ms.AppendEmpty()
	m.SetName(name)
	m.SetUnit("s")
	eh := m.SetEmptyExponentialHistogram()
	eh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	for i := range points {
		dp := eh.DataPoints().AppendEmpty()
		dp.SetTimestamp(ts(t))
		dp.Attributes().PutStr("route", fmt.Sprint("/", i))
		dp.SetScale(2)
		dp.SetCount(3)
		dp.SetSum(1.5)
		dp.Positive().BucketCounts().FromRaw([]uint64{1, 2})
	}
}

func TestOTLPWrite(t *testing.T) {
	now := time.Now().Truncate(time.Second).UnixMilli()
	t0, start := now-15_000, now-3_600_000
	md := pmetric.NewMetrics()
	ms := otlpService(md)

	addGauge(ms, "memory.usage", "By", t0, 42, "state", "used")

	counter := ms.AppendEmpty()
	counter.SetName("http.server.requests")
	counter.SetUnit("{request}")
	sum := counter.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := sum.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(ts(start))
	dp.SetTimestamp(ts(t0))
	dp.SetIntValue(1027)
	dp.Attributes().PutStr("http.route", "/users")

	updown := ms.AppendEmpty()
	updown.SetName("queue.size")
	usum := updown.SetEmptySum()
	usum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	udp := usum.DataPoints().AppendEmpty()
	udp.SetTimestamp(ts(t0))
	udp.SetIntValue(-3)

	hist := ms.AppendEmpty()
	hist.SetName("http.server.duration")
	hist.SetUnit("s")
	h := hist.SetEmptyHistogram()
	h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	hdp := h.DataPoints().AppendEmpty()
	hdp.SetStartTimestamp(ts(start))
	hdp.SetTimestamp(ts(t0))
	hdp.ExplicitBounds().FromRaw([]float64{0.1, 1})
	hdp.BucketCounts().FromRaw([]uint64{2, 3, 1})
	hdp.SetCount(6)
	hdp.SetSum(3.5)

	summary := ms.AppendEmpty()
	summary.SetName("rpc.latency")
	summary.SetUnit("ms")
	sdp := summary.SetEmptySummary().DataPoints().AppendEmpty()
	sdp.SetTimestamp(ts(t0))
	sdp.SetCount(7)
	sdp.SetSum(100)
	for _, q := range [][2]float64{{0.5, 10}, {0.99, 50}} {
		qv := sdp.QuantileValues().AppendEmpty()
		qv.SetQuantile(q[0])
		qv.SetValue(q[1])
	}

	e := newEnv(t, almanac.Options{}, Config{})
	resp, body := e.postOTLP("application/x-protobuf", "", otlpProto(t, md))
	if r := otlpResponse(t, resp, body); r.PartialSuccess().RejectedDataPoints() != 0 || r.PartialSuccess().ErrorMessage() != "" {
		t.Fatalf("partial success %d %q, want none", r.PartialSuccess().RejectedDataPoints(), r.PartialSuccess().ErrorMessage())
	}

	const id = `instance="host-1:8080", job="shop/api"`
	at := func(v float64) []almanac.Sample { return []almanac.Sample{{T: t0, V: v}} }
	fromStart := func(v float64) []almanac.Sample { return []almanac.Sample{{T: t0, V: v, ST: start}} }
	e.wantSeries("memory_usage_bytes", map[string][]almanac.Sample{
		`{__name__="memory_usage_bytes", ` + id + `, state="used"}`: at(42),
	})
	e.wantSeries("http_server_requests_total", map[string][]almanac.Sample{
		`{__name__="http_server_requests_total", http_route="/users", ` + id + `}`: fromStart(1027),
	})
	e.wantSeries("queue_size", map[string][]almanac.Sample{`{__name__="queue_size", ` + id + `}`: at(-3)})
	e.wantSeries("http_server_duration_seconds_bucket", map[string][]almanac.Sample{
		`{__name__="http_server_duration_seconds_bucket", ` + id + `, le="0.1"}`:  fromStart(2),
		`{__name__="http_server_duration_seconds_bucket", ` + id + `, le="1"}`:    fromStart(5),
		`{__name__="http_server_duration_seconds_bucket", ` + id + `, le="+Inf"}`: fromStart(6),
	})
	e.wantSeries("http_server_duration_seconds_sum", map[string][]almanac.Sample{
		`{__name__="http_server_duration_seconds_sum", ` + id + `}`: fromStart(3.5),
	})
	e.wantSeries("http_server_duration_seconds_count", map[string][]almanac.Sample{
		`{__name__="http_server_duration_seconds_count", ` + id + `}`: fromStart(6),
	})
	e.wantSeries("rpc_latency_milliseconds", map[string][]almanac.Sample{
		`{__name__="rpc_latency_milliseconds", ` + id + `, quantile="0.5"}`:  at(10),
		`{__name__="rpc_latency_milliseconds", ` + id + `, quantile="0.99"}`: at(50),
	})
	e.wantSeries("rpc_latency_milliseconds_sum", map[string][]almanac.Sample{`{__name__="rpc_latency_milliseconds_sum", ` + id + `}`: at(100)})
	e.wantSeries("rpc_latency_milliseconds_count", map[string][]almanac.Sample{`{__name__="rpc_latency_milliseconds_count", ` + id + `}`: at(7)})
	e.wantSeries("target_info", map[string][]almanac.Sample{
		`{__name__="target_info", deployment_environment="prod", ` + id + `}`: at(1),
	})

	// The stored series answer PromQL as Prometheus's own OTLP endpoint's do.
	e.wantQuery(`histogram_quantile(0.5, http_server_duration_seconds_bucket)`, now,
		`{instance="host-1:8080", job="shop/api"} 0.4`)
	e.wantQuery(`http_server_requests_total * on(job, instance) group_left(deployment_environment) target_info`, now,
		`{deployment_environment="prod", http_route="/users", instance="host-1:8080", job="shop/api"} 1027`)

	// A resend is harmless: exact duplicates are dropped silently.
	resp, body = e.postOTLP("application/x-protobuf", "", otlpProto(t, md))
	otlpResponse(t, resp, body)
	e.wantSeries("memory_usage_bytes", map[string][]almanac.Sample{
		`{__name__="memory_usage_bytes", ` + id + `, state="used"}`: at(42),
	})
}

func TestOTLPJSON(t *testing.T) {
	now := time.Now().Truncate(time.Second).UnixMilli()
	e := newEnv(t, almanac.Options{}, Config{})
	md := pmetric.NewMetrics()
	addGauge(otlpService(md), "temperature", "Cel", now, 21.5, "room", "kitchen")
	body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	resp, out := e.postOTLP("application/json; charset=utf-8", "", body)
	otlpResponse(t, resp, out)
	e.wantSeries("temperature_celsius", map[string][]almanac.Sample{
		`{__name__="temperature_celsius", instance="host-1:8080", job="shop/api", room="kitchen"}`: {{T: now, V: 21.5}},
	})

	resp, out = e.postOTLP("application/json", "", []byte(`{"resourceMetrics": [{"scopeMetrics": 7}]}`))
	wantOTLPStatus(t, resp, out, http.StatusBadRequest, true, "malformed OTLP request", "application/json")
}

func TestOTLPEncodings(t *testing.T) {
	now := time.Now().Truncate(time.Second).UnixMilli()
	md := pmetric.NewMetrics()
	ms := otlpService(md)
	for i := range 50 {
		addGauge(ms, "load", "", now, float64(i), "cpu", fmt.Sprint(i))
	}
	raw := otlpProto(t, md)
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	var framed bytes.Buffer
	sw := snappy.NewBufferedWriter(&framed)
	sw.Write(raw)
	sw.Close()
	for _, tc := range []struct {
		encoding string
		body     []byte
	}{
		{"gzip", gzipped(t, string(raw))},
		{"zstd", zw.EncodeAll(raw, nil)},
		{"snappy", snappy.Encode(nil, raw)},
		{"snappy", framed.Bytes()},
	} {
		t.Run(tc.encoding, func(t *testing.T) {
			e := newEnv(t, almanac.Options{}, Config{})
			resp, body := e.postOTLP("application/x-protobuf", tc.encoding, tc.body)
			otlpResponse(t, resp, body)
			if got := len(e.stored(eq("__name__", "load"))); got != 50 {
				t.Fatalf("%d series of load stored, want 50", got)
			}
		})
	}
}

func TestOTLPBadInput(t *testing.T) {
	now := time.Now().Truncate(time.Second).UnixMilli()
	md := pmetric.NewMetrics()
	addGauge(otlpService(md), "up", "", now, 1)
	valid := otlpProto(t, md)
	const pb = "application/x-protobuf"

	e := newEnv(t, almanac.Options{}, Config{MaxWriteBytes: 4096})
	for _, tc := range []struct {
		name, contentType, encoding string
		body                        []byte
		code                        int
		contains                    []string
	}{
		{"corrupt protobuf", pb, "", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, 400, []string{"malformed OTLP request", pb}},
		{"truncated protobuf", pb, "", valid[:len(valid)-3], 400, []string{"malformed OTLP request"}},
		{"corrupt gzip", pb, "gzip", valid, 400, []string{"corrupt gzip compression"}},
		{"corrupt zstd", pb, "zstd", valid, 400, []string{"corrupt zstd compression"}},
		{"unknown encoding", pb, "br", valid, 415, []string{`content encoding "br"`}},
		{"over the limit", pb, "", bytes.Repeat([]byte{0}, 5000), 413, []string{"exceeds 4096 bytes"}},
		{"bomb", pb, "gzip", gzipped(t, strings.Repeat("\x00", 1<<20)), 413, []string{"exceeds 4096 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.postOTLP(tc.contentType, tc.encoding, tc.body)
			wantOTLPStatus(t, resp, body, tc.code, false, tc.contains...)
		})
	}
	for _, ct := range []string{"", "text/plain", "application/protobuf", "application/x-protobuf; charset", "application/grpc"} {
		t.Run("content type "+ct, func(t *testing.T) {
			resp, body := e.postOTLP(ct, "", valid)
			wantStatus(t, resp, body, http.StatusUnsupportedMediaType, "unsupported media type", "application/x-protobuf")
		})
	}
	if got := e.stored(eq("__name__", "up")); len(got) != 0 {
		t.Fatalf("bad requests stored %v", got)
	}
	req, err := http.NewRequest("GET", e.hs.URL+otlpPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := e.do(req); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d %q", resp.StatusCode, body)
	}
	e.mustReady()
}

// TestOTLPRefusals: what almanac cannot store is counted in
// partial_success and named; everything else in the request is stored.
func TestOTLPRefusals(t *testing.T) {
	now := time.Now().Truncate(time.Second).UnixMilli()
	const id = `instance="host-1:8080", job="shop/api"`

	t.Run("exponential histogram next to a gauge", func(t *testing.T) {
		e := newEnv(t, almanac.Options{}, Config{})
		md := pmetric.NewMetrics()
		ms := otlpService(md)
		addExponentialHistogram(ms, "rpc.duration", now, 2)
		addGauge(ms, "up", "", now, 1)
		resp, body := e.postOTLP("application/x-protobuf", "", otlpProto(t, md))
		ps := otlpResponse(t, resp, body).PartialSuccess()
		if ps.RejectedDataPoints() != 2 || !strings.Contains(ps.ErrorMessage(), `metric "rpc.duration" (2 data points): exponential histograms are not supported`) {
			t.Fatalf("partial success %d %q", ps.RejectedDataPoints(), ps.ErrorMessage())
		}
		e.wantSeries("up", map[string][]almanac.Sample{`{__name__="up", ` + id + `}`: {{T: now, V: 1}}})
		if got := e.stored(eq("__name__", "rpc_duration_seconds")); len(got) != 0 {
			t.Fatalf("exponential histogram stored as %v", got)
		}
	})
	t.Run("only exponential histograms", func(t *testing.T) {
		e := newEnv(t, almanac.Options{}, Config{})
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "api") // no target_info
		addExponentialHistogram(rm.ScopeMetrics().AppendEmpty().Metrics(), "rpc.duration", now, 1)
		body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		resp, out := e.postOTLP("application/json", "", body)
		wantOTLPStatus(t, resp, out, http.StatusBadRequest, true, "1 data points refused", "explicit-bucket histograms")
	})
	t.Run("delta temporality", func(t *testing.T) {
		e := newEnv(t, almanac.Options{}, Config{})
		md := pmetric.NewMetrics()
		ms := otlpService(md)
		for _, temporality := range []pmetric.AggregationTemporality{pmetric.AggregationTemporalityDelta, pmetric.AggregationTemporalityCumulative} {
			m := ms.AppendEmpty()
			m.SetName("jobs." + strings.ToLower(temporality.String()))
			s := m.SetEmptySum()
			s.SetIsMonotonic(true)
			s.SetAggregationTemporality(temporality)
			dp := s.DataPoints().AppendEmpty()
			dp.SetTimestamp(ts(now))
			dp.SetIntValue(5)
		}
		resp, body := e.postOTLP("application/x-protobuf", "", otlpProto(t, md))
		ps := otlpResponse(t, resp, body).PartialSuccess()
		if ps.RejectedDataPoints() != 1 || !strings.Contains(ps.ErrorMessage(), `metric "jobs.delta" (1 data points): delta temporality is not supported`) {
			t.Fatalf("partial success %d %q", ps.RejectedDataPoints(), ps.ErrorMessage())
		}
		e.wantSeries("jobs_cumulative_total", map[string][]almanac.Sample{`{__name__="jobs_cumulative_total", ` + id + `}`: {{T: now, V: 5}}})
	})
	t.Run("samples storage refuses", func(t *testing.T) {
		e := newEnv(t, almanac.Options{}, Config{})
		md := pmetric.NewMetrics()
		ms := otlpService(md)
		addGauge(ms, "fresh", "", now, 1)
		addGauge(ms, "stale", "", now-40*24*3_600_000, 2) // older than the 30-day retention
		resp, body := e.postOTLP("application/x-protobuf", "", otlpProto(t, md))
		ps := otlpResponse(t, resp, body).PartialSuccess()
		if ps.RejectedDataPoints() != 1 || !strings.Contains(ps.ErrorMessage(), `{__name__="stale"`) || !strings.Contains(ps.ErrorMessage(), "retention") {
			t.Fatalf("partial success %d %q", ps.RejectedDataPoints(), ps.ErrorMessage())
		}
		e.wantSeries("fresh", map[string][]almanac.Sample{`{__name__="fresh", ` + id + `}`: {{T: now, V: 1}}})
	})
	t.Run("a zero timestamp does not flood target_info", func(t *testing.T) {
		// The translator writes target_info every 2.5 minutes from a
		// resource's earliest data point to its latest: from 1970, 12M
		// samples. Such a resource gets no target_info, and a warning.
		e := newEnv(t, almanac.Options{}, Config{})
		md := pmetric.NewMetrics()
		ms := otlpService(md)
		addGauge(ms, "fresh", "", now, 1)
		addGauge(ms, "unset", "", 0, 2)
		resp, body := e.postOTLP("application/x-protobuf", "", otlpProto(t, md))
		ps := otlpResponse(t, resp, body).PartialSuccess()
		if ps.RejectedDataPoints() != 1 || !strings.Contains(ps.ErrorMessage(), `{__name__="unset"`) ||
			!strings.Contains(ps.ErrorMessage(), `target_info not stored for the resource of service.name "api": its data points span`) {
			t.Fatalf("partial success %d %q", ps.RejectedDataPoints(), ps.ErrorMessage())
		}
		e.wantSeries("fresh", map[string][]almanac.Sample{`{__name__="fresh", ` + id + `}`: {{T: now, V: 1}}})
		e.wantSeries("target_info", nil)

		// Within the bound, target_info covers the span, every 2.5 minutes.
		md = pmetric.NewMetrics()
		ms = otlpService(md)
		addGauge(ms, "fresh", "", now-5*60_000, 1)
		addGauge(ms, "later", "", now, 1)
		resp, body = e.postOTLP("application/x-protobuf", "", otlpProto(t, md))
		otlpResponse(t, resp, body)
		e.wantSeries("target_info", map[string][]almanac.Sample{
			`{__name__="target_info", deployment_environment="prod", ` + id + `}`: {
				{T: now - 300_000, V: 1}, {T: now - 150_000, V: 1}, {T: now, V: 1}},
		})
	})
	t.Run("storage closed", func(t *testing.T) {
		e := newEnv(t, almanac.Options{}, Config{})
		if err := e.db.Close(); err != nil {
			t.Fatal(err)
		}
		md := pmetric.NewMetrics()
		addGauge(otlpService(md), "up", "", now, 1)
		resp, body := e.postOTLP("application/x-protobuf", "", otlpProto(t, md))
		wantOTLPStatus(t, resp, body, http.StatusServiceUnavailable, false, "retry later")
		if resp.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
	})
}

// BenchmarkOTLPWrite posts OTLP requests as an OpenTelemetry Collector
// batches them (one service, 1,000 series a request: gauges, counters
// and 10-bucket histograms, each series sampled every 15 s) over HTTP to
// almanac's endpoint, and, as the peer, to Prometheus's own OTLP handler
// (remote.NewOTLPWriteHandler) on the same storage (DB.PrometheusStorage).
// It reports samples stored per second.
func BenchmarkOTLPWrite(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const (
		gauges, counters, histograms = 400, 400, 16
		bounds                       = 10
		// Each histogram is a series per bucket and +Inf, _sum and
		// _count; the jitter of the timestamps spreads a request over
		// up to a second, so target_info gets two samples.
		samples = gauges + counters + histograms*(bounds+3) + 2
	)
	t0 := time.Now().Add(-time.Hour).UnixMilli()
	build := func(t int64) []byte {
		md := pmetric.NewMetrics()
		ms := otlpService(md)
		g := ms.AppendEmpty()
		g.SetName("system.memory.usage")
		g.SetUnit("By")
		gauge := g.SetEmptyGauge()
		for i := range gauges {
			dp := gauge.DataPoints().AppendEmpty()
			dp.SetTimestamp(ts(t + rng.Int64N(1000)))
			dp.SetDoubleValue(float64(rng.IntN(1 << 30)))
			dp.Attributes().PutStr("device", fmt.Sprint("dev", i))
		}
		c := ms.AppendEmpty()
		c.SetName("http.server.requests")
		sum := c.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		for i := range counters {
			dp := sum.DataPoints().AppendEmpty()
			dp.SetStartTimestamp(ts(t0))
			dp.SetTimestamp(ts(t + rng.Int64N(1000)))
			dp.SetIntValue((t-t0)/1000*int64(i+1) + rng.Int64N(10))
			dp.Attributes().PutStr("http.route", fmt.Sprint("/route/", i%40))
			dp.Attributes().PutStr("http.response.status_code", fmt.Sprint(200+i/40))
		}
		hm := ms.AppendEmpty()
		hm.SetName("http.server.request.duration")
		hm.SetUnit("s")
		h := hm.SetEmptyHistogram()
		h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		for i := range histograms {
			dp := h.DataPoints().AppendEmpty()
			dp.SetStartTimestamp(ts(t0))
			dp.SetTimestamp(ts(t + rng.Int64N(1000)))
			dp.Attributes().PutStr("http.route", fmt.Sprint("/route/", i))
			counts := make([]uint64, bounds+1)
			var n uint64
			for j := range counts {
				counts[j] = uint64((i*7+j*3)%100+1) * uint64((t-t0)/15_000+1)
				n += counts[j]
			}
			dp.ExplicitBounds().FromRaw([]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5})
			dp.BucketCounts().FromRaw(counts)
			dp.SetCount(n)
			dp.SetSum(float64(n) * 0.1)
		}
		return otlpProto(b, md)
	}
	// Requests are built before timing: 120 of them 15 s apart, sent in
	// turn; after the last, a fresh database takes them again.
	const rounds = 120
	bodies := make([][]byte, rounds)
	for i := range bodies {
		bodies[i] = build(t0 + int64(i)*15_000)
	}

	for _, peer := range []struct {
		name string
		url  func(e *env) string // where to post, on e's database
	}{
		{"almanac", func(e *env) string { return e.hs.URL + otlpPath }},
		{"prometheus", func(e *env) string {
			h := remote.NewOTLPWriteHandler(slog.New(slog.DiscardHandler), prometheus.NewRegistry(), e.db.PrometheusStorage(),
				func() config.Config { return config.DefaultConfig }, remote.OTLPOptions{LookbackDelta: 5 * time.Minute})
			hs := httptest.NewServer(h)
			b.Cleanup(hs.Close)
			return hs.URL
		}},
	} {
		b.Run(peer.name, func(b *testing.B) {
			e := newEnv(b, almanac.Options{}, Config{})
			url := peer.url(e)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == rounds {
					b.StopTimer()
					e.hs.Close()
					if err := e.db.Close(); err != nil {
						b.Fatal(err)
					}
					e = newEnv(b, almanac.Options{}, Config{}) // same timestamps again: a fresh database
					url = peer.url(e)
					i = 0
					b.StartTimer()
				}
				req, err := http.NewRequest("POST", url, bytes.NewReader(bodies[i]))
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-protobuf")
				if resp, body := e.do(req); resp.StatusCode != http.StatusOK || len(body) > 2 { // 2: an empty partial_success
					b.Fatalf("status %d: %q", resp.StatusCode, body)
				}
				i++
			}
			b.ReportMetric(float64(b.N*samples)/b.Elapsed().Seconds(), "samples/s")
		})
	}
	b.Logf("%d samples, %d bytes of protobuf a request", samples, len(bodies[0]))
}

// FuzzOTLPTranslate: any body the OTLP decoder accepts is translated, or
// refused, without a panic, and every sample has a metric name.
func FuzzOTLPTranslate(f *testing.F) {
	now := time.Now().UnixMilli()
	md := pmetric.NewMetrics()
	ms := otlpService(md)
	addGauge(ms, "up", "", now, 1, "a", "b")
	addGauge(ms, "unset", "", 0, 2)
	addExponentialHistogram(ms, "rpc.duration", now, 2)
	h := ms.AppendEmpty()
	h.SetName("latency")
	hdp := h.SetEmptyHistogram().DataPoints().AppendEmpty()
	hdp.SetTimestamp(ts(now))
	hdp.ExplicitBounds().FromRaw([]float64{1, 2})
	hdp.BucketCounts().FromRaw([]uint64{1}) // fewer counts than bounds + 1
	f.Add(otlpProto(f, md))
	f.Add([]byte{})
	s := &Server{cfg: Config{LookbackDelta: 5 * time.Minute}, logger: slog.New(slog.DiscardHandler)}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			return
		}
		app, _, _, err := s.translateOTLP(t.Context(), req.Metrics())
		if err != nil {
			t.Fatal(err)
		}
		for i, ls := range app.lsets {
			if ls.Get("__name__") == "" {
				t.Fatalf("sample %d: series %s has no name", i, ls)
			}
		}
		if req := app.request(); req.Samples != len(app.samples) || len(req.Series) != len(app.lsets) {
			t.Fatalf("request of %d series, %d samples from %d samples", len(req.Series), req.Samples, len(app.samples))
		}
	})
}
