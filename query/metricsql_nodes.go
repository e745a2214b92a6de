package query

import (
	"cmp"
	"fmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/schema"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/parser/posrange"

	"github.com/almanacdb/almanac/query/internal/fn"
)

// The engine's nodes for MetricsQL constructs PromQL's AST has no node
// for. Each evaluates itself (the evaluable interface) for every step of
// its grid at once and evaluates to an instant vector. As in
// VictoriaMetrics, where a NaN is a gap, they treat a NaN value as
// missing.

// metricsqlNode is an evaluable with child expressions, which mqlPrepare
// preprocesses.
type metricsqlNode interface {
	evaluable
	children() []*parser.Expr
}

// mqlNodeBase gives the nodes what parser.Expr asks of them.
type mqlNodeBase struct{}

func (mqlNodeBase) Type() parser.ValueType                { return parser.ValueTypeVector }
func (mqlNodeBase) PromQLExpr()                           {}
func (mqlNodeBase) PositionRange() posrange.PositionRange { return posrange.PositionRange{} }

func mqlPretty(level int, s string) string { return strings.Repeat("  ", level) + s }

// mqlPrepare is promql.PreprocessExpr for trees holding almanac's nodes:
// Prometheus's preprocessing (step-invariant wrapping, start() and end()
// folding) runs on every maximal subtree made of Prometheus's nodes only,
// since it cannot walk the others.
func mqlPrepare(e parser.Expr, start, end time.Time, step time.Duration) (parser.Expr, error) {
	if !hasMetricsQLNode(e) {
		return promql.PreprocessExpr(e, start, end, step)
	}
	var kids []*parser.Expr
	switch n := e.(type) {
	case metricsqlNode:
		kids = n.children()
	case *parser.Call:
		for i := range n.Args {
			kids = append(kids, &n.Args[i])
		}
	case *parser.BinaryExpr:
		kids = []*parser.Expr{&n.LHS, &n.RHS}
	case *parser.AggregateExpr:
		kids = []*parser.Expr{&n.Expr}
		if n.Param != nil {
			kids = append(kids, &n.Param)
		}
	case *parser.SubqueryExpr:
		kids = []*parser.Expr{&n.Expr}
	case *parser.ParenExpr:
		kids = []*parser.Expr{&n.Expr}
	case *parser.UnaryExpr:
		kids = []*parser.Expr{&n.Expr}
	default:
		return nil, fmt.Errorf("MetricsQL: unexpected node %T", e)
	}
	for _, k := range kids {
		p, err := mqlPrepare(*k, start, end, step)
		if err != nil {
			return nil, err
		}
		*k = p
	}
	return e, nil
}

// hasMetricsQLNode reports whether e is or holds one of almanac's nodes.
func hasMetricsQLNode(e parser.Node) bool {
	found := false
	mqlWalk(e, func(n parser.Node) bool {
		_, found = n.(metricsqlNode)
		return !found
	})
	return found
}

// mqlWalk calls f for e and every node below it, depth first, until f
// returns false; it reports whether the walk ran to the end. Unlike
// parser.Inspect, which panics on them, it walks almanac's nodes: AST
// walks over a lowered MetricsQL expression must use it.
func mqlWalk(e parser.Node, f func(parser.Node) bool) bool {
	if !f(e) {
		return false
	}
	if n, ok := e.(metricsqlNode); ok {
		for _, c := range n.children() {
			if !mqlWalk(*c, f) {
				return false
			}
		}
		return true
	}
	for c := range parser.ChildrenIter(e) {
		if !mqlWalk(c, f) {
			return false
		}
	}
	return true
}

// mqlMissing reports a step without a value in MetricsQL's sense.
func mqlMissing(f float64) bool { return math.IsNaN(f) } // fn.Absent is a NaN too

// mqlSeriesOf returns v as series: a scalar is one series without labels,
// as VictoriaMetrics treats scalars.
func mqlSeriesOf(v value) []fn.Series {
	if v.typ == parser.ValueTypeScalar {
		return []fn.Series{{Labels: labels.EmptyLabels(), V: v.scalar}}
	}
	return v.series
}

// mqlVisibleLabels returns the labels s is returned with.
func mqlVisibleLabels(s fn.Series) labels.Labels {
	if s.DropName {
		return s.Labels.DropReserved(schema.IsMetadataLabel)
	}
	return s.Labels
}

// mqlKeepSampled returns the series of ss that have a value.
func mqlKeepSampled(ss []fn.Series) []fn.Series {
	out := ss[:0]
	for _, s := range ss {
		if slices.ContainsFunc(s.V, func(f float64) bool { return !fn.IsAbsent(f) }) {
			out = append(out, s)
		}
	}
	return out
}

// metricsqlKeepNames is the keep_metric_names modifier: the result keeps
// its metric name.
type metricsqlKeepNames struct {
	mqlNodeBase
	Expr parser.Expr
}

func (n *metricsqlKeepNames) String() string {
	return "(" + n.Expr.String() + ") keep_metric_names"
}
func (n *metricsqlKeepNames) Pretty(level int) string  { return mqlPretty(level, n.String()) }
func (n *metricsqlKeepNames) children() []*parser.Expr { return []*parser.Expr{&n.Expr} }

func (n *metricsqlKeepNames) evaluate(ev *evaluator, g grid) value {
	v := ev.eval(n.Expr, g)
	for i := range v.series {
		v.series[i].DropName = false
	}
	return v
}

// metricsqlOrSelector is a selector with "or" filters,
// {a="1" or b="2"}: the series any of its selectors selects.
type metricsqlOrSelector struct {
	mqlNodeBase
	Selectors []parser.Expr
}

func (n *metricsqlOrSelector) String() string {
	parts := make([]string, len(n.Selectors))
	for i, s := range n.Selectors {
		parts[i] = s.String()
	}
	return "union(" + strings.Join(parts, ", ") + ")"
}
func (n *metricsqlOrSelector) Pretty(level int) string { return mqlPretty(level, n.String()) }
func (n *metricsqlOrSelector) children() []*parser.Expr {
	out := make([]*parser.Expr, len(n.Selectors))
	for i := range n.Selectors {
		out[i] = &n.Selectors[i]
	}
	return out
}

func (n *metricsqlOrSelector) evaluate(ev *evaluator, g grid) value {
	out := value{typ: parser.ValueTypeVector}
	seen := map[uint64][]int{}
	for _, sel := range n.Selectors {
		for _, s := range ev.eval(sel, g).series {
			h := s.Labels.Hash()
			if slices.ContainsFunc(seen[h], func(j int) bool { return labels.Equal(out.series[j].Labels, s.Labels) }) {
				continue // selected by an earlier filter list
			}
			seen[h] = append(seen[h], len(out.series))
			out.series = append(out.series, s)
		}
	}
	return out
}

// metricsqlRollup is a MetricsQL range function whose windows need the
// sample before them (increase_pure): its argument is read over a range
// extended by the lookback delta.
type metricsqlRollup struct {
	mqlNodeBase
	Func *parser.Function
	Arg  parser.Expr // a matrix selector or a subquery
}

func (n *metricsqlRollup) String() string           { return n.Func.Name + "(" + n.Arg.String() + ")" }
func (n *metricsqlRollup) Pretty(level int) string  { return mqlPretty(level, n.String()) }
func (n *metricsqlRollup) children() []*parser.Expr { return []*parser.Expr{&n.Arg} }

func (n *metricsqlRollup) evaluate(ev *evaluator, g grid) value {
	impl, ok := fn.Range[n.Func.Name]
	if !ok {
		ev.failf("function %q is not supported by almanac's engine yet", n.Func.Name)
	}
	var rng time.Duration
	var arg parser.Expr
	switch a := unwrap(n.Arg).(type) {
	case *parser.MatrixSelector:
		ext := *a
		rng, ext.Range = a.Range, a.Range+time.Duration(ev.lookback)*time.Millisecond
		arg = &ext
	case *parser.SubqueryExpr:
		ext := *a
		rng, ext.Range = a.Range, a.Range+time.Duration(ev.lookback)*time.Millisecond
		arg = &ext
	default:
		ev.failf("%s: expected a range vector, got %T", n.Func.Name, n.Arg)
	}
	rv := ev.rangeArg(arg, g)
	out := make([]fn.Series, len(rv.matrix))
	ev.parallel(len(rv.matrix), func(i int) {
		in := rv.matrix[i]
		c := &fn.RangeCall{
			Ends: rv.ends, Range: rng.Milliseconds(), In: in.Samples, Out: fn.NewValues(len(rv.ends)),
			Lookback: ev.lookback, MetricName: in.Labels.Get(labels.MetricName),
		}
		impl.Call(c)
		out[i] = fn.Series{Labels: in.Labels, V: c.Out, DropName: !impl.KeepName || in.dropName}
	})
	out = mqlKeepSampled(out)
	ev.addSamples(len(out) * g.n)
	return value{typ: parser.ValueTypeVector, series: out}
}

// metricsqlCondOp is the binary operators default, if and ifnot. Series
// are matched on their labels without the metric name (with it under
// keep_metric_names), reduced by on(...) or ignoring(...); a scalar, or
// a vector of one series without labels, on the right matches every
// series on the left.
//
//   - q1 default q2: q1's series, their missing steps filled from the
//     matching q2 series; q2 itself when q1 has no series.
//   - q1 if q2: q1's series with a match, at the steps where a match has
//     a value.
//   - q1 ifnot q2: q1's series at the steps where no match has a value.
//
// The results keep q1's labels, metric name included.
type metricsqlCondOp struct {
	mqlNodeBase
	Op        string // default, if or ifnot
	LHS, RHS  parser.Expr
	On        bool
	Matching  []string
	KeepNames bool
}

func (n *metricsqlCondOp) String() string {
	mod := ""
	switch {
	case n.On:
		mod = " on(" + strings.Join(n.Matching, ", ") + ")"
	case len(n.Matching) > 0:
		mod = " ignoring(" + strings.Join(n.Matching, ", ") + ")"
	}
	s := n.LHS.String() + " " + n.Op + mod + " " + n.RHS.String()
	if n.KeepNames {
		s = "(" + s + ") keep_metric_names"
	}
	return s
}
func (n *metricsqlCondOp) Pretty(level int) string  { return mqlPretty(level, n.String()) }
func (n *metricsqlCondOp) children() []*parser.Expr { return []*parser.Expr{&n.LHS, &n.RHS} }

// key is the label set series are matched on.
func (n *metricsqlCondOp) key(b *labels.Builder, s fn.Series) string {
	b.Reset(s.Labels)
	if !n.KeepNames || s.DropName {
		b.Del(model.MetricNameLabel, model.MetricTypeLabel, model.MetricUnitLabel)
	}
	switch {
	case n.On:
		b.Keep(n.Matching...)
	default:
		b.Del(n.Matching...)
	}
	return b.Labels().String()
}

func (n *metricsqlCondOp) evaluate(ev *evaluator, g grid) value {
	lv, rv := ev.eval(n.LHS, g), ev.eval(n.RHS, g)
	lhs, rhs := mqlSeriesOf(lv), mqlSeriesOf(rv)
	if n.Op == "default" && len(lhs) == 0 {
		return value{typ: parser.ValueTypeVector, series: rhs}
	}
	b := labels.NewBuilder(labels.EmptyLabels())
	groups := map[string][]fn.Series{}
	for _, s := range rhs {
		k := n.key(b, s)
		groups[k] = append(groups[k], s)
	}
	var matchAll []fn.Series // a right side without labels matches every series
	if rv.typ == parser.ValueTypeScalar || len(rhs) == 1 && mqlVisibleLabels(rhs[0]).IsEmpty() {
		matchAll = rhs
	}
	present := func(ms []fn.Series, i int) (float64, bool) {
		for _, m := range ms {
			if !mqlMissing(m.V[i]) {
				return m.V[i], true
			}
		}
		return 0, false
	}
	out := make([]fn.Series, 0, len(lhs))
	for _, s := range lhs {
		ms, ok := groups[n.key(b, s)]
		if !ok {
			ms = matchAll
		}
		v := slices.Clone(s.V)
		switch n.Op {
		case "default":
			for i, f := range v {
				if mqlMissing(f) {
					if r, ok := present(ms, i); ok {
						v[i] = r
					}
				}
			}
		case "if":
			for i := range v {
				if _, ok := present(ms, i); !ok {
					v[i] = fn.Absent
				}
			}
		case "ifnot":
			for i := range v {
				if _, ok := present(ms, i); ok {
					v[i] = fn.Absent
				}
			}
		}
		out = append(out, fn.Series{Labels: s.Labels, V: v, DropName: s.DropName})
	}
	out = mqlKeepSampled(out)
	ev.addSamples(len(out) * g.n)
	return value{typ: parser.ValueTypeVector, series: out}
}

// metricsqlAggregate is an aggregate function PromQL lacks, with by or
// without: sum2, geomean, zscore, outliers_mad, outliersk.
type metricsqlAggregate struct {
	mqlNodeBase
	Op       string
	Param    parser.Expr // tolerance of outliers_mad, k of outliersk
	Expr     parser.Expr
	Grouping []string
	Without  bool
}

func (n *metricsqlAggregate) String() string {
	var b strings.Builder
	b.WriteString(n.Op)
	if n.Without || len(n.Grouping) > 0 {
		if n.Without {
			b.WriteString(" without (")
		} else {
			b.WriteString(" by (")
		}
		b.WriteString(strings.Join(n.Grouping, ", "))
		b.WriteString(")")
	}
	b.WriteString(" (")
	if n.Param != nil {
		b.WriteString(n.Param.String() + ", ")
	}
	b.WriteString(n.Expr.String() + ")")
	return b.String()
}
func (n *metricsqlAggregate) Pretty(level int) string { return mqlPretty(level, n.String()) }
func (n *metricsqlAggregate) children() []*parser.Expr {
	if n.Param != nil {
		return []*parser.Expr{&n.Param, &n.Expr}
	}
	return []*parser.Expr{&n.Expr}
}

func (n *metricsqlAggregate) evaluate(ev *evaluator, g grid) value {
	var param []float64
	if n.Param != nil {
		param = ev.eval(n.Param, g).scalar
	}
	in := ev.eval(n.Expr, g).series
	perSeries := n.Op != "sum2" && n.Op != "geomean"
	grp := groupSeries(in, &parser.AggregateExpr{Grouping: n.Grouping, Without: n.Without}, perSeries)
	members := make([][]int, len(grp.labels))
	for si, gi := range grp.of {
		members[gi] = append(members[gi], si)
	}
	var out []fn.Series
	for gi, ms := range members {
		if gi%64 == 0 {
			ev.checkCtx()
		}
		switch n.Op {
		case "sum2", "geomean":
			out = append(out, n.reduce(grp.labels[gi], in, ms, g))
		case "zscore":
			out = append(out, mqlZScore(in, ms, g)...)
		case "outliers_mad":
			out = append(out, mqlOutliersMAD(in, ms, param, g)...)
		case "outliersk":
			out = append(out, mqlOutliersK(in, ms, param, g)...)
		}
	}
	out = mqlKeepSampled(out)
	ev.addSamples(len(out) * g.n)
	return value{typ: parser.ValueTypeVector, series: out}
}

// reduce is sum2 (the sum of squares) and geomean (the geometric mean) of
// one group at every step.
func (n *metricsqlAggregate) reduce(lset labels.Labels, in []fn.Series, ms []int, g grid) fn.Series {
	out := fn.Series{Labels: lset, V: fn.NewValues(g.n)}
	for i := range g.n {
		acc, count := 0.0, 0
		if n.Op == "geomean" {
			acc = 1
		}
		for _, si := range ms {
			f := in[si].V[i]
			if mqlMissing(f) {
				continue
			}
			if n.Op == "sum2" {
				acc += f * f
			} else {
				acc *= f
			}
			count++
			out.DropName = out.DropName || in[si].DropName
		}
		switch {
		case count == 0:
		case n.Op == "sum2":
			out.V[i] = acc
		default:
			out.V[i] = math.Pow(acc, 1/float64(count))
		}
	}
	return out
}

// mqlStepValues appends the values the series ms have at step i.
func mqlStepValues(dst []float64, in []fn.Series, ms []int, i int) []float64 {
	for _, si := range ms {
		if f := in[si].V[i]; !mqlMissing(f) {
			dst = append(dst, f)
		}
	}
	return dst
}

// mqlZScore is zscore: each value's z-score among its group's values at its
// step, (v - mean) / stddev with the population standard deviation.
// Undefined scores (a group whose values are all equal) are dropped.
func mqlZScore(in []fn.Series, ms []int, g grid) []fn.Series {
	out := make([]fn.Series, len(ms))
	for j, si := range ms {
		out[j] = fn.Series{Labels: in[si].Labels, V: fn.NewValues(g.n), DropName: in[si].DropName}
	}
	var buf []float64
	for i := range g.n {
		buf = mqlStepValues(buf[:0], in, ms, i)
		if len(buf) == 0 {
			continue
		}
		mean, m2 := 0.0, 0.0
		for k, f := range buf {
			d := f - mean
			mean += d / float64(k+1)
			m2 += d * (f - mean)
		}
		stddev := math.Sqrt(m2 / float64(len(buf)))
		for j, si := range ms {
			if f := in[si].V[i]; !mqlMissing(f) {
				if z := (f - mean) / stddev; !math.IsNaN(z) {
					out[j].V[i] = z
				}
			}
		}
	}
	return out
}

// mqlMedian is the median of values (sorted in place), as quantile(0.5).
func mqlMedian(values []float64) float64 { return quantile(0.5, values) }

// mqlMedians returns the median of a group's values at every step (NaN
// where it has none).
func mqlMedians(in []fn.Series, ms []int, g grid) []float64 {
	out := make([]float64, g.n)
	var buf []float64
	for i := range g.n {
		buf = mqlStepValues(buf[:0], in, ms, i)
		out[i] = mqlMedian(buf)
	}
	return out
}

// mqlOutliersMAD is outliers_mad(tolerance, q): the series of the group with
// a value farther from the group's median at its step than tolerance
// times the median absolute deviation there.
func mqlOutliersMAD(in []fn.Series, ms []int, tolerance []float64, g grid) []fn.Series {
	med := mqlMedians(in, ms, g)
	limit := make([]float64, g.n)
	var buf []float64
	for i := range g.n {
		buf = mqlStepValues(buf[:0], in, ms, i)
		for j, f := range buf {
			buf[j] = math.Abs(f - med[i])
		}
		limit[i] = tolerance[i] * mqlMedian(buf)
	}
	var out []fn.Series
	for _, si := range ms {
		s := in[si]
		for i, f := range s.V {
			if !mqlMissing(f) && math.Abs(f-med[i]) > limit[i] {
				out = append(out, fn.Series{Labels: s.Labels, V: slices.Clone(s.V), DropName: s.DropName})
				break
			}
		}
	}
	return out
}

// mqlOutliersK is outliersk(k, q): the k series of the group farthest from
// the group's median, by the sum over the steps of their squared
// distance to the median at each step (steps without a value count
// nothing); at each step the k of that step's k. Ties go to the smaller
// label set.
func mqlOutliersK(in []fn.Series, ms []int, k []float64, g grid) []fn.Series {
	med := mqlMedians(in, ms, g)
	type scored struct {
		si    int
		score float64
	}
	ss := make([]scored, len(ms))
	for j, si := range ms {
		score := 0.0
		for i, f := range in[si].V {
			if !mqlMissing(f) && !math.IsNaN(med[i]) {
				score += (f - med[i]) * (f - med[i])
			}
		}
		ss[j] = scored{si, score}
	}
	slices.SortStableFunc(ss, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return labels.Compare(in[a.si].Labels, in[b.si].Labels)
	})
	out := make([]fn.Series, len(ss))
	for j, s := range ss {
		out[j] = fn.Series{Labels: in[s.si].Labels, V: fn.NewValues(g.n), DropName: in[s.si].DropName}
	}
	for i := range g.n {
		n := 0
		if !math.IsNaN(k[i]) {
			n = int(max(0, min(k[i], float64(len(ss)))))
		}
		for j := range n {
			out[j].V[i] = in[ss[j].si].V[i]
		}
	}
	return out
}
