package ingest

import (
	"errors"
	"slices"
	"testing"
)

func TestParseCSVFormat(t *testing.T) {
	ok := func(spec string) {
		t.Helper()
		if _, err := ParseCSVFormat(spec); err != nil {
			t.Fatalf("ParseCSVFormat(%q): %v", spec, err)
		}
	}
	bad := func(spec string) {
		t.Helper()
		if _, err := ParseCSVFormat(spec); !errors.Is(err, ErrInvalidParameter) {
			t.Fatalf("ParseCSVFormat(%q): err %v, want ErrInvalidParameter", spec, err)
		}
	}
	ok("1:metric:up")
	ok("1:label:job,2:metric:up,3:time:unix_s")
	ok("3:time:unix_ms,2:metric:a,1:metric:b")
	ok("1:time:unix_ns,2:metric:a")
	ok("1:time:rfc3339,2:metric:a")
	ok("1:time:custom:2006-01-02 15:04:05,2:metric:a")
	bad("")
	bad("1:label:job")
	bad("0:metric:up")
	bad("x:metric:up")
	bad("1:metric")
	bad("1:metric:")
	bad("1:label:,2:metric:a")
	bad("1:gauge:a")
	bad("1:metric:a,1:metric:b")
	bad("1:time:unix_s,2:time:unix_ms,3:metric:a")
	bad("1:time:unix_m,2:metric:a")
	bad("1:time:custom:,2:metric:a")
	bad("99999:metric:a")
}

func TestSplitCSV(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		got, _, err := splitCSV(nil, in)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("splitCSV(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	f("", "")
	f("a", "a")
	f("a,,b,", "a", "", "b", "")
	f(`"a,b",c`, "a,b", "c")
	f(`"say ""hi""",""`, `say "hi"`, "")
	for _, in := range []string{`"open`, `"a"b,c`, `x,"y`} {
		if _, col, err := splitCSV(nil, in); err == nil || col == 0 {
			t.Fatalf("splitCSV(%q): col %d err %v, want an error with a column", in, col, err)
		}
	}
}

func TestDecodeCSV(t *testing.T) {
	const now = 1700000000000
	f := func(name, format, in, want string) {
		t.Run(name, func(t *testing.T) {
			cf, err := ParseCSVFormat(format)
			if err != nil {
				t.Fatal(err)
			}
			req := DecodeCSV([]byte(in), cf, now)
			checkImport(t, req)
			if got := render(req); got != want {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
	f("empty", "1:metric:a", "", "")
	f("VictoriaMetrics example", "2:metric:ask,3:metric:bid,1:label:ticker,4:label:market",
		"GOOG,1.23,4.56,NYSE\nMSFT,3.21,1.67,NASDAQ\n", `{__name__="ask", market="NYSE", ticker="GOOG"} 1700000000000 1.23
{__name__="bid", market="NYSE", ticker="GOOG"} 1700000000000 4.56
{__name__="ask", market="NASDAQ", ticker="MSFT"} 1700000000000 3.21
{__name__="bid", market="NASDAQ", ticker="MSFT"} 1700000000000 1.67
`)
	f("unix_s", "1:label:job,2:metric:up,3:time:unix_s", "api,1,1700000000\n\"w,eb\",0,1700000000.5\n",
		`{__name__="up", job="api"} 1700000000000 1
{__name__="up", job="w,eb"} 1700000000500 0
`)
	f("unix_ms", "1:time:unix_ms,2:metric:m", "1700000000123,2\n", `{__name__="m"} 1700000000123 2
`)
	f("unix_ns", "1:time:unix_ns,2:metric:m", "1700000000123999999,2\n", `{__name__="m"} 1700000000123 2
`)
	f("rfc3339", "1:time:rfc3339,2:metric:m", "2023-11-14T22:13:20.5Z,2\n2023-11-14T23:13:20+01:00,3\n",
		`{__name__="m"} 1700000000500 2
{__name__="m"} 1700000000000 3
`)
	f("custom", "1:time:custom:2006-01-02 15:04:05,2:metric:m", "2023-11-14 22:13:20,2\n", `{__name__="m"} 1700000000000 2
`)
	f("empty fields skipped, extra columns ignored", "1:label:a,2:metric:m,3:metric:n", ",,5,extra\r\nx,1,\n",
		`{__name__="n"} 1700000000000 5
{__name__="m", a="x"} 1700000000000 1
`)
	f("errors name line and column", "1:label:job,2:metric:up,3:time:unix_s,4:metric:down", `a,1,1700000000,0
b,one,1700000000,0
c,1,yesterday,0
d,1
"e,1,1700000000,0
f,1,1700000000,x
g,NaN,1e30,0
h,+Inf,1700000000,-1
`, `{__name__="up", job="a"} 1700000000000 1
{__name__="down", job="a"} 1700000000000 0
{__name__="up", job="h"} 1700000000000 +Inf
{__name__="down", job="h"} 1700000000000 -1
! line 2, column 2: metric "up": invalid value "one"
! line 3, column 3: invalid time "yesterday"
! line 4, column 3: missing column: the line has 2 columns, the format uses 4
! line 5, column 1: unterminated quoted field
! line 6, column 4: metric "down": invalid value "x"
! line 7, column 3: invalid time "1e30"
`)
}
