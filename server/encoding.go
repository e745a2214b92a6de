package server

import (
	"errors"
	"net/http"

	"github.com/almanacdb/almanac/ingest"
)

// readBody reads a write request's body (imports, OTLP), decompressed as
// its Content-Encoding says (none, gzip, snappy framed or block, zstd; see
// ingest.ReadBody), within MaxWriteBytes once decompressed; the compressed
// body is bounded by MaxRequestBytes. On failure it returns the status to
// answer with: 413 over either limit, 415 for an unknown encoding, 400 for
// a body corrupt in its compression or cut short.
func (s *Server) readBody(r *http.Request) ([]byte, int, error) {
	body, err := ingest.ReadBody(r.Body, r.Header.Get("Content-Encoding"), s.cfg.MaxWriteBytes)
	if err == nil {
		return body, http.StatusOK, nil
	}
	switch _, tooBig := errors.AsType[*http.MaxBytesError](err); {
	case tooBig || errors.Is(err, ingest.ErrTooLarge):
		return nil, http.StatusRequestEntityTooLarge, err
	case errors.Is(err, ingest.ErrUnsupportedMediaType):
		return nil, http.StatusUnsupportedMediaType, err
	}
	return nil, http.StatusBadRequest, err
}
