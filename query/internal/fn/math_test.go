package fn

import (
	"testing"
	"time"
)

// mathLoad has awkward values (NaN, ±Inf, -0, huge, tiny, halves for
// round), gaps, a stale marker and series that start late or end early.
const mathLoad = `
load 1m
	m{k="a"} 1 -2.5 0 -0 NaN Inf -Inf 3.7 _ 5 stale 6 0.5 -0.5 1e300 -1e-300 2.5 0.999 -1 1.5
	m{k="b"} _ _ _ 0.1 0.2 0.3 -0.1 -0.7 -1.5 10 100 _ _ _ _ _ _ 7 8 9
	m{k="c"} 0.25 0.75 1.25 -1.25 3 stale
	other{k="a"} 1+1x19
`

func TestMath(t *testing.T) {
	e := newInstEnv(t, mathLoad)
	var queries []string
	for _, f := range []string{
		"abs", "ceil", "floor", "exp", "sqrt", "ln", "log2", "log10",
		"sin", "cos", "tan", "asin", "acos", "atan",
		"sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
		"deg", "rad", "sgn", "round",
	} {
		queries = append(queries, f+"(m)")
	}
	queries = append(queries,
		// The name is dropped at the end: these collide.
		`abs({__name__=~"m|other"})`,
		`abs({__name__=~"m|other", k="b"})`,
		`round(m, 0.1)`, `round(m, 10)`, `round(m, -0.5)`, `round(m, 0)`,
		`round(m, NaN)`, `round(m, time() / 300)`,
		`clamp(m, -1, 1)`, `clamp(m, 1, -1)`, `clamp(m, NaN, 1)`, `clamp(m, -1, NaN)`,
		`clamp(m, 1, 1)`, `clamp(m, time() / 600, 1)`,
		`clamp_min(m, 0)`, `clamp_min(m, NaN)`, `clamp_max(m, 0)`, `clamp_max(m, -Inf)`,
		`pi()`,
		`max_of(1, time() / 300)`, `min_of(1, time() / 300)`,
		`max_of(NaN, 1)`, `min_of(1, NaN)`, `max_of(-0, 0)`,
		`min_of(max_of(-Inf, 2), 3)`,
	)
	e.checkAll(t, queries,
		instRange(0, 20*time.Minute, time.Minute),
		instRange(30*time.Second, 25*time.Minute, 90*time.Second),
		instAt(4*time.Minute),
		instAt(30*time.Minute),
	)
}

func TestNativeHistogramFunctionsOverFloats(t *testing.T) {
	e := newInstEnv(t, mathLoad)
	e.checkAll(t, []string{
		"histogram_count(m)", "histogram_sum(m)", "histogram_avg(m)",
		"histogram_stddev(m)", "histogram_stdvar(m)",
		"start_timestamp(abs(m))",
	}, instRange(0, 20*time.Minute, time.Minute), instAt(2*time.Minute))
}
