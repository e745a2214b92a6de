// Package quality measures how good almanac's analytics functions are, not
// how fast: anomaly_score on the Numenta Anomaly Benchmark (NAB) with NAB's
// own scoring, forecast and forecast_band in rolling-origin backtests, and
// correlate and correlation_lag on generated root-cause groups. Every figure
// comes from PromQL run by almanac's engine over data appended to a real
// almanac DB on disk, as a user would run it.
//
// The package has test files only. The measurements take minutes, so they
// run only with -quality (make bench-quality); a plain go test runs the unit
// tests of the NAB scorer and skips the rest. docs/analytics.md, section
// "Quality, measured", holds the latest tables and the command.
package quality

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/query"
)

var (
	qualityFlag = flag.Bool("quality", false, "run the quality measurements (minutes; make bench-quality)")
	nabDirFlag  = flag.String("quality.nab", "../../../shared/data/nab", "the NAB corpus: data/ and labels/combined_windows.json")
	outFlag     = flag.String("quality.out", "", "also write the measured tables, as markdown, to this file")
	subsetFlag  = flag.Int("quality.subset", 24, "forecast origins per NAB series (every series is used; fewer origins is faster)")
	seedFlag    = flag.Uint64("quality.seed", 1, "seed of the generated series")
	variantFlag = flag.Bool("quality.variants", true, "also score the NAB comparison variants (other windows and methods)")
)

// needQuality skips a measurement unless -quality is set.
func needQuality(t *testing.T) {
	t.Helper()
	if !*qualityFlag {
		t.Skip("quality measurements take minutes: run them with make bench-quality (-quality), issue 5")
	}
}

// openDB opens almanac on real disk in a temporary directory, ready for
// historical data: no retention, any out-of-order age, no fsync.
func openDB(t *testing.T) *almanac.DB {
	t.Helper()
	db, err := almanac.Open(t.TempDir(), &almanac.Options{
		Retention:        -1,
		OutOfOrderWindow: -1,
		NoSync:           true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// appendAll appends the series in batches of bounded size.
func appendAll(t *testing.T, db *almanac.DB, series []almanac.SeriesSamples) {
	t.Helper()
	const maxBatch = 100_000
	var batch []almanac.SeriesSamples
	n := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := db.Append(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		batch, n = batch[:0], 0
	}
	for _, s := range series {
		batch = append(batch, s)
		if n += len(s.Samples); n >= maxBatch {
			flush()
		}
	}
	flush()
}

// env runs PromQL on one DB.
type env struct {
	t   *testing.T
	db  *almanac.DB
	eng *query.Engine
}

func newEnv(t *testing.T) *env {
	return &env{t: t, db: openDB(t), eng: query.NewEngine(query.Options{Timeout: 10 * time.Minute})}
}

// rangeQuery evaluates q at start, start+step, ..., end (milliseconds).
func (e *env) rangeQuery(q string, start, end, step int64) promql.Matrix {
	e.t.Helper()
	res, err := e.eng.Range(context.Background(), e.db.QueryStorage(), q,
		time.UnixMilli(start), time.UnixMilli(end), time.Duration(step)*time.Millisecond, nil)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	m, ok := res.Value.(promql.Matrix)
	if !ok {
		e.t.Fatalf("%s: got %T, want a matrix", q, res.Value)
	}
	return m
}

// instant evaluates q at t (milliseconds).
func (e *env) instant(q string, t int64) promql.Vector {
	e.t.Helper()
	res, err := e.eng.Instant(context.Background(), e.db.QueryStorage(), q, time.UnixMilli(t), nil)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	v, ok := res.Value.(promql.Vector)
	if !ok {
		e.t.Fatalf("%s: got %T, want a vector", q, res.Value)
	}
	return v
}

// promDuration spells ms as a PromQL duration, e.g. 15m or 1w.
func promDuration(ms int64) string {
	return model.Duration(time.Duration(ms) * time.Millisecond).String()
}

// table is a markdown table under a heading, printed to the test log and
// collected for -quality.out.
type table struct {
	title  string
	note   string
	header []string
	rows   [][]string
}

func (tb *table) add(cells ...string) { tb.rows = append(tb.rows, cells) }

func (tb *table) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", tb.title)
	if tb.note != "" {
		fmt.Fprintf(&b, "%s\n\n", tb.note)
	}
	fmt.Fprintf(&b, "| %s |\n|", strings.Join(tb.header, " | "))
	for range tb.header {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range tb.rows {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(r, " | "))
	}
	return b.String()
}

// outStarted records whether -quality.out has been written in this run.
var outStarted atomic.Bool

// report logs the tables and appends them to -quality.out when set.
func report(t *testing.T, tables ...*table) {
	t.Helper()
	var b strings.Builder
	for _, tb := range tables {
		b.WriteString(tb.String())
		b.WriteString("\n")
	}
	t.Logf("\n%s", b.String())
	if *outFlag == "" {
		return
	}
	// The first report of a run starts the file afresh.
	mode := os.O_CREATE | os.O_APPEND | os.O_WRONLY
	if !outStarted.Swap(true) {
		mode |= os.O_TRUNC
	}
	f, err := os.OpenFile(*outFlag, mode, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString(b.String())
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// f1 and f2 format a float with 1 or 2 decimals.
func f1(x float64) string { return fmt.Sprintf("%.1f", x) }
func f2(x float64) string { return fmt.Sprintf("%.2f", x) }
