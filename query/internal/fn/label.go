package fn

import (
	"fmt"
	"strings"

	"github.com/grafana/regexp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// The label functions rewrite each series' labels once, whatever its
// values. They keep the metric name and each series' DropName, except
// that writing __name__ itself makes the new name stay (DropName false).
// Setting a label to "" removes it. Series that end up with the same
// labels are returned as they are (see instant.go).
//
// Their argument errors are Prometheus's, word for word; Prometheus
// checks them before evaluating the vector, so they fail the query even
// when it selects nothing.

func init() {
	Instant["label_replace"] = funcLabelReplace
	Instant["label_join"] = funcLabelJoin
}

// funcLabelReplace is label_replace(v, dst, replacement, src, regex): where
// regex matches the whole of src's value, dst is set to replacement with
// $1-style references expanded.
func funcLabelReplace(c *InstantCall) ([]Series, error) {
	var (
		dst   = c.Args[1].String
		repl  = c.Args[2].String
		src   = c.Args[3].String
		reStr = c.Args[4].String
	)
	re, err := regexp.Compile("^(?s:" + reStr + ")$")
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression in label_replace(): %s", reStr)
	}
	if !model.UTF8Validation.IsValidLabelName(dst) {
		return nil, fmt.Errorf("invalid destination label name in label_replace(): %s", dst)
	}

	in := c.Args[0].Series
	out := make([]Series, 0, len(in))
	lb := labels.NewBuilder(labels.EmptyLabels())
	var buf []byte
	for _, s := range in {
		if !hasSample(s.V) {
			continue
		}
		o := Series{Labels: s.Labels, V: cloneValues(s.V), DropName: s.DropName}
		srcVal := s.Labels.Get(src)
		if m := re.FindStringSubmatchIndex(srcVal); m != nil {
			buf = re.ExpandString(buf[:0], repl, srcVal, m)
			lb.Reset(s.Labels)
			lb.Set(dst, string(buf))
			o.Labels = lb.Labels()
			if dst == model.MetricNameLabel {
				o.DropName = false
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// funcLabelJoin is label_join(v, dst, separator, src...): dst is set to the
// values of the src labels joined by separator.
func funcLabelJoin(c *InstantCall) ([]Series, error) {
	dst, sep := c.Args[1].String, c.Args[2].String
	srcs := make([]string, 0, len(c.Args)-3)
	for _, a := range c.Args[3:] {
		if !model.UTF8Validation.IsValidLabelName(a.String) {
			return nil, fmt.Errorf("invalid source label name in label_join(): %s", a.String)
		}
		srcs = append(srcs, a.String)
	}
	if !model.UTF8Validation.IsValidLabelName(dst) {
		return nil, fmt.Errorf("invalid destination label name in label_join(): %s", dst)
	}

	in := c.Args[0].Series
	out := make([]Series, 0, len(in))
	lb := labels.NewBuilder(labels.EmptyLabels())
	var sb strings.Builder
	for _, s := range in {
		if !hasSample(s.V) {
			continue
		}
		sb.Reset()
		for i, src := range srcs {
			if i > 0 {
				sb.WriteString(sep)
			}
			sb.WriteString(s.Labels.Get(src))
		}
		lb.Reset(s.Labels)
		lb.Set(dst, sb.String())
		out = append(out, Series{
			Labels:   lb.Labels(),
			V:        cloneValues(s.V),
			DropName: s.DropName && dst != model.MetricNameLabel,
		})
	}
	return out, nil
}

// cloneValues returns a copy of v.
func cloneValues(v []float64) []float64 {
	c := make([]float64, len(v))
	copy(c, v)
	return c
}
