package query

import (
	"fmt"
	promvalue "github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/schema"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/almanacdb/almanac/query/internal/fn"
)

// info() is Prometheus's experimental function that adds to each series
// of its first argument the data labels of the info series describing
// it: the series of an info metric (target_info unless the second
// argument names others with __name__ matchers) with the same
// identifying labels. It is evaluated as Prometheus v0.316.0 evaluates
// it (promql/info.go):
//
//   - The identifying labels are instance and job, those of them a series
//     has: a series with only job matches the info series with that job
//     and no instance. A series with neither is never enriched.
//   - The second argument's other matchers select which info series are
//     read and which of their labels are added (all but the metadata
//     labels when there are none). Labels the series already has stay.
//   - Series that are themselves info series (their name matches every
//     __name__ matcher) pass through unchanged.
//   - At each step the newest sample of an info series within the
//     lookback delta counts; of two info series with equal name and
//     identifying labels the newer sample wins, equal times are an error,
//     as are two info metrics giving a label different values.
//   - A series no info series matches keeps its labels, unless a data
//     label matcher does not match the empty string: then it is dropped.
//   - Info series are read at the @ time and offset of the first
//     argument's selectors when they all share one reference time,
//     otherwise at each step's own time.

// targetInfo is the info metric info() reads without a __name__ matcher.
const targetInfo = "target_info"

// identifyingLabels are the labels that tie a series to its info series.
var identifyingLabels = [...]string{"instance", "job"}

// noSample marks a step where an info series has no sample.
const noSample = math.MinInt64

// infoSeries is one info series read for info(): for every step, the
// time of its sample that step reads, or noSample.
type infoSeries struct {
	lset labels.Labels
	sig  int // index of its (metric name, identifying labels) signature
	t    []int64
}

// info evaluates info() at every step of g.
func (ev *evaluator) info(e *parser.Call, g grid) value {
	at, offset := infoReference(e.Args[0])
	base := ev.eval(e.Args[0], g)

	var nameMatchers []*labels.Matcher
	dataMatchers := map[string][]*labels.Matcher{} // by label, __name__ excluded
	var dataList []*labels.Matcher
	if len(e.Args) > 1 {
		sel, ok := unwrap(e.Args[1]).(*parser.VectorSelector)
		if !ok {
			ev.failf("info(): the second argument must be a label selector, got %s", e.Args[1])
		}
		for _, m := range sel.LabelMatchers {
			if m.Name == labels.MetricName {
				nameMatchers = append(nameMatchers, m)
				continue
			}
			dataMatchers[m.Name] = append(dataMatchers[m.Name], m)
			dataList = append(dataList, m)
		}
	}
	nameMatchers = effectiveInfoNameMatchers(nameMatchers)

	// Info series are not enriched, and not looked up either.
	ignored := make([]bool, len(base.series))
	for i, s := range base.series {
		name := s.Labels.Get(labels.MetricName)
		ignored[i] = !slices.ContainsFunc(nameMatchers, func(m *labels.Matcher) bool { return !m.Matches(name) })
	}
	infos := ev.fetchInfoSeries(base.series, ignored, dataList, nameMatchers, at, offset, g)
	return ev.combineInfo(base.series, ignored, infos, dataMatchers, g)
}

// effectiveInfoNameMatchers returns the __name__ matchers info series
// must satisfy: the given ones when one of them is positive, the given
// ones and name=~".+_info" when all are negative, and name="target_info"
// when there are none.
func effectiveInfoNameMatchers(ms []*labels.Matcher) []*labels.Matcher {
	if slices.ContainsFunc(ms, func(m *labels.Matcher) bool {
		return m.Type == labels.MatchEqual || m.Type == labels.MatchRegexp
	}) {
		return ms
	}
	if len(ms) > 0 {
		return append([]*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".+_info")}, ms...)
	}
	return []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, targetInfo)}
}

// infoReference returns the @ time and offset info series are read at:
// those of the first argument's selectors when every path of it that
// produces a vector reaches a selector and all of them resolve to one
// reference time; otherwise nil and 0, the step's own time.
func infoReference(e parser.Expr) (at *int64, offset int64) {
	at, off, uniform := infoSelectorReference(e)
	if !uniform {
		return nil, 0
	}
	return at, off.Milliseconds()
}

// infoSelectorReference returns the reference (@ time and offset, those
// of enclosing subqueries included) of the first selector of e's
// vector-producing paths, and whether all of them share it. A path that
// produces a vector without a selector (vector(1)) reads at the step's
// time, so it makes the reference not uniform.
func infoSelectorReference(e parser.Expr) (at *int64, offset time.Duration, uniform bool) {
	type reference struct {
		at     *int64
		offset time.Duration
	}
	equal := func(a, b reference) bool {
		if a.at == nil || b.at == nil {
			return a.at == nil && b.at == nil && a.offset.Milliseconds() == b.offset.Milliseconds()
		}
		return *a.at-a.offset.Milliseconds() == *b.at-b.offset.Milliseconds()
	}
	var (
		first         reference
		found         bool
		referenceFree bool
	)
	uniform = true
	// walk reports whether e reaches a selector; path holds e's ancestors.
	var walk func(e parser.Expr, path []parser.Expr) bool
	walk = func(e parser.Expr, path []parser.Expr) bool {
		if t := e.Type(); t != parser.ValueTypeVector && t != parser.ValueTypeMatrix {
			return false
		}
		if vs, ok := e.(*parser.VectorSelector); ok {
			ref := reference{at: vs.Timestamp, offset: vs.OriginalOffset}
			// Enclosing subqueries shift the reference: their offsets add
			// up until an @ pins it.
			for i := len(path) - 1; ref.at == nil && i >= 0; i-- {
				if sq, ok := path[i].(*parser.SubqueryExpr); ok {
					ref.offset += sq.OriginalOffset
					ref.at = sq.Timestamp
				}
			}
			if !found {
				first, found = ref, true
			} else if !equal(first, ref) {
				uniform = false
			}
			return true
		}
		path = append(path, e)
		children := infoChildren(e)
		if c, ok := e.(*parser.Call); ok && c.Func.Name == "info" {
			// The second argument is selector syntax, not a vector.
			children = c.Args[:1]
		}
		hasSelector := false
		for _, c := range children {
			if walk(c, path) {
				hasSelector = true
			}
		}
		if !hasSelector {
			referenceFree = true
		}
		return hasSelector
	}
	walk(e, nil)
	if !found {
		return nil, 0, false
	}
	return first.at, first.offset, uniform && !referenceFree
}

// infoChildren returns the sub-expressions of e. Nodes of almanac's own
// have none here: they count as vectors without a selector.
func infoChildren(e parser.Expr) []parser.Expr {
	switch e := e.(type) {
	case *parser.AggregateExpr:
		var out []parser.Expr
		if e.Expr != nil {
			out = append(out, e.Expr)
		}
		if e.Param != nil {
			out = append(out, e.Param)
		}
		return out
	case *parser.BinaryExpr:
		return []parser.Expr{e.LHS, e.RHS}
	case *parser.Call:
		return e.Args
	case *parser.SubqueryExpr:
		return []parser.Expr{e.Expr}
	case *parser.ParenExpr:
		return []parser.Expr{e.Expr}
	case *parser.UnaryExpr:
		return []parser.Expr{e.Expr}
	case *parser.MatrixSelector:
		return []parser.Expr{e.VectorSelector}
	case *parser.StepInvariantExpr:
		return []parser.Expr{e.Expr}
	}
	return nil
}

// fetchInfoSeries reads the info series that may describe the
// non-ignored series of base: one select per pattern of identifying
// labels present, matching the values seen, the data matchers and the
// name matchers. Each is read at every step as an instant selector at
// the reference (at, offset) would be.
func (ev *evaluator) fetchInfoSeries(base []fn.Series, ignored []bool, dataList, nameMatchers []*labels.Matcher, at *int64, offset int64, g grid) []infoSeries {
	sets := ev.identifyingMatcherSets(base, ignored)
	refs := refTimes(g, at, offset)
	if len(sets) == 0 || len(refs) == 0 {
		return nil
	}
	lo, hi := slices.Min(refs), slices.Max(refs)
	var out []infoSeries
	for _, set := range sets {
		ms := make([]*labels.Matcher, 0, len(set)+len(dataList)+len(nameMatchers))
		ms = append(append(append(ms, set...), dataList...), nameMatchers...)
		ev.selectSeries(&parser.VectorSelector{LabelMatchers: ms}, lo-ev.lookback+1, hi, func(lset labels.Labels, ts []int64, vals []float64, _ []int64) {
			s := infoSeries{lset: lset.Copy(), t: make([]int64, len(refs))}
			present := false
			for i, r := range refs {
				s.t[i] = noSample
				j, _ := slices.BinarySearch(ts, r+1) // first sample after r
				if j == 0 {
					continue
				}
				if t := ts[j-1]; t > r-ev.lookback && !promvalue.IsStaleNaN(vals[j-1]) {
					s.t[i] = t
					present = true
				}
			}
			if present {
				out = append(out, s)
				ev.addSamples(len(refs))
			}
		})
	}
	return out
}

// identifyingMatcherSets returns, for each pattern of identifying labels
// present among the non-ignored series of base (in a fixed order), the
// matchers selecting their info series: a present label matches any
// value seen, an absent one the empty string. The sets are disjoint.
func (ev *evaluator) identifyingMatcherSets(base []fn.Series, ignored []bool) [][]*labels.Matcher {
	const patterns = 1 << len(identifyingLabels)
	// values[p][k]: the values of identifying label k among the series
	// with presence pattern p (bit k set: label k present).
	var values [patterns][len(identifyingLabels)]map[string]struct{}
	var seen [patterns]bool
	for i, s := range base {
		if ignored[i] || !slices.ContainsFunc(s.V, func(f float64) bool { return !fn.IsAbsent(f) }) {
			continue
		}
		var vs [len(identifyingLabels)]string
		p := 0
		for k, name := range identifyingLabels {
			if vs[k] = s.Labels.Get(name); vs[k] != "" {
				p |= 1 << k
			}
		}
		if p == 0 {
			continue
		}
		seen[p] = true
		for k, v := range vs {
			if v == "" {
				continue
			}
			if values[p][k] == nil {
				values[p][k] = map[string]struct{}{}
			}
			values[p][k][v] = struct{}{}
		}
	}
	// Prometheus orders the patterns job only, instance only, both.
	var sets [][]*labels.Matcher
	for _, p := range [...]int{0b10, 0b01, 0b11} {
		if !seen[p] {
			continue
		}
		set := make([]*labels.Matcher, 0, len(identifyingLabels))
		for k, name := range identifyingLabels {
			mt, re := labels.MatchEqual, ""
			if p&(1<<k) != 0 {
				vs := make([]string, 0, len(values[p][k]))
				for v := range values[p][k] {
					vs = append(vs, regexp.QuoteMeta(v))
				}
				slices.Sort(vs)
				mt, re = labels.MatchRegexp, strings.Join(vs, "|")
			}
			m, err := labels.NewMatcher(mt, name, re)
			if err != nil {
				ev.fail(err)
			}
			set = append(set, m)
		}
		sets = append(sets, set)
	}
	return sets
}

// combineInfo adds to each series of base, at every step, the data labels
// of the info series that describe it then.
func (ev *evaluator) combineInfo(base []fn.Series, ignored []bool, infos []infoSeries, dataMatchers map[string][]*labels.Matcher, g grid) value {
	// Signatures: metric name and identifying labels. An info series has
	// one; a base series one per info metric, kept when some info series
	// has it.
	sigs := map[string]int{}
	var buf []byte
	sigOf := func(name string, lset labels.Labels) string {
		b := labels.NewScratchBuilder(len(identifyingLabels) + 1)
		b.Add(labels.MetricName, name)
		for _, l := range identifyingLabels {
			if v := lset.Get(l); v != "" {
				b.Add(l, v)
			}
		}
		b.Sort()
		buf = b.Labels().Bytes(buf)
		return string(buf)
	}
	var names []string
	for i := range infos {
		name := infos[i].lset.Get(labels.MetricName)
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		key := sigOf(name, infos[i].lset)
		id, ok := sigs[key]
		if !ok {
			id = len(sigs)
			sigs[key] = id
		}
		infos[i].sig = id
	}
	slices.Sort(names)
	baseSigs := make([][]int, len(base))
	for i, s := range base {
		if ignored[i] {
			continue
		}
		for _, name := range names {
			if id, ok := sigs[sigOf(name, s.Labels)]; ok {
				baseSigs[i] = append(baseSigs[i], id)
			}
		}
	}
	keepUnmatched := true // no data label matcher requires a value
	for _, ms := range dataMatchers {
		for _, m := range ms {
			keepUnmatched = keepUnmatched && m.Matches("")
		}
	}

	var out []fn.Series
	byHash := map[uint64][]int{}
	// output returns the index in out of the series labelled lset.
	output := func(lset labels.Labels, dropName bool) int {
		h := lset.Hash()
		for _, o := range byHash[h] {
			if labels.Equal(out[o].Labels, lset) {
				return o
			}
		}
		out = append(out, fn.Series{Labels: lset, V: fn.NewValues(g.n), DropName: dropName})
		byHash[h] = append(byHash[h], len(out)-1)
		return len(out) - 1
	}
	// Each base series' info series at the previous step and the output
	// they gave (-1: dropped), so that labels are built only on change.
	prevInfo := make([][]int, len(base))
	prevOut := make([]int, len(base))
	for i := range prevOut {
		prevOut[i] = -2 // none yet
	}
	newest := make([]int, len(sigs)) // per signature, the info series chosen at a step
	var cur []int
	for step := range g.n {
		if step%1024 == 0 {
			ev.checkCtx()
		}
		if !slices.ContainsFunc(base, func(s fn.Series) bool { return !fn.IsAbsent(s.V[step]) }) {
			continue
		}
		for i := range newest {
			newest[i] = -1
		}
		for i := range infos {
			t := infos[i].t[step]
			if t == noSample {
				continue
			}
			sig := infos[i].sig
			if j := newest[sig]; j >= 0 {
				switch tj := infos[j].t[step]; {
				case tj > t:
					continue
				case tj == t:
					ev.failf("found duplicate series for info metric: existing %s @ %d, new %s @ %d", infos[j].lset, tj, infos[i].lset, t)
				}
			}
			newest[sig] = i
		}
		for b, s := range base {
			f := s.V[step]
			if fn.IsAbsent(f) {
				continue
			}
			var o int
			if ignored[b] {
				if prevOut[b] < 0 {
					prevOut[b] = output(s.Labels, s.DropName)
				}
				o = prevOut[b]
			} else {
				cur = cur[:0]
				for _, sig := range baseSigs[b] {
					if j := newest[sig]; j >= 0 {
						cur = append(cur, j)
					}
				}
				if prevOut[b] == -2 || !slices.Equal(cur, prevInfo[b]) {
					prevInfo[b] = append(prevInfo[b][:0], cur...)
					prevOut[b] = -1
					if len(cur) > 0 || keepUnmatched {
						lset := ev.infoLabels(s.Labels, infos, cur, dataMatchers)
						prevOut[b] = output(lset, s.DropName)
					}
				}
				o = prevOut[b]
			}
			if o < 0 {
				continue
			}
			if !fn.IsAbsent(out[o].V[step]) {
				ev.failf("vector cannot contain metrics with the same labelset")
			}
			out[o].V[step] = f
		}
	}
	ev.addSamples(len(out) * g.n)
	return value{typ: parser.ValueTypeVector, series: out}
}

// infoLabels returns lset with the data labels of the info series
// infos[i] for i in which: those the data matchers name (all when there
// are none), metadata labels and labels lset has excepted. Two info
// series giving a label different values are an error.
func (ev *evaluator) infoLabels(lset labels.Labels, infos []infoSeries, which []int, dataMatchers map[string][]*labels.Matcher) labels.Labels {
	if len(which) == 0 {
		return lset
	}
	add := labels.NewBuilder(labels.EmptyLabels())
	for _, i := range which {
		infos[i].lset.Range(func(l labels.Label) {
			if schema.IsMetadataLabel(l.Name) {
				return
			}
			if _, ok := dataMatchers[l.Name]; len(dataMatchers) > 0 && !ok {
				return
			}
			if v := add.Get(l.Name); v != "" && v != l.Value {
				ev.fail(fmt.Errorf("conflicting label: %s", l.Name))
			}
			if lset.Has(l.Name) {
				return
			}
			add.Set(l.Name, l.Value)
		})
	}
	b := labels.NewBuilder(lset)
	add.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
	return b.Labels()
}
