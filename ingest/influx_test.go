package ingest

import (
	"errors"
	"math"
	"testing"
)

func TestDecodeInflux(t *testing.T) {
	const now = 1700000000000
	f := func(name string, opts InfluxOptions, in, want string) {
		t.Run(name, func(t *testing.T) {
			opts.Now = now
			req, err := DecodeInflux([]byte(in), opts)
			if err != nil {
				t.Fatal(err)
			}
			checkImport(t, req)
			if got := render(req); got != want {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
	var ns InfluxOptions
	f("empty", ns, "", "")
	f("blank lines and comments", ns, "\n  \n# cpu value=1\n\t# x\n", "")
	f("value types", ns, `cpu,host=a usage=0.5,count=12i,big=18446744073709551615u,neg=-3i,up=true,down=F,exp=1e3 1700000000123456789
`, `{__name__="cpu_usage", host="a"} 1700000000123 0.5
{__name__="cpu_count", host="a"} 1700000000123 12
{__name__="cpu_big", host="a"} 1700000000123 1.8446744073709552e+19
{__name__="cpu_neg", host="a"} 1700000000123 -3
{__name__="cpu_up", host="a"} 1700000000123 1
{__name__="cpu_down", host="a"} 1700000000123 0
{__name__="cpu_exp", host="a"} 1700000000123 1000
`)
	f("value field maps to the measurement", ns, "temp,room=k value=21.5\n", `{__name__="temp", room="k"} 1700000000000 21.5
`)
	f("strings skipped", ns, `log,app=x msg="hello, \"world\" a=b",level=3i 1000000
log msg="only a string"
`, `{__name__="log_level", app="x"} 1 3
ignored 2 string fields
`)
	f("escaping", ns, `my\ meas\,ure,tag\ key=va\,l\=ue\ x,path=C:\dir f\=ld\ x=1 5000000
`, `{__name__="my meas,ure_f=ld x", path="C:\\dir", "tag key"="va,l=ue x"} 5 1
`)
	f("precision s", InfluxOptions{Precision: "s"}, "m v=1 1700000000\n", `{__name__="m_v"} 1700000000000 1
`)
	f("precision ms", InfluxOptions{Precision: "ms"}, "m v=1 1700000000001\n", `{__name__="m_v"} 1700000000001 1
`)
	f("precision us", InfluxOptions{Precision: "us"}, "m v=1 1700000000001999\n", `{__name__="m_v"} 1700000000001 1
`)
	f("precision u", InfluxOptions{Precision: "u"}, "m v=1 -1\n", `{__name__="m_v"} -1 1
`)
	f("precision h", InfluxOptions{Precision: "h"}, "m v=1 2\n", `{__name__="m_v"} 7200000 1
`)
	f("db label", InfluxOptions{DB: "telegraf"}, "m v=1\nm,db=mine v=2\n", `{__name__="m_v", db="telegraf"} 1700000000000 1
{__name__="m_v", db="mine"} 1700000000000 2
`)
	f("trailing spaces and CRLF", ns, "m v=1 1000000   \r\nm w=2  \r\n", `{__name__="m_v"} 1 1
{__name__="m_w"} 1700000000000 2
`)
	f("errors name line and column", ns, `ok v=1
nofields
m,t v=1
m v=
m v=abc
m v="open
m v=1 12x
m v=1 1 2
m,=x v=1
m v=1i2
m v=12ii
,t=1 v=1
m =1
m v=1,w=bad
ok2 v=2
`, `{__name__="ok_v"} 1700000000000 1
{__name__="ok2_v"} 1700000000000 2
! line 2, column 9: missing fields after measurement "nofields"
! line 3, column 4: tag "t" without =value
! line 4, column 5: field "v": empty value
! line 5, column 5: field "v": invalid number "abc"
! line 6, column 5: unterminated string field
! line 7, column 7: invalid timestamp "12x"
! line 8, column 9: unexpected "2" after timestamp
! line 9, column 3: empty tag key
! line 10, column 5: field "v": invalid number "1i2"
! line 11, column 5: field "v": invalid integer "12ii"
! line 12, column 1: missing measurement
! line 13, column 3: empty field key
! line 14, column 9: field "w": invalid number "bad"
`)
	f("timestamp out of range", InfluxOptions{Precision: "h"}, "m v=1 9223372036854775807\n", `! line 1, column 7: timestamp 9223372036854775807 out of range
`)
	f("nan and inf", ns, "m a=NaN,b=-Inf\n", `{__name__="m_a"} 1700000000000 NaN
{__name__="m_b"} 1700000000000 -Inf
`)

	if _, err := DecodeInflux(nil, InfluxOptions{Precision: "fortnight"}); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("unknown precision: err %v", err)
	}
}

func TestInfluxMillis(t *testing.T) {
	f := func(ts, unit, want int64) {
		t.Helper()
		got, err := influxMillis(ts, unit)
		if err != nil || got != want {
			t.Fatalf("influxMillis(%d, %d) = %d, %v; want %d", ts, unit, got, err, want)
		}
	}
	f(1_999_999, 1, 1)
	f(-1, 1, -1)
	f(-1_000_000, 1, -1)
	f(math.MaxInt64, 1, math.MaxInt64/1_000_000)
	f(3, 1e9, 3000)
	f(-3, 60e9, -180000)
}
