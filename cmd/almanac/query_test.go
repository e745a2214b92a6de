package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/server"
)

// cliBase is the first sample time of the CLI tests: 2025-01-01T00:00:00Z.
const cliBase = int64(1735689600000)

// newCLIServer serves a real almanac database in a temporary directory,
// holding two up series and a gauge, with 15 s samples for 2 minutes.
func newCLIServer(t *testing.T) string {
	t.Helper()
	db, err := almanac.Open(t.TempDir(), &almanac.Options{NoSync: true, Retention: -1, OutOfOrderWindow: -1})
	if err != nil {
		t.Fatal(err)
	}
	var batch []almanac.SeriesSamples
	add := func(lset labels.Labels, v func(i int) float64) {
		s := almanac.SeriesSamples{Labels: lset}
		for i := range 9 {
			s.Samples = append(s.Samples, almanac.Sample{T: cliBase + int64(i)*15000, V: v(i)})
		}
		batch = append(batch, s)
	}
	add(labels.FromStrings("__name__", "up", "job", "node", "instance", "a"), func(int) float64 { return 1 })
	add(labels.FromStrings("__name__", "up", "job", "api", "instance", "b"), func(i int) float64 { return float64(i % 2) })
	add(labels.FromStrings("__name__", "temp", "room", "a,b"), func(i int) float64 {
		if i == 2 {
			return math.Inf(1)
		}
		return 20.5 + float64(i)
	})
	if err := db.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(server.New(db, server.Config{}))
	t.Cleanup(func() {
		hs.Close()
		http.DefaultClient.CloseIdleConnections()
		if err := db.Close(); err != nil {
			t.Errorf("closing db: %v", err)
		}
	})
	return hs.URL
}

// cliNow is the clock of the CLI tests: 2 minutes after cliBase.
var cliNow = time.UnixMilli(cliBase + 120000)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	var code int
	switch args[0] {
	case "query":
		code = runQuery(t.Context(), args[1:], cliNow, &stdout, &stderr)
	case "export":
		code = runExport(t.Context(), args[1:], cliNow, &stdout, &stderr)
	default:
		code = run(args, func(string) string { return "" }, &stdout, &stderr)
	}
	return code, stdout.String(), stderr.String()
}

func TestQuery(t *testing.T) {
	u := newCLIServer(t)
	for _, tc := range []struct {
		name   string
		args   []string
		stdout string
		stderr string
	}{
		{"instant table", []string{"--url", u, "--time", "1735689660", "up"}, `
SERIES                                     VALUE  TIME
{__name__="up", instance="a", job="node"}  1      2025-01-01T00:01:00Z
{__name__="up", instance="b", job="api"}   0      2025-01-01T00:01:00Z
`, ""},
		{"flags after the expression", []string{"sum(up)", "--url", u, "--time=2025-01-01T00:01:15.5Z"}, `
SERIES  VALUE  TIME
{}      2      2025-01-01T00:01:15.5Z
`, ""},
		{"default time is now", []string{"--url", u, "count(up)"}, `
SERIES  VALUE  TIME
{}      2      2025-01-01T00:02:00Z
`, ""},
		{"relative time", []string{"--url", u, "--time", "-30s", "temp"}, `
SERIES                         VALUE  TIME
{__name__="temp", room="a,b"}  26.5   2025-01-01T00:01:30Z
`, ""},
		{"scalar", []string{"--url", u, "--time", "4", "1+1"}, `
SERIES  VALUE  TIME
        2      1970-01-01T00:00:04Z
`, ""},
		{"range table", []string{"--url", u, "--start", "1735689600", "--end", "1735689630", "--step", "15s", `up{job="api"}`}, `
SERIES                                    VALUE  TIME
{__name__="up", instance="b", job="api"}  0      2025-01-01T00:00:00Z
{__name__="up", instance="b", job="api"}  1      2025-01-01T00:00:15Z
{__name__="up", instance="b", job="api"}  0      2025-01-01T00:00:30Z
`, ""},
		{"csv", []string{"--url", u, "--format", "csv", "--start", "-2m", "--end", "-90s", "--step", "15", "temp"}, `
series,value,timestamp
"{__name__=""temp"", room=""a,b""}",20.5,1735689600
"{__name__=""temp"", room=""a,b""}",21.5,1735689615
"{__name__=""temp"", room=""a,b""}",+Inf,1735689630
`, ""},
		{"no data", []string{"--url", u, "nothing"}, "\nno data\n", ""},
		{"info on stderr", []string{"--url", u, "--end", "now", "--step", "1m", "rate(temp[1m])"}, "", "info: PromQL info: metric might not be a counter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"query"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, stderr)
			}
			if tc.stdout != "" && stdout != tc.stdout[1:] {
				t.Fatalf("stdout:\n%s\nwant:\n%s", stdout, tc.stdout[1:])
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("stderr %q, want %q", stderr, tc.stderr)
			}
		})
	}
}

// TestQueryJSON: --format json prints the server's answer as it came.
func TestQueryJSON(t *testing.T) {
	u := newCLIServer(t)
	params := url.Values{"query": {"up"}, "start": {"1735689600"}, "end": {"1735689660"}, "step": {"30"}}
	resp, err := http.PostForm(u+"/api/v1/query_range", params)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	code, stdout, stderr := runCmd(t, "query", "--url", u, "--format", "json", "--start", "1735689600", "--end", "1735689660", "--step", "30", "up")
	if code != 0 || stdout != string(want)+"\n" {
		t.Fatalf("exit %d, stderr %s\nstdout %s\nwant   %s", code, stderr, stdout, want)
	}
}

func TestQueryErrors(t *testing.T) {
	u := newCLIServer(t)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"parse error", []string{"--url", u, "sum(up"}, 1, `almanac query: error (bad_data): invalid parameter "query": 1:7: parse error: unclosed left parenthesis`},
		{"execution error", []string{"--url", u, "--time", "1735689660", "up * on() up"}, 1, "almanac query: error (execution): found duplicate series"},
		{"too many points", []string{"--url", u, "--start", "0", "--end", "1735689660", "--step", "1", "up"}, 1, "error (bad_data): exceeded maximum resolution"},
		{"not almanac", []string{"--url", u + "/nowhere", "up"}, 1, "404 Not Found"},
		{"connection refused", []string{"--url", "http://127.0.0.1:1", "up"}, 1, "connection refused"},
		{"bad url", []string{"--url", "localhost:9494", "up"}, 1, `invalid --url "localhost:9494"`},
		{"no expression", []string{"--url", u}, 2, "almanac query: no query expression given"},
		{"two expressions", []string{"up", "down"}, 2, "unexpected arguments: down (quote the expression)"},
		{"bad format", []string{"--format", "xml", "up"}, 2, `unknown --format "xml"`},
		{"unknown flag", []string{"--bogus", "up"}, 2, "flag provided but not defined: -bogus"},
		{"bad time", []string{"--time", "yesterday", "up"}, 2, `--time: invalid time "yesterday"`},
		{"bad step", []string{"--step", "-5s", "up"}, 2, `--step: step "-5s" must be positive`},
		{"zero step", []string{"--step", "0", "up"}, 2, `step "0" must be positive`},
		{"end before start", []string{"--start", "2000", "--end", "1000", "up"}, 2, "--end is before --start"},
		{"time and range", []string{"--time", "1", "--step", "1m", "up"}, 2, "--time is for instant queries"},
		{"help", []string{"-h"}, 0, "usage: almanac query [flags] EXPR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"query"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d, %q", code, stderr, tc.code, tc.stderr)
			}
			if code != 0 && stdout != "" {
				t.Fatalf("stdout %q on failure", stdout)
			}
		})
	}
}

func TestRangeParams(t *testing.T) {
	f := func(cfg queryConfig, start, end string, step time.Duration) {
		t.Helper()
		s, e, st, err := rangeParams(cfg, cliNow)
		if err != nil {
			t.Fatalf("%+v: %v", cfg, err)
		}
		if got := s.UTC().Format(time.RFC3339); got != start {
			t.Errorf("%+v: start %s, want %s", cfg, got, start)
		}
		if got := e.UTC().Format(time.RFC3339); got != end {
			t.Errorf("%+v: end %s, want %s", cfg, got, end)
		}
		if st != step {
			t.Errorf("%+v: step %s, want %s", cfg, st, step)
		}
	}
	f(queryConfig{Step: "1m"}, "2024-12-31T23:02:00Z", "2025-01-01T00:02:00Z", time.Minute)
	f(queryConfig{End: "now"}, "2024-12-31T23:02:00Z", "2025-01-01T00:02:00Z", 14*time.Second) // 1h/250
	f(queryConfig{Start: "-1m"}, "2025-01-01T00:01:00Z", "2025-01-01T00:02:00Z", time.Second)
	f(queryConfig{Start: "2024-12-25T00:00:00Z", End: "2025-01-01T00:00:00Z"}, "2024-12-25T00:00:00Z", "2025-01-01T00:00:00Z", 2419*time.Second)
	f(queryConfig{Start: "0", End: "60", Step: "0.5"}, "1970-01-01T00:00:00Z", "1970-01-01T00:01:00Z", 500*time.Millisecond)
}

// TestRunDispatch: run hands query and export to their commands.
func TestRunDispatch(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"query"}, 2, "", "almanac query: no query expression given"},
		{[]string{"export", "--format", "csv"}, 2, "", "almanac export: no --match given"},
		{[]string{"query", "--url", "http://127.0.0.1:1", "up"}, 1, "", "connection refused"},
		{[]string{"help"}, 0, "query     run a PromQL query", ""},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, func(string) string { return "" }, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
}
