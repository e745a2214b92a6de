package ingest

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"testing"
)

// render prints a decoded import readable: one line per sample, then the
// invalid lines, then what was ignored.
func render(req *Request) string {
	var b strings.Builder
	for _, s := range req.Series {
		for _, smp := range s.Samples {
			fmt.Fprintf(&b, "%s %d %v\n", s.Labels, smp.T, smp.V)
		}
	}
	for _, e := range req.Invalid {
		fmt.Fprintf(&b, "! %v\n", e)
	}
	for _, k := range slices.Sorted(maps.Keys(req.Ignored)) {
		fmt.Fprintf(&b, "ignored %d %s\n", req.Ignored[k], k)
	}
	return b.String()
}

// checkImport verifies what an import decoder returned for any input.
func checkImport(t *testing.T, req *Request) {
	t.Helper()
	checkRequest(t, req)
	if len(req.Invalid) > MaxListedLines || req.InvalidLines < len(req.Invalid) {
		t.Fatalf("%d invalid lines listed of %d", len(req.Invalid), req.InvalidLines)
	}
	for _, e := range req.Invalid {
		if !errors.Is(e, ErrInvalidLine) {
			t.Fatalf("%v does not match ErrInvalidLine", e)
		}
	}
}

func TestLines(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		var got []string
		for n, l := range lines([]byte(in)) {
			got = append(got, fmt.Sprintf("%d:%s", n, l))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("lines(%q) = %q, want %q", in, got, want)
		}
	}
	f("")
	f("a", "1:a")
	f("a\n", "1:a")
	f("a\r\nb", "1:a", "2:b")
	f("\n\nc\n", "1:", "2:", "3:c")
	next, stop := iter.Pull2(lines([]byte("a\nb\nc")))
	defer stop()
	if n, l, ok := next(); !ok || n != 1 || string(l) != "a" {
		t.Fatalf("first line %d %q %v", n, l, ok)
	}
}
