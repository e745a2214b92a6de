package fn

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
	"github.com/stretchr/testify/require"
)

// The instant functions are tested against Prometheus's engine: a query
// f(args) runs in Prometheus, and its arguments run there too, turned into
// Args over the same steps, handed to Instant[f]; the two results must
// agree in values (bit for bit, any NaN equal to any NaN), absence,
// labels, errors and annotations (with their positions).

// instEnv is Prometheus's engine over data loaded into its test storage.
type instEnv struct {
	st     storage.Queryable
	engine *promql.Engine
	parser parser.Parser
}

func newInstEnv(t *testing.T, load string) *instEnv {
	t.Helper()
	return &instEnv{
		st:     promqltest.LoadedStorage(t, load),
		engine: promqltest.NewTestEngine(t, false, 0, 1e7),
		parser: parser.NewParser(promqltest.TestParserOpts),
	}
}

// instGrid is the steps of a query, in milliseconds; step 0 is an instant
// query at start.
type instGrid struct{ start, end, step int64 }

func instAt(d time.Duration) instGrid { return instGrid{start: d.Milliseconds()} }

func instRange(start, end, step time.Duration) instGrid {
	return instGrid{start.Milliseconds(), end.Milliseconds(), step.Milliseconds()}
}

func (g instGrid) steps() []int64 {
	if g.step == 0 {
		return []int64{g.start}
	}
	var ts []int64
	for t := g.start; t <= g.end; t += g.step {
		ts = append(ts, t)
	}
	return ts
}

func (g instGrid) String() string {
	if g.step == 0 {
		return fmt.Sprintf("instant@%dms", g.start)
	}
	return fmt.Sprintf("range[%d,%d]/%dms", g.start, g.end, g.step)
}

// instResult is a query's outcome, comparable between the engines.
type instResult struct {
	err    string
	series []Series // no DropName left, no all-absent series
	annos  []string // warnings then infos, each sorted
}

// run evaluates q in Prometheus over g.
func (e *instEnv) run(t *testing.T, q string, g instGrid) (res instResult) {
	t.Helper()
	ctx := context.Background()
	var (
		qry promql.Query
		err error
	)
	if g.step == 0 {
		qry, err = e.engine.NewInstantQuery(ctx, e.st, nil, q, time.UnixMilli(g.start))
	} else {
		qry, err = e.engine.NewRangeQuery(ctx, e.st, nil, q, time.UnixMilli(g.start), time.UnixMilli(g.end), time.Duration(g.step)*time.Millisecond)
	}
	require.NoError(t, err, q)
	defer qry.Close()
	r := qry.Exec(ctx)
	if r.Err != nil {
		return instResult{err: r.Err.Error()}
	}
	res.annos = instAnnoStrings(r.Warnings, q)
	steps := g.steps()
	add := func(ls labels.Labels) []float64 {
		v := NewValues(len(steps))
		res.series = append(res.series, Series{Labels: ls, V: v})
		return v
	}
	switch v := r.Value.(type) {
	case promql.Scalar:
		add(labels.EmptyLabels())[0] = v.V
	case promql.Vector:
		for _, s := range v {
			require.Nil(t, s.H, "%s: native histograms are not tested", q)
			add(s.Metric)[0] = s.F
		}
	case promql.Matrix:
		for _, s := range v {
			require.Empty(t, s.Histograms, "%s: native histograms are not tested", q)
			vals := add(s.Metric)
			for _, p := range s.Floats {
				vals[(p.T-g.start)/g.step] = p.F
			}
		}
	default:
		t.Fatalf("%s: unexpected instResult type %T", q, r.Value)
	}
	return res
}

func instAnnoStrings(a annotations.Annotations, q string) []string {
	warns, infos := a.AsStrings(q, 0, 0)
	slices.Sort(warns)
	slices.Sort(infos)
	return append(warns, infos...)
}

// args evaluates call's arguments in Prometheus over g. A vector argument
// is evaluated with its metric name copied to another label, which tells
// its name and whether the series drops it.
func (e *instEnv) args(t *testing.T, call *parser.Call, g instGrid) []Arg {
	t.Helper()
	const nameCopy = "__fn_test_name__"
	args := make([]Arg, len(call.Args))
	for i, a := range call.Args {
		switch a.Type() {
		case parser.ValueTypeString:
			args[i] = Arg{Type: parser.ValueTypeString, String: a.(*parser.StringLiteral).Val}
		case parser.ValueTypeScalar:
			r := e.run(t, a.String(), g)
			require.Empty(t, r.err, a.String())
			require.Len(t, r.series, 1, a.String())
			args[i] = Arg{Type: parser.ValueTypeScalar, Scalar: r.series[0].V}
		case parser.ValueTypeVector:
			r := e.run(t, `label_replace(`+a.String()+`, "`+nameCopy+`", "$1", "__name__", "(.+)")`, g)
			require.Empty(t, r.err, a.String())
			require.Empty(t, r.annos, "%s: arguments must not warn", a.String())
			for k, s := range r.series {
				name := s.Labels.Get(nameCopy)
				r.series[k].DropName = name != "" && !s.Labels.Has(labels.MetricName)
				b := labels.NewBuilder(s.Labels).Del(nameCopy)
				if name != "" {
					b.Set(labels.MetricName, name)
				}
				r.series[k].Labels = b.Labels()
			}
			args[i] = Arg{Type: parser.ValueTypeVector, Series: r.series}
		default:
			t.Fatalf("%s: argument of type %s", call, a.Type())
		}
	}
	return args
}

// eval calls Instant[f] for the call q over g as the engine would, and
// finishes the result as the engine does: drops the metric name where
// DropName says so and merges series with the same labels, failing if
// two have a sample at one step.
func (e *instEnv) eval(t *testing.T, q string, g instGrid) instResult {
	t.Helper()
	expr, err := e.parser.ParseExpr(q)
	require.NoError(t, err, q)
	call, ok := expr.(*parser.Call)
	require.True(t, ok, "%s is not a function call", q)
	f, ok := Instant[call.Func.Name]
	require.True(t, ok, "no instant function %s", call.Func.Name)

	c := &InstantCall{Steps: g.steps(), Args: e.args(t, call, g), Expr: call, Annos: annotations.New()}
	out, err := f(c)
	if err != nil {
		return instResult{err: err.Error()}
	}
	var (
		res   instResult
		index = map[string]int{}
	)
	for _, s := range out {
		require.Len(t, s.V, len(c.Steps), "%s: %s", q, s.Labels)
		ls := s.Labels
		if s.DropName {
			ls = ls.DropMetricName()
		}
		k, ok := index[ls.String()]
		if !ok {
			k = len(res.series)
			index[ls.String()] = k
			res.series = append(res.series, Series{Labels: ls, V: NewValues(len(c.Steps))})
		}
		for i, v := range s.V {
			if IsAbsent(v) {
				continue
			}
			if !IsAbsent(res.series[k].V[i]) {
				return instResult{err: "vector cannot contain metrics with the same labelset"}
			}
			res.series[k].V[i] = v
		}
	}
	res.series = slices.DeleteFunc(res.series, func(s Series) bool { return !hasSample(s.V) })
	res.annos = instAnnoStrings(*c.Annos, q)
	return res
}

// check compares Prometheus's result of q over g with ours; ordered
// compares the order of the series too.
func (e *instEnv) check(t *testing.T, q string, g instGrid, ordered bool) {
	t.Helper()
	want := e.run(t, q, g)
	got := e.eval(t, q, g)
	ctx := fmt.Sprintf("%s over %s", q, g)
	require.Equal(t, want.err, got.err, ctx)
	if want.err != "" {
		return
	}
	require.Equal(t, want.annos, got.annos, "%s: annotations", ctx)
	if !ordered {
		byLabels := func(a, b Series) int { return labels.Compare(a.Labels, b.Labels) }
		slices.SortFunc(want.series, byLabels)
		slices.SortFunc(got.series, byLabels)
	}
	require.Equal(t, instSeriesStrings(want.series), instSeriesStrings(got.series), ctx)
}

// instSeriesStrings prints series one per line, values with all their digits.
func instSeriesStrings(ss []Series) []string {
	out := make([]string, len(ss))
	for k, s := range ss {
		var b strings.Builder
		b.WriteString(s.Labels.String())
		for _, v := range s.V {
			switch {
			case IsAbsent(v):
				b.WriteString(" _")
			case math.IsNaN(v):
				b.WriteString(" NaN")
			case v == 0 && math.Signbit(v):
				b.WriteString(" -0")
			default:
				fmt.Fprintf(&b, " %v", v)
			}
		}
		out[k] = b.String()
	}
	return out
}

// checkAll checks each query over each grid.
func (e *instEnv) checkAll(t *testing.T, queries []string, grids ...instGrid) {
	t.Helper()
	for _, q := range queries {
		for _, g := range grids {
			e.check(t, q, g, false)
		}
	}
}

// TestInstantTable checks that every function of Prometheus's table is
// either here, a range function, or one the engine evaluates itself.
func TestInstantTable(t *testing.T) {
	engine := map[string]bool{
		"timestamp": true, "absent": true, "scalar": true, "vector": true,
		"time": true, "info": true, "start": true, "end": true,
		"step": true, "range": true,
	}
	for name, f := range parser.Functions {
		rangeFn := slices.Contains(f.ArgTypes, parser.ValueTypeMatrix)
		_, instant := Instant[name]
		switch {
		case engine[name]:
			require.False(t, instant, "%s is the engine's", name)
		case rangeFn:
			require.False(t, instant, "%s takes a range vector", name)
		default:
			require.True(t, instant, "%s is missing", name)
		}
	}
}
