package ingest

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// Exposition is a text format of Prometheus metrics.
type Exposition int

// The exposition formats DecodePrometheus reads.
const (
	// PrometheusText is Prometheus's text exposition format 0.0.4.
	PrometheusText Exposition = iota
	// OpenMetrics is OpenMetrics 1.0 text: timestamps in seconds, a body
	// that ends with "# EOF".
	OpenMetrics
)

// Ignored kinds the exposition decoder counts in Request.Ignored.
const (
	IgnoredExemplars        = "exemplars"
	IgnoredNativeHistograms = "native histogram samples"
)

// ExpositionOf returns the exposition format a Content-Type names:
// OpenMetrics for application/openmetrics-text, PrometheusText for
// anything else that is text (curl's default form type included, as
// VictoriaMetrics accepts it), and ErrUnsupportedMediaType for the
// Prometheus protobuf format.
func ExpositionOf(contentType string) (Exposition, error) {
	media, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		media = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch media {
	case "application/openmetrics-text":
		return OpenMetrics, nil
	case "application/vnd.google.protobuf":
		return 0, fmt.Errorf("%w: content type %q: the protobuf exposition format is not accepted, send text or OpenMetrics",
			ErrUnsupportedMediaType, contentType)
	}
	return PrometheusText, nil
}

// DecodePrometheus decodes a body in a Prometheus text exposition format,
// with Prometheus's own parser. Samples without a timestamp get t
// (milliseconds). Exemplars and native histograms are counted in Ignored;
// HELP, TYPE and UNIT are read and not stored.
//
// A body the parser reads to its end is decoded as one document. If the
// parser stops at an error, the body is decoded again line by line, so that
// every valid line is kept and every invalid line is listed by number in
// Invalid: a line then stands alone, without the TYPE before it. For
// OpenMetrics, a missing "# EOF" is listed as an invalid line after the
// last, and a line after "# EOF" is invalid.
func DecodePrometheus(data []byte, format Exposition, t int64) *Request {
	st := labels.NewSymbolTable()
	var b builder
	var err error
	switch format {
	case OpenMetrics:
		err = decodeExposition(&b, textparse.NewOpenMetricsParser(data, st), t)
	default:
		err = decodeExposition(&b, textparse.NewPromParser(data, st, false), t)
	}
	if err == nil {
		return b.finish()
	}
	b = builder{}
	var buf []byte
	eof := 0 // line of "# EOF"
	for n, line := range lines(data) {
		if format == OpenMetrics {
			if eof > 0 {
				b.invalid(n, 0, errors.New("unexpected data after # EOF"))
				continue
			}
			if string(line) == "# EOF" {
				eof = n
				continue
			}
			// The line alone, as a whole document.
			buf = append(append(append(buf[:0], line...), '\n'), "# EOF\n"...)
		} else {
			buf = append(append(buf[:0], line...), '\n')
		}
		mark, slab := b.mark()
		var p textparse.Parser
		if format == OpenMetrics {
			p = textparse.NewOpenMetricsParser(buf, st)
		} else {
			p = textparse.NewPromParser(buf, st, false)
		}
		if err := decodeExposition(&b, p, t); err != nil {
			b.rollback(mark, slab)
			b.invalid(n, 0, err)
		}
	}
	if format == OpenMetrics && eof == 0 && len(data) > 0 {
		n := 1
		for n = range lines(data) {
		}
		b.invalid(n+1, 0, errors.New("data does not end with # EOF"))
	}
	if b.req.InvalidLines == 0 {
		// The document is invalid, yet each line alone is valid.
		b.invalid(0, 0, err)
	}
	return b.finish()
}

// decodeExposition adds every float sample p reads to b, and returns the
// parser's first error.
func decodeExposition(b *builder, p textparse.Parser, t int64) error {
	var ex exemplar.Exemplar
	for {
		entry, err := p.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch entry {
		case textparse.EntrySeries:
			_, ts, v := p.Series()
			var lset labels.Labels
			p.Labels(&lset)
			st := t
			if ts != nil {
				st = *ts
			}
			b.add(lset, st, v)
			n := 0
			for p.Exemplar(&ex) {
				n++
			}
			b.ignore(IgnoredExemplars, n)
		case textparse.EntryHistogram:
			b.ignore(IgnoredNativeHistograms, 1)
		}
	}
}
