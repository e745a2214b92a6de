package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestExport(t *testing.T) {
	u := newCLIServer(t)
	upNode := `{"metric":{"__name__":"up","instance":"a","job":"node"},"values":[1,1,1,1,1,1,1,1,1],` +
		`"timestamps":[1735689600000,1735689615000,1735689630000,1735689645000,1735689660000,1735689675000,1735689690000,1735689705000,1735689720000]}` + "\n"
	for _, tc := range []struct {
		name   string
		args   []string
		stdout string
	}{
		{"jsonl", []string{"--match", `up{job="node"}`}, upNode},
		{"several matches, flags after", []string{"--match", `up{job="node"}`, "--start", "1735689630", "--match", `{room!=""}`, "--end", "-90s"},
			`{"metric":{"__name__":"temp","room":"a,b"},"values":["Infinity"],"timestamps":[1735689630000]}` + "\n" +
				`{"metric":{"__name__":"up","instance":"a","job":"node"},"values":[1],"timestamps":[1735689630000]}` + "\n"},
		{"csv", []string{"--format", "csv", "--match", "temp", "--end", "1735689630"},
			"temp,20.5,1735689600000\ntemp,21.5,1735689615000\ntemp,+Inf,1735689630000\n"},
		{"csv columns", []string{"--format", "csv", "--match", "temp", "--columns", "room,__timestamp__:rfc3339,__value__", "--start", "2025-01-01T00:02:00Z"},
			"\"a,b\",2025-01-01T00:02:00Z,28.5\n"},
		{"nothing matches", []string{"--match", "nothing"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"export", "--url", u}, tc.args...)...)
			if code != 0 || stdout != tc.stdout {
				t.Fatalf("exit %d, stderr %s\nstdout %q\nwant   %q", code, stderr, stdout, tc.stdout)
			}
		})
	}

	// The whole database: what the endpoint answers, byte for byte.
	resp, err := http.Get(u + "/api/v1/export?" + url.Values{"match[]": {`{__name__=~".+"}`}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	code, stdout, stderr := runCmd(t, "export", "--url", u, "--match", `{__name__=~".+"}`)
	if code != 0 || stdout != string(want) || strings.Count(stdout, "\n") != 3 {
		t.Fatalf("exit %d, stderr %s\nstdout %s\nwant   %s", code, stderr, stdout, want)
	}
}

func TestExportErrors(t *testing.T) {
	u := newCLIServer(t)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no match", []string{"--url", u}, 2, "almanac export: no --match given"},
		{"positional", []string{"--url", u, "up"}, 2, "unexpected arguments: up (give selectors with --match)"},
		{"bad format", []string{"--match", "up", "--format", "parquet"}, 2, `unknown --format "parquet"`},
		{"bad start", []string{"--match", "up", "--start", "soon"}, 2, `--start: invalid time "soon"`},
		{"help", []string{"-h"}, 0, "usage: almanac export --match SELECTOR"},
		{"bad selector", []string{"--url", u, "--match", "up{"}, 1, `almanac export: error (bad_data): invalid parameter "match[]"`},
		{"bad columns", []string{"--url", u, "--match", "up", "--format", "csv", "--columns", "__timestamp__:days"}, 1, `error (bad_data): invalid parameter "format": column 1 (__timestamp__:days): unknown timestamp format "days"`},
		{"connection refused", []string{"--url", "http://127.0.0.1:1", "--match", "up"}, 1, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, append([]string{"export"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d, %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}

// TestExportInterrupted: a server that aborts the stream midway (as
// almanac does on a storage error) makes the export fail, not end short.
func TestExportInterrupted(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"metric":{"__name__":"up"},"values":[1],"timestamps":[1]}`+"\n")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	defer hs.Close()
	code, stdout, stderr := runCmd(t, "export", "--url", hs.URL, "--match", "up")
	if code != 1 || !strings.Contains(stderr, "export interrupted, output is incomplete") || !strings.HasPrefix(stdout, `{"metric"`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	http.DefaultClient.CloseIdleConnections()
}
