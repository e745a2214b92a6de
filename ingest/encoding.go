package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
)

// Encodings: the Content-Encoding values ReadBody reads, as the error for
// an unknown one lists them.
const bodyEncodings = "gzip, snappy (framed or block), x-snappy-framed, zstd or none"

// snappyStreamID is the stream identifier chunk that opens every stream of
// snappy's framing format. A block never starts with it in practice: its
// first bytes are the uvarint length of the decoded block (here 895), and
// the bytes after would have to decode as a literal of one zero byte
// followed by a copy.
const snappyStreamID = "\xff\x06\x00\x00sNaPpY"

// minZstdWindow is the smallest window ReadBody lets a zstd frame declare,
// whatever the size limit: 8 MiB is the largest window of zstd's levels
// 1-19 and of klauspost/compress's encoder, so no ordinary sender is
// refused.
const minZstdWindow = 8 << 20

// ReadBody reads a request body within a size limit, decompressing it as
// contentEncoding says:
//
//   - none or "identity";
//   - "gzip" or "x-gzip";
//   - "snappy": snappy's framing format when the body starts with its
//     stream identifier (as the OpenTelemetry Collector sends), and
//     otherwise the block format (as remote write and VictoriaMetrics's
//     vmagent send);
//   - "x-snappy-framed": snappy's framing format;
//   - "zstd".
//
// maxBytes bounds the decompressed body (0 means DefaultMaxBytes), so a
// small compressed body cannot expand without bound; decompression stops
// once the limit is passed. A zstd frame may declare a window (the memory
// its decoder allocates up front) of at most maxBytes, or 8 MiB if that is
// more. Errors wrap ErrUnsupportedMediaType, ErrTooLarge or ErrCompression,
// or are r's read error; the returned slice is the caller's.
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
			return nil, decompressError("gzip", err)
		}
		defer zr.Close()
		data, err := readLimited(zr, maxBytes, "decompressed body")
		if err != nil {
			return nil, decompressError("gzip", err)
		}
		return data, nil
	case "snappy":
		br := bufio.NewReaderSize(tagReader{r}, len(snappyStreamID))
		head, err := br.Peek(len(snappyStreamID))
		if err != nil && err != io.EOF {
			return nil, err // a readError
		}
		if string(head) == snappyStreamID {
			return readSnappyFramed(br, maxBytes)
		}
		return readSnappy(br, maxBytes)
	case "x-snappy-framed":
		return readSnappyFramed(tagReader{r}, maxBytes)
	case "zstd":
		return readZstd(tagReader{r}, maxBytes)
	default:
		return nil, fmt.Errorf("%w: content encoding %q, want %s", ErrUnsupportedMediaType, enc, bodyEncodings)
	}
}

// readSnappyFramed decompresses a stream in snappy's framing format. Its
// chunks are at most 64 KiB decoded, so only the output needs a bound.
func readSnappyFramed(r io.Reader, maxBytes int) ([]byte, error) {
	data, err := readLimited(snappy.NewReader(r), maxBytes, "decompressed body")
	if err != nil {
		return nil, decompressError("snappy (framed)", err)
	}
	return data, nil
}

// readZstd decompresses a zstd stream. The decoder runs synchronously (no
// goroutines) and refuses frames whose window exceeds the limit.
func readZstd(r io.Reader, maxBytes int) ([]byte, error) {
	window := uint64(max(maxBytes, minZstdWindow))
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(window))
	if err != nil {
		return nil, decompressError("zstd", err)
	}
	defer zr.Close()
	data, err := readLimited(zr, maxBytes, "decompressed body")
	if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		return nil, fmt.Errorf("%w: zstd window of the body exceeds %d bytes", ErrTooLarge, window)
	}
	if err != nil {
		return nil, decompressError("zstd", err)
	}
	return data, nil
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
	if _, tagged := err.(*readError); err != nil && err != io.EOF && !tagged {
		err = &readError{err}
	}
	return n, err
}

// compressionError is a body that is not valid in its compression.
// errors.Is matches ErrCompression.
type compressionError struct {
	encoding string // "gzip", "snappy", ...
	err      error  // the decompressor's error
}

func (e *compressionError) Error() string {
	return fmt.Sprintf("corrupt %s compression: %v", e.encoding, e.err)
}

func (e *compressionError) Unwrap() error { return e.err }

// Is reports whether target is ErrCompression.
func (e *compressionError) Is(target error) bool { return target == ErrCompression }

// decompressError returns err as it is if it is a read error or the size
// limit, and as a compressionError of encoding otherwise.
func decompressError(encoding string, err error) error {
	if _, ok := errors.AsType[*readError](err); ok || errors.Is(err, ErrTooLarge) {
		return err
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = errors.New("truncated body")
	}
	return &compressionError{encoding: encoding, err: err}
}

// readLimited reads all of r, refusing more than maxBytes.
func readLimited(r io.Reader, maxBytes int, what string) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, int64(maxBytes)+1))
	if err != nil {
		return nil, err // a readError, or the decompressor's own error
	}
	if n > int64(maxBytes) {
		return nil, fmt.Errorf("%w: %s exceeds %d bytes", ErrTooLarge, what, maxBytes)
	}
	return buf.Bytes(), nil
}
