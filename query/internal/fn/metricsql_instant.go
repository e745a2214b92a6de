package fn

import (
	"fmt"
	"math"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// The MetricsQL transformation and label functions (docs/metricsql.md),
// as VictoriaMetrics documents them. They see every step of a series at
// once: the "range" of range_first and range_last is the steps the call
// is evaluated at (the query's, or a subquery's). As in VictoriaMetrics,
// where a NaN is a gap, a NaN value counts as missing.
//
// The label functions and union see the labels a series is returned
// with: a series whose metric name is to be dropped (DropName) has
// already lost it, as in VictoriaMetrics, where functions drop the name
// at once.

func init() {
	Instant["range_first"] = func(c *InstantCall) ([]Series, error) {
		return mqlMapValues(c.Args[0].Series, false, func(v []float64) {
			if j := mqlFirst(v); j >= 0 {
				mqlFillAll(v, v[j])
			}
		}), nil
	}
	Instant["range_last"] = func(c *InstantCall) ([]Series, error) {
		return mqlMapValues(c.Args[0].Series, false, func(v []float64) {
			if j := mqlLast(v); j >= 0 {
				mqlFillAll(v, v[j])
			}
		}), nil
	}
	Instant["running_sum"] = func(c *InstantCall) ([]Series, error) {
		return mqlMapValues(c.Args[0].Series, true, mqlRunningSum), nil
	}
	Instant["keep_last_value"] = func(c *InstantCall) ([]Series, error) {
		return mqlMapValues(c.Args[0].Series, false, mqlKeepLastValue), nil
	}
	Instant["interpolate"] = func(c *InstantCall) ([]Series, error) {
		return mqlMapValues(c.Args[0].Series, false, mqlInterpolate), nil
	}
	Instant["union"] = mqlUnion
	Instant["label_set"] = mqlLabelSet
	Instant["label_del"] = func(c *InstantCall) ([]Series, error) {
		return mqlRelabel(c, "label_del", func(b *labels.Builder, names []string) { b.Del(names...) })
	}
	Instant["label_keep"] = func(c *InstantCall) ([]Series, error) {
		return mqlRelabel(c, "label_keep", func(b *labels.Builder, names []string) { b.Keep(names...) })
	}
	Instant["label_copy"] = func(c *InstantCall) ([]Series, error) { return mqlLabelCopy(c, "label_copy", false) }
	Instant["label_move"] = func(c *InstantCall) ([]Series, error) { return mqlLabelCopy(c, "label_move", true) }
}

// mqlMissing reports a step without a value in MetricsQL's sense.
func mqlMissing(x float64) bool { return math.IsNaN(x) } // Absent is a NaN too

func mqlFirst(v []float64) int {
	for i, x := range v {
		if !mqlMissing(x) {
			return i
		}
	}
	return -1
}

func mqlLast(v []float64) int {
	for i := len(v) - 1; i >= 0; i-- {
		if !mqlMissing(v[i]) {
			return i
		}
	}
	return -1
}

func mqlFillAll(v []float64, x float64) {
	for i := range v {
		v[i] = x
	}
}

// mqlMapValues returns a copy of each series of in transformed by k; NaN
// values are made Absent first, copies left without a sample are
// dropped. dropName says the result drops the metric name; otherwise it
// keeps each series' DropName.
func mqlMapValues(in []Series, dropName bool, k func(v []float64)) []Series {
	out := make([]Series, 0, len(in))
	for _, s := range in {
		v := make([]float64, len(s.V))
		for i, x := range s.V {
			if mqlMissing(x) {
				x = Absent
			}
			v[i] = x
		}
		k(v)
		if hasSample(v) {
			out = append(out, Series{Labels: s.Labels, V: v, DropName: dropName || s.DropName})
		}
	}
	return out
}

// mqlRunningSum is running_sum: from the first value on, each step holds the
// sum of the values so far; a step without a value repeats the sum.
func mqlRunningSum(v []float64) {
	j := mqlFirst(v)
	if j < 0 {
		return
	}
	sum := v[j]
	for i := j + 1; i < len(v); i++ {
		if !mqlMissing(v[i]) {
			sum += v[i]
		}
		v[i] = sum
	}
}

// mqlKeepLastValue is keep_last_value: a step without a value after the
// first value takes the last value before it.
func mqlKeepLastValue(v []float64) {
	j := mqlFirst(v)
	if j < 0 {
		return
	}
	last := v[j]
	for i := j + 1; i < len(v); i++ {
		if mqlMissing(v[i]) {
			v[i] = last
		} else {
			last = v[i]
		}
	}
}

// mqlInterpolate fills the gaps between the first and the last value on a
// straight line between the values around each gap (steps are evenly
// spaced, so step indexes stand for time).
func mqlInterpolate(v []float64) {
	first, last := mqlFirst(v), mqlLast(v)
	if first < 0 {
		return
	}
	for i := first + 1; i < last; i++ {
		if !mqlMissing(v[i]) {
			continue
		}
		j := i + 1
		for mqlMissing(v[j]) {
			j++
		}
		prev, next := v[i-1], v[j]
		delta := (next - prev) / float64(j-i+1)
		for ; i < j; i++ {
			prev += delta
			v[i] = prev
		}
	}
}

// mqlVisibleLabels returns the labels s is returned with: without the
// metric name (and the type-and-unit labels) when DropName is set.
func mqlVisibleLabels(s Series) labels.Labels {
	if !s.DropName {
		return s.Labels
	}
	return s.Labels.DropReserved(func(name string) bool {
		return name == labels.MetricName || name == "__type__" || name == "__unit__"
	})
}

// mqlUnion is union(q1, ..., qN): the series of every argument; of
// series with the same labels, the first one's.
func mqlUnion(c *InstantCall) ([]Series, error) {
	var out []Series
	seen := map[uint64][]int{}
	for _, a := range c.Args {
		for _, s := range a.Series {
			if !hasSample(s.V) {
				continue
			}
			lset := mqlVisibleLabels(s)
			h := lset.Hash()
			dup := false
			for _, j := range seen[h] {
				if labels.Equal(out[j].Labels, lset) {
					dup = true
					break
				}
			}
			if dup {
				continue
			}
			seen[h] = append(seen[h], len(out))
			out = append(out, Series{Labels: lset, V: cloneValues(s.V)})
		}
	}
	return out, nil
}

// mqlLabelArgs returns the string arguments after the first, checking they
// are label names; pairs requires an even number of them.
func mqlLabelArgs(c *InstantCall, fname string, pairs bool, valuesAt func(i int) bool) ([]string, error) {
	var out []string
	for i, a := range c.Args[1:] {
		if (valuesAt == nil || !valuesAt(i)) && !model.UTF8Validation.IsValidLabelName(a.String) {
			return nil, fmt.Errorf("invalid label name in %s(): %q", fname, a.String)
		}
		out = append(out, a.String)
	}
	if pairs && len(out)%2 != 0 {
		return nil, fmt.Errorf("%s() needs pairs of arguments after the series, got %d", fname, len(out))
	}
	return out, nil
}

// mqlRelabel returns each series of the first argument with its labels
// changed by k, given the label name arguments.
func mqlRelabel(c *InstantCall, fname string, k func(b *labels.Builder, names []string)) ([]Series, error) {
	names, err := mqlLabelArgs(c, fname, false, nil)
	if err != nil {
		return nil, err
	}
	b := labels.NewBuilder(labels.EmptyLabels())
	return mqlMapLabels(c.Args[0].Series, func(lset labels.Labels) labels.Labels {
		b.Reset(lset)
		k(b, names)
		return b.Labels()
	}), nil
}

// mqlMapLabels returns each series of in that has a sample, with the labels
// it is returned with rewritten by k. The results keep their metric name.
func mqlMapLabels(in []Series, k func(labels.Labels) labels.Labels) []Series {
	out := make([]Series, 0, len(in))
	for _, s := range in {
		if hasSample(s.V) {
			out = append(out, Series{Labels: k(mqlVisibleLabels(s)), V: cloneValues(s.V)})
		}
	}
	return out
}

// mqlLabelSet is label_set(q, "name1", "value1", ...): each named label
// set to its value; an empty value removes the label.
func mqlLabelSet(c *InstantCall) ([]Series, error) {
	args, err := mqlLabelArgs(c, "label_set", true, func(i int) bool { return i%2 == 1 })
	if err != nil {
		return nil, err
	}
	b := labels.NewBuilder(labels.EmptyLabels())
	return mqlMapLabels(c.Args[0].Series, func(lset labels.Labels) labels.Labels {
		b.Reset(lset)
		for i := 0; i < len(args); i += 2 {
			b.Set(args[i], args[i+1])
		}
		return b.Labels()
	}), nil
}

// mqlLabelCopy is label_copy(q, "src1", "dst1", ...) and, with move,
// label_move: each dst label set to its src label's value, src removed
// when moving; a missing or empty src leaves dst untouched. Pairs apply
// in order, each to the labels the previous ones left.
func mqlLabelCopy(c *InstantCall, fname string, move bool) ([]Series, error) {
	args, err := mqlLabelArgs(c, fname, true, nil)
	if err != nil {
		return nil, err
	}
	b := labels.NewBuilder(labels.EmptyLabels())
	return mqlMapLabels(c.Args[0].Series, func(lset labels.Labels) labels.Labels {
		b.Reset(lset)
		for i := 0; i < len(args); i += 2 {
			src, dst := args[i], args[i+1]
			v := b.Get(src) // earlier pairs may have changed it
			if v == "" {
				continue
			}
			b.Set(dst, v)
			if move && src != dst {
				b.Del(src)
			}
		}
		return b.Labels()
	}), nil
}
