package server

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	promstorage "github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/ingest"
)

// OTLP/HTTP content types: a request's body, and its answer, are one of
// these.
const (
	otlpProtobuf = "application/x-protobuf"
	otlpJSON     = "application/json"
)

// Metrics almanac refuses whole, before translation: it stores float
// samples of cumulative series only.
var (
	errOTLPExponentialHistogram = errors.New("exponential histograms are not supported: almanac stores float samples only; " +
		"send explicit-bucket histograms (in an OpenTelemetry SDK, the default histogram aggregation \"explicit_bucket_histogram\")")
	errOTLPDelta = errors.New("delta temporality is not supported: almanac stores cumulative series; " +
		"send cumulative temporality, or convert with the OpenTelemetry Collector's deltatocumulative processor")
	errOTLPNoTemporality = errors.New("aggregation temporality is unspecified")
	errOTLPNoType        = errors.New("metric has no data type")
	errOTLPHistogram     = errors.New("native histogram samples are not supported") // never produced with otlpSettings
)

// otlpConverters holds Prometheus's OTLP translators between requests; a
// translator keeps only a small label-name cache.
var otlpConverters = sync.Pool{
	New: func() any { return prometheusremotewrite.NewPrometheusConverter(nil) },
}

// otlpSettings is the translation Prometheus applies by default
// (config.DefaultOTLPConfig): names and label names escaped to the legacy
// character set with type and unit suffixes added (UnderscoreEscapingWithSuffixes:
// a monotonic sum "http.requests" becomes http_requests_total),
// service.name and service.instance.id become job and instance, other
// resource attributes go to target_info. Explicit-bucket histograms stay
// classic (_bucket, _sum, _count), never native, and delta temporality is
// refused, as almanac stores neither.
func (s *Server) otlpSettings() prometheusremotewrite.Settings {
	cfg := config.DefaultOTLPConfig
	return prometheusremotewrite.Settings{
		AddMetricSuffixes:                    cfg.TranslationStrategy.ShouldAddSuffixes(),
		AllowUTF8:                            !cfg.TranslationStrategy.ShouldEscape(),
		PromoteResourceAttributes:            prometheusremotewrite.NewPromoteResourceAttributes(cfg),
		KeepIdentifyingResourceAttributes:    cfg.KeepIdentifyingResourceAttributes,
		ConvertHistogramsToNHCB:              false,
		PromoteScopeMetadata:                 cfg.PromoteScopeMetadata,
		AllowDeltaTemporality:                false,
		LookbackDelta:                        s.cfg.LookbackDelta,
		LabelNameUnderscoreSanitization:      cfg.LabelNameUnderscoreSanitization,
		LabelNamePreserveMultipleUnderscores: cfg.LabelNamePreserveMultipleUnderscores,
	}
}

// handleOTLP serves POST /api/v1/otlp/v1/metrics, OTLP/HTTP metrics as
// Prometheus's endpoint of the same path: an ExportMetricsServiceRequest
// as protobuf or JSON, translated to series by Prometheus's own OTLP
// translator. Answers follow the OTLP specification:
//
//   - 200 with an ExportMetricsServiceResponse when the request was stored,
//     whole or in part. What almanac refused (exponential histograms, delta
//     temporality, samples storage refuses) is counted in partial_success
//     and named in its error_message; the rest is stored.
//   - 400 when nothing could be stored: the body is malformed, or every
//     data point was refused.
//   - 413 over the size limit, 415 for an unknown Content-Type or
//     Content-Encoding.
//   - 503 with Retry-After when storage failed; the sender retries.
//
// Error bodies are a google.rpc.Status in the request's encoding (plain
// text for an unknown Content-Type), as OTLP senders read them.
func (s *Server) handleOTLP(w http.ResponseWriter, r *http.Request) {
	media, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (media != otlpProtobuf && media != otlpJSON) {
		http.Error(w, fmt.Sprintf("%v: content type %q, want %q or %q", ingest.ErrUnsupportedMediaType,
			r.Header.Get("Content-Type"), otlpProtobuf, otlpJSON), http.StatusUnsupportedMediaType)
		return
	}
	asJSON := media == otlpJSON
	body, code, err := s.readBody(r)
	if err != nil {
		writeOTLPStatus(w, asJSON, code, err.Error())
		return
	}
	req := pmetricotlp.NewExportRequest()
	if asJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		writeOTLPStatus(w, asJSON, http.StatusBadRequest, fmt.Sprintf(
			"malformed OTLP request: decoding ExportMetricsServiceRequest (%s): %v", media, err))
		return
	}

	app, refused, warnings, err := s.translateOTLP(r.Context(), req.Metrics())
	if err != nil {
		w.Header().Set("Retry-After", "5")
		writeOTLPStatus(w, asJSON, http.StatusServiceUnavailable, "request canceled, nothing stored: "+err.Error())
		return
	}

	stored, drops, err := 0, []drop(nil), error(nil)
	if len(app.samples) > 0 {
		stored, drops, err = s.appendRequest(r.Context(), app.request())
	}
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, almanac.ErrClosed) || errors.Is(err, almanac.ErrFailed) ||
			errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			code = http.StatusServiceUnavailable
		}
		s.logger.Error("otlp: storage failed", "err", err)
		w.Header().Set("Retry-After", "5")
		writeOTLPStatus(w, asJSON, code, "storage failed, retry later: "+err.Error())
		return
	}

	resp := pmetricotlp.NewExportResponse()
	if rejected, msg := otlpRejection(stored, refused, drops, warnings); msg != "" {
		s.logger.Warn("otlp: data points refused", "msg", msg)
		if rejected > 0 && stored == 0 {
			writeOTLPStatus(w, asJSON, http.StatusBadRequest, msg)
			return
		}
		// With no data point rejected, the message is a warning, as the
		// specification allows.
		resp.PartialSuccess().SetRejectedDataPoints(int64(rejected))
		resp.PartialSuccess().SetErrorMessage(msg)
	}
	var out []byte
	if asJSON {
		out, err = resp.MarshalJSON()
	} else {
		out, err = resp.MarshalProto()
	}
	if err != nil {
		writeOTLPStatus(w, asJSON, http.StatusInternalServerError, "encoding the response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", media)
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

// maxTargetInfoSamples bounds the target_info samples the translator
// writes for one resource: it writes one every half lookback delta from
// the resource's earliest data point to its latest, so a single data
// point with a zero or ancient timestamp would otherwise make it write
// millions (and hold a map entry for each). A resource whose data points
// span more than this many half lookback deltas (1 h with the default
// 5 m) gets no target_info, with a warning; its data points are stored.
const maxTargetInfoSamples = 24

// translateOTLP converts md into float samples with Prometheus's OTLP
// translator. It returns the samples, the metrics and data points it
// refused, warnings for the sender, and an error only when ctx ended.
func (s *Server) translateOTLP(ctx context.Context, md pmetric.Metrics) (*otlpAppender, []otlpRefusal, []string, error) {
	refused := refuseUnstorable(md)
	settings := s.otlpSettings()
	maxSpan := maxTargetInfoSamples * settings.LookbackDelta / 2
	wide, warnings := splitWide(md, maxSpan)

	app := &otlpAppender{}
	conv := otlpConverters.Get().(*prometheusremotewrite.PrometheusConverter)
	defer otlpConverters.Put(conv)
	defer conv.Reset(nil)
	conv.Reset(app)
	annots, err := conv.FromMetrics(ctx, md, settings)
	if wide.ResourceMetrics().Len() > 0 && ctx.Err() == nil {
		settings.DisableTargetInfo = true
		more, werr := conv.FromMetrics(ctx, wide, settings)
		annots.Merge(more)
		err = errors.Join(err, werr)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	for _, e := range leafErrors(err) {
		// A metric the translator could not convert; its other data
		// points, and other metrics, are translated. At least one point.
		refused = append(refused, otlpRefusal{points: 1, err: e})
	}
	if app.histograms > 0 {
		refused = append(refused, otlpRefusal{points: app.histograms, err: errOTLPHistogram})
	}
	if ws, _ := annots.AsStrings("", maxListedDrops, 0); len(ws) > 0 {
		s.logger.Warn("otlp: translation warnings", "warnings", ws)
	}
	return app, refused, warnings, nil
}

// splitWide moves out of md the resources whose data points span more
// than maxSpan, and returns them with a warning for each.
func splitWide(md pmetric.Metrics, maxSpan time.Duration) (pmetric.Metrics, []string) {
	wide := pmetric.NewMetrics()
	var warnings []string
	md.ResourceMetrics().RemoveIf(func(rm pmetric.ResourceMetrics) bool {
		mint, maxt := timeSpan(rm)
		if mint > maxt || maxt.AsTime().Sub(mint.AsTime()) <= maxSpan {
			return false
		}
		name := "(no service.name)"
		if v, ok := rm.Resource().Attributes().Get("service.name"); ok {
			name = strconv.Quote(v.AsString())
		}
		warnings = append(warnings, fmt.Sprintf("target_info not stored for the resource of service.name %s: "+
			"its data points span %v (t=%d to t=%d), more than %v", name,
			maxt.AsTime().Sub(mint.AsTime()).Round(time.Second), mint.AsTime().UnixMilli(), maxt.AsTime().UnixMilli(), maxSpan))
		rm.MoveTo(wide.ResourceMetrics().AppendEmpty())
		return true
	})
	return wide, warnings
}

// timeSpan returns the earliest and latest data point timestamps of rm;
// mint > maxt if it has no data point.
func timeSpan(rm pmetric.ResourceMetrics) (mint, maxt pcommon.Timestamp) {
	mint = math.MaxUint64
	see := func(t pcommon.Timestamp) { mint, maxt = min(mint, t), max(maxt, t) }
	sms := rm.ScopeMetrics()
	for i := range sms.Len() {
		ms := sms.At(i).Metrics()
		for j := range ms.Len() {
			switch m := ms.At(j); m.Type() {
			case pmetric.MetricTypeGauge:
				for k := range m.Gauge().DataPoints().Len() {
					see(m.Gauge().DataPoints().At(k).Timestamp())
				}
			case pmetric.MetricTypeSum:
				for k := range m.Sum().DataPoints().Len() {
					see(m.Sum().DataPoints().At(k).Timestamp())
				}
			case pmetric.MetricTypeHistogram:
				for k := range m.Histogram().DataPoints().Len() {
					see(m.Histogram().DataPoints().At(k).Timestamp())
				}
			case pmetric.MetricTypeSummary:
				for k := range m.Summary().DataPoints().Len() {
					see(m.Summary().DataPoints().At(k).Timestamp())
				}
			case pmetric.MetricTypeExponentialHistogram:
				for k := range m.ExponentialHistogram().DataPoints().Len() {
					see(m.ExponentialHistogram().DataPoints().At(k).Timestamp())
				}
			}
		}
	}
	return mint, maxt
}

// otlpRefusal is a metric, or some of its data points, that almanac
// refused before storage.
type otlpRefusal struct {
	metric string // the OTLP metric name; empty when the translator's error names it
	points int
	err    error
}

func (r otlpRefusal) Error() string {
	if r.metric == "" {
		return r.err.Error()
	}
	return fmt.Sprintf("metric %q (%d data points): %v", r.metric, r.points, r.err)
}

// otlpRejection counts what was not stored, as the OTLP partial_success
// counts it (data points refused before storage, plus samples storage
// refused: a histogram data point is several samples), and describes it,
// naming the first few problems, followed by the warnings.
func otlpRejection(stored int, refused []otlpRefusal, drops []drop, warnings []string) (int, string) {
	points := 0
	for _, r := range refused {
		points += r.points
	}
	var b strings.Builder
	if len(refused) > 0 {
		fmt.Fprintf(&b, "%d data points refused and not stored (do not resend them): ", points)
		for i, r := range refused {
			if i == maxListedDrops {
				fmt.Fprintf(&b, "; and %d more problems", len(refused)-i)
				break
			}
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(r.Error())
		}
	}
	rejected := points
	if len(drops) > 0 {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(dropMessage(stored, drops))
		for _, d := range drops {
			rejected += d.samples
		}
	}
	for _, w := range warnings {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(w)
	}
	return rejected, b.String()
}

// refuseUnstorable removes from md the metrics almanac cannot store
// (exponential histograms, sums and histograms not of cumulative
// temporality, metrics without a type) and returns them, so that the
// translator converts only the rest.
func refuseUnstorable(md pmetric.Metrics) []otlpRefusal {
	var out []otlpRefusal
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			sms.At(j).Metrics().RemoveIf(func(m pmetric.Metric) bool {
				points, err := unstorable(m)
				if err != nil {
					out = append(out, otlpRefusal{metric: m.Name(), points: points, err: err})
				}
				return err != nil
			})
		}
	}
	return out
}

// unstorable returns why almanac cannot store m, and its data points; nil
// if it can.
func unstorable(m pmetric.Metric) (int, error) {
	temporality := func(t pmetric.AggregationTemporality) error {
		switch t {
		case pmetric.AggregationTemporalityCumulative:
			return nil
		case pmetric.AggregationTemporalityDelta:
			return errOTLPDelta
		}
		return errOTLPNoTemporality
	}
	switch m.Type() {
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len(), errOTLPExponentialHistogram
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len(), temporality(m.Sum().AggregationTemporality())
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len(), temporality(m.Histogram().AggregationTemporality())
	case pmetric.MetricTypeEmpty:
		return 0, errOTLPNoType
	}
	return 0, nil
}

// leafErrors flattens the errors.Join tree the translator returns.
func leafErrors(err error) []error {
	if err == nil {
		return nil
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, leafErrors(e)...)
	}
	return out
}

// writeOTLPStatus answers a failed OTLP request with code and a
// google.rpc.Status carrying msg, encoded as the request was, which is
// what OTLP senders (the OpenTelemetry Collector, SDK exporters) decode
// and log.
func writeOTLPStatus(w http.ResponseWriter, asJSON bool, code int, msg string) {
	grpcCode := int32(3) // INVALID_ARGUMENT
	switch code {
	case http.StatusServiceUnavailable:
		grpcCode = 14 // UNAVAILABLE
	case http.StatusInternalServerError:
		grpcCode = 13 // INTERNAL
	}
	var body []byte
	contentType := otlpProtobuf
	if asJSON {
		contentType = otlpJSON
		body, _ = json.Marshal(struct {
			Code    int32  `json:"code"`
			Message string `json:"message"`
		}{grpcCode, msg}) // cannot fail: an int and a string
	} else {
		body = appendStatusProto(nil, grpcCode, msg)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(body)
}

// appendStatusProto appends a google.rpc.Status message (field 1: int32
// code, field 2: string message) in the protobuf wire format to dst.
func appendStatusProto(dst []byte, code int32, msg string) []byte {
	dst = append(dst, 1<<3|0) // field 1, varint
	dst = binary.AppendUvarint(dst, uint64(code))
	dst = append(dst, 2<<3|2) // field 2, length-delimited
	dst = binary.AppendUvarint(dst, uint64(len(msg)))
	return append(dst, msg...)
}

// otlpAppender is the storage.AppenderV2 Prometheus's OTLP translator
// writes into for one request: it collects float samples for one
// AppendValid call, so that samples storage refuses do not take the rest
// of the request with them. Exemplars and metadata are dropped.
type otlpAppender struct {
	lsets      []labels.Labels
	samples    []ingest.Sample // samples[i] belongs to lsets[i]
	histograms int             // native histogram samples refused
}

var _ promstorage.AppenderV2 = (*otlpAppender)(nil)

func (a *otlpAppender) Append(_ promstorage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, _ promstorage.AOptions) (promstorage.SeriesRef, error) {
	if h != nil || fh != nil {
		a.histograms++
		return 0, nil
	}
	a.lsets = append(a.lsets, ls)
	a.samples = append(a.samples, ingest.Sample{T: t, V: v, ST: st})
	return promstorage.SeriesRef(len(a.samples)), nil
}

// Commit and Rollback do nothing: the handler stores what was collected.
func (a *otlpAppender) Commit() error   { return nil }
func (a *otlpAppender) Rollback() error { return nil }

// request returns the collected samples as one request, a series per
// sample (a series that repeats is stored as one).
func (a *otlpAppender) request() *ingest.Request {
	req := &ingest.Request{Series: make([]ingest.Series, len(a.lsets)), Samples: len(a.samples)}
	for i, ls := range a.lsets {
		req.Series[i] = ingest.Series{Labels: ls, Samples: a.samples[i : i+1 : i+1]}
	}
	return req
}
