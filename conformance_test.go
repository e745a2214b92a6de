package almanac_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/prometheus/promql/promqltest"
	promstorage "github.com/prometheus/prometheus/storage"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/query/promqlsuite"
)

// TestPromQLSuiteOnAlmanacStorage runs Prometheus's own PromQL test suite
// (the .test files shipped in the pinned prometheus module) with
// Prometheus's engine reading almanac storage. almanac stores float samples
// only, so native-histogram cases are removed by three explicit rules,
// documented in docs/conformance.md:
//
//  1. load lines whose values are native histograms ({{...}}) are dropped,
//     and load_with_nhcb loads only the classic float series;
//  2. eval commands whose expected output contains a native histogram are
//     dropped;
//  3. eval commands listed in testdata/promql_skips.txt (file:line and the
//     reason) are dropped: they query series that only hold histograms.
//
// Every other case must pass unchanged.
var conformanceReport = flag.String("conformance-report", "", "write a markdown table of per-file results to this path")

func TestPromQLSuiteOnAlmanacStorage(t *testing.T) {
	dir := promqlsuite.TestdataDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.test"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no promqltest files in %s: %v", dir, err)
	}
	skips := promqlsuite.ReadSkips(t, "testdata/promql_skips.txt")
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	type fileResult struct{ evals, dropped int }
	results := map[string]*fileResult{}
	// Default chunks, and tiny chunks so that the suite's data crosses chunk
	// cuts, checkpoints and out-of-order merges.
	for _, chunkSamples := range []int{0, 3} {
		for _, f := range files {
			name := filepath.Base(f)
			t.Run(fmt.Sprintf("chunk=%d/%s", chunkSamples, name), func(t *testing.T) {
				src, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				script, dropped, err := promqlsuite.FloatOnlyScript(string(src), skips[name])
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				t.Logf("%s: dropped %d histogram-only commands", name, dropped)
				if chunkSamples == 0 {
					results[name] = &fileResult{evals: strings.Count("\n"+string(src), "\neval"), dropped: dropped}
				}
				promqltest.RunTestWithStorage(t, script, engine, func(t testing.TB) promstorage.Storage {
					return newTestStorage(t, chunkSamples)
				})
			})
		}
	}
	if *conformanceReport != "" && !t.Failed() {
		var b strings.Builder
		b.WriteString("| file | eval commands | passed | dropped (native histograms) |\n|---|---|---|---|\n")
		evals, dropped := 0, 0
		for _, f := range files {
			r := results[filepath.Base(f)]
			fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", filepath.Base(f), r.evals, r.evals-r.dropped, r.dropped)
			evals, dropped = evals+r.evals, dropped+r.dropped
		}
		fmt.Fprintf(&b, "| **all** | %d | %d | %d |\n", evals, evals-dropped, dropped)
		if err := os.WriteFile(*conformanceReport, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for file := range skips {
		if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
			t.Errorf("testdata/promql_skips.txt names %s, which the suite no longer has", file)
		}
	}
}

// newTestStorage opens almanac on an in-memory file system with no
// retention and no out-of-order limit (the suite loads data at the epoch),
// as a Prometheus storage. chunkSamples 0 means the default chunk size.
func newTestStorage(t testing.TB, chunkSamples int) promstorage.Storage {
	db, err := almanac.Open("promqltest", &almanac.Options{
		FS:               vfs.NewMem(),
		Retention:        -1,
		OutOfOrderWindow: -1,
		NoSync:           true,
		MaxFutureSkew:    100 * 365 * 24 * time.Hour,
		ChunkSamples:     chunkSamples,
	})
	if err != nil {
		t.Fatal(err)
	}
	return db.PrometheusStorage()
}
