package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
)

// vmLine is one line of VictoriaMetrics's JSON lines format.
type vmLine struct {
	Metric     map[string]string `json:"metric"`
	Values     []vmValue         `json:"values"`
	Timestamps []json.Number     `json:"timestamps"`
}

// vmValue is a sample value: a JSON number, a string holding a number or
// NaN, Inf, +Inf or -Inf (which JSON numbers cannot spell), or null, a
// Prometheus staleness marker (what almanac's export writes for one).
type vmValue float64

func (v *vmValue) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "null" && len(s) == len(b) {
		*v = vmValue(math.Float64frombits(value.StaleNaN))
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("invalid value %s", b)
	}
	*v = vmValue(f)
	return nil
}

// DecodeVMJSON decodes VictoriaMetrics's JSON lines import format (what
// /api/v1/export writes), one series a line:
//
//	{"metric":{"__name__":"up","job":"a"},"values":[1,0],"timestamps":[1700000000000,1700000015000]}
//
// Timestamps are milliseconds; values and timestamps must have the same
// length. Labels with an empty value are left out, as in Prometheus. A line
// that is not valid is listed in Invalid with the byte column of a JSON
// syntax error.
func DecodeVMJSON(data []byte) *Request {
	var (
		b  builder
		lb labels.ScratchBuilder
		ts []int64
		vs []float64
	)
	for n, line := range lines(data) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var l vmLine
		if err := json.Unmarshal(line, &l); err != nil {
			col := 0
			if se, ok := errors.AsType[*json.SyntaxError](err); ok {
				col = int(se.Offset)
			}
			b.invalid(n, col, err)
			continue
		}
		if len(l.Metric) == 0 {
			b.invalid(n, 0, errors.New(`missing or empty "metric" object`))
			continue
		}
		if len(l.Values) != len(l.Timestamps) {
			b.invalid(n, 0, fmt.Errorf("%d values but %d timestamps", len(l.Values), len(l.Timestamps)))
			continue
		}
		if len(l.Values) == 0 {
			b.invalid(n, 0, errors.New(`missing "values" and "timestamps"`))
			continue
		}
		ts, vs = ts[:0], vs[:0]
		var err error
		for i, raw := range l.Timestamps {
			t, perr := strconv.ParseInt(raw.String(), 10, 64)
			if perr != nil {
				err = fmt.Errorf("timestamp %d: %s is not an integer of milliseconds", i, raw)
				break
			}
			ts = append(ts, t)
			vs = append(vs, float64(l.Values[i]))
		}
		if err != nil {
			b.invalid(n, 0, err)
			continue
		}
		lb.Reset()
		for k, v := range l.Metric {
			if v != "" {
				lb.Add(k, v)
			}
		}
		lb.Sort()
		b.addSamples(lb.Labels(), ts, vs)
	}
	return b.finish()
}
