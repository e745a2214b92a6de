package server

import (
	"encoding/json"
	"math"
	"testing"
)

// FuzzAppendString: strings (label names and values are arbitrary bytes)
// are written exactly as encoding/json writes them.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "up", `a"b\c`, "<tag>&", "\x00\x1f\b\f\n\r\t", "é\u2028\u2029", "\xff\xfe", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAppendTimestampAndFloat(t *testing.T) {
	f := func(ts int64, v float64, want string) {
		t.Helper()
		got := string(appendFloat(append(appendTimestamp(nil, ts), ','), v))
		if got != want {
			t.Fatalf("%d, %v: got %s, want %s", ts, v, got, want)
		}
	}
	f(0, 0, `0,"0"`)
	f(1435781451781, 1.234, `1435781451.781,"1.234"`)
	f(1500, 0.5, `1.500,"0.5"`)
	f(1005, -2, `1.005,"-2"`)
	f(-1500, 1e-7, `-1.500,"1e-07"`)
	f(-5, 1e21, `-0.005,"1e+21"`)
	f(math.MinInt64, math.NaN(), `-9223372036854775.808,"NaN"`)
	f(math.MaxInt64, math.Inf(1), `9223372036854775.807,"+Inf"`)
	f(60000, math.Inf(-1), `60,"-Inf"`)
	f(1, 123456789012345678, `0.001,"123456789012345680"`)
}
