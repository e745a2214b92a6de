// Package promqlsuite is test support: it prepares Prometheus's PromQL test suite (the .test
// files shipped in the pinned prometheus module) for almanac, which stores
// float samples only: it finds the files, applies the documented rules
// that drop native-histogram cases, and splits a file into one script per
// eval command so that a runner can count passes per command.
package promqlsuite

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestdataDir finds promql/promqltest/testdata in the module cache.
func TestdataDir(t testing.TB) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/prometheus/prometheus").Output()
	if err != nil {
		t.Fatalf("locate the prometheus module: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "promql", "promqltest", "testdata")
}

// ReadSkips reads "file:line reason" lines; # starts a comment.
func ReadSkips(t testing.TB, path string) map[string]map[int]bool {
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

// FloatOnlyScript applies the three float-only rules (docs/conformance.md)
// and returns the script and how many commands it dropped. Line numbers
// are kept (dropped lines become comments or blank) so failures point at
// the file. A listed eval outside a section whose loads dropped histograms
// is an error: the list may only hide histogram cases.
func FloatOnlyScript(src string, skip map[int]bool) (string, int, error) {
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

// Eval is one eval command of a script, runnable on its own.
type Eval struct {
	Line   int    // line of the eval command in the file
	Expr   string // the command line
	Script string // the loads in scope, then the eval command
}

// SplitEvals returns one script per (not dropped) eval command: the load
// commands since the last clear, then the command. Line numbers in the
// scripts are not those of the file; Eval.Line is.
func SplitEvals(script string) []Eval {
	lines := strings.Split(script, "\n")
	var loads []string
	var evals []Eval
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !commandPrefix.MatchString(l) {
			continue
		}
		end := i + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != "" && !commandPrefix.MatchString(lines[end]) {
			end++
		}
		block := strings.Join(lines[i:end], "\n")
		switch {
		case strings.HasPrefix(l, "clear"):
			loads = nil
		case strings.HasPrefix(l, "load"):
			loads = append(loads, block)
		case strings.HasPrefix(l, "eval"):
			evals = append(evals, Eval{Line: i + 1, Expr: l, Script: strings.Join(append(append([]string{}, loads...), block), "\n\n") + "\n"})
		}
		i = end - 1
	}
	return evals
}
