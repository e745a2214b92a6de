package query_test

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/prometheus/promql/promqltest"
	promstorage "github.com/prometheus/prometheus/storage"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/query"
	"github.com/almanacdb/almanac/query/promqlsuite"
)

var (
	updateKnown = flag.Bool("update-known-failures", false, "rewrite testdata/known_failures.txt with the evals that fail now")
	reportPath  = flag.String("conformance-report", "", "write a markdown table of per-file results to this path")
	showFailure = flag.Bool("show-failures", false, "log why each failing eval fails")
)

const knownFailuresPath = "testdata/known_failures.txt"

// TestPromQLSuite runs every eval command of Prometheus's PromQL test suite
// (float-only, by the rules of docs/conformance.md) on almanac's engine
// reading almanac storage, one command at a time, so that passes are
// counted per command. The commands almanac's engine does not pass yet
// are listed in testdata/known_failures.txt: a listed command that
// passes, or an unlisted one that fails, fails this test, so the list is
// always exactly the engine's remaining gap.
func TestPromQLSuite(t *testing.T) {
	dir := promqlsuite.TestdataDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.test"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no promqltest files in %s: %v", dir, err)
	}
	skips := promqlsuite.ReadSkips(t, "../testdata/promql_skips.txt")
	known := readKnown(t)
	type fileResult struct{ evals, dropped, passed int }
	results := map[string]*fileResult{}
	var failing []string
	outcome := runChild(t)
	for _, f := range files {
		name := filepath.Base(f)
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		script, dropped, err := promqlsuite.FloatOnlyScript(string(src), skips[name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r := &fileResult{evals: strings.Count("\n"+string(src), "\neval"), dropped: dropped}
		results[name] = r
		for _, ev := range promqlsuite.SplitEvals(script) {
			key := fmt.Sprintf("%s:%d", name, ev.Line)
			passed, ran := outcome[key]
			switch {
			case !ran:
				t.Errorf("%s did not run (the file's script failed before it?): %s", key, ev.Expr)
				failing = append(failing, key+" "+ev.Expr)
			case passed:
				r.passed++
				if known[key] && !*updateKnown {
					t.Errorf("%s passes now: remove it from %s (%s)", key, knownFailuresPath, ev.Expr)
				}
			default:
				failing = append(failing, key+" "+ev.Expr)
				if !known[key] && !*updateKnown {
					t.Errorf("%s fails and is not a known failure: %s (run with -show-failures for why)", key, ev.Expr)
				}
			}
		}
	}
	if *updateKnown {
		writeKnown(t, failing)
	}
	if *reportPath != "" {
		var b strings.Builder
		b.WriteString("| file | eval commands | run (float-only) | passed | not yet passing | dropped (native histograms) |\n|---|---|---|---|---|---|\n")
		var tot fileResult
		names := make([]string, 0, len(results))
		for n := range results {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			r := results[n]
			run := r.evals - r.dropped
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", n, r.evals, run, r.passed, run-r.passed, r.dropped)
			tot.evals, tot.dropped, tot.passed = tot.evals+r.evals, tot.dropped+r.dropped, tot.passed+r.passed
		}
		run := tot.evals - tot.dropped
		fmt.Fprintf(&b, "| **all** | %d | %d | %d | %d | %d |\n", tot.evals, run, tot.passed, run-tot.passed, tot.dropped)
		if err := os.WriteFile(*reportPath, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// childEnv makes the test binary run TestPromQLSuiteChild: promqltest
// runs every eval command as a subtest of a *testing.T, whose failures
// fail the whole test, so the suite runs in a child process and the
// parent reads each command's PASS or FAIL from its verbose output.
const childEnv = "ALMANAC_PROMQL_SUITE_CHILD"

var subtestResult = regexp.MustCompile(`--- (PASS|FAIL): TestPromQLSuiteChild/([^/]+)/line_(\d+)/`)

// runChild runs the suite in a child process and returns, per
// "file:line", whether the eval command passed.
func runChild(t *testing.T) map[string]bool {
	cmd := exec.Command(os.Args[0], "-test.run=^TestPromQLSuiteChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, _ := cmd.CombinedOutput() // failing commands make it exit non-zero
	if *showFailure {
		t.Logf("child output:\n%s", out)
	}
	res := map[string]bool{}
	for _, m := range subtestResult.FindAllStringSubmatch(string(out), -1) {
		res[m[2]+":"+m[3]] = m[1] == "PASS"
	}
	if len(res) == 0 {
		t.Fatalf("the suite's child process ran no eval command:\n%s", out)
	}
	return res
}

// TestPromQLSuiteChild is TestPromQLSuite's child process; run directly
// (without the environment variable) it does nothing.
func TestPromQLSuiteChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		return
	}
	dir := promqlsuite.TestdataDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.test"))
	skips := promqlsuite.ReadSkips(t, "../testdata/promql_skips.txt")
	engine := query.PromEngine{Engine: query.NewEngine(query.Options{UseStartTimestamps: true})}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			script, _, err := promqlsuite.FloatOnlyScript(string(src), skips[name])
			if err != nil {
				t.Fatal(err)
			}
			promqltest.RunTestWithStorage(t, script, engine, func(tb testing.TB) promstorage.Storage {
				return newTestStorage(tb, 0)
			})
		})
	}
}

func readKnown(t *testing.T) map[string]bool {
	known := map[string]bool{}
	f, err := os.Open(knownFailuresPath)
	if os.IsNotExist(err) {
		return known
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, _, _ := strings.Cut(line, " ")
		known[key] = true
	}
	return known
}

func writeKnown(t *testing.T, failing []string) {
	var b strings.Builder
	b.WriteString("# Eval commands of Prometheus's PromQL suite (float-only) that almanac's\n")
	b.WriteString("# engine does not pass yet, as file:line and the command. Regenerate with\n")
	b.WriteString("#   go test ./query/ -run TestPromQLSuite -update-known-failures\n")
	b.WriteString("# The test fails when a listed command passes or an unlisted one fails.\n")
	for _, f := range failing {
		b.WriteString(f + "\n")
	}
	if err := os.WriteFile(knownFailuresPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
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
