package fn

import (
	"math"
	"slices"
	"sort"

	"github.com/facette/natsort"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/util/annotations"
)

// The sort functions return their argument unchanged (metric name and
// DropName included) but reordered. Order only exists in an instant
// vector, so only a call over a single step sorts: Prometheus then returns
// the series in this order. Over several steps (a range query, or a
// subquery) Prometheus sorts its final result by labels whatever the
// functions did, and warns that sorting is pointless; these functions
// emit that warning and leave the series as they are.
//
// Within a step, sort and sort_desc order the same way as Prometheus's
// sort.Sort (an unstable sort, so equal values keep Prometheus's relative
// order only if the engine passes the series in Prometheus's order).
// sort_by_label orders by each label's value in natural order, then by
// the whole label set, which never ties.

func init() {
	Instant["sort"] = func(c *InstantCall) ([]Series, error) {
		return sortSeries(c, func(s []Series) { sort.Sort(byValue{s: s}) }), nil
	}
	Instant["sort_desc"] = func(c *InstantCall) ([]Series, error) {
		return sortSeries(c, func(s []Series) { sort.Sort(byValue{s: s, desc: true}) }), nil
	}
	Instant["sort_by_label"] = func(c *InstantCall) ([]Series, error) {
		return sortSeries(c, func(s []Series) { sortByLabel(s, sortLabels(c), false) }), nil
	}
	Instant["sort_by_label_desc"] = func(c *InstantCall) ([]Series, error) {
		return sortSeries(c, func(s []Series) { sortByLabel(s, sortLabels(c), true) }), nil
	}
}

// sortSeries returns copies of the argument's series with a sample, in
// the order sortFn gives them at a single step.
func sortSeries(c *InstantCall, sortFn func([]Series)) []Series {
	in := c.Args[0].Series
	out := make([]Series, 0, len(in))
	for _, s := range in {
		if hasSample(s.V) {
			out = append(out, Series{Labels: s.Labels, V: cloneValues(s.V), DropName: s.DropName})
		}
	}
	if len(c.Steps) != 1 {
		c.Annos.Add(annotations.NewSortInRangeQueryWarning(c.Expr.PositionRange()))
		return out
	}
	sortFn(out)
	return out
}

// byValue orders series by their value at the only step, NaN last in
// both directions.
type byValue struct {
	s    []Series
	desc bool
}

func (b byValue) Len() int      { return len(b.s) }
func (b byValue) Swap(i, j int) { b.s[i], b.s[j] = b.s[j], b.s[i] }

// Less is exactly Prometheus's comparison (a reversed heap order), so
// sort.Sort makes the same moves and leaves ties, NaNs included, where
// Prometheus leaves them.
func (b byValue) Less(i, j int) bool {
	vi, vj := b.s[i].V[0], b.s[j].V[0]
	if math.IsNaN(vj) {
		return true
	}
	if b.desc {
		return vj < vi
	}
	return vj > vi
}

// sortLabels returns the label names of a sort_by_label call.
func sortLabels(c *InstantCall) []string {
	names := make([]string, 0, len(c.Args)-1)
	for _, a := range c.Args[1:] {
		names = append(names, a.String)
	}
	return names
}

func sortByLabel(s []Series, names []string, desc bool) {
	slices.SortFunc(s, func(a, b Series) int {
		r := 0
		for _, n := range names {
			va, vb := a.Labels.Get(n), b.Labels.Get(n)
			if va == vb {
				continue
			}
			r = 1
			if natsort.Compare(va, vb) {
				r = -1
			}
			break
		}
		if r == 0 {
			r = labels.Compare(a.Labels, b.Labels)
		}
		if desc {
			return -r
		}
		return r
	})
}
