package ingest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// CSVFormat says what the columns of a CSV import are, as
// VictoriaMetrics's format parameter does. Build it with ParseCSVFormat.
type CSVFormat struct {
	columns []csvColumn // in the order given
	maxCol  int         // the highest column used, 1-based
}

type csvKind int

const (
	csvLabel csvKind = iota
	csvMetric
	csvTime
)

type csvColumn struct {
	col    int // 1-based
	kind   csvKind
	name   string // label or metric name
	layout string // time: a Go layout, or "" for the unix_* units
	unitNs int64  // time: nanoseconds per unit of a unix_* column
}

// ParseCSVFormat parses a CSV format specification: comma-separated
// entries <column>:<type>:<context>, columns numbered from 1, where type is
//
//	label   context is the label name
//	metric  context is the metric name; the column holds the value
//	time    context is unix_s, unix_ms, unix_ns, rfc3339 or custom:<Go layout>
//
// for example "1:label:job,2:metric:up,3:time:unix_s". At least one metric
// column is required, at most one time column is allowed. Errors wrap
// ErrInvalidParameter.
func ParseCSVFormat(spec string) (*CSVFormat, error) {
	f := &CSVFormat{}
	hasMetric, hasTime := false, false
	used := map[int]bool{}
	for i, entry := range strings.Split(spec, ",") {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: format entry %d %q: %s", ErrInvalidParameter, i+1, entry, fmt.Sprintf(format, args...))
		}
		pos, rest, ok := strings.Cut(entry, ":")
		typ, ctx, ok2 := strings.Cut(rest, ":")
		if !ok || !ok2 {
			return nil, bad("want <column>:<type>:<context>")
		}
		col, err := strconv.Atoi(pos)
		if err != nil || col < 1 || col > 1<<16 {
			return nil, bad("column %q is not a number from 1 to 65536", pos)
		}
		if used[col] {
			return nil, bad("column %d is already described", col)
		}
		used[col] = true
		c := csvColumn{col: col, name: ctx}
		switch typ {
		case "label":
			if ctx == "" {
				return nil, bad("empty label name")
			}
			c.kind = csvLabel
		case "metric":
			if ctx == "" {
				return nil, bad("empty metric name")
			}
			c.kind, hasMetric = csvMetric, true
		case "time":
			if hasTime {
				return nil, bad("a second time column")
			}
			c.kind, hasTime = csvTime, true
			switch {
			case ctx == "unix_s":
				c.unitNs = 1e9
			case ctx == "unix_ms":
				c.unitNs = 1e6
			case ctx == "unix_ns":
				c.unitNs = 1
			case ctx == "rfc3339":
				c.layout = time.RFC3339Nano
			case strings.HasPrefix(ctx, "custom:") && len(ctx) > len("custom:"):
				c.layout = ctx[len("custom:"):]
			default:
				return nil, bad("time format %q, want unix_s, unix_ms, unix_ns, rfc3339 or custom:<layout>", ctx)
			}
		default:
			return nil, bad("type %q, want label, metric or time", typ)
		}
		f.columns = append(f.columns, c)
		f.maxCol = max(f.maxCol, col)
	}
	if !hasMetric {
		return nil, fmt.Errorf("%w: format %q has no metric column", ErrInvalidParameter, spec)
	}
	return f, nil
}

// DecodeCSV decodes a CSV body whose columns f describes, one sample per
// metric column of each line, all with the line's labels and time (now,
// in milliseconds, without a time column). Fields may be quoted ("a,b",
// with "" for a quote); a quoted field does not span lines. An empty metric
// field is skipped and a label with an empty field is left out, as
// VictoriaMetrics does. Errors in Invalid name the line and column.
func DecodeCSV(data []byte, f *CSVFormat, now int64) *Request {
	var (
		b      builder
		lb     labels.ScratchBuilder
		fields []string
		lbls   []labels.Label // the line's labels
	)
lines:
	for n, line := range lines(data) {
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		var col int
		var err error
		fields, col, err = splitCSV(fields[:0], string(line))
		if err != nil {
			b.invalid(n, col, err)
			continue
		}
		if len(fields) < f.maxCol {
			b.invalid(n, len(fields)+1, fmt.Errorf("missing column: the line has %d columns, the format uses %d", len(fields), f.maxCol))
			continue
		}
		t := now
		lbls = lbls[:0]
		for _, c := range f.columns {
			v := fields[c.col-1]
			switch c.kind {
			case csvLabel:
				if v != "" {
					lbls = append(lbls, labels.Label{Name: c.name, Value: v})
				}
			case csvTime:
				if t, err = c.parseTime(v); err != nil {
					b.invalid(n, c.col, err)
					continue lines
				}
			}
		}
		series, samples := b.mark()
		for _, c := range f.columns {
			v := fields[c.col-1]
			if c.kind != csvMetric || v == "" {
				continue
			}
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				b.rollback(series, samples)
				b.invalid(n, c.col, fmt.Errorf("metric %q: invalid value %q", c.name, v))
				continue lines
			}
			lb.Reset()
			lb.Add(labels.MetricName, c.name)
			for _, l := range lbls {
				lb.Add(l.Name, l.Value)
			}
			lb.Sort()
			b.add(lb.Labels(), t, x)
		}
	}
	return b.finish()
}

// parseTime reads a time column as milliseconds.
func (c *csvColumn) parseTime(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if c.layout != "" {
		tm, err := time.Parse(c.layout, v)
		if err != nil {
			return 0, fmt.Errorf("invalid time %q: %v", v, err)
		}
		return tm.UnixMilli(), nil
	}
	if c.unitNs == 1 {
		ns, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid unix_ns time %q", v)
		}
		return influxMillis(ns, 1)
	}
	x, err := strconv.ParseFloat(v, 64)
	ms := x * float64(c.unitNs/1e6)
	if err != nil || math.IsNaN(ms) || ms >= math.MaxInt64 || ms < math.MinInt64 {
		return 0, fmt.Errorf("invalid time %q", v)
	}
	return int64(math.Round(ms)), nil
}

// splitCSV appends the fields of one CSV line to dst. On a malformed
// quoted field it returns the 1-based column of the field and the error.
func splitCSV(dst []string, line string) ([]string, int, error) {
	for i := 0; ; {
		col := len(dst) + 1
		if i < len(line) && line[i] == '"' {
			var b strings.Builder
			j := i + 1
			for {
				k := strings.IndexByte(line[j:], '"')
				if k < 0 {
					return dst, col, errors.New("unterminated quoted field")
				}
				b.WriteString(line[j : j+k])
				j += k + 1
				if j < len(line) && line[j] == '"' {
					b.WriteByte('"')
					j++
					continue
				}
				break
			}
			dst = append(dst, b.String())
			if j == len(line) {
				return dst, 0, nil
			}
			if line[j] != ',' {
				return dst, col, fmt.Errorf("unexpected %q after quoted field", line[j])
			}
			i = j + 1
			continue
		}
		k := strings.IndexByte(line[i:], ',')
		if k < 0 {
			return append(dst, line[i:]), 0, nil
		}
		dst = append(dst, line[i:i+k])
		i += k + 1
	}
}
