package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/almanacdb/almanac"
)

// wantParquetSchema is the schema readers see: the contract with pandas,
// DuckDB and Spark users (docs/server.md, "Parquet export").
const wantParquetSchema = `message almanac_export {
	required binary metric (STRING);
	required group labels (MAP) {
		repeated group key_value {
			required binary key (STRING);
			required binary value (STRING);
		}
	}
	required int64 timestamp (TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS));
	required double value;
}`

// parquetSample is a row of a Parquet export, read back by column name
// with a type of the test's own.
type parquetSample struct {
	Metric    string            `parquet:"metric"`
	Labels    map[string]string `parquet:"labels"`
	Timestamp int64             `parquet:"timestamp"`
	Value     float64           `parquet:"value"`
}

// readParquet opens an export, checks its schema and returns its rows and
// the number of its row groups.
func readParquet(t *testing.T, body []byte) ([]parquetSample, int) {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a parquet file (%d bytes): %v", len(body), err)
	}
	if got := f.Schema().String(); got != wantParquetSchema {
		t.Fatalf("schema:\n%s\nwant:\n%s", got, wantParquetSchema)
	}
	for i, rg := range f.Metadata().RowGroups {
		for _, c := range rg.Columns {
			if codec := c.MetaData.Codec.String(); codec != "ZSTD" {
				t.Fatalf("row group %d: column %v is compressed with %s, want ZSTD", i, c.MetaData.PathInSchema, codec)
			}
		}
	}
	r := parquet.NewGenericReader[parquetSample](f)
	defer r.Close()
	rows := make([]parquetSample, 0, f.NumRows())
	buf := make([]parquetSample, 1000)
	for {
		n, err := r.Read(buf)
		for _, row := range buf[:n] {
			row.Labels = maps.Clone(row.Labels) // the reader reuses the maps of buf
			rows = append(rows, row)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading rows: %v", err)
		}
	}
	if int64(len(rows)) != f.NumRows() {
		t.Fatalf("read %d rows, the file has %d", len(rows), f.NumRows())
	}
	return rows, len(f.RowGroups())
}

// checkParquet compares an export with what the database stores for the
// series matching ms in [mint, maxt]: every sample but staleness markers,
// in series order, values compared bit for bit (NaN payloads included).
func checkParquet(t *testing.T, e *env, got []parquetSample, mint, maxt int64, ms ...*labels.Matcher) {
	t.Helper()
	ss, err := e.db.Querier(mint, maxt).Select(t.Context(), ms...)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	i := 0
	for ss.Next() {
		want := ss.At()
		wantLabels := map[string]string{}
		want.Labels.Range(func(l labels.Label) {
			if l.Name != labels.MetricName {
				wantLabels[l.Name] = l.Value
			}
		})
		for j, ts := range want.T {
			if value.IsStaleNaN(want.V[j]) {
				continue
			}
			if i >= len(got) {
				t.Fatalf("export has %d rows; missing %s at %d", len(got), want.Labels, ts)
			}
			g := got[i]
			if g.Metric != want.Labels.Get(labels.MetricName) || !maps.Equal(g.Labels, wantLabels) ||
				g.Timestamp != ts || math.Float64bits(g.Value) != math.Float64bits(want.V[j]) {
				t.Fatalf("row %d: got %s %v %d %v (%#x)\nwant %s at %d: %v (%#x)", i, g.Metric, g.Labels, g.Timestamp, g.Value,
					math.Float64bits(g.Value), want.Labels, ts, want.V[j], math.Float64bits(want.V[j]))
			}
			i++
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(got) {
		t.Fatalf("export has %d rows, want %d", len(got), i)
	}
}

// getParquet exports and checks the answer is a Parquet download.
func (e *env) getParquet(t *testing.T, params url.Values) []byte {
	t.Helper()
	code, body := e.get("/api/v1/export/parquet", params)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	return []byte(body)
}

func TestExportParquet(t *testing.T) {
	e := newExportEnv(t)
	// A series with no label but its name: an empty map.
	if resp, body := e.writeV1(series{lset: labels.FromStrings("__name__", "lonely"), samples: []almanac.Sample{{T: exportBase, V: 7}}}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %d %s", resp.StatusCode, body)
	}
	all := labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")

	t.Run("all series", func(t *testing.T) {
		req, err := http.NewRequest("GET", e.hs.URL+"/api/v1/export/parquet?"+url.Values{"match[]": {`{__name__=~".+"}`}}.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := e.do(req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.apache.parquet" {
			t.Fatalf("Content-Type %q", ct)
		}
		rows, groups := readParquet(t, []byte(body))
		checkParquet(t, e, rows, math.MinInt64, math.MaxInt64, all)
		if len(rows) != 4+2+7+1+1 || groups != 1 { // node_load1's staleness marker left out
			t.Fatalf("%d rows in %d row groups, want 15 in 1", len(rows), groups)
		}
	})

	t.Run("values and labels", func(t *testing.T) {
		rows, _ := readParquet(t, e.getParquet(t, url.Values{"match[]": {"node_load1", "weird", "lonely"}}))
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%s %v %d %v", r.Metric, r.Labels, r.Timestamp-exportBase, r.Value))
		}
		want := []string{
			"lonely map[] 0 7",
			"node_load1 map[instance:a] 0 0.5",
			"node_load1 map[instance:a] 15000 NaN",
			"node_load1 map[instance:a] 30000 +Inf",
			"node_load1 map[instance:a] 45000 -Inf",
			"node_load1 map[instance:a] 60000 1e-07",
			"node_load1 map[instance:a] 75000 1e+22",
			"node_load1 map[instance:a] 90000 -3",
			"weird map[path:/a,\"b\"\n<&> utf8:żółw] 0 42",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("range and POST", func(t *testing.T) {
		code, body := e.postForm("/api/v1/export/parquet", url.Values{
			"match[]": {`{__name__=~".+"}`}, "start": {"2025-01-01T00:00:15Z"}, "end": {"1735689630"},
		})
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
		rows, _ := readParquet(t, []byte(body))
		checkParquet(t, e, rows, exportBase+15000, exportBase+30000, all)
		if len(rows) != 5 {
			t.Fatalf("got %d rows, want 5: %v", len(rows), rows)
		}
	})

	t.Run("no match is an empty file", func(t *testing.T) {
		rows, _ := readParquet(t, e.getParquet(t, url.Values{"match[]": {"nothing_here"}}))
		if len(rows) != 0 {
			t.Fatalf("got %d rows", len(rows))
		}
	})
}

// TestExportParquetRowGroups exports more rows than fit one row group:
// the file is streamed (chunked), in row groups of at most 64k rows, and
// holds every sample.
func TestExportParquetRowGroups(t *testing.T) {
	e := newEnv(t, almanac.Options{Retention: -1, OutOfOrderWindow: -1}, Config{})
	var ss []series
	for i := range 1000 {
		s := series{lset: labels.FromStrings("__name__", "many", "i", strconv.Itoa(i), "job", "j"+strconv.Itoa(i%7))}
		for j := range 70 {
			s.samples = append(s.samples, almanac.Sample{T: exportBase + int64(j)*1000, V: float64(i*j) / 7})
		}
		ss = append(ss, s)
	}
	if resp, body := e.writeV1(ss...); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %d %s", resp.StatusCode, body)
	}
	req, err := http.NewRequest("GET", e.hs.URL+"/api/v1/export/parquet?"+url.Values{"match[]": {"many"}}.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.do(req)
	if resp.StatusCode != http.StatusOK || resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 {
		t.Fatalf("status %d, content length %d, transfer encoding %v; want a chunked 200", resp.StatusCode, resp.ContentLength, resp.TransferEncoding)
	}
	rows, groups := readParquet(t, []byte(body))
	checkParquet(t, e, rows, math.MinInt64, math.MaxInt64, eq("__name__", "many"))
	if len(rows) != 70000 || groups != 2 {
		t.Fatalf("%d rows in %d row groups, want 70000 in 2", len(rows), groups)
	}
	f, err := parquet.OpenFile(bytes.NewReader([]byte(body)), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	for i, rg := range f.RowGroups() {
		if rg.NumRows() > 64<<10 {
			t.Fatalf("row group %d has %d rows", i, rg.NumRows())
		}
	}
	t.Logf("%d samples in %d bytes (%.2f bytes/sample)", len(rows), len(body), float64(len(body))/float64(len(rows)))
}

// TestExportParquetErrors: bad parameters get the answers of the other
// exports, before any Parquet byte is written.
func TestExportParquetErrors(t *testing.T) {
	e := newExportEnv(t)
	for _, params := range []url.Values{
		nil,
		{"match[]": {"up{"}},
		{"match[]": {`{job=~".*"}`}},
		{"match[]": {"up"}, "start": {"yesterday"}},
		{"match[]": {"up"}, "end": {"soon"}},
		{"match[]": {"up"}, "start": {"2000"}, "end": {"1000"}},
	} {
		t.Run(params.Encode(), func(t *testing.T) {
			csvParams := url.Values{"format": {"__value__"}}
			for k, v := range params {
				csvParams[k] = v
			}
			wantCode, want := e.get("/api/v1/export/csv", csvParams)
			code, got := e.get("/api/v1/export/parquet", params)
			if code != http.StatusBadRequest || code != wantCode || got != want {
				t.Fatalf("got %d %s\nwant %d %s (as the CSV export)", code, got, wantCode, want)
			}
			r := e.api("/api/v1/export/parquet", params, http.StatusBadRequest)
			if r.Status != "error" || r.ErrorType != "bad_data" {
				t.Fatalf("got %+v, want a bad_data error", r)
			}
		})
	}
	e.mustReady()
}
