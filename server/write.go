package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/ingest"
)

// Response headers of remote write 2.0: what the receiver stored.
const (
	headerSamplesWritten    = "X-Prometheus-Remote-Write-Samples-Written"
	headerHistogramsWritten = "X-Prometheus-Remote-Write-Histograms-Written"
	headerExemplarsWritten  = "X-Prometheus-Remote-Write-Exemplars-Written"
)

// maxWriteAppends, plus one per two series, bounds the Append calls one
// remote-write request may make while it isolates the samples almanac
// refuses. A refused Append only validates; it writes nothing.
const maxWriteAppends = 64

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

// appendRequest stores a decoded request. almanac appends batches
// atomically, so when it refuses one, the samples and series it names are
// removed (with every other sample its reason also condemns) and the rest
// is appended again; a batch with more problems than one error lists is
// split in halves, so a few bad series cost a few appends, not one each.
// It returns the samples stored, what was dropped, and a storage failure.
func (s *Server) appendRequest(ctx context.Context, req *ingest.Request) (stored int, drops []drop, err error) {
	batch := make([]almanac.SeriesSamples, len(req.Series))
	slab := make([]almanac.Sample, 0, req.Samples)
	for i, in := range req.Series {
		first := len(slab)
		for _, smp := range in.Samples {
			slab = append(slab, almanac.Sample{T: smp.T, V: smp.V, ST: smp.ST})
		}
		batch[i] = almanac.SeriesSamples{Labels: in.Labels, Samples: slab[first:len(slab):len(slab)]}
	}
	a := appender{db: s.db, budget: maxWriteAppends + len(batch)/2}
	err = a.store(ctx, batch)
	return a.stored, a.drops, err
}

// appender isolates the refused parts of a batch.
type appender struct {
	db     *almanac.DB
	budget int // Append calls left
	stored int
	drops  []drop
}

func (a *appender) store(ctx context.Context, batch []almanac.SeriesSamples) error {
	var keys []string // series keys, computed once a batch is refused
	for {
		batch, keys = dropEmpty(batch, keys)
		if len(batch) == 0 {
			return nil
		}
		if a.budget == 0 {
			a.drops = append(a.drops, drop{
				err:     fmt.Errorf("%d series not stored: too many invalid samples in one request to isolate them", len(batch)),
				samples: countSamples(batch), reason: "other",
			})
			return nil
		}
		a.budget--
		err := a.db.Append(ctx, batch)
		if err == nil {
			a.stored += countSamples(batch)
			return nil
		}
		berr, ok := errors.AsType[*almanac.BatchError](err)
		if !ok {
			return err
		}
		if keys == nil {
			keys = make([]string, len(batch))
			for i := range batch {
				keys[i] = seriesKey(batch[i].Labels)
			}
		}
		if removed := a.removeRejected(batch, keys, berr); removed == 0 {
			// Nothing named matched the batch (it should): refuse what
			// is left rather than loop.
			a.drops = append(a.drops, drop{err: berr, samples: countSamples(batch), reason: "other"})
			return nil
		}
		if berr.Omitted > 0 && len(batch) > 1 {
			half := len(batch) / 2
			if err := a.store(ctx, batch[:half]); err != nil {
				return err
			}
			return a.store(ctx, batch[half:])
		}
	}
}

// removeRejected removes from batch the samples berr names, and returns how
// many it removed. A label problem removes its series. A sample outside
// retention, too far in the future, or too old for its series' out-of-order
// window condemns every sample beyond the same bound (almanac lists only
// the first few problems, and those samples would be refused next), so
// they go now; the bound is read from the error's detail when it states
// one, else the sample's own timestamp is taken as the bound.
func (a *appender) removeRejected(batch []almanac.SeriesSamples, keys []string, berr *almanac.BatchError) int {
	total := 0
	for _, se := range berr.Errors {
		key := seriesKey(se.Labels)
		var condemned func(i int, t int64) bool
		switch {
		case !se.HasT:
			condemned = func(i int, _ int64) bool { return keys[i] == key || labels.Equal(batch[i].Labels, se.Labels) }
		case errors.Is(se, almanac.ErrOutOfRetention):
			minT, ok := detailInt(se.Detail, "retention starts at t=")
			if !ok {
				minT = se.T + 1
			}
			condemned = func(_ int, t int64) bool { return t < minT }
		case errors.Is(se, almanac.ErrTooFarInFuture):
			maxT, ok := detailInt(se.Detail, "latest accepted t=")
			if !ok {
				maxT = se.T - 1
			}
			condemned = func(_ int, t int64) bool { return t > maxT }
		case errors.Is(se, almanac.ErrTooOldSample):
			minT := se.T + 1
			if lastT, ok := detailInt(se.Detail, "newest sample is at t="); ok {
				if _, w, ok := strings.Cut(se.Detail, ", window "); ok {
					if d, err := time.ParseDuration(w); err == nil && lastT-d.Milliseconds() > se.T {
						minT = lastT - d.Milliseconds()
					}
				}
			}
			condemned = func(i int, t int64) bool { return keys[i] == key && t < minT }
		default:
			condemned = func(i int, t int64) bool { return keys[i] == key && t == se.T }
		}
		n := 0
		for i := range batch {
			kept := batch[i].Samples[:0]
			for _, smp := range batch[i].Samples {
				if condemned(i, smp.T) {
					n++
					continue
				}
				kept = append(kept, smp)
			}
			batch[i].Samples = kept
		}
		if n > 0 {
			a.drops = append(a.drops, drop{err: se, samples: n, reason: reason(se)})
			total += n
		}
	}
	return total
}

// detailInt reads the integer after prefix in an error's detail.
func detailInt(detail, prefix string) (int64, bool) {
	_, rest, ok := strings.Cut(detail, prefix)
	if !ok {
		return 0, false
	}
	end := 0
	for end < len(rest) && (rest[end] >= '0' && rest[end] <= '9' || end == 0 && rest[end] == '-') {
		end++
	}
	v, err := strconv.ParseInt(rest[:end], 10, 64)
	return v, err == nil
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

// seriesKey identifies a series as almanac does: labels with empty values
// left out, sorted by name. almanac names a series in its errors either as
// it was given (label problems) or normalised (sample problems); both give
// the same key.
func seriesKey(lset labels.Labels) string {
	b := labels.NewScratchBuilder(lset.Len())
	lset.Range(func(l labels.Label) {
		if l.Value != "" {
			b.Add(l.Name, l.Value)
		}
	})
	b.Sort()
	return string(b.Labels().Bytes(nil))
}

// dropEmpty removes series left without samples, keeping keys (if any)
// aligned.
func dropEmpty(batch []almanac.SeriesSamples, keys []string) ([]almanac.SeriesSamples, []string) {
	out := batch[:0]
	var outKeys []string
	if keys != nil {
		outKeys = keys[:0]
	}
	for i := range batch {
		if len(batch[i].Samples) > 0 {
			out = append(out, batch[i])
			if keys != nil {
				outKeys = append(outKeys, keys[i])
			}
		}
	}
	return out, outKeys
}

func countSamples(batch []almanac.SeriesSamples) int {
	n := 0
	for i := range batch {
		n += len(batch[i].Samples)
	}
	return n
}
