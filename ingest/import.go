package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// MaxListedLines bounds Request.Invalid: an import body of garbage costs
// a count, not a list as long as the body.
const MaxListedLines = 100

// ReadBody reads an import body within a size limit, decompressing it as
// contentEncoding says: none (or "identity"), "gzip" (or "x-gzip"), or
// "snappy" (block format, as remote write). maxBytes bounds the
// decompressed body (0 means DefaultMaxBytes). Errors wrap
// ErrUnsupportedMediaType, ErrTooLarge or ErrCompression, or are r's read
// error.
func ReadBody(r io.Reader, contentEncoding string, maxBytes int) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	switch enc := strings.ToLower(strings.TrimSpace(contentEncoding)); enc {
	case "", "identity":
		return readLimited(tagReader{r}, maxBytes, "body")
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(tagReader{r})
		if err != nil {
			return nil, compressionError(err)
		}
		defer zr.Close()
		data, err := readLimited(zr, maxBytes, "decompressed body")
		if err != nil {
			return nil, compressionError(err)
		}
		return data, nil
	case "snappy":
		return readSnappy(r, maxBytes)
	default:
		return nil, fmt.Errorf("%w: content encoding %q, want gzip, snappy or none", ErrUnsupportedMediaType, enc)
	}
}

// readError marks an error of the underlying reader, so it is not
// mistaken for corrupt compression.
type readError struct{ err error }

func (e *readError) Error() string { return "reading body: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// tagReader wraps the errors of r, except io.EOF, in a readError.
type tagReader struct{ r io.Reader }

func (t tagReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		err = &readError{err}
	}
	return n, err
}

// compressionError returns err as it is if it is a read error or the size
// limit, and as ErrCompression otherwise.
func compressionError(err error) error {
	if _, ok := errors.AsType[*readError](err); ok || errors.Is(err, ErrTooLarge) {
		return err
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: gzip: truncated body", ErrCompression)
	}
	return fmt.Errorf("%w: gzip: %v", ErrCompression, err)
}

// readLimited reads all of r, refusing more than maxBytes.
func readLimited(r io.Reader, maxBytes int, what string) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, int64(maxBytes)+1))
	if err != nil {
		return nil, err // a readError, or gzip's own error
	}
	if n > int64(maxBytes) {
		return nil, fmt.Errorf("%w: %s exceeds %d bytes", ErrTooLarge, what, maxBytes)
	}
	return buf.Bytes(), nil
}

// lines yields each line of data with its 1-based number, without the
// line ending ("\n" or "\r\n"). A final line without a newline is yielded;
// an empty body yields nothing.
func lines(data []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		for n := 1; len(data) > 0; n++ {
			line := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				line, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			line = bytes.TrimSuffix(line, []byte{'\r'})
			if !yield(n, line) {
				return
			}
		}
	}
}

// builder collects an import body's samples: one slab for every sample,
// series cut from it at the end, so a line costs no allocation of its own
// beyond its labels.
type builder struct {
	req    Request
	lsets  []labels.Labels
	starts []int // index in slab of each series' first sample
	slab   []Sample
}

// add starts a series of lset with one sample.
func (b *builder) add(lset labels.Labels, t int64, v float64) {
	b.lsets = append(b.lsets, lset)
	b.starts = append(b.starts, len(b.slab))
	b.slab = append(b.slab, Sample{T: t, V: v})
}

// addSamples starts a series of lset with the samples of ts and vs, which
// have the same length.
func (b *builder) addSamples(lset labels.Labels, ts []int64, vs []float64) {
	b.lsets = append(b.lsets, lset)
	b.starts = append(b.starts, len(b.slab))
	for i := range ts {
		b.slab = append(b.slab, Sample{T: ts[i], V: vs[i]})
	}
}

// invalid records a line that could not be parsed.
func (b *builder) invalid(line, column int, err error) {
	b.req.InvalidLines++
	if len(b.req.Invalid) < MaxListedLines {
		b.req.Invalid = append(b.req.Invalid, &LineError{Line: line, Column: column, Err: err})
	}
}

// ignore counts n values of a kind almanac does not store.
func (b *builder) ignore(what string, n int) {
	if n == 0 {
		return
	}
	if b.req.Ignored == nil {
		b.req.Ignored = map[string]int{}
	}
	b.req.Ignored[what] += n
}

// mark and rollback drop what a line added when a later part of the line
// turns out to be invalid, so a line is stored whole or not at all.
func (b *builder) mark() (series, samples int) { return len(b.lsets), len(b.slab) }

func (b *builder) rollback(series, samples int) {
	b.lsets, b.starts, b.slab = b.lsets[:series], b.starts[:series], b.slab[:samples]
}

// finish returns the request; b must not be used afterwards.
func (b *builder) finish() *Request {
	req := &b.req
	req.Series = make([]Series, 0, len(b.lsets))
	for i, lset := range b.lsets {
		end := len(b.slab)
		if i+1 < len(b.starts) {
			end = b.starts[i+1]
		}
		if end == b.starts[i] {
			continue
		}
		req.Series = append(req.Series, Series{Labels: lset, Samples: b.slab[b.starts[i]:end:end]})
		req.Samples += end - b.starts[i]
	}
	return req
}
