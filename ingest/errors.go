package ingest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// Errors returned for a request that cannot be decoded at all. They are
// wrapped with detail; test them with errors.Is.
var (
	// ErrUnsupportedMediaType is returned by ParseContentType for a content
	// type or encoding no decoder reads.
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	// ErrTooLarge is returned when a body, compressed or decompressed, is
	// larger than the limit.
	ErrTooLarge = errors.New("request body too large")
	// ErrCompression is returned for a body that is not valid in its
	// compression (snappy, or for imports and OTLP also gzip or zstd). The
	// error's message names the compression: "corrupt gzip compression: ...".
	ErrCompression = errors.New("corrupt compression")
	// ErrMalformed is returned for a body that is not a valid protobuf
	// message of the expected type.
	ErrMalformed = errors.New("malformed protobuf message")
	// ErrInvalidParameter is returned for an import parameter a decoder
	// cannot use: an unknown InfluxDB precision, a bad CSV format.
	ErrInvalidParameter = errors.New("invalid parameter")
)

// Reasons a decoder drops one series (or some of its samples) and goes on
// with the rest; they are the Err of a SeriesError in Request.Dropped.
var (
	// ErrNativeHistograms: the series carries native histogram samples,
	// which almanac does not store yet. Its float samples are kept.
	ErrNativeHistograms = errors.New("native histograms are not supported yet")
	// ErrLabelRef: a remote write 2.0 series refers to a symbol outside the
	// request's symbols table, or has an odd number of label references.
	ErrLabelRef = errors.New("invalid label reference")
)

// ErrInvalidLine is the error every LineError matches: a line of an import
// body that is not valid in its format.
var ErrInvalidLine = errors.New("invalid line")

// LineError is a line of a text import body that could not be parsed. The
// lines around it are decoded as usual. errors.Is matches ErrInvalidLine
// and Err.
type LineError struct {
	Line   int   // 1-based line number in the (decompressed) body
	Column int   // 1-based column (CSV) or byte offset; 0 when unknown
	Err    error // what is wrong, with detail
}

func (e *LineError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("line %d, column %d: %v", e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidLine.
func (e *LineError) Is(target error) bool { return target == ErrInvalidLine }

// SeriesError describes a series, or some of its samples, that a decoder
// dropped while decoding the rest of the request. errors.Is matches Err.
type SeriesError struct {
	Index   int           // position of the series in the request
	Labels  labels.Labels // the series' labels; empty if they could not be decoded
	Samples int           // samples dropped (float and histogram)
	Err     error         // ErrNativeHistograms or ErrLabelRef, with detail
}

func (e *SeriesError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "series %d", e.Index)
	if !e.Labels.IsEmpty() {
		b.WriteByte(' ')
		b.WriteString(e.Labels.String())
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *SeriesError) Unwrap() error { return e.Err }
