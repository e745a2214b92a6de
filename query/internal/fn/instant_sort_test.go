package fn

import (
	"testing"
	"time"
)

func TestSort(t *testing.T) {
	// Ties, NaNs, ±Inf and -0 at each step, and label values that sort
	// differently in natural and in byte order.
	e := newInstEnv(t, `
load 1m
	s{k="a", n="10"}   1   NaN 3    -Inf 0  _
	s{k="b", n="9"}    2   1   NaN  Inf  -0 1
	s{k="c", n="a9"}   1   NaN 3    1    0  NaN
	s{k="d", n="a10"}  -1  5   3    NaN  1  NaN
	s{k="e", n="a01"}  NaN 0   -1   0    2  2
	s{k="f", n="0010"} 0.5 2   3    Inf  NaN 1
	s{k="g"}           7   7   7    7    7  7
	t{k="a", n="10"}   3   3   3    3    3  3
`)
	queries := []string{
		`sort(s)`, `sort_desc(s)`,
		`sort(abs(s))`, `sort_desc(-s)`,
		`sort({__name__=~"s|t"})`,
		`sort_by_label(s, "n")`, `sort_by_label_desc(s, "n")`,
		`sort_by_label(s, "n", "k")`, `sort_by_label_desc(s, "nope")`,
		`sort_by_label({__name__=~"s|t"}, "k", "n")`,
		`sort_by_label_desc({__name__=~"s|t"}, "k")`,
		`sort_by_label(s, "__name__")`,
		`sort_by_label(abs(s), "k")`,
	}
	for _, q := range queries {
		for at := time.Duration(0); at <= 6*time.Minute; at += time.Minute {
			e.check(t, q, instAt(at), true)
		}
		// A range query's result is sorted by labels at the end, and
		// sorting over several steps warns; over one it does not.
		e.check(t, q, instRange(0, 6*time.Minute, 30*time.Second), false)
		e.check(t, q, instRange(time.Minute, time.Minute, time.Minute), false)
	}
}
