package query

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	promvalue "github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/parser/posrange"
	"github.com/prometheus/prometheus/schema"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/almanacdb/almanac/query/internal/fn"
)

// call evaluates a function call at every step of g.
func (ev *evaluator) call(e *parser.Call, g grid) value {
	switch e.Func.Name {
	case "time":
		v := make([]float64, g.n)
		for i := range v {
			v[i] = float64(g.at(i)) / 1000
		}
		return value{typ: parser.ValueTypeScalar, scalar: v}
	case "vector":
		s := ev.eval(e.Args[0], g)
		return value{typ: parser.ValueTypeVector, series: []fn.Series{{Labels: labels.EmptyLabels(), V: s.scalar}}}
	case "scalar":
		return ev.scalarOf(ev.eval(e.Args[0], g), g)
	case "timestamp":
		return ev.timestamp(e, g, false)
	case "start_timestamp":
		return ev.timestamp(e, g, true)
	case "absent":
		return ev.absent(e, g)
	case "absent_over_time":
		return ev.absentOverTime(e, g)
	case "info":
		return ev.info(e, g)
	}
	if _, ok := fn.Pairs[e.Func.Name]; ok {
		return ev.pairCall(e, g)
	}
	for i, arg := range e.Args {
		if arg.Type() == parser.ValueTypeMatrix && i < len(e.Func.ArgTypes) {
			return ev.rangeCall(e, i, g)
		}
	}
	impl, ok := fn.Instant[e.Func.Name]
	if !ok {
		ev.failf("function %q is not supported by almanac's engine yet", e.Func.Name)
	}
	c := &fn.InstantCall{Steps: g.times(), Expr: e, Annos: &annotations.Annotations{}}
	for _, arg := range e.Args {
		c.Args = append(c.Args, ev.arg(arg, g))
	}
	out, err := impl(c)
	ev.warn(*c.Annos)
	if err != nil {
		ev.fail(err)
	}
	if e.Func.ReturnType == parser.ValueTypeScalar {
		if len(out) != 1 {
			ev.failf("function %s returned %d series for a scalar", e.Func.Name, len(out))
		}
		return value{typ: parser.ValueTypeScalar, scalar: out[0].V}
	}
	out = ev.merge(out)
	return value{typ: parser.ValueTypeVector, series: out}
}

// merge joins series with equal labels, failing on two values at a step.
func (ev *evaluator) merge(ss []fn.Series) []fn.Series {
	out, err := mergeSameLabels(ss)
	if err != nil {
		ev.fail(err)
	}
	return out
}

// arg evaluates a function argument.
func (ev *evaluator) arg(e parser.Expr, g grid) fn.Arg {
	v := ev.eval(e, g)
	return fn.Arg{Type: v.typ, Series: v.series, Scalar: v.scalar, String: v.str}
}

// scalarOf is scalar(): the value of a one-element vector, NaN otherwise.
func (ev *evaluator) scalarOf(v value, g grid) value {
	out := make([]float64, g.n)
	for i := range out {
		n, f := 0, 0.0
		for _, s := range v.series {
			if !fn.IsAbsent(s.V[i]) {
				n++
				f = s.V[i]
			}
		}
		if n == 1 {
			out[i] = f
		} else {
			out[i] = nan
		}
	}
	return value{typ: parser.ValueTypeScalar, scalar: out}
}

// rangeCall evaluates a function whose argument argIdx is a range vector,
// one series at a time (in parallel), every step in one pass.
func (ev *evaluator) rangeCall(e *parser.Call, argIdx int, g grid) value {
	impl, ok := fn.Range[e.Func.Name]
	band, isBand := fn.Bands[e.Func.Name]
	if !ok && !isBand {
		ev.failf("function %q is not supported by almanac's engine yet", e.Func.Name)
	}
	var scalars [][]float64
	var scalarPos []posrange.PositionRange
	var strs []string
	for i, a := range e.Args {
		if i == argIdx {
			continue
		}
		v := ev.eval(a, g)
		switch v.typ {
		case parser.ValueTypeScalar:
			scalars = append(scalars, v.scalar)
			scalarPos = append(scalarPos, a.PositionRange())
		case parser.ValueTypeString:
			strs = append(strs, v.str)
		}
	}
	anchored, smoothed := rangeModifiers(e.Args[argIdx])
	switch {
	case anchored:
		if _, ok := promql.AnchoredSafeFunctions[e.Func.Name]; !ok {
			ev.failf("anchored modifier can only be used with: %s - not with %s", strings.Join(slices.Sorted(maps.Keys(promql.AnchoredSafeFunctions)), ", "), e.Func.Name)
		}
	case smoothed:
		if _, ok := promql.SmoothedSafeFunctions[e.Func.Name]; !ok {
			ev.failf("smoothed modifier can only be used with: %s - not with %s", strings.Join(slices.Sorted(maps.Keys(promql.SmoothedSafeFunctions)), ", "), e.Func.Name)
		}
	}
	steps := g.times()
	pos := e.Args[argIdx].PositionRange()
	// call runs the function on one series; it is safe for concurrent use
	// and keeps nothing of in's slices.
	call := func(in rangeSeries, ends []int64, rng int64, annos *annotations.Annotations) (lo, hi fn.Series, err error) {
		c := &fn.RangeCall{
			Ends: ends, Range: rng, Steps: steps, Scalars: scalars, ScalarPos: scalarPos, Strings: strs,
			In: in.Samples, Out: fn.NewValues(len(ends)),
			Anchored: anchored, Smoothed: smoothed,
			UseStartTimestamps: ev.opts.UseStartTimestamps,
			Lookback:           ev.lookback,
			MetricName:         in.Labels.Get(labels.MetricName),
			Annos:              annos, Pos: pos,
		}
		if isBand {
			upper := fn.NewValues(len(ends))
			band.Call(c, c.Out, upper)
			lb := labels.NewBuilder(in.Labels)
			lo = fn.Series{Labels: lb.Set("band", "lower").Labels(), V: c.Out, DropName: true}
			hi = fn.Series{Labels: lb.Set("band", "upper").Labels(), V: upper, DropName: true}
			return lo, hi, nil
		}
		impl.Call(c)
		if c.Err != nil {
			return lo, hi, c.Err
		}
		dropName := true
		if impl.KeepName {
			dropName = in.dropName
		}
		return fn.Series{Labels: in.Labels.Copy(), V: c.Out, DropName: dropName}, hi, nil
	}
	var out, upper []fn.Series
	var errs []error
	var annos []annotations.Annotations
	if ms, ok := unwrap(e.Args[argIdx]).(*parser.MatrixSelector); ok {
		// A selector streams: each series is computed as storage decodes
		// it (decoding runs ahead on other goroutines) and only the result
		// columns are kept, never every sample of every series.
		vs := ms.VectorSelector.(*parser.VectorSelector)
		ends, rng := refTimes(g, vs.Timestamp, vs.OriginalOffset.Milliseconds()), ms.Range.Milliseconds()
		ev.eachRangeSeries(ms, g, func(in rangeSeries) {
			var a annotations.Annotations // per series, merged as Prometheus counts them
			lo, hi, err := call(in, ends, rng, &a)
			ev.warn(a)
			if err != nil {
				ev.fail(err)
			}
			out = append(out, lo)
			if isBand {
				upper = append(upper, hi)
			}
			ev.addSamples(g.n)
		})
	} else {
		rv := ev.rangeArg(e.Args[argIdx], g)
		errs = make([]error, len(rv.matrix))
		out = make([]fn.Series, len(rv.matrix))
		if isBand {
			upper = make([]fn.Series, len(rv.matrix))
		}
		annos = make([]annotations.Annotations, len(rv.matrix))
		ev.parallel(len(rv.matrix), func(i int) {
			var hi fn.Series
			out[i], hi, errs[i] = call(rv.matrix[i], rv.ends, rv.rng, &annos[i])
			if isBand {
				upper[i] = hi
			}
		})
	}
	for _, a := range annos {
		ev.warn(a)
	}
	for _, err := range errs {
		if err != nil {
			ev.fail(err)
		}
	}
	out = append(out, upper...)
	return ev.vector(out, g)
}

// rangeModifiers returns the anchored and smoothed modifiers of a matrix
// selector argument.
func rangeModifiers(e parser.Expr) (anchored, smoothed bool) {
	for {
		switch x := e.(type) {
		case *parser.ParenExpr:
			e = x.Expr
		case *parser.StepInvariantExpr:
			e = x.Expr
		case *parser.MatrixSelector:
			vs := x.VectorSelector.(*parser.VectorSelector)
			return vs.Anchored, vs.Smoothed
		default:
			return false, false
		}
	}
}

// unwrap removes parentheses and step-invariant wrappers.
func unwrap(e parser.Expr) parser.Expr {
	for {
		switch x := e.(type) {
		case *parser.ParenExpr:
			e = x.Expr
		case *parser.StepInvariantExpr:
			e = x.Expr
		default:
			return e
		}
	}
}

// timestamp is timestamp(): for a selector, the timestamp of the sample
// each step selected; for anything else, the step time. With start it is
// start_timestamp(): the selected sample's start timestamp (0 when it has
// none), only for a selector and only when start timestamps are used.
func (ev *evaluator) timestamp(e *parser.Call, g grid, start bool) value {
	vs, ok := unwrap(e.Args[0]).(*parser.VectorSelector)
	if start && (!ok || !ev.opts.UseStartTimestamps) {
		ev.eval(e.Args[0], g) // for its errors
		return value{typ: parser.ValueTypeVector}
	}
	if !ok {
		v := ev.eval(e.Args[0], g)
		for i := range v.series {
			s := &v.series[i]
			for j, f := range s.V {
				if !fn.IsAbsent(f) {
					s.V[j] = float64(g.at(j)) / 1000
				}
			}
			s.DropName = true
		}
		return v
	}
	refs := refTimes(g, vs.Timestamp, vs.OriginalOffset.Milliseconds())
	if len(refs) == 0 {
		return value{typ: parser.ValueTypeVector}
	}
	out := value{typ: parser.ValueTypeVector}
	ev.selectSeries(vs, slices.Min(refs)-ev.lookback+1, slices.Max(refs), func(lset labels.Labels, ts []int64, vals []float64, sts []int64) {
		res := fn.NewValues(len(refs))
		present := false
		for i, r := range refs {
			j, _ := slices.BinarySearch(ts, r+1) // first sample after r
			if j == 0 {
				continue
			}
			if t := ts[j-1]; t > r-ev.lookback && !promvalue.IsStaleNaN(vals[j-1]) {
				switch {
				case !start:
					res[i] = float64(t) / 1000
				case sts != nil:
					res[i] = float64(sts[j-1]) / 1000
				default:
					res[i] = 0
				}
				present = true
			}
		}
		if present {
			out.series = append(out.series, fn.Series{Labels: lset.Copy(), V: res, DropName: true})
		}
	})
	return out
}

// absentLabels are the labels absent() and absent_over_time() give their
// result: the equality matchers of a selector argument, unless a label
// has several.
func absentLabels(e parser.Expr) labels.Labels {
	var ms []*labels.Matcher
	switch x := unwrap(e).(type) {
	case *parser.VectorSelector:
		ms = x.LabelMatchers
	case *parser.MatrixSelector:
		ms = x.VectorSelector.(*parser.VectorSelector).LabelMatchers
	default:
		return labels.EmptyLabels()
	}
	// Like Prometheus: a second equality matcher or any other matcher on
	// a label removes it, so x{job="a",job="b"} gives no job label.
	b := labels.NewBuilder(labels.EmptyLabels())
	has := map[string]bool{}
	for _, m := range ms {
		if schema.IsMetadataLabel(m.Name) {
			continue
		}
		if m.Type == labels.MatchEqual && !has[m.Name] {
			b.Set(m.Name, m.Value)
			has[m.Name] = true
		} else {
			b.Del(m.Name)
		}
	}
	return b.Labels()
}

// absent is absent(): 1 at the steps where the argument has no series.
func (ev *evaluator) absent(e *parser.Call, g grid) value {
	v := ev.eval(e.Args[0], g)
	present := make([]bool, g.n)
	for _, s := range v.series {
		for i, f := range s.V {
			present[i] = present[i] || !fn.IsAbsent(f)
		}
	}
	return absentValue(e, present)
}

// absentOverTime is absent_over_time(): 1 at the steps whose window holds
// no sample of any series. A selector's series stream past without being
// kept.
func (ev *evaluator) absentOverTime(e *parser.Call, g grid) value {
	present := make([]bool, g.n)
	mark := func(s rangeSeries, ends []int64, rng int64) {
		for i, end := range ends {
			j, _ := slices.BinarySearch(s.T, end-rng+1)
			present[i] = present[i] || (j < len(s.T) && s.T[j] <= end)
		}
	}
	if ms, ok := unwrap(e.Args[0]).(*parser.MatrixSelector); ok {
		vs := ms.VectorSelector.(*parser.VectorSelector)
		ends, rng := refTimes(g, vs.Timestamp, vs.OriginalOffset.Milliseconds()), ms.Range.Milliseconds()
		ev.eachRangeSeries(ms, g, func(s rangeSeries) { mark(s, ends, rng) })
	} else {
		rv := ev.rangeArg(e.Args[0], g)
		for _, s := range rv.matrix {
			mark(s, rv.ends, rv.rng)
		}
	}
	return absentValue(e, present)
}

// absentValue is absent's and absent_over_time's result: 1, labelled
// from the argument's matchers, at the steps nothing was present.
func absentValue(e *parser.Call, present []bool) value {
	out := fn.NewValues(len(present))
	any := false
	for i, p := range present {
		if !p {
			out[i], any = 1, true
		}
	}
	if !any {
		return value{typ: parser.ValueTypeVector}
	}
	return value{typ: parser.ValueTypeVector, series: []fn.Series{{Labels: absentLabels(e.Args[0]), V: out}}}
}

// pairCall evaluates a function of a target range vector (exactly one
// series) and candidate range vectors: one result series per candidate.
// The candidates' windows are the reference: where an offset or @ on one
// side only puts the target's window elsewhere, the target's samples are
// moved in time onto the candidates' window, so that
// correlate(x[1h] offset 5m, y[1h]) pairs x five minutes earlier with y.
func (ev *evaluator) pairCall(e *parser.Call, g grid) value {
	impl := fn.Pairs[e.Func.Name]
	var scalars [][]float64
	var strs []string
	for _, a := range e.Args[2:] {
		v := ev.eval(a, g)
		switch v.typ {
		case parser.ValueTypeScalar:
			scalars = append(scalars, v.scalar)
		case parser.ValueTypeString:
			strs = append(strs, v.str)
		}
	}
	target := ev.rangeArg(e.Args[0], g)
	if len(target.matrix) != 1 {
		ev.failf("%s: the target %s must select exactly one series, it selects %d", e.Func.Name, e.Args[0], len(target.matrix))
	}
	cands := ev.rangeArg(e.Args[1], g)
	if target.rng != cands.rng {
		ev.failf("%s: the target's range %s differs from the candidates' %s; correlation pairs the samples of one window, give both the same range",
			e.Func.Name, model.Duration(target.rng*int64(time.Millisecond)), model.Duration(cands.rng*int64(time.Millisecond)))
	}
	shifts := targetShifts(target.matrix[0].Samples, target.ends, cands.ends)
	out := make([]fn.Series, len(cands.matrix))
	annos := make([]annotations.Annotations, len(cands.matrix))
	pos := e.Args[1].PositionRange()
	ev.parallel(len(cands.matrix), func(i int) {
		in := cands.matrix[i]
		v := fn.NewValues(len(cands.ends))
		for _, sh := range shifts {
			ends, res := cands.ends, v
			if sh.steps != nil {
				ends, res = make([]int64, len(sh.steps)), fn.NewValues(len(sh.steps))
				for k, st := range sh.steps {
					ends[k] = cands.ends[st]
				}
			}
			c := &fn.PairCall{Target: sh.target, RangeCall: fn.RangeCall{
				Ends: ends, Range: cands.rng, Scalars: subset(scalars, sh.steps), Strings: strs,
				In: in.Samples, Out: res,
				Lookback: ev.lookback, MetricName: in.Labels.Get(labels.MetricName),
				Annos: &annos[i], Pos: pos,
			}}
			impl.Call(c)
			for k, st := range sh.steps {
				v[st] = res[k]
			}
		}
		out[i] = fn.Series{Labels: in.Labels, V: v, DropName: true}
	})
	for _, a := range annos {
		ev.warn(a)
	}
	return ev.vector(out, g)
}

// targetShift is the target of pairCall moved in time by the same amount
// for the steps listed (nil: every step).
type targetShift struct {
	target fn.Samples
	steps  []int
}

// targetShifts groups the steps by how far the candidates' window end is
// from the target's, and moves the target's samples by that much for
// each group. Without an offset or @ on one side only, that is one group
// of every step and the target as it is.
func targetShifts(target fn.Samples, targetEnds, candEnds []int64) []targetShift {
	var order []int64
	steps := map[int64][]int{}
	for i := range candEnds {
		d := candEnds[i] - targetEnds[i]
		if _, ok := steps[d]; !ok {
			order = append(order, d)
		}
		steps[d] = append(steps[d], i)
	}
	if len(order) == 1 && order[0] == 0 {
		return []targetShift{{target: target}}
	}
	out := make([]targetShift, len(order))
	for k, d := range order {
		moved := target
		moved.T = make([]int64, len(target.T))
		for j, t := range target.T {
			moved.T[j] = t + d
		}
		if target.ST != nil {
			moved.ST = make([]int64, len(target.ST))
			for j, t := range target.ST {
				moved.ST[j] = t + d
			}
		}
		out[k] = targetShift{target: moved, steps: steps[d]}
	}
	return out
}

// subset returns the per-step scalars at the given steps (all of them for
// nil steps).
func subset(scalars [][]float64, steps []int) [][]float64 {
	if steps == nil {
		return scalars
	}
	out := make([][]float64, len(scalars))
	for j, sc := range scalars {
		out[j] = make([]float64, len(steps))
		for k, st := range steps {
			out[j][k] = sc[st]
		}
	}
	return out
}
