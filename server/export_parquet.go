package server

import (
	"net/http"

	"github.com/parquet-go/parquet-go"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/almanacdb/almanac"
)

// This file serves /api/v1/export/parquet: the samples of the matching
// series as one Apache Parquet file in long format, one row per sample,
// for pandas, DuckDB, Polars and Spark:
//
//	message almanac_export {
//	  required binary metric (STRING);            -- __name__, "" if none
//	  required group labels (MAP) {               -- every other label
//	    repeated group key_value {
//	      required binary key (STRING);
//	      required binary value (STRING);
//	    }
//	  }
//	  required int64 timestamp (TIMESTAMP(MILLIS, isAdjustedToUTC=true));
//	  required double value;
//	}
//
// Rows come series by series in label order, samples in time order. They
// are written in row groups of parquetRowGroupRows rows, each sent as soon
// as it is full, so memory holds one row group whatever the size of the
// export. Columns are zstd-compressed; names, label keys and label values
// are dictionary-encoded and timestamps delta-encoded, so the repeated
// label columns cost little. Pages are data page v1, which every reader
// reads.
//
// Prometheus staleness markers (a NaN with a special payload, written when
// a series disappears from a scrape) are left out: they mark the absence
// of a sample, not a value. Other NaNs and ±Inf are kept as they are.
//
// Errors are handled as for the other exports (see export.go): before the
// first byte, Prometheus's error envelope; after it, the connection is
// aborted so a truncated file is never taken for a complete one (a Parquet
// file without its footer cannot be read anyway).

// parquetContentType is the media type registered for Parquet.
const parquetContentType = "application/vnd.apache.parquet"

// parquetRowGroupRows is the number of rows of a row group: large enough
// for good compression and fast scans, small enough to keep an export's
// memory bounded (a few MiB).
const parquetRowGroupRows = 64 << 10

// parquetBatchRows is the number of rows handed to the Parquet writer at
// once.
const parquetBatchRows = 1024

// parquetRow is the schema of a Parquet export. It is used only to derive
// the schema; rows are built as parquet.Row values (see parquetSeries).
type parquetRow struct {
	Metric    string            `parquet:"metric,dict"`
	Labels    map[string]string `parquet:"labels" parquet-key:",dict" parquet-value:",dict"`
	Timestamp int64             `parquet:"timestamp,timestamp(millisecond),delta"`
	Value     float64           `parquet:"value"`
}

// Leaf column indexes of parquetSchema, in the order of parquetRow.
const (
	parquetColMetric = iota
	parquetColLabelKey
	parquetColLabelValue
	parquetColTimestamp
	parquetColValue
)

// parquetSchema is the schema of every Parquet export; a Schema is
// immutable and safe for concurrent use.
var parquetSchema = parquet.NewSchema("almanac_export", parquet.SchemaOf(new(parquetRow)))

// handleExportParquet serves /api/v1/export/parquet: match[] (required,
// repeatable), start, end (default: all time), as /api/v1/export.
func (s *Server) handleExportParquet(w http.ResponseWriter, r *http.Request) {
	p, apiErr := s.parseExportParams(r)
	if apiErr != nil {
		s.respondError(w, apiErr)
		return
	}
	ctx := r.Context()
	m, err := s.selectExport(ctx, p)
	if err != nil {
		s.respondError(w, execError(err))
		return
	}
	defer m.Close()

	w.Header().Set("Content-Type", parquetContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="almanac-export.parquet"`)
	pw := parquet.NewWriter(w, parquetSchema,
		parquet.Compression(&parquet.Zstd),
		parquet.MaxRowsPerRowGroup(parquetRowGroupRows),
		parquet.DataPageVersion(1),
		parquet.WriteBufferSize(exportBufferBytes),
		parquet.CreatedBy("almanac", s.cfg.Version, ""),
	)
	var ps parquetSeries
	for n := 0; m.Next(); n++ {
		if n%64 == 0 {
			if err = ctx.Err(); err != nil {
				break
			}
		}
		if err = ps.write(pw, m.At()); err != nil {
			break
		}
	}
	if err == nil {
		err = m.Err()
	}
	if err == nil {
		err = pw.Close() // the last row group and the footer
	}
	if err != nil {
		if ctx.Err() == nil {
			s.logger.Error("export aborted", "path", r.URL.Path, "err", err)
		}
		// Abort the connection so the client cannot take a truncated
		// export for a complete one.
		panic(http.ErrAbortHandler)
	}
}

// parquetSeries turns series into Parquet rows. It keeps its buffers from
// one series to the next.
type parquetSeries struct {
	template parquet.Row   // a series' row, with timestamp and value to fill in
	rows     []parquet.Row // the batch being built
}

// write writes one row per sample of sr, staleness markers left out.
// Rows refer to sr's label strings; they are copied by the writer before
// write returns.
func (ps *parquetSeries) write(pw *parquet.Writer, sr *almanac.Series) error {
	ps.setSeries(sr.Labels)
	ts, vs := len(ps.template)-2, len(ps.template)-1
	n := 0
	for i, t := range sr.T {
		v := sr.V[i]
		if value.IsStaleNaN(v) {
			continue
		}
		if n == len(ps.rows) {
			ps.rows = append(ps.rows, nil)
		}
		row := append(ps.rows[n][:0], ps.template...)
		row[ts] = parquet.Int64Value(t).Level(0, 0, parquetColTimestamp)
		row[vs] = parquet.DoubleValue(v).Level(0, 0, parquetColValue)
		ps.rows[n] = row
		n++
		if n == parquetBatchRows {
			if _, err := pw.WriteRows(ps.rows[:n]); err != nil {
				return err
			}
			n = 0
		}
	}
	if n > 0 {
		if _, err := pw.WriteRows(ps.rows[:n]); err != nil {
			return err
		}
	}
	return nil
}

// setSeries builds the row template of a series: its metric name, its
// other labels as map entries (in label order), and placeholders for the
// timestamp and the value, which come last. Values of one column are
// contiguous, as a parquet.Row requires; the first entry of the map starts
// the repetition (level 0), the others repeat it (level 1); an empty map
// is one null key and one null value.
func (ps *parquetSeries) setSeries(lset labels.Labels) {
	row := append(ps.template[:0], parquet.ByteArrayValue([]byte(lset.Get(labels.MetricName))).Level(0, 0, parquetColMetric))
	entries := 0
	lset.Range(func(l labels.Label) {
		if l.Name != labels.MetricName {
			row = append(row, parquet.ByteArrayValue([]byte(l.Name)).Level(min(entries, 1), 1, parquetColLabelKey))
			entries++
		}
	})
	if entries == 0 {
		row = append(row,
			parquet.NullValue().Level(0, 0, parquetColLabelKey),
			parquet.NullValue().Level(0, 0, parquetColLabelValue))
	} else {
		entries = 0
		lset.Range(func(l labels.Label) {
			if l.Name != labels.MetricName {
				row = append(row, parquet.ByteArrayValue([]byte(l.Value)).Level(min(entries, 1), 1, parquetColLabelValue))
				entries++
			}
		})
	}
	row = append(row, parquet.Value{}, parquet.Value{}) // timestamp, value
	ps.template = row
}
