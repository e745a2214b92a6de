package fn

import (
	"math"
	"strconv"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser/posrange"
	"github.com/prometheus/prometheus/util/annotations"
)

// The histogram functions over classic histograms: float series, one per
// bucket, whose le label is the bucket's upper bound and whose value is
// the cumulative count of observations up to it. Series that differ only
// in le are one histogram. Native histograms never reach these functions
// (a Series holds floats only).
//
// The histogram keeps its metric name in its labels (Prometheus's delayed
// name removal): foo_bucket and bar_bucket with otherwise equal labels are
// two histograms, whose results collide only when the name is dropped at
// the end. Every result drops the name.
//
// Per step, a histogram is the buckets with a sample at that step; a
// histogram with no bucket at a step has no result there. The bucket
// arithmetic is in histogram_bucket.go.

func init() {
	Instant["histogram_quantile"] = funcHistogramQuantile
	Instant["histogram_quantiles"] = funcHistogramQuantiles
	Instant["histogram_fraction"] = funcHistogramFraction

	// These read native histograms only. Over float samples Prometheus
	// returns nothing, without an annotation.
	for _, name := range []string{
		"histogram_count", "histogram_sum", "histogram_avg",
		"histogram_stddev", "histogram_stdvar",
	} {
		Instant[name] = func(*InstantCall) ([]Series, error) { return nil, nil }
	}
}

// classicHistogram is the buckets of one classic histogram.
type classicHistogram struct {
	labels labels.Labels // a bucket's labels without le
	series []int         // the buckets' indexes in the argument, in its order
	uppers []float64     // their upper bounds
}

// groupClassic groups the series of in into classic histograms, in order
// of first appearance. A series whose le is missing, unparsable or NaN is
// left out with a warning (at pos, the argument's position), if it has a
// sample at all: Prometheus warns at each step, about each sample, and
// annotations with the same text are one.
func groupClassic(in []Series, annos *annotations.Annotations, pos posrange.PositionRange) []*classicHistogram {
	var (
		hs    []*classicHistogram
		byKey = map[string]*classicHistogram{}
		buf   []byte
	)
	for i, s := range in {
		if !hasSample(s.V) {
			continue
		}
		le := s.Labels.Get(model.BucketLabel)
		upper, err := strconv.ParseFloat(le, 64)
		if err != nil || math.IsNaN(upper) {
			annos.Add(annotations.NewBadBucketLabelWarning(s.Labels.Get(model.MetricNameLabel), le, pos))
			continue
		}
		buf = s.Labels.BytesWithoutLabels(buf, model.BucketLabel)
		h, ok := byKey[string(buf)]
		if !ok {
			h = &classicHistogram{labels: labels.NewBuilder(s.Labels).Del(model.BucketLabel).Labels()}
			byKey[string(buf)] = h
			hs = append(hs, h)
		}
		h.series = append(h.series, i)
		h.uppers = append(h.uppers, upper)
	}
	return hs
}

// bucketsAt appends to dst h's buckets with a sample at step i.
func (h *classicHistogram) bucketsAt(dst []bucket, in []Series, i int) []bucket {
	for k, si := range h.series {
		if v := in[si].V[i]; !IsAbsent(v) {
			dst = append(dst, bucket{upper: h.uppers[k], count: v})
		}
	}
	return dst
}

// funcHistogramQuantile is histogram_quantile(q, v).
func funcHistogramQuantile(c *InstantCall) ([]Series, error) {
	q, in := c.Args[0].Scalar, c.Args[1].Series
	warnInvalidQuantiles(c, q, c.Expr.Args[0].PositionRange())
	pos := c.Expr.Args[1].PositionRange()
	hs := groupClassic(in, c.Annos, pos)
	var (
		out   = make([]Series, 0, len(hs))
		infos = make(monotonicityInfos, len(c.Steps))
		buf   []bucket
	)
	for _, h := range hs {
		v := NewValues(len(c.Steps))
		name := h.labels.Get(model.MetricNameLabel)
		for i := range v {
			buf = h.bucketsAt(buf[:0], in, i)
			if len(buf) == 0 {
				continue
			}
			var fix monotonicityFix
			v[i], fix = bucketQuantile(q[i], buf)
			infos.add(i, fix, name, pos, c.Steps[i])
		}
		out = append(out, Series{Labels: h.labels, V: v, DropName: true})
	}
	infos.mergeInto(c.Annos)
	return out, nil
}

// funcHistogramQuantiles is histogram_quantiles(v, label, q...): for each
// quantile q, histogram_quantile(q, v) with label set to q.
//
// A quantile's label value follows its value at each step, so a quantile
// that varies over the steps yields several series. Two equal quantiles
// yield series with the same labels, which Prometheus rejects (see
// instant.go).
func funcHistogramQuantiles(c *InstantCall) ([]Series, error) {
	in, qLabel, qs := c.Args[0].Series, c.Args[1].String, c.Args[2:]
	for j, q := range qs {
		warnInvalidQuantiles(c, q.Scalar, c.Expr.Args[2+j].PositionRange())
	}
	pos := c.Expr.Args[0].PositionRange()
	hs := groupClassic(in, c.Annos, pos)

	// out[k] is the series of one histogram, quantile argument and label
	// value: the key of k in index. cur[j] is the series quantile j wrote
	// last, for the quantile with bits qBits[j], so that a quantile that
	// stays the same (the usual case) is not formatted at each step.
	type key struct {
		h, q  int
		value string
	}
	var (
		out   []Series
		index = map[key]int{}
		cur   = make([]int, len(qs))
		qBits = make([]uint64, len(qs))
		infos = make(monotonicityInfos, len(c.Steps))
		buf   []bucket
		lb    = labels.NewBuilder(labels.EmptyLabels())
	)
	for hi, h := range hs {
		name := h.labels.Get(model.MetricNameLabel)
		for j := range cur {
			cur[j] = -1
		}
		for i := range c.Steps {
			buf = h.bucketsAt(buf[:0], in, i)
			if len(buf) == 0 {
				continue
			}
			// The quantiles are taken in argument order from the same
			// buckets, which each one leaves sorted, merged and made
			// monotonic, as Prometheus's do: after the first one, a bucket
			// list with repeated upper bounds is not what it was (see
			// histogram_bucket.go).
			for j, q := range qs {
				qv := q.Scalar[i]
				value, fix := bucketQuantile(qv, buf)
				infos.add(i, fix, name, pos, c.Steps[i])

				if b := math.Float64bits(qv); cur[j] < 0 || b != qBits[j] {
					k := key{h: hi, q: j, value: labels.FormatOpenMetricsFloat(qv)}
					o, ok := index[k]
					if !ok {
						o = len(out)
						index[k] = o
						lb.Reset(h.labels)
						lb.Set(qLabel, k.value)
						out = append(out, Series{Labels: lb.Labels(), V: NewValues(len(c.Steps)), DropName: true})
					}
					cur[j], qBits[j] = o, b
				}
				out[cur[j]].V[i] = value
			}
		}
	}
	infos.mergeInto(c.Annos)
	return out, nil
}

// funcHistogramFraction is histogram_fraction(lower, upper, v).
func funcHistogramFraction(c *InstantCall) ([]Series, error) {
	lower, upper, in := c.Args[0].Scalar, c.Args[1].Scalar, c.Args[2].Series
	hs := groupClassic(in, c.Annos, c.Expr.Args[2].PositionRange())
	out := make([]Series, 0, len(hs))
	var buf []bucket
	for _, h := range hs {
		v := NewValues(len(c.Steps))
		for i := range v {
			buf = h.bucketsAt(buf[:0], in, i)
			if len(buf) > 0 {
				v[i] = bucketFraction(lower[i], upper[i], buf)
			}
		}
		out = append(out, Series{Labels: h.labels, V: v, DropName: true})
	}
	return out, nil
}

// warnInvalidQuantiles warns about each quantile of q outside [0, 1], at
// each step: Prometheus checks q before looking at the vector, so it warns
// even when there is no histogram.
func warnInvalidQuantiles(c *InstantCall, q []float64, pos posrange.PositionRange) {
	var (
		last   uint64 // the last quantile warned about, to warn once per run
		warned bool
	)
	for _, x := range q {
		if !math.IsNaN(x) && x >= 0 && x <= 1 {
			continue
		}
		if b := math.Float64bits(x); !warned || b != last {
			c.Annos.Add(annotations.NewInvalidQuantileWarning(x, pos))
			last, warned = b, true
		}
	}
}
