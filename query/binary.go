package query

import (
	"github.com/prometheus/common/model"
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/almanacdb/almanac/query/internal/fn"
)

// binary evaluates a binary expression at every step of g.
func (ev *evaluator) binary(e *parser.BinaryExpr, g grid) value {
	lhs := ev.eval(e.LHS, g)
	rhs := ev.eval(e.RHS, g)
	switch {
	case lhs.typ == parser.ValueTypeScalar && rhs.typ == parser.ValueTypeScalar:
		out := make([]float64, g.n)
		for i := range out {
			out[i] = scalarBinop(e.Op, lhs.scalar[i], rhs.scalar[i])
		}
		return value{typ: parser.ValueTypeScalar, scalar: out}
	case lhs.typ == parser.ValueTypeVector && rhs.typ == parser.ValueTypeScalar:
		return ev.vectorScalar(e, lhs.series, rhs.scalar, false)
	case lhs.typ == parser.ValueTypeScalar && rhs.typ == parser.ValueTypeVector:
		return ev.vectorScalar(e, rhs.series, lhs.scalar, true)
	}
	switch e.Op {
	case parser.LAND, parser.LOR, parser.LUNLESS:
		return ev.setOp(e, lhs.series, rhs.series, g)
	}
	return ev.vectorVector(e, lhs.series, rhs.series, g)
}

func btos(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func scalarBinop(op parser.ItemType, l, r float64) float64 {
	switch op {
	case parser.ADD:
		return l + r
	case parser.SUB:
		return l - r
	case parser.MUL:
		return l * r
	case parser.DIV:
		return l / r
	case parser.POW:
		return math.Pow(l, r)
	case parser.MOD:
		return math.Mod(l, r)
	case parser.EQLC:
		return btos(l == r)
	case parser.NEQ:
		return btos(l != r)
	case parser.GTR:
		return btos(l > r)
	case parser.LSS:
		return btos(l < r)
	case parser.GTE:
		return btos(l >= r)
	case parser.LTE:
		return btos(l <= r)
	case parser.ATAN2:
		return math.Atan2(l, r)
	}
	return nan
}

// elemBinop applies op to two floats; for comparisons keep says whether
// the pair passes and the value is the left one.
func elemBinop(op parser.ItemType, l, r float64) (float64, bool) {
	switch op {
	case parser.ADD:
		return l + r, true
	case parser.SUB:
		return l - r, true
	case parser.MUL:
		return l * r, true
	case parser.DIV:
		return l / r, true
	case parser.POW:
		return math.Pow(l, r), true
	case parser.MOD:
		return math.Mod(l, r), true
	case parser.EQLC:
		return l, l == r
	case parser.NEQ:
		return l, l != r
	case parser.GTR:
		return l, l > r
	case parser.LSS:
		return l, l < r
	case parser.GTE:
		return l, l >= r
	case parser.LTE:
		return l, l <= r
	case parser.ATAN2:
		return math.Atan2(l, r), true
	}
	return 0, false
}

// changesMetricSchema: the operators whose result is no longer the metric.
func changesMetricSchema(op parser.ItemType) bool {
	switch op {
	case parser.ADD, parser.SUB, parser.DIV, parser.MUL, parser.POW, parser.MOD, parser.ATAN2:
		return true
	}
	return false
}

// vectorScalar applies op between every series and the scalar; swap says
// the scalar is on the left.
func (ev *evaluator) vectorScalar(e *parser.BinaryExpr, vec []fn.Series, sc []float64, swap bool) value {
	if e.Op == parser.TRIM_LOWER || e.Op == parser.TRIM_UPPER {
		ev.trimInfo(e)
		return value{typ: parser.ValueTypeVector}
	}
	out := vec[:0]
	for _, s := range vec {
		any := false
		for i, f := range s.V {
			if fn.IsAbsent(f) {
				continue
			}
			l, r := f, sc[i]
			if swap {
				l, r = r, l
			}
			v, keep := elemBinop(e.Op, l, r)
			if e.Op.IsComparisonOperator() && swap {
				v = r
			}
			if e.ReturnBool {
				v, keep = btos(keep), true
			}
			if keep {
				s.V[i] = v
				any = true
			} else {
				s.V[i] = fn.Absent
			}
		}
		if !any {
			continue
		}
		if changesMetricSchema(e.Op) || e.ReturnBool {
			s.DropName = true
		}
		out = append(out, s)
	}
	return value{typ: parser.ValueTypeVector, series: out}
}

func (ev *evaluator) trimInfo(e *parser.BinaryExpr) {
	var a annotations.Annotations
	a.Add(annotations.NewIncompatibleTypesInBinOpInfo("float", parser.ItemTypeStr[e.Op], "float", e.PositionRange()))
	ev.warn(a)
}

// signatures numbers each series' match group: series with equal
// matching labels share an ordinal. It returns the ordinals of lhs and
// rhs and how many there are.
func signatures(m *parser.VectorMatching, lhs, rhs []fn.Series) ([]int, []int, int) {
	names := slices.Clone(m.MatchingLabels)
	if !m.On {
		names = append(names, model.MetricNameLabel, model.MetricTypeLabel, model.MetricUnitLabel)
	}
	slices.Sort(names) // Bytes{With,Without}Labels need them sorted
	ord := map[string]int{}
	var buf []byte
	sig := func(ss []fn.Series) []int {
		out := make([]int, len(ss))
		for i, s := range ss {
			if m.On {
				buf = s.Labels.BytesWithLabels(buf, names...)
			} else {
				buf = s.Labels.BytesWithoutLabels(buf, names...)
			}
			o, ok := ord[string(buf)]
			if !ok {
				o = len(ord)
				ord[string(buf)] = o
			}
			out[i] = o
		}
		return out
	}
	l := sig(lhs)
	r := sig(rhs)
	return l, r, len(ord)
}

// setOp evaluates and, or and unless, step by step.
func (ev *evaluator) setOp(e *parser.BinaryExpr, lhs, rhs []fn.Series, g grid) value {
	lsig, rsig, n := signatures(e.VectorMatching, lhs, rhs)
	present := make([]bool, n)
	lout := make([]fn.Series, len(lhs))
	rout := make([]fn.Series, len(rhs))
	for i, s := range lhs {
		lout[i] = fn.Series{Labels: s.Labels, V: fn.NewValues(g.n), DropName: s.DropName}
	}
	for i, s := range rhs {
		rout[i] = fn.Series{Labels: s.Labels, V: fn.NewValues(g.n), DropName: s.DropName}
	}
	for step := range g.n {
		clear(present)
		switch e.Op {
		case parser.LAND, parser.LUNLESS:
			for j, s := range rhs {
				if !fn.IsAbsent(s.V[step]) {
					present[rsig[j]] = true
				}
			}
			for i, s := range lhs {
				f := s.V[step]
				if fn.IsAbsent(f) {
					continue
				}
				if present[lsig[i]] == (e.Op == parser.LAND) {
					lout[i].V[step] = f
				}
			}
		case parser.LOR:
			for i, s := range lhs {
				if f := s.V[step]; !fn.IsAbsent(f) {
					present[lsig[i]] = true
					lout[i].V[step] = f
				}
			}
			for j, s := range rhs {
				if f := s.V[step]; !fn.IsAbsent(f) && !present[rsig[j]] {
					rout[j].V[step] = f
				}
			}
		}
	}
	out := make([]fn.Series, 0, len(lout)+len(rout))
	for _, s := range append(lout, rout...) {
		for _, f := range s.V {
			if !fn.IsAbsent(f) {
				out = append(out, s)
				break
			}
		}
	}
	return value{typ: parser.ValueTypeVector, series: ev.merge(out)}
}

// vectorVector evaluates an arithmetic or comparison operator between two
// vectors with one-to-one, many-to-one or one-to-many matching.
func (ev *evaluator) vectorVector(e *parser.BinaryExpr, lhs, rhs []fn.Series, g grid) value {
	m := e.VectorMatching
	if e.Op == parser.TRIM_LOWER || e.Op == parser.TRIM_UPPER {
		ev.trimInfo(e)
		return value{typ: parser.ValueTypeVector}
	}
	fillL, fillR := m.FillValues.LHS, m.FillValues.RHS
	lsig, rsig, n := signatures(m, lhs, rhs)
	swapped := m.Card == parser.CardOneToMany
	if swapped {
		lhs, rhs = rhs, lhs
		lsig, rsig = rsig, lsig
		fillL, fillR = fillR, fillL
	}
	right := make([]int, n) // per signature: the rhs series at this step, -1 none
	matched := make([]bool, n)
	manyMatched := make([]map[uint64]struct{}, n)

	type outKey struct{ l, r int } // r < 0: fill on the right; l < 0: fill on the left (index -r-1 / -l-1)
	outIdx := map[outKey]int{}
	var out []fn.Series
	byLabels := map[uint64][]int{}
	emit := func(k outKey, lset func() labels.Labels, step int, f float64, dropName bool) {
		oi, ok := outIdx[k]
		if !ok {
			ls := lset()
			h := ls.Hash()
			oi = -1
			for _, c := range byLabels[h] {
				if labels.Equal(out[c].Labels, ls) {
					oi = c
				}
			}
			if oi < 0 {
				oi = len(out)
				out = append(out, fn.Series{Labels: ls, V: fn.NewValues(g.n), DropName: dropName})
				byLabels[h] = append(byLabels[h], oi)
			}
			outIdx[k] = oi
		}
		if !fn.IsAbsent(out[oi].V[step]) {
			ev.failf("vector cannot contain metrics with the same labelset")
		}
		out[oi].V[step] = f
	}
	for step := range g.n {
		if step%1024 == 0 {
			ev.checkCtx()
		}
		for i := range right {
			right[i] = -1
		}
		clear(matched)
		for i := range manyMatched {
			manyMatched[i] = nil
		}
		anyL, anyR := false, false
		for j, s := range rhs {
			if fn.IsAbsent(s.V[step]) {
				continue
			}
			anyR = true
			sg := rsig[j]
			if prev := right[sg]; prev >= 0 {
				side := "right"
				if swapped {
					side = "left"
				}
				d1, d2 := s.Labels.String(), rhs[prev].Labels.String()
				if d1 > d2 {
					d1, d2 = d2, d1
				}
				ev.failf("found duplicate series for the match group %s on the %s hand-side of the operation: [%s, %s];many-to-many matching not allowed: matching labels must be unique on one side",
					matchLabels(s.Labels, m), side, d1, d2)
			}
			right[sg] = j
		}
		for _, s := range lhs {
			if !fn.IsAbsent(s.V[step]) {
				anyL = true
				break
			}
		}
		if (!anyL && !anyR) || ((!anyL || !anyR) && fillL == nil && fillR == nil) {
			continue
		}
		do := func(k outKey, lLabels, rLabels labels.Labels, lf, rf float64, sg int) {
			if swapped {
				lf, rf = rf, lf
			}
			v, keep := elemBinop(e.Op, lf, rf)
			if e.ReturnBool {
				v, keep = btos(keep), true
			}
			var metric labels.Labels
			lsetFn := func() labels.Labels {
				metric = resultMetric(lLabels, rLabels, e.Op, m)
				return metric
			}
			if m.Card == parser.CardOneToOne {
				if matched[sg] {
					ev.failf("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
				}
				matched[sg] = true
			} else {
				h := resultMetric(lLabels, rLabels, e.Op, m).Hash()
				if manyMatched[sg] == nil {
					manyMatched[sg] = map[uint64]struct{}{}
				}
				if _, dup := manyMatched[sg][h]; dup {
					ev.failf("multiple matches for labels: grouping labels must ensure unique matches")
				}
				manyMatched[sg][h] = struct{}{}
			}
			if !keep {
				return
			}
			emit(k, lsetFn, step, v, e.ReturnBool)
		}
		for i, s := range lhs {
			lf := s.V[step]
			if fn.IsAbsent(lf) {
				continue
			}
			sg := lsig[i]
			if j := right[sg]; j >= 0 {
				do(outKey{i, j}, s.Labels, rhs[j].Labels, lf, rhs[j].V[step], sg)
			} else if fillR != nil {
				do(outKey{i, -1}, s.Labels, matchLabels(s.Labels, m), lf, *fillR, sg)
			}
		}
		if fillL != nil {
			for j, s := range rhs {
				rf := s.V[step]
				if fn.IsAbsent(rf) {
					continue
				}
				sg := rsig[j]
				if (m.Card == parser.CardOneToOne && matched[sg]) || (m.Card != parser.CardOneToOne && len(manyMatched[sg]) > 0) {
					continue
				}
				do(outKey{-j - 1, j}, matchLabels(s.Labels, m), s.Labels, *fillL, rf, sg)
			}
		}
	}
	ev.addSamples(len(out) * g.n)
	return value{typ: parser.ValueTypeVector, series: out}
}

// matchLabels returns the labels a series is matched on.
func matchLabels(lset labels.Labels, m *parser.VectorMatching) labels.Labels {
	names := m.MatchingLabels
	if !m.On {
		names = append([]string{model.MetricNameLabel, model.MetricTypeLabel, model.MetricUnitLabel}, names...)
	}
	return lset.MatchLabels(m.On, names...)
}

// resultMetric is the label set of a vector-vector result, as Prometheus
// builds it: the left side's labels, without the metric name for
// arithmetic, reduced to the matching labels for one-to-one matching, plus
// the group_x labels from the "one" side.
func resultMetric(lhs, rhs labels.Labels, op parser.ItemType, m *parser.VectorMatching) labels.Labels {
	b := labels.NewBuilder(lhs)
	if changesMetricSchema(op) {
		b.Del(model.MetricNameLabel, model.MetricTypeLabel, model.MetricUnitLabel)
	}
	if m.Card == parser.CardOneToOne {
		if m.On {
			b.Keep(m.MatchingLabels...)
		} else {
			b.Del(m.MatchingLabels...)
		}
	}
	for _, name := range m.Include {
		if v := rhs.Get(name); v != "" {
			b.Set(name, v)
		} else {
			b.Del(name)
		}
	}
	return b.Labels()
}
