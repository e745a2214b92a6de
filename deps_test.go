package almanac_test

import (
	"os/exec"
	"strings"
	"testing"
)

// allowedImports is the dependency policy of ARCHITECTURE.md written down as
// a test: for each package (by path inside the module, "" for the root), the
// almanac packages it may import directly. A package's own sub-packages and
// internal/ trees are always allowed. Fix the code, not the rule; a rule
// change is an ARCHITECTURE.md change.
var allowedImports = map[string][]string{
	"":            {"storage", "query", "analytics"},
	"storage":     {},
	"query":       {"analytics"},
	"analytics":   {},
	"ingest":      {},
	"server":      {"", "query", "ingest"},
	"cmd/almanac": {"", "server"},
	"benchmarks":  {"*"},
}

const module = "github.com/almanacdb/almanac"

func TestDependencyPolicy(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := rel(fields[0])
		top := topLevel(pkg)
		allowed, ok := allowedImports[top]
		if !ok {
			t.Errorf("package %s is outside the fixed layout (no rule for %q)", fields[0], top)
			continue
		}
		for _, imp := range fields[1:] {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := rel(imp)
			if !permitted(top, dep, allowed) {
				t.Errorf("%s imports %s, which the dependency policy forbids", fields[0], imp)
			}
		}
	}
}

func rel(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
}

// topLevel maps a package path to its rule: storage/chunk → storage.
func topLevel(pkg string) string {
	if strings.HasPrefix(pkg, "cmd/") {
		return "cmd/almanac"
	}
	top, _, _ := strings.Cut(pkg, "/")
	return top
}

func permitted(top, dep string, allowed []string) bool {
	if topLevel(dep) == top && dep != "" {
		return true // own sub-packages and internal trees
	}
	for _, a := range allowed {
		if a == "*" || a == dep || (a != "" && strings.HasPrefix(dep, a+"/")) {
			return true
		}
	}
	return false
}
