package server

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/prometheus/prometheus/model/value"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
)

// This file serves VictoriaMetrics's export API: /api/v1/export writes one
// JSON line per series, {"metric":{...},"values":[...],"timestamps":[...]},
// and /api/v1/export/csv one CSV row per sample, with the columns the
// format parameter names. Both stream series by series from a Select, so
// memory holds one decoded series per match[] selector and a write buffer,
// never the whole answer.
//
// Errors found before the first byte is written are answered with
// Prometheus's error envelope. A storage error after that can no longer be
// reported in the body, so the connection is aborted: the client sees a
// truncated chunked response (an error), never a short export that looks
// complete.

// exportBufferBytes is the size of the buffer between the encoder and the
// connection.
const exportBufferBytes = 64 << 10

// exportParams are an export's series selectors and inclusive time range.
type exportParams struct {
	mint, maxt int64
	matchers   [][]*labels.Matcher
}

func (s *Server) parseExportParams(r *http.Request) (exportParams, *apiError) {
	if err := r.ParseForm(); err != nil {
		return exportParams{}, &apiError{errorBadData, fmt.Errorf("error parsing form values: %w", err)}
	}
	if len(r.Form["match[]"]) == 0 {
		return exportParams{}, &apiError{errorBadData, errors.New("no match[] parameter provided")}
	}
	p, apiErr := s.parseRangeParams(r)
	if apiErr != nil {
		return exportParams{}, apiErr
	}
	if p.mint > p.maxt {
		return exportParams{}, invalidParam(errors.New("end timestamp must not be before start time"), "end")
	}
	return exportParams{mint: p.mint, maxt: p.maxt, matchers: p.matchers}, nil
}

// handleExport serves /api/v1/export: match[] (required, repeatable),
// start, end (default: all time).
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	p, apiErr := s.parseExportParams(r)
	if apiErr != nil {
		s.respondError(w, apiErr)
		return
	}
	var line []byte
	s.streamExport(w, r, p, "application/stream+json; charset=utf-8", func(bw *bufio.Writer, sr *almanac.Series) error {
		line = appendExportLine(line[:0], sr)
		_, err := bw.Write(line)
		return err
	})
}

// handleExportCSV serves /api/v1/export/csv: format (required), match[]
// (required, repeatable), start, end. format lists the columns, separated
// by commas: a label name (empty when the series lacks it), __value__, or
// __timestamp__:unit with unit unix_s, unix_ms, unix_ns, rfc3339 or
// custom:<Go time layout>.
func (s *Server) handleExportCSV(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.respondError(w, &apiError{errorBadData, fmt.Errorf("error parsing form values: %w", err)})
		return
	}
	cols, err := parseCSVColumns(r.FormValue("format"))
	if err != nil {
		s.respondError(w, invalidParam(err, "format"))
		return
	}
	p, apiErr := s.parseExportParams(r)
	if apiErr != nil {
		s.respondError(w, apiErr)
		return
	}
	record := make([]string, len(cols))
	var num []byte
	s.streamExport(w, r, p, "text/csv; charset=utf-8", func(bw *bufio.Writer, sr *almanac.Series) error {
		cw := csv.NewWriter(bw)
		for i, c := range cols {
			if c.kind == csvLabel {
				record[i] = sr.Labels.Get(c.name)
			}
		}
		for j, t := range sr.T {
			for i, c := range cols {
				switch c.kind {
				case csvValue:
					num = appendExportCSVValue(num[:0], sr.V[j])
					record[i] = string(num)
				case csvTimestamp:
					record[i] = c.formatTime(t)
				}
			}
			if err := cw.Write(record); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
}

// selectExport selects the series of every match[] set of p, merged and
// deduplicated in label order. Close the merge.
func (s *Server) selectExport(ctx context.Context, p exportParams) (*seriesMerge, error) {
	q := s.db.Querier(p.mint, p.maxt)
	sets := make([]*almanac.SeriesSet, 0, len(p.matchers))
	for _, ms := range p.matchers {
		ss, err := q.Select(ctx, ms...)
		if err != nil {
			for _, s := range sets {
				s.Close()
			}
			return nil, err
		}
		sets = append(sets, ss)
	}
	return newSeriesMerge(sets), nil
}

// streamExport selects the series of every match[] set, merged and
// deduplicated in label order, and writes each through write.
func (s *Server) streamExport(w http.ResponseWriter, r *http.Request, p exportParams, contentType string, write func(*bufio.Writer, *almanac.Series) error) {
	ctx := r.Context()
	m, err := s.selectExport(ctx, p)
	if err != nil {
		s.respondError(w, execError(err))
		return
	}
	defer m.Close()

	w.Header().Set("Content-Type", contentType)
	bw := bufio.NewWriterSize(w, exportBufferBytes)
	for n := 0; m.Next(); n++ {
		if n%64 == 0 {
			if err = ctx.Err(); err != nil {
				break
			}
		}
		if err = write(bw, m.At()); err != nil {
			break
		}
	}
	if err == nil {
		err = m.Err()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		if ctx.Err() == nil {
			s.logger.Error("export aborted", "path", r.URL.Path, "err", err)
		}
		// Abort the connection so the client cannot take a truncated
		// export for a complete one (see the top of this file).
		panic(http.ErrAbortHandler)
	}
}

// seriesMerge merges series sets sorted by labels into one sorted stream,
// keeping one of each run of equal label sets.
type seriesMerge struct {
	sets    []*almanac.SeriesSet
	heads   []bool // heads[i]: sets[i].At() is valid and not yet returned
	dups    []int  // scratch: sets whose head equals cur
	started bool
	cur     *almanac.Series
	err     error
}

func newSeriesMerge(sets []*almanac.SeriesSet) *seriesMerge {
	return &seriesMerge{sets: sets, heads: make([]bool, len(sets))}
}

// Next advances to the next distinct series. The previous series is only
// released here, so At stays valid until Next is called again.
func (m *seriesMerge) Next() bool {
	if m.err != nil {
		return false
	}
	if !m.started {
		m.started = true
		for i := range m.sets {
			m.advance(i)
		}
	} else {
		// Find every set whose head is the series just returned before
		// advancing any: advancing may reuse the memory of m.cur.
		m.dups = m.dups[:0]
		for i, ss := range m.sets {
			if m.heads[i] && (ss.At() == m.cur || labels.Equal(ss.At().Labels, m.cur.Labels)) {
				m.dups = append(m.dups, i)
			}
		}
		for _, i := range m.dups {
			m.advance(i)
		}
	}
	if m.err != nil {
		return false
	}
	m.cur = nil
	for i, ss := range m.sets {
		if m.heads[i] && (m.cur == nil || labels.Compare(ss.At().Labels, m.cur.Labels) < 0) {
			m.cur = ss.At()
		}
	}
	return m.cur != nil
}

func (m *seriesMerge) advance(i int) {
	ss := m.sets[i]
	m.heads[i] = ss.Next()
	if !m.heads[i] {
		if err := ss.Err(); err != nil && m.err == nil {
			m.err = err
		}
	}
}

func (m *seriesMerge) At() *almanac.Series { return m.cur }

func (m *seriesMerge) Err() error { return m.err }

// Close releases every set.
func (m *seriesMerge) Close() {
	for _, ss := range m.sets {
		ss.Close()
	}
}

// appendExportLine writes one series as a VictoriaMetrics export line.
func appendExportLine(b []byte, sr *almanac.Series) []byte {
	b = append(b, `{"metric":`...)
	b = appendLabels(b, sr.Labels)
	b = append(b, `,"values":[`...)
	for i, v := range sr.V {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendExportJSONValue(b, v)
	}
	b = append(b, `],"timestamps":[`...)
	for i, t := range sr.T {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, t, 10)
	}
	return append(b, "]}\n"...)
}

// appendExportJSONValue writes a value as a JSON number, and what JSON
// numbers cannot spell as strings: "NaN", "Infinity", "-Infinity". A
// Prometheus staleness marker is null, so that an export imported again
// (almanac's /api/v1/import reads null as a marker) keeps both.
func appendExportJSONValue(b []byte, v float64) []byte {
	switch {
	case value.IsStaleNaN(v):
		return append(b, "null"...)
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Infinity"`...)
	}
	return appendNumber(b, v)
}

// appendExportCSVValue writes a value for CSV: a number, or NaN, +Inf,
// -Inf as VictoriaMetrics writes them.
func appendExportCSVValue(b []byte, v float64) []byte {
	return appendNumber(b, v)
}

// appendNumber writes the shortest decimal that reads back as v, in
// exponent form below 1e-6 and from 1e21 (as appendFloat, unquoted).
func appendNumber(b []byte, v float64) []byte {
	format := byte('f')
	if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, v, format, -1, 64)
}

type csvColumnKind int

const (
	csvLabel csvColumnKind = iota
	csvValue
	csvTimestamp
)

// csvColumn is one column of a CSV export.
type csvColumn struct {
	kind       csvColumnKind
	name       string // csvLabel: the label name
	formatTime func(t int64) string
}

// parseCSVColumns parses the format parameter of /api/v1/export/csv.
func parseCSVColumns(format string) ([]csvColumn, error) {
	if format == "" {
		return nil, errors.New(`missing format; for example format=__name__,job,__value__,__timestamp__:unix_ms`)
	}
	var cols []csvColumn
	for i, f := range strings.Split(format, ",") {
		switch {
		case f == "":
			return nil, fmt.Errorf("column %d is empty", i+1)
		case f == "__value__":
			cols = append(cols, csvColumn{kind: csvValue})
		case f == "__timestamp__" || strings.HasPrefix(f, "__timestamp__:"):
			_, unit, _ := strings.Cut(f, ":")
			ft, err := timestampFormatter(unit)
			if err != nil {
				return nil, fmt.Errorf("column %d (%s): %w", i+1, f, err)
			}
			cols = append(cols, csvColumn{kind: csvTimestamp, formatTime: ft})
		default:
			cols = append(cols, csvColumn{kind: csvLabel, name: f})
		}
	}
	return cols, nil
}

// timestampFormatter returns the formatter of a timestamp unit; the empty
// unit means unix_ms.
func timestampFormatter(unit string) (func(int64) string, error) {
	switch unit {
	case "", "unix_ms":
		return func(t int64) string { return strconv.FormatInt(t, 10) }, nil
	case "unix_s":
		return func(t int64) string { return strconv.FormatInt(floorDiv(t, 1000), 10) }, nil
	case "unix_ns":
		return func(t int64) string {
			if t == 0 {
				return "0"
			}
			return strconv.FormatInt(t, 10) + "000000" // t*1e6 overflows int64 after 2262
		}, nil
	case "rfc3339":
		return func(t int64) string { return time.UnixMilli(t).UTC().Format(time.RFC3339) }, nil
	}
	if layout, ok := strings.CutPrefix(unit, "custom:"); ok && layout != "" {
		return func(t int64) string { return time.UnixMilli(t).UTC().Format(layout) }, nil
	}
	return nil, fmt.Errorf("unknown timestamp format %q: use unix_s, unix_ms, unix_ns, rfc3339 or custom:<layout>", unit)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
