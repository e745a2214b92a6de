package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unsafe"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/ingest"
)

// Response headers of remote write 2.0: what the receiver stored.
const (
	headerSamplesWritten    = "X-Prometheus-Remote-Write-Samples-Written"
	headerHistogramsWritten = "X-Prometheus-Remote-Write-Histograms-Written"
	headerExemplarsWritten  = "X-Prometheus-Remote-Write-Exemplars-Written"
)

// maxListedDrops bounds the problems a 400 answer lists by name.
const maxListedDrops = 20

// handleWrite serves remote write 1.0 and 2.0. Answers, per the specs:
// 204 when everything was stored; 400 when some or all of the request can
// never be stored (what can be stored is, and the body lists what was
// dropped and why), 413 for a body over the limit, 415 for an unknown
// content type or encoding; 5xx with Retry-After only when storage failed,
// so the sender retries later.
func (s *Server) handleWrite(w http.ResponseWriter, r *http.Request) {
	proto, err := ingest.ParseContentType(r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnsupportedMediaType)
		return
	}
	req, err := ingest.ReadRemoteWrite(r.Body, proto, s.cfg.MaxWriteBytes)
	if err != nil {
		code := http.StatusBadRequest
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig || errors.Is(err, ingest.ErrTooLarge) {
			code = http.StatusRequestEntityTooLarge
		}
		http.Error(w, fmt.Sprintf("%v request: %v", proto, err), code)
		return
	}

	var drops []drop
	for _, d := range req.Dropped {
		reason := "label_ref"
		if errors.Is(d, ingest.ErrNativeHistograms) {
			reason = "native_histogram"
		}
		drops = append(drops, drop{err: d, samples: d.Samples, reason: reason})
	}
	s.storeMetadata(req.Metadata)
	stored, more, err := s.appendRequest(r.Context(), req)
	drops = append(drops, more...)
	s.metrics.samplesStored.Add(float64(stored))
	for _, d := range drops {
		s.metrics.samplesDropped.WithLabelValues(d.reason).Add(float64(d.samples))
	}

	if proto == ingest.RemoteWriteV2 {
		w.Header().Set(headerSamplesWritten, strconv.Itoa(stored))
		w.Header().Set(headerHistogramsWritten, "0")
		w.Header().Set(headerExemplarsWritten, "0")
	}
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, almanac.ErrClosed) || errors.Is(err, almanac.ErrFailed) ||
			errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			code = http.StatusServiceUnavailable
		}
		s.logger.Error("remote write: storage failed", "err", err, "stored", stored)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "storage failed, retry later: "+err.Error(), code)
		return
	}
	if len(drops) > 0 {
		msg := dropMessage(stored, drops)
		s.logger.Warn("remote write: samples refused", "msg", msg)
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// drop is a part of a request that was not stored: the error that names
// it, and how many samples it covered.
type drop struct {
	err     error // *almanac.SampleError, *ingest.SeriesError or a summary
	samples int
	reason  string // metric label, from a fixed set
}

// dropMessage is the body of a 400 answer: counts, then the first few
// problems by name.
func dropMessage(stored int, drops []drop) string {
	n := 0
	for _, d := range drops {
		n += d.samples
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d samples stored, %d samples refused and not stored (do not resend them): ", stored, n)
	for i, d := range drops {
		if i == maxListedDrops {
			fmt.Fprintf(&b, "; and %d more problems", len(drops)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%v (%d samples)", d.err, d.samples)
	}
	return b.String()
}

// appendRequest stores the valid part of a decoded request in one durable
// write and returns the samples stored, what almanac refused (one drop per
// listed problem, plus one per reason for the problems it only counted, so
// that counts by reason are exact), and a storage failure.
func (s *Server) appendRequest(ctx context.Context, req *ingest.Request) (stored int, drops []drop, err error) {
	batch := make([]almanac.SeriesSamples, len(req.Series))
	for i, in := range req.Series {
		batch[i] = almanac.SeriesSamples{Labels: in.Labels, Samples: storageSamples(in.Samples)}
	}
	rep, err := s.db.AppendValid(ctx, batch)
	if err != nil {
		return 0, nil, err
	}
	if rep == nil {
		return req.Samples, nil, nil
	}
	listed := map[error]int{}
	for _, se := range rep.Errors {
		drops = append(drops, drop{err: se, samples: se.Samples, reason: reason(se)})
		listed[se.Reason] += se.Samples
	}
	for r, n := range rep.ByReason {
		if more := n - listed[r]; more > 0 {
			drops = append(drops, drop{err: fmt.Errorf("%d more samples: %w", more, r), samples: more, reason: reason(r)})
		}
	}
	return rep.Accepted, drops, nil
}

// reason names a refusal for the samples-dropped metric.
func reason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{
		{almanac.ErrInvalidLabels, "invalid_labels"},
		{almanac.ErrLabelLimit, "label_limit"},
		{almanac.ErrOutOfRetention, "out_of_retention"},
		{almanac.ErrTooFarInFuture, "too_far_in_future"},
		{almanac.ErrTooOldSample, "too_old"},
		{almanac.ErrDuplicateSample, "duplicate_conflict"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "other"
}

// storeMetadata records the metric metadata a request carried. Metadata
// is advisory: a failure to store it is logged, and the samples are
// stored regardless.
func (s *Server) storeMetadata(in []ingest.Metadata) {
	if len(in) == 0 {
		return
	}
	ms := make([]almanac.Metadata, len(in))
	for i, m := range in {
		ms[i] = almanac.Metadata{Metric: m.Metric, Type: m.Type, Help: m.Help, Unit: m.Unit}
	}
	if err := s.db.SetMetadata(ms); err != nil {
		s.logger.Warn("metadata not stored", "err", err)
	}
}

// The decoders' samples are the storage's, field for field: this
// conversion stops compiling if they ever differ, which is what makes
// storageSamples' reinterpretation safe.
var _ = almanac.Sample(ingest.Sample{})

// storageSamples hands a request's samples to storage without copying
// them: the two sample types have the same fields, so the same layout.
// Storage copies what it keeps before Append returns.
func storageSamples(in []ingest.Sample) []almanac.Sample {
	return unsafe.Slice((*almanac.Sample)(unsafe.Pointer(unsafe.SliceData(in))), len(in))
}
