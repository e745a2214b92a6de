package server

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"
	"github.com/prometheus/prometheus/util/stats"
)

// This file writes the Prometheus HTTP API's JSON: the envelope
// {"status","data","errorType","error","warnings","infos"} and query
// results in Prometheus's spelling (timestamps as seconds with millisecond
// decimals, values as strings, NaN and ±Inf as "NaN", "+Inf", "-Inf").
// Query results are appended to a pooled buffer by hand, as Prometheus's
// own API does with jsoniter; everything else goes through encoding/json.

// errorType is an API error class: its name in "errorType" and its status.
type errorType struct {
	name string
	code int
}

// The error classes of Prometheus's API and the status codes it answers with.
var (
	errorBadData  = errorType{"bad_data", http.StatusBadRequest}
	errorExec     = errorType{"execution", http.StatusUnprocessableEntity}
	errorTimeout  = errorType{"timeout", http.StatusServiceUnavailable}
	errorCanceled = errorType{"canceled", 499} // Prometheus's "client closed request"
	errorInternal = errorType{"internal", http.StatusInternalServerError}
)

// apiError is an error answered in Prometheus's error envelope.
type apiError struct {
	typ errorType
	err error
}

func (e *apiError) Error() string { return e.typ.name + ": " + e.err.Error() }

// jsonAppender is a response payload that writes its own JSON.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// maxPooledBuffer caps the response buffers kept for reuse, so one huge
// answer does not pin its memory.
const maxPooledBuffer = 1 << 20

var bufferPool = sync.Pool{New: func() any { return new([]byte) }}

// respond writes a success envelope around data, with the warnings and
// infos of annos (at most 10 of each, as Prometheus).
func (s *Server) respond(w http.ResponseWriter, data any, annos annotations.Annotations, query string) {
	bp := bufferPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuffer {
			bufferPool.Put(bp)
		}
	}()
	b := append((*bp)[:0], `{"status":"success","data":`...)
	if ja, ok := data.(jsonAppender); ok {
		b = ja.appendJSON(b)
	} else {
		enc, err := json.Marshal(data)
		if err != nil {
			s.respondError(w, &apiError{errorInternal, err})
			return
		}
		b = append(b, enc...)
	}
	warnings, infos := annos.AsStrings(query, 10, 10)
	b = appendStringList(b, "warnings", warnings)
	b = appendStringList(b, "infos", infos)
	b = append(b, '}')
	*bp = b
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(b); err != nil {
		s.logger.Debug("writing response", "err", err)
	}
}

// respondError writes Prometheus's error envelope with the status code of
// the error's class.
func (s *Server) respondError(w http.ResponseWriter, e *apiError) {
	b := []byte(`{"status":"error","errorType":`)
	b = appendString(b, e.typ.name)
	b = append(b, `,"error":`...)
	b = appendString(b, e.err.Error())
	b = append(b, '}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.typ.code)
	if _, err := w.Write(b); err != nil {
		s.logger.Debug("writing error response", "err", err)
	}
}

func appendStringList(b []byte, field string, list []string) []byte {
	if len(list) == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, field...)
	b = append(b, `":[`...)
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// queryData is the data of a query answer.
type queryData struct {
	value parser.Value
	stats stats.QueryStats // nil unless asked for
}

func (q queryData) appendJSON(b []byte) []byte {
	b = append(b, `{"resultType":`...)
	b = appendString(b, string(q.value.Type()))
	b = append(b, `,"result":`...)
	b = appendValue(b, q.value)
	if q.stats != nil {
		if enc, err := json.Marshal(q.stats); err == nil {
			b = append(b, `,"stats":`...)
			b = append(b, enc...)
		}
	}
	return append(b, '}')
}

// appendValue writes a query result: a vector, a matrix, a scalar or a string.
func appendValue(b []byte, v parser.Value) []byte {
	switch v := v.(type) {
	case promql.Vector:
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendSample(b, s)
		}
		return append(b, ']')
	case promql.Matrix:
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendSeries(b, s)
		}
		return append(b, ']')
	case promql.Scalar, promql.String:
		// Prometheus writes these with their own MarshalJSON (seconds as
		// a float64), so the answer is spelled exactly as Prometheus's.
		if enc, err := json.Marshal(v); err == nil {
			return append(b, enc...)
		}
	}
	return append(b, "null"...)
}

// appendSample writes {"metric":{...},"value":[t,"v"]}, or "histogram"
// instead of "value" for a histogram sample.
func appendSample(b []byte, s promql.Sample) []byte {
	b = append(b, `{"metric":`...)
	b = appendLabels(b, s.Metric)
	if s.H == nil {
		b = append(b, `,"value":[`...)
		b = appendTimestamp(b, s.T)
		b = append(b, ',')
		b = appendFloat(b, s.F)
	} else {
		b = append(b, `,"histogram":[`...)
		b = appendTimestamp(b, s.T)
		b = append(b, ',')
		b = appendHistogram(b, s.H)
	}
	return append(b, ']', '}')
}

// appendSeries writes {"metric":{...},"values":[[t,"v"],...],"histograms":[...]},
// leaving out an empty "values" or "histograms".
func appendSeries(b []byte, s promql.Series) []byte {
	b = append(b, `{"metric":`...)
	b = appendLabels(b, s.Metric)
	if len(s.Floats) > 0 {
		b = append(b, `,"values":[`...)
		for i, p := range s.Floats {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendTimestamp(b, p.T)
			b = append(b, ',')
			b = appendFloat(b, p.F)
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	if len(s.Histograms) > 0 {
		b = append(b, `,"histograms":[`...)
		for i, p := range s.Histograms {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendTimestamp(b, p.T)
			b = append(b, ',')
			b = appendHistogram(b, p.H)
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendHistogram writes {"count":"..","sum":"..","buckets":[[boundaries,"lo","hi","count"],...]}.
func appendHistogram(b []byte, h *histogram.FloatHistogram) []byte {
	b = append(b, `{"count":`...)
	b = appendFloat(b, h.Count)
	b = append(b, `,"sum":`...)
	b = appendFloat(b, h.Sum)
	first := true
	it := h.AllBucketIterator()
	for it.Next() {
		bucket := it.At()
		if bucket.Count == 0 {
			continue
		}
		if first {
			b = append(b, `,"buckets":[`...)
			first = false
		} else {
			b = append(b, ',')
		}
		boundaries := 2 // open interval
		switch {
		case bucket.LowerInclusive && bucket.UpperInclusive:
			boundaries = 3
		case bucket.LowerInclusive:
			boundaries = 1
		case bucket.UpperInclusive:
			boundaries = 0
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(boundaries), 10)
		b = append(b, ',')
		b = appendFloat(b, bucket.Lower)
		b = append(b, ',')
		b = appendFloat(b, bucket.Upper)
		b = append(b, ',')
		b = appendFloat(b, bucket.Count)
		b = append(b, ']')
	}
	if !first {
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendLabels writes a label set as a JSON object, in label order.
func appendLabels(b []byte, lset labels.Labels) []byte {
	b = append(b, '{')
	first := true
	lset.Range(func(l labels.Label) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	})
	return append(b, '}')
}

// labelSets is the data of a series answer: a list of label sets.
type labelSets []labels.Labels

func (ls labelSets) appendJSON(b []byte) []byte {
	b = append(b, '[')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLabels(b, l)
	}
	return append(b, ']')
}

// stringList is the data of a labels or label values answer.
type stringList []string

func (sl stringList) appendJSON(b []byte) []byte {
	b = append(b, '[')
	for i, s := range sl {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendTimestamp writes milliseconds as seconds with up to three decimals
// (1435781451.781), as Prometheus does.
func appendTimestamp(b []byte, t int64) []byte {
	u := uint64(t)
	if t < 0 {
		b = append(b, '-')
		u = -u // also right for math.MinInt64
	}
	b = strconv.AppendUint(b, u/1000, 10)
	if frac := u % 1000; frac != 0 {
		b = append(b, '.')
		if frac < 100 {
			b = append(b, '0')
		}
		if frac < 10 {
			b = append(b, '0')
		}
		b = strconv.AppendUint(b, frac, 10)
	}
	return b
}

// appendFloat writes a sample value as a JSON string, with Prometheus's
// format: shortest decimal, exponent form below 1e-6 and from 1e21.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = append(b, '"')
	b = strconv.AppendFloat(b, f, format, -1, 64)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string exactly as encoding/json does:
// HTML-sensitive characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
