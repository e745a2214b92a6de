package query

import (
	"context"
	"fmt"
	promvalue "github.com/prometheus/prometheus/model/value"
	"math"
	"slices"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/almanacdb/almanac/query/internal/fn"
)

// value is what a node evaluates to over the steps of its grid.
type value struct {
	typ    parser.ValueType
	series []fn.Series // ValueTypeVector
	scalar []float64   // ValueTypeScalar: one per step
	str    string      // ValueTypeString
	// ValueTypeMatrix (an instant query's result or a function argument):
	// the samples of each series, and each step's window (ends[i]-rng, ends[i]].
	matrix []rangeSeries
	ends   []int64
	rng    int64
	// anchored and smoothed: the selector's range modifiers.
	anchored, smoothed bool
}

// rangeSeries is one series of a range vector.
type rangeSeries struct {
	fn.Samples
	dropName bool
}

// grid is the steps a node is evaluated at.
type grid struct {
	start, end, step int64 // milliseconds
	n                int
}

func newGrid(start, end, step int64) grid {
	if step <= 0 {
		step = 1
	}
	n := 0
	if end >= start {
		n = int((end-start)/step) + 1
	}
	return grid{start: start, end: end, step: step, n: n}
}

// at returns the time of step i.
func (g grid) at(i int) int64 { return g.start + int64(i)*g.step }

// times returns every step's time.
func (g grid) times() []int64 {
	ts := make([]int64, g.n)
	for i := range ts {
		ts[i] = g.at(i)
	}
	return ts
}

// evaluable is an expression node of almanac's own (MetricsQL constructs
// PromQL's AST has no node for) that evaluates itself.
type evaluable interface {
	parser.Expr
	evaluate(ev *evaluator, g grid) value
}

// evaluator evaluates one query. Nodes are evaluated for every step of a
// grid at once; the grid changes only inside subqueries and step-invariant
// expressions.
type evaluator struct {
	ctx      context.Context
	st       Storage
	opts     *Options
	lookback int64
	stats    *Stats
	samples  int // samples held now, for MaxSamples

	mu    sync.Mutex // guards annos for parallel series work
	annos annotations.Annotations
}

func (ev *evaluator) warn(a annotations.Annotations) {
	if len(a) == 0 {
		return
	}
	ev.mu.Lock()
	ev.annos.Merge(a)
	ev.mu.Unlock()
}

// eval evaluates e at every step of g.
func (ev *evaluator) eval(e parser.Expr, g grid) value {
	ev.checkCtx()
	switch e := e.(type) {
	case *parser.NumberLiteral:
		return scalarValue(g.n, e.Val)
	case *parser.StringLiteral:
		return value{typ: parser.ValueTypeString, str: e.Val}
	case *parser.ParenExpr:
		return ev.eval(e.Expr, g)
	case *parser.StepInvariantExpr:
		return ev.evalStepInvariant(e, g)
	case *parser.UnaryExpr:
		v := ev.eval(e.Expr, g)
		if e.Op == parser.SUB {
			switch v.typ {
			case parser.ValueTypeScalar:
				for i := range v.scalar {
					v.scalar[i] = -v.scalar[i]
				}
			case parser.ValueTypeVector:
				for _, s := range v.series {
					for i, f := range s.V {
						if !fn.IsAbsent(f) {
							s.V[i] = -f
						}
					}
				}
				for i := range v.series {
					v.series[i].DropName = true
				}
			}
		}
		return v
	case *parser.VectorSelector:
		return ev.vectorSelector(e, g)
	case *parser.MatrixSelector:
		return ev.rangeArg(e, g)
	case *parser.SubqueryExpr:
		return ev.rangeArg(e, g)
	case *parser.Call:
		return ev.call(e, g)
	case *parser.AggregateExpr:
		return ev.aggregate(e, g)
	case *parser.BinaryExpr:
		return ev.binary(e, g)
	case *parser.DurationExpr:
		ev.failf("unexpected duration expression %s", e)
	case evaluable:
		return e.evaluate(ev, g)
	}
	ev.failf("unhandled expression of type %T", e)
	return value{}
}

func scalarValue(n int, f float64) value {
	v := make([]float64, n)
	for i := range v {
		v[i] = f
	}
	return value{typ: parser.ValueTypeScalar, scalar: v}
}

// evalStepInvariant evaluates e once, at the grid's start, and repeats
// the result at every step.
func (ev *evaluator) evalStepInvariant(e *parser.StepInvariantExpr, g grid) value {
	one := grid{start: g.start, end: g.start, step: g.step, n: 1}
	v := ev.eval(e.Expr, one)
	if g.n == 1 {
		return v
	}
	switch v.typ {
	case parser.ValueTypeScalar:
		return scalarValue(g.n, v.scalar[0])
	case parser.ValueTypeVector:
		for i := range v.series {
			f := v.series[i].V[0]
			vs := make([]float64, g.n)
			for j := range vs {
				vs[j] = f
			}
			v.series[i].V = vs
		}
		ev.addSamples(len(v.series) * (g.n - 1))
	}
	return v
}

// refTimes returns the time each step of g reads at, after @ and offset.
func refTimes(g grid, at *int64, offset int64) []int64 {
	ts := make([]int64, g.n)
	for i := range ts {
		if at != nil {
			ts[i] = *at - offset
		} else {
			ts[i] = g.at(i) - offset
		}
	}
	return ts
}

// selectSeries reads the series of a selector in [mint, maxt] and calls f
// with each (the slices are only valid during the call).
func (ev *evaluator) selectSeries(vs *parser.VectorSelector, mint, maxt int64, f func(lset labels.Labels, t []int64, v []float64, st []int64)) {
	set, err := ev.st.Select(ev.ctx, mint, maxt, vs.LabelMatchers...)
	if err != nil {
		ev.fail(err)
	}
	defer set.Close()
	n := 0
	for set.Next() {
		if n%256 == 0 {
			ev.checkCtx()
		}
		n++
		if ev.opts.MaxSeries > 0 && n > ev.opts.MaxSeries {
			ev.fail(fmt.Errorf("%w: selector %s matches more than %d series", ErrTooManySeries, vs, ev.opts.MaxSeries))
		}
		lset, t, v, st := set.At()
		ev.stats.SamplesRead += len(t)
		f(lset, t, v, st)
	}
	if err := set.Err(); err != nil {
		ev.fail(err)
	}
	ev.stats.SeriesRead += n
}

// vectorSelector evaluates an instant vector selector: at each step, the
// newest sample within the lookback delta, unless it is a stale marker.
func (ev *evaluator) vectorSelector(vs *parser.VectorSelector, g grid) value {
	refs := refTimes(g, vs.Timestamp, vs.OriginalOffset.Milliseconds())
	if len(refs) == 0 {
		return value{typ: parser.ValueTypeVector}
	}
	if vs.Smoothed {
		return ev.smoothedSelector(vs, refs)
	}
	lo, hi := slices.Min(refs), slices.Max(refs)
	out := value{typ: parser.ValueTypeVector}
	ev.selectSeries(vs, lo-ev.lookback+1, hi, func(lset labels.Labels, ts []int64, vals []float64, _ []int64) {
		vals2 := make([]float64, len(refs))
		present := false
		j := 0
		for i, r := range refs {
			if i > 0 && r < refs[i-1] {
				j = 0 // not monotonic (cannot happen with one offset); restart
			}
			for j < len(ts) && ts[j] <= r {
				j++
			}
			vals2[i] = fn.Absent
			if j == 0 {
				continue
			}
			t, v := ts[j-1], vals[j-1]
			if t <= r-ev.lookback || promvalue.IsStaleNaN(v) {
				continue
			}
			vals2[i] = sanitize(v)
			present = true
		}
		if present {
			out.series = append(out.series, fn.Series{Labels: lset.Copy(), V: vals2})
			ev.addSamples(len(refs))
		}
	})
	return out
}

// smoothedSelector evaluates `x smoothed`: at each step the value
// interpolated linearly between the samples around it (within the
// lookback delta on either side, stale markers ignored), the previous
// sample's value when none follows yet, nothing before the first sample.
func (ev *evaluator) smoothedSelector(vs *parser.VectorSelector, refs []int64) value {
	lo, hi := slices.Min(refs), slices.Max(refs)
	out := value{typ: parser.ValueTypeVector}
	ev.selectSeries(vs, lo-ev.lookback+1, hi+ev.lookback, func(lset labels.Labels, ts []int64, vals []float64, _ []int64) {
		var t []int64
		var v []float64
		for i, f := range vals {
			if !promvalue.IsStaleNaN(f) {
				t, v = append(t, ts[i]), append(v, sanitize(f))
			}
		}
		res := fn.NewValues(len(refs))
		present := false
		for i, r := range refs {
			a, _ := slices.BinarySearch(t, r-ev.lookback+1) // window (r-lb, r+lb]
			b, _ := slices.BinarySearch(t, r+ev.lookback+1)
			w, wv := t[a:b], v[a:b]
			if len(w) == 0 {
				continue
			}
			j, found := slices.BinarySearch(w, r)
			switch {
			case found:
				res[i] = wv[j]
			case j > 0 && j < len(w):
				y1, y2 := wv[j-1], wv[j]
				res[i] = y1 + (y2-y1)*float64(r-w[j-1])/float64(w[j]-w[j-1])
			case j > 0:
				res[i] = wv[j-1]
			default:
				continue
			}
			present = true
		}
		if present {
			out.series = append(out.series, fn.Series{Labels: lset.Copy(), V: res})
			ev.addSamples(len(refs))
		}
	})
	return out
}

// sanitize keeps the absent marker out of the data: an input NaN whose
// payload is the marker's, with either sign and either quiet bit (so
// that neither negation nor quieting can turn it into the marker), is
// read as an ordinary NaN.
func sanitize(v float64) float64 {
	if isMarker(v) {
		return math.NaN()
	}
	return v
}

// eachRangeSeries streams the series of a matrix selector over every
// step of g to f: each series' samples in the union of the windows (plus
// the lookback on both sides for anchored and smoothed windows), stale
// markers removed. The samples are the storage's own slices when there
// was nothing to remove, valid only during the call, so a range function
// can run on them without a copy. It returns every step's window end and
// the window length.
func (ev *evaluator) eachRangeSeries(e *parser.MatrixSelector, g grid, f func(rangeSeries)) (ends []int64, rng int64) {
	vs := e.VectorSelector.(*parser.VectorSelector)
	rng = e.Range.Milliseconds()
	ends = refTimes(g, vs.Timestamp, vs.OriginalOffset.Milliseconds())
	if len(ends) == 0 {
		return ends, rng
	}
	lo, hi := slices.Min(ends)-rng+1, slices.Max(ends)
	if vs.Anchored || vs.Smoothed {
		lo -= ev.lookback
		hi += ev.lookback
	}
	var buf rangeSeries
	ev.selectSeries(vs, lo, hi, func(lset labels.Labels, ts []int64, vals []float64, sts []int64) {
		s := rangeSeries{Samples: fn.Samples{Labels: lset, T: ts, V: vals, ST: sts}}
		if slices.ContainsFunc(vals, func(v float64) bool { return promvalue.IsStaleNaN(v) || isMarker(v) }) {
			buf.T, buf.V, buf.ST = buf.T[:0], buf.V[:0], buf.ST[:0]
			for i, v := range vals {
				if promvalue.IsStaleNaN(v) {
					continue
				}
				buf.T = append(buf.T, ts[i])
				buf.V = append(buf.V, sanitize(v))
				if sts != nil {
					buf.ST = append(buf.ST, sts[i])
				}
			}
			s.T, s.V, s.ST = buf.T, buf.V, nil
			if sts != nil {
				s.ST = buf.ST
			}
		}
		if len(s.T) > 0 {
			f(s)
		}
	})
	return ends, rng
}

// isMarker reports a NaN that sanitize turns into a plain NaN.
func isMarker(v float64) bool {
	const sign, quiet = 1 << 63, 1 << 51
	return math.Float64bits(v)&^sign|quiet == fn.AbsentBits
}

// rangeArg evaluates a range vector (a matrix selector or a subquery)
// for every step of g: the samples of each series over the union of the
// windows, and each step's window end.
func (ev *evaluator) rangeArg(e parser.Expr, g grid) value {
	switch e := e.(type) {
	case *parser.MatrixSelector:
		vs := e.VectorSelector.(*parser.VectorSelector)
		out := value{typ: parser.ValueTypeMatrix, anchored: vs.Anchored, smoothed: vs.Smoothed}
		out.ends, out.rng = ev.eachRangeSeries(e, g, func(s rangeSeries) {
			// The slices are the storage's until the next series: copy.
			s.Labels = s.Labels.Copy()
			s.T, s.V, s.ST = slices.Clone(s.T), slices.Clone(s.V), slices.Clone(s.ST)
			out.matrix = append(out.matrix, s)
			ev.addSamples(len(s.T))
		})
		return out
	case *parser.SubqueryExpr:
		return ev.subquery(e, g)
	case *parser.ParenExpr:
		return ev.rangeArg(e.Expr, g)
	case *parser.StepInvariantExpr:
		return ev.rangeArg(e.Expr, g)
	}
	ev.failf("expected a range vector, got %T", e)
	return value{}
}

// subquery evaluates the inner expression on the subquery's own grid,
// aligned to multiples of its step as Prometheus aligns it, and returns
// its points as the samples of a range vector.
func (ev *evaluator) subquery(e *parser.SubqueryExpr, g grid) value {
	rng := e.Range.Milliseconds()
	step := e.Step.Milliseconds()
	if step == 0 {
		step = ev.opts.NoStepSubqueryInterval.Milliseconds()
	}
	ends := refTimes(g, e.Timestamp, e.OriginalOffset.Milliseconds())
	out := value{typ: parser.ValueTypeMatrix, ends: ends, rng: rng}
	if len(ends) == 0 {
		return out
	}
	lo, hi := slices.Min(ends), slices.Max(ends)
	start := step * ((lo - rng) / step)
	if start <= lo-rng {
		start += step
	}
	if start > hi {
		return out
	}
	inner := newGrid(start, hi, step)
	v := ev.eval(e.Expr, inner)
	if v.typ != parser.ValueTypeVector {
		ev.failf("subquery is only allowed on instant vector, got %s", v.typ)
	}
	for _, s := range v.series {
		rs := rangeSeries{Samples: fn.Samples{Labels: s.Labels}, dropName: s.DropName}
		for i, f := range s.V {
			if !fn.IsAbsent(f) {
				rs.T = append(rs.T, inner.at(i))
				rs.V = append(rs.V, f)
			}
		}
		if len(rs.T) > 0 {
			out.matrix = append(out.matrix, rs)
		}
	}
	return out
}

// parallel runs f(i) for i in [0, n) on the engine's goroutines.
func (ev *evaluator) parallel(n int, f func(i int)) {
	workers := min(ev.opts.Parallelism, n)
	if workers <= 1 || n < 64 {
		for i := range n {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	var next int64
	var mu sync.Mutex
	var panicked any
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					mu.Lock()
					panicked = r
					mu.Unlock()
				}
			}()
			for {
				mu.Lock()
				i := next
				next++
				stop := panicked != nil
				mu.Unlock()
				if stop || int(i) >= n {
					return
				}
				f(int(i))
			}
		}()
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}

// vector is the value of a node's output series: those with a value at
// some step, accounted for in the samples held.
func (ev *evaluator) vector(out []fn.Series, g grid) value {
	kept := out[:0]
	for _, s := range out {
		if slices.ContainsFunc(s.V, func(f float64) bool { return !fn.IsAbsent(f) }) {
			kept = append(kept, s)
		}
	}
	ev.addSamples(len(kept) * g.n)
	return value{typ: parser.ValueTypeVector, series: kept}
}
