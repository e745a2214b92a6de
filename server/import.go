package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/ingest"
)

// maxListedLines bounds the invalid lines an import's 400 answer names, as
// VictoriaMetrics does.
const maxListedLines = 10

// handleImportPrometheus serves POST /api/v1/import/prometheus: the
// Prometheus text format, or OpenMetrics by Content-Type. Samples without
// a timestamp get the timestamp parameter (milliseconds) or the time of
// the request.
func (s *Server) handleImportPrometheus(w http.ResponseWriter, r *http.Request) {
	format, err := ingest.ExpositionOf(r.Header.Get("Content-Type"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnsupportedMediaType)
		return
	}
	t := s.now().UnixMilli()
	if v := r.URL.Query().Get("timestamp"); v != "" {
		if t, err = strconv.ParseInt(v, 10, 64); err != nil {
			http.Error(w, fmt.Sprintf("invalid timestamp parameter %q: want milliseconds since the epoch", v), http.StatusBadRequest)
			return
		}
	}
	body, ok := s.readImport(w, r)
	if !ok {
		return
	}
	s.storeImport(w, r, "prometheus import", ingest.DecodePrometheus(body, format, t))
}

// readImport reads an import body within the write limit, decompressing
// it as Content-Encoding says (see readBody). It answers the request itself
// and returns false on failure: 413 over the limit, 415 for an unknown
// encoding, 400 for corrupt compression.
func (s *Server) readImport(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, code, err := s.readBody(r)
	if err != nil {
		http.Error(w, err.Error(), code)
		return nil, false
	}
	return body, true
}

// storeImport stores what an import decoder returned and answers as
// VictoriaMetrics does: every valid line is stored, and the answer is 400
// if any line was invalid or any sample refused, naming the first few;
// 204 otherwise. A body with no valid line stores nothing. Values the
// format carries but almanac does not store are named in the
// X-Almanac-Ignored header.
func (s *Server) storeImport(w http.ResponseWriter, r *http.Request, what string, req *ingest.Request) {
	if len(req.Ignored) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(req.Ignored)) {
			parts = append(parts, fmt.Sprintf("%d %s", req.Ignored[k], k))
		}
		w.Header().Set("X-Almanac-Ignored", strings.Join(parts, ", "))
	}
	stored, drops, err := 0, []drop(nil), error(nil)
	if len(req.Series) > 0 {
		stored, drops, err = s.appendRequest(r.Context(), req)
	}
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, almanac.ErrClosed) || errors.Is(err, almanac.ErrFailed) ||
			errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			code = http.StatusServiceUnavailable
		}
		s.logger.Error(what+": storage failed", "err", err)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "storage failed, retry later: "+err.Error(), code)
		return
	}
	if req.InvalidLines == 0 && len(drops) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var b strings.Builder
	if req.InvalidLines > 0 {
		fmt.Fprintf(&b, "%d invalid lines not stored", req.InvalidLines)
		if len(req.Series) == 0 {
			b.WriteString(" (no valid line, nothing stored)")
		}
		b.WriteString(": ")
		for i, e := range req.Invalid {
			if i == maxListedLines {
				fmt.Fprintf(&b, "; and %d more", req.InvalidLines-i)
				break
			}
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(e.Error())
		}
		if len(drops) == 0 {
			fmt.Fprintf(&b, "; %d samples of the valid lines stored", stored)
		}
	}
	if len(drops) > 0 {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(dropMessage(stored, drops))
	}
	msg := b.String()
	s.logger.Warn(what+": lines or samples refused", "msg", msg)
	http.Error(w, msg, http.StatusBadRequest)
}

// handleImportInflux serves POST /write (InfluxDB 1.x: db, precision
// n|u|ms|s|m|h) and POST /api/v2/write (InfluxDB 2.x: bucket, precision
// ns|us|ms|s). The database or bucket becomes label db. Answers 204, as
// InfluxDB does, when every line was stored.
func (s *Server) handleImportInflux(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	db := q.Get("db")
	if db == "" {
		db = q.Get("bucket")
	}
	opts := ingest.InfluxOptions{Precision: q.Get("precision"), DB: db, Now: s.now().UnixMilli()}
	body, ok := s.readImport(w, r)
	if !ok {
		return
	}
	req, err := ingest.DecodeInflux(body, opts)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.storeImport(w, r, "influx import", req)
}

// handleImportVMJSON serves POST /api/v1/import: VictoriaMetrics's JSON
// lines format, one series with its values and timestamps a line.
func (s *Server) handleImportVMJSON(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readImport(w, r)
	if !ok {
		return
	}
	s.storeImport(w, r, "json import", ingest.DecodeVMJSON(body))
}

// handleImportCSV serves POST /api/v1/import/csv?format=...: CSV whose
// columns the format parameter describes, as VictoriaMetrics's. Lines
// without a time column get the time of the request.
func (s *Server) handleImportCSV(w http.ResponseWriter, r *http.Request) {
	format, err := ingest.ParseCSVFormat(r.URL.Query().Get("format"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body, ok := s.readImport(w, r)
	if !ok {
		return
	}
	s.storeImport(w, r, "csv import", ingest.DecodeCSV(body, format, s.now().UnixMilli()))
}
