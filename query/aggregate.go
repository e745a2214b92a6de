package query

import (
	"container/heap"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"
	"github.com/prometheus/prometheus/util/kahansum"

	"github.com/almanacdb/almanac/query/internal/fn"
)

var nan = math.NaN()

// grouping maps each input series to its output group.
type grouping struct {
	of     []int           // group of each input series
	labels []labels.Labels // labels of each group
}

func groupSeries(in []fn.Series, e *parser.AggregateExpr, keepLabels bool) grouping {
	names := slices.Clone(e.Grouping)
	if e.Without {
		names = append(names, model.MetricNameLabel, model.MetricTypeLabel, model.MetricUnitLabel)
	}
	slices.Sort(names)
	g := grouping{of: make([]int, len(in))}
	index := map[uint64]int{}
	var buf []byte
	for i, s := range in {
		var key uint64
		switch {
		case e.Without:
			key, buf = s.Labels.HashWithoutLabels(buf, names...)
		case len(names) > 0:
			key, buf = s.Labels.HashForLabels(buf, names...)
		}
		gi, ok := index[key]
		if !ok {
			gi = len(g.labels)
			index[key] = gi
			var lset labels.Labels
			if !keepLabels {
				b := labels.NewBuilder(s.Labels)
				switch {
				case e.Without:
					b.Del(names...)
				case len(names) > 0:
					b.Keep(names...)
				default:
					b.Reset(labels.EmptyLabels())
				}
				lset = b.Labels()
			}
			g.labels = append(g.labels, lset)
		}
		g.of[i] = gi
	}
	return g
}

// aggregate evaluates an aggregation at every step of g.
func (ev *evaluator) aggregate(e *parser.AggregateExpr, g grid) value {
	var param value
	if e.Param != nil {
		param = ev.eval(e.Param, g)
	}
	in := ev.eval(e.Expr, g).series
	switch e.Op {
	case parser.COUNT_VALUES:
		return ev.countValues(e, param.str, in, g)
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
		return ev.aggregateK(e, param.scalar, in, g)
	}
	if e.Op == parser.QUANTILE {
		ev.checkQuantileParam(param.scalar, e.Param)
	}
	grp := groupSeries(in, e, false)
	out := make([]fn.Series, len(grp.labels))
	for i := range out {
		out[i] = fn.Series{Labels: grp.labels[i], V: fn.NewValues(g.n)}
	}
	type acc struct {
		seen                bool
		value, mean, kahanC float64
		count               float64
		incremental         bool
		values              []float64
		dropName            bool
	}
	accs := make([]acc, len(out))
	for step := range g.n {
		if step%1024 == 0 {
			ev.checkCtx()
		}
		clear(accs)
		for si, s := range in {
			f := s.V[step]
			if fn.IsAbsent(f) {
				continue
			}
			a := &accs[grp.of[si]]
			if !a.seen {
				*a = acc{seen: true, value: f, mean: f, count: 1, dropName: s.DropName, values: a.values[:0]}
				switch e.Op {
				case parser.STDVAR, parser.STDDEV:
					if math.IsNaN(f) || math.IsInf(f, 0) {
						a.value = nan
					} else {
						a.value = 0
					}
				case parser.QUANTILE:
					a.values = append(a.values, f)
				case parser.GROUP:
					a.value = 1
				}
				continue
			}
			if s.DropName {
				a.dropName = true
			}
			switch e.Op {
			case parser.SUM:
				a.value, a.kahanC = kahansum.Inc(f, a.value, a.kahanC)
			case parser.AVG:
				a.count++
				if !a.incremental {
					v, c := kahansum.Inc(f, a.value, a.kahanC)
					if !math.IsInf(v, 0) {
						a.value, a.kahanC = v, c
						break
					}
					a.incremental = true
					a.mean = a.value / (a.count - 1)
					a.kahanC /= a.count - 1
				}
				q := (a.count - 1) / a.count
				a.mean, a.kahanC = kahansum.Inc(f/a.count, q*a.mean, q*a.kahanC)
			case parser.MAX:
				if a.value < f || math.IsNaN(a.value) {
					a.value = f
				}
			case parser.MIN:
				if a.value > f || math.IsNaN(a.value) {
					a.value = f
				}
			case parser.COUNT:
				a.count++
			case parser.STDVAR, parser.STDDEV:
				a.count++
				delta := f - a.mean
				a.mean += delta / a.count
				a.value += delta * (f - a.mean)
			case parser.QUANTILE:
				a.values = append(a.values, f)
			}
		}
		for gi := range accs {
			a := &accs[gi]
			if !a.seen {
				continue
			}
			f := a.value
			switch e.Op {
			case parser.SUM:
				f = a.value + a.kahanC
			case parser.AVG:
				if a.incremental {
					f = a.mean + a.kahanC
				} else {
					f = a.value/a.count + a.kahanC/a.count
				}
			case parser.COUNT:
				f = a.count
			case parser.STDVAR:
				f = a.value / a.count
			case parser.STDDEV:
				f = math.Sqrt(a.value / a.count)
			case parser.QUANTILE:
				f = quantile(param.scalar[step], a.values)
			}
			out[gi].V[step] = f
			if a.dropName {
				out[gi].DropName = true
			}
		}
	}
	return ev.vector(out, g)
}

// checkQuantileParam warns, as Prometheus does, of φ outside [0, 1].
func (ev *evaluator) checkQuantileParam(q []float64, e parser.Expr) {
	var a annotations.Annotations
	if slices.ContainsFunc(q, math.IsNaN) {
		a.Add(annotations.NewInvalidQuantileWarning(nan, e.PositionRange()))
	}
	if len(q) > 0 {
		if mx := maxOf(q); mx > 1 {
			a.Add(annotations.NewInvalidQuantileWarning(mx, e.PositionRange()))
		}
		if mn := minOf(q); mn < 0 {
			a.Add(annotations.NewInvalidQuantileWarning(mn, e.PositionRange()))
		}
	}
	ev.warn(a)
}

// maxOf and minOf are a parameter's bounds as Prometheus computes them:
// NaN when any value is NaN.
func maxOf(v []float64) float64 {
	m := -math.MaxFloat64
	for _, f := range v {
		m = math.Max(m, f)
	}
	return m
}

func minOf(v []float64) float64 {
	m := math.MaxFloat64
	for _, f := range v {
		m = math.Min(m, f)
	}
	return m
}

// quantile is Prometheus's φ-quantile of values (sorted in place):
// linear interpolation between the closest ranks.
func quantile(q float64, values []float64) float64 {
	if len(values) == 0 || math.IsNaN(q) {
		return nan
	}
	if q < 0 {
		return math.Inf(-1)
	}
	if q > 1 {
		return math.Inf(1)
	}
	sort.Slice(values, func(i, j int) bool { return math.IsNaN(values[i]) || values[i] < values[j] })
	n := float64(len(values))
	rank := q * (n - 1)
	lower := math.Max(0, math.Floor(rank))
	upper := math.Min(n-1, lower+1)
	weight := rank - math.Floor(rank)
	if weight == 0 {
		return values[int(lower)]
	}
	return values[int(lower)]*(1-weight) + values[int(upper)]*weight
}

// countValues is count_values: per group and step, how many series have
// each value, the value written into a label.
func (ev *evaluator) countValues(e *parser.AggregateExpr, label string, in []fn.Series, g grid) value {
	if !model.UTF8Validation.IsValidLabelName(label) {
		ev.failf("invalid label name %q", label)
	}
	names := slices.Clone(e.Grouping)
	if e.Without {
		names = append(names, model.MetricNameLabel, model.MetricTypeLabel, model.MetricUnitLabel)
	} else {
		names = append(names, label)
	}
	slices.Sort(names)
	index := map[uint64]int{}
	var out []fn.Series
	var buf []byte
	for step := range g.n {
		counts := map[int]float64{}
		for _, s := range in {
			f := s.V[step]
			if fn.IsAbsent(f) {
				continue
			}
			b := labels.NewBuilder(s.Labels)
			b.Set(label, strconv.FormatFloat(f, 'f', -1, 64))
			lset := b.Labels()
			var key uint64
			switch {
			case e.Without:
				key, buf = lset.HashWithoutLabels(buf, names...)
			default:
				key, buf = lset.HashForLabels(buf, names...)
			}
			gi, ok := index[key]
			if !ok {
				switch {
				case e.Without:
					b.Del(names...)
				default:
					b.Keep(names...)
				}
				gi = len(out)
				index[key] = gi
				out = append(out, fn.Series{Labels: b.Labels(), V: fn.NewValues(g.n)})
			}
			counts[gi]++
		}
		for gi, c := range counts {
			out[gi].V[step] = c
		}
	}
	ev.addSamples(len(out) * g.n)
	return value{typ: parser.ValueTypeVector, series: out}
}

// kItem is one series' value in a topk/bottomk/limitk heap.
type kItem struct {
	series int
	f      float64
}

// topHeap keeps the smallest value on top (NaN smallest), as
// Prometheus's vectorByValueHeap; bottomHeap the biggest.
type topHeap []kItem

func (h topHeap) Len() int { return len(h) }
func (h topHeap) Less(i, j int) bool {
	return math.IsNaN(h[i].f) || h[i].f < h[j].f
}
func (h topHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *topHeap) Push(x any)   { *h = append(*h, x.(kItem)) }
func (h *topHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type bottomHeap struct{ *topHeap }

func (h bottomHeap) Less(i, j int) bool {
	s := *h.topHeap
	return math.IsNaN(s[i].f) || s[i].f > s[j].f
}

// aggregateK evaluates topk, bottomk, limitk and limit_ratio: per group
// and step, some of the input series, unchanged.
func (ev *evaluator) aggregateK(e *parser.AggregateExpr, param []float64, in []fn.Series, g grid) value {
	var a annotations.Annotations
	switch e.Op {
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK:
		if maxOf(param) < 1 {
			return value{typ: parser.ValueTypeVector}
		}
		if slices.ContainsFunc(param, math.IsNaN) {
			ev.failf("Parameter value is NaN")
		}
		if p := minOf(param); p <= math.MinInt64 {
			ev.failf("Scalar value %v underflows int64", p)
		}
		if p := maxOf(param); p >= math.MaxInt64 {
			ev.failf("Scalar value %v overflows int64", p)
		}
	case parser.LIMIT_RATIO:
		if maxOf(param) == 0 && minOf(param) == 0 {
			return value{typ: parser.ValueTypeVector}
		}
		if slices.ContainsFunc(param, math.IsNaN) {
			ev.failf("Ratio value is NaN")
		}
		if p := maxOf(param); p > 1 {
			a.Add(annotations.NewInvalidRatioWarning(p, 1, e.Param.PositionRange()))
		}
		if p := minOf(param); p < -1 {
			a.Add(annotations.NewInvalidRatioWarning(p, -1, e.Param.PositionRange()))
		}
	}
	ev.warn(a)
	grp := groupSeries(in, e, true)
	out := make([]fn.Series, len(in)) // output series i is input series i
	order := []int{}                  // first output order, for instant queries
	inOrder := make([]bool, len(in))
	heaps := make([]topHeap, len(grp.labels))
	var offsets []float64
	if e.Op == parser.LIMIT_RATIO {
		sampler := promql.NewHashRatioSampler()
		offsets = make([]float64, len(in))
		for i := range in {
			offsets[i] = sampler.SampleOffset(&in[i].Labels)
		}
	}
	for step := range g.n {
		p := param[step]
		for i := range heaps {
			heaps[i] = heaps[i][:0]
		}
		var k int
		var r float64
		switch e.Op {
		case parser.TOPK, parser.BOTTOMK, parser.LIMITK:
			k = int(min(int64(p), int64(len(in))))
			if k < 1 {
				continue
			}
		case parser.LIMIT_RATIO:
			if p == 0 {
				continue
			}
			r = max(-1, min(1, p))
		}
		for si, s := range in {
			f := s.V[step]
			if fn.IsAbsent(f) {
				continue
			}
			h := &heaps[grp.of[si]]
			item := kItem{series: si, f: f}
			switch e.Op {
			case parser.TOPK:
				switch {
				case len(*h) < k:
					heap.Push(h, item)
				case (*h)[0].f < f || (math.IsNaN((*h)[0].f) && !math.IsNaN(f)):
					(*h)[0] = item
					if k > 1 {
						heap.Fix(h, 0)
					}
				}
			case parser.BOTTOMK:
				bh := bottomHeap{h}
				switch {
				case len(*h) < k:
					heap.Push(bh, item)
				case (*h)[0].f > f || (math.IsNaN((*h)[0].f) && !math.IsNaN(f)):
					(*h)[0] = item
					if k > 1 {
						heap.Fix(bh, 0)
					}
				}
			case parser.LIMITK:
				if len(*h) < k {
					*h = append(*h, item)
				}
			case parser.LIMIT_RATIO:
				if promql.NewHashRatioSampler().AddRatioSampleWithOffset(r, offsets[si]) {
					*h = append(*h, item)
				}
			}
		}
		for gi := range heaps {
			h := heaps[gi]
			switch e.Op {
			case parser.TOPK:
				sort.Sort(sort.Reverse(h))
			case parser.BOTTOMK:
				sort.Sort(sort.Reverse(bottomHeap{&h}))
			}
			for _, it := range h {
				if out[it.series].V == nil {
					out[it.series] = fn.Series{Labels: in[it.series].Labels, V: fn.NewValues(g.n), DropName: in[it.series].DropName}
				}
				out[it.series].V[step] = it.f
				if !inOrder[it.series] {
					inOrder[it.series] = true
					order = append(order, it.series)
				}
			}
		}
	}
	res := make([]fn.Series, 0, len(order))
	for _, i := range order {
		res = append(res, out[i])
	}
	ev.addSamples(len(res) * g.n)
	return value{typ: parser.ValueTypeVector, series: res}
}
