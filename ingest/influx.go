package ingest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// IgnoredStringFields is the Request.Ignored kind of InfluxDB string
// fields, which have no float value.
const IgnoredStringFields = "string fields"

// InfluxOptions are the parameters of an InfluxDB line-protocol write.
type InfluxOptions struct {
	// Precision is the unit of the line timestamps: "ns" (the default when
	// empty), "us", "ms", "s", and the InfluxDB 1.x names "n", "u", "µs",
	// "m" (minutes), "h".
	Precision string
	// DB, when not empty, is added to every series as label "db" (the
	// InfluxDB database or bucket), unless a line has a tag named db.
	DB string
	// Now is the timestamp, in milliseconds, of lines without one.
	Now int64
}

// influxUnits maps a precision to its length in nanoseconds.
var influxUnits = map[string]int64{
	"": 1, "ns": 1, "n": 1,
	"us": 1e3, "u": 1e3, "µs": 1e3,
	"ms": 1e6,
	"s":  1e9,
	"m":  60e9,
	"h":  3600e9,
}

// DecodeInflux decodes InfluxDB line protocol, mapping each numeric field
// to a series as VictoriaMetrics does: measurement "cpu", field "usage"
// and tags host=a become {__name__="cpu_usage", host="a"}; a field named
// "value" maps to the measurement alone. Integer (123i), unsigned (123u),
// float and boolean (1 or 0) fields are samples; string fields are counted
// in Ignored. Timestamps are truncated to milliseconds. A line with any
// invalid part is listed in Invalid and none of its fields is kept. The
// error is ErrInvalidParameter for an unknown precision.
func DecodeInflux(data []byte, opts InfluxOptions) (*Request, error) {
	unit, ok := influxUnits[opts.Precision]
	if !ok {
		return nil, fmt.Errorf("%w: precision %q, want ns, us, ms, s, m or h", ErrInvalidParameter, opts.Precision)
	}
	var (
		b  builder
		lb labels.ScratchBuilder
		p  influxLine
	)
	for n, line := range lines(data) {
		if err := p.parse(string(line)); err != nil {
			b.invalid(n, err.col, err.err)
			continue
		}
		if p.measurement == "" && len(p.fields) == 0 {
			continue // blank or comment
		}
		t := opts.Now
		if p.hasTime {
			var err error
			if t, err = influxMillis(p.time, unit); err != nil {
				b.invalid(n, p.timeCol, err)
				continue
			}
		}
		hasDB := opts.DB == ""
		for _, tag := range p.tags {
			hasDB = hasDB || tag.Name == "db"
		}
		for _, f := range p.fields {
			if f.str {
				b.ignore(IgnoredStringFields, 1)
				continue
			}
			lb.Reset()
			name := f.key
			switch {
			case p.measurement == "":
			case f.key == "value":
				name = p.measurement
			default:
				name = p.measurement + "_" + f.key
			}
			lb.Add(labels.MetricName, name)
			for _, tag := range p.tags {
				lb.Add(tag.Name, tag.Value)
			}
			if !hasDB {
				lb.Add("db", opts.DB)
			}
			lb.Sort()
			b.add(lb.Labels(), t, f.value)
		}
	}
	return b.finish(), nil
}

// influxMillis converts a timestamp in units of unit nanoseconds to
// milliseconds, rounding down.
func influxMillis(ts, unit int64) (int64, error) {
	if unit >= 1e6 {
		f := unit / 1e6
		if ts > math.MaxInt64/f || ts < math.MinInt64/f {
			return 0, fmt.Errorf("timestamp %d out of range", ts)
		}
		return ts * f, nil
	}
	d := 1e6 / unit
	t := ts / d
	if ts%d < 0 {
		t--
	}
	return t, nil
}

// influxLine is one parsed line; Reset by parse, so one value serves a
// whole body.
type influxLine struct {
	measurement string
	tags        []labels.Label
	fields      []influxField
	hasTime     bool
	time        int64
	timeCol     int
}

type influxField struct {
	key   string
	value float64
	str   bool // a string field, without a float value
}

// influxError is a parse error at a 1-based byte column.
type influxError struct {
	col int
	err error
}

func errAt(col int, format string, args ...any) *influxError {
	return &influxError{col: col + 1, err: fmt.Errorf(format, args...)}
}

// parse reads one line:
//
//	measurement[,tag=value...] field=value[,field=value...] [timestamp]
//
// A blank line or a comment (#) leaves p empty.
func (p *influxLine) parse(s string) *influxError {
	p.measurement, p.tags, p.fields, p.hasTime = "", p.tags[:0], p.fields[:0], false
	i := skipSpace(s, 0)
	if i == len(s) || s[i] == '#' {
		return nil
	}
	start := i
	m, i := influxToken(s, i, ", ")
	if m == "" {
		return errAt(start, "missing measurement")
	}
	p.measurement = m
	for i < len(s) && s[i] == ',' {
		kStart := i + 1
		var k, v string
		k, i = influxToken(s, i+1, ",= ")
		if i == len(s) || s[i] != '=' {
			return errAt(i, "tag %q without =value", k)
		}
		if k == "" {
			return errAt(kStart, "empty tag key")
		}
		vStart := i + 1
		v, i = influxToken(s, i+1, ", ")
		if v == "" {
			return errAt(vStart, "empty value of tag %q", k)
		}
		p.tags = append(p.tags, labels.Label{Name: k, Value: v})
	}
	if i == len(s) {
		return errAt(i, "missing fields after measurement %q", m)
	}
	i = skipSpace(s, i)
	for {
		kStart := i
		var k string
		k, i = influxToken(s, i, ",= ")
		if i == len(s) || s[i] != '=' {
			return errAt(i, "field %q without =value", k)
		}
		if k == "" {
			return errAt(kStart, "empty field key")
		}
		i++
		f := influxField{key: k}
		vStart := i
		if i < len(s) && s[i] == '"' {
			end, err := skipInfluxString(s, i)
			if err != nil {
				return err
			}
			f.str, i = true, end
		} else {
			for i < len(s) && s[i] != ',' && s[i] != ' ' {
				i++
			}
			v, err := influxValue(s[vStart:i])
			if err != nil {
				return &influxError{col: vStart + 1, err: fmt.Errorf("field %q: %w", k, err)}
			}
			f.value = v
		}
		p.fields = append(p.fields, f)
		if i == len(s) || s[i] != ',' {
			break
		}
		i++
	}
	if i == len(s) {
		return nil
	}
	if s[i] != ' ' && s[i] != '\t' {
		return errAt(i, "unexpected %q after fields", s[i])
	}
	i = skipSpace(s, i)
	if i == len(s) {
		return nil
	}
	end := i
	for end < len(s) && s[end] != ' ' && s[end] != '\t' {
		end++
	}
	ts, err := strconv.ParseInt(s[i:end], 10, 64)
	if err != nil {
		return errAt(i, "invalid timestamp %q", s[i:end])
	}
	if rest := skipSpace(s, end); rest != len(s) {
		return errAt(rest, "unexpected %q after timestamp", s[rest:])
	}
	p.hasTime, p.time, p.timeCol = true, ts, i+1
	return nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// influxToken reads from s[i] up to the first unescaped byte of stop and
// returns it unescaped with the index of that byte (or len(s)). A
// backslash escapes a following space, comma, equals sign or backslash;
// before anything else it is kept.
func influxToken(s string, i int, stop string) (string, int) {
	start, escaped := i, false
	for i < len(s) && strings.IndexByte(stop, s[i]) < 0 {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(" ,=\\", s[i+1]) >= 0 {
			escaped = true
			i++
		}
		i++
	}
	tok := s[start:i]
	if !escaped {
		return tok, i
	}
	var b strings.Builder
	for j := 0; j < len(tok); j++ {
		if tok[j] == '\\' && j+1 < len(tok) && strings.IndexByte(" ,=\\", tok[j+1]) >= 0 {
			j++
		}
		b.WriteByte(tok[j])
	}
	return b.String(), i
}

// skipInfluxString returns the index after the string field starting with
// the quote at s[i]; \" and \\ are escapes inside it.
func skipInfluxString(s string, i int) (int, *influxError) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errAt(i, "unterminated string field")
}

// influxValue parses a numeric or boolean field value.
func influxValue(v string) (float64, error) {
	if v == "" {
		return 0, errors.New("empty value")
	}
	switch v {
	case "t", "T", "true", "True", "TRUE":
		return 1, nil
	case "f", "F", "false", "False", "FALSE":
		return 0, nil
	}
	switch v[len(v)-1] {
	case 'i':
		n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid integer %q", v)
		}
		return float64(n), nil
	case 'u':
		n, err := strconv.ParseUint(v[:len(v)-1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid unsigned integer %q", v)
		}
		return float64(n), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", v)
	}
	return f, nil
}
