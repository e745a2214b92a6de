package almanac_test

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/prometheus/promql/promqltest"
	promstorage "github.com/prometheus/prometheus/storage"

	"github.com/almanacdb/almanac"
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
	dir := promqlTestdataDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.test"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no promqltest files in %s: %v", dir, err)
	}
	skips := readSkips(t, "testdata/promql_skips.txt")
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
				script, dropped, err := floatOnlyScript(string(src), skips[name])
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
// retention and no out-of-order limit: the suite loads data at the epoch.
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

// promqlTestdataDir finds promql/promqltest/testdata in the module cache.
func promqlTestdataDir(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/prometheus/prometheus").Output()
	if err != nil {
		t.Fatalf("locate the prometheus module: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "promql", "promqltest", "testdata")
}

// readSkips reads "file:line reason" lines; # starts a comment.
func readSkips(t *testing.T, path string) map[string]map[int]bool {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	skips := map[string]map[int]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var file string
		var at int
		loc, reason, _ := strings.Cut(line, " ")
		if _, err := fmt.Sscanf(strings.Replace(loc, ":", " ", 1), "%s %d", &file, &at); err != nil || strings.TrimSpace(reason) == "" {
			t.Fatalf("%s:%d: want \"file.test:line reason\", got %q", path, n, line)
		}
		if skips[file] == nil {
			skips[file] = map[int]bool{}
		}
		skips[file][at] = true
	}
	return skips
}

var (
	loadNHCB      = regexp.MustCompile(`^load_with_nhcb\b`)
	commandPrefix = regexp.MustCompile(`^(load|eval|clear)`)
	stLine        = regexp.MustCompile(`@st\s`)
)

// floatOnlyScript applies the three rules of TestPromQLSuiteOnAlmanacStorage
// and returns the script and how many commands it dropped. Line numbers
// are kept (dropped lines become comments or blank) so failures point at
// the file. A listed eval outside a section whose loads dropped histograms
// is an error: the list may only hide histogram cases.
func floatOnlyScript(src string, skip map[int]bool) (string, int, error) {
	lines := strings.Split(src, "\n")
	dropped := 0
	histogramsInScope := false
	used := 0
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !commandPrefix.MatchString(l) {
			continue
		}
		end := i + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != "" && !commandPrefix.MatchString(lines[end]) {
			end++
		}
		block := lines[i:end]
		switch {
		case strings.HasPrefix(l, "load"):
			// Drop histogram series (and the @st line before one); the
			// lines removed become blank lines after the block, so later
			// line numbers stay those of the original file.
			kept := []string{loadNHCB.ReplaceAllString(l, "load")}
			for j := 1; j < len(block); j++ {
				histogram := strings.Contains(block[j], "{{")
				stBeforeHistogram := stLine.MatchString(block[j]) && j+1 < len(block) && strings.Contains(block[j+1], "{{")
				if !histogram && !stBeforeHistogram {
					kept = append(kept, block[j])
				}
			}
			if len(kept) < len(block) || loadNHCB.MatchString(l) {
				histogramsInScope = true
			}
			for len(kept) < len(block) {
				kept = append(kept, "")
			}
			copy(block, kept)
		case strings.HasPrefix(l, "clear"):
			histogramsInScope = false
		case strings.HasPrefix(l, "eval") && skip[i+1] && !histogramsInScope:
			return "", 0, fmt.Errorf("line %d is listed in the skip list but no histogram data is loaded there", i+1)
		case strings.HasPrefix(l, "eval") && (skip[i+1] || strings.Contains(strings.Join(block[1:], "\n"), "{{")):
			if skip[i+1] {
				used++
			}
			for j := range block {
				block[j] = "# almanac: histogram case dropped: " + block[j]
			}
			dropped++
		}
		i = end - 1
	}
	if used != len(skip) {
		return "", 0, fmt.Errorf("the skip list names %d lines of this file but only %d are eval commands", len(skip), used)
	}
	return strings.Join(lines, "\n"), dropped, nil
}
