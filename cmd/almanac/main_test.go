package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	"go.uber.org/goleak"
)

// childEnv, when set, makes the test binary run almanac's main instead of
// the tests, so the end-to-end test runs the real command as a child
// process without building a binary.
const childEnv = "ALMANAC_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

func TestParseServeFlags(t *testing.T) {
	day := 24 * time.Hour
	defaults := serveConfig{Engine: "almanac", Data: "./data", Listen: "localhost:9494", Retention: 30 * day, OOOWindow: time.Hour, MaxFuture: time.Hour}
	with := func(f func(*serveConfig)) serveConfig {
		c := defaults
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want serveConfig
		err  string
	}{
		{name: "defaults", want: defaults},
		{name: "all flags", args: []string{"--data", "/var/lib/almanac", "--listen", "0.0.0.0:9000", "--retention", "90d", "--ooo-window", "2h30m", "--max-future", "10m", "--no-sync"},
			want: serveConfig{Engine: "almanac", Data: "/var/lib/almanac", Listen: "0.0.0.0:9000", Retention: 90 * day, OOOWindow: 150 * time.Minute, MaxFuture: 10 * time.Minute, NoSync: true}},
		{name: "single dash and =", args: []string{"-data=d", "-retention=2w"}, want: with(func(c *serveConfig) { c.Data, c.Retention = "d", 14*day })},
		{name: "years", args: []string{"--retention", "1y"}, want: with(func(c *serveConfig) { c.Retention = 365 * day })},
		{name: "negative keeps forever", args: []string{"--retention", "-1d", "--ooo-window=-1s"}, want: with(func(c *serveConfig) { c.Retention, c.OOOWindow = -day, -time.Second })},
		{name: "zero", args: []string{"--retention", "0"}, want: with(func(c *serveConfig) { c.Retention = 0 })},
		{name: "env", env: map[string]string{"ALMANAC_DATA": "/env", "ALMANAC_LISTEN": ":1", "ALMANAC_RETENTION": "7d", "ALMANAC_OOO_WINDOW": "5m", "ALMANAC_MAX_FUTURE": "1d", "ALMANAC_NO_SYNC": "true"},
			want: serveConfig{Engine: "almanac", Data: "/env", Listen: ":1", Retention: 7 * day, OOOWindow: 5 * time.Minute, MaxFuture: day, NoSync: true}},
		{name: "flag wins over env", args: []string{"--data", "flag", "--no-sync=false"}, env: map[string]string{"ALMANAC_DATA": "env", "ALMANAC_NO_SYNC": "1"},
			want: with(func(c *serveConfig) { c.Data = "flag" })},
		{name: "bad duration", args: []string{"--retention", "forever"}, err: `invalid duration "forever"`},
		{name: "duration without unit", args: []string{"--max-future", "30"}, err: `duration "30" needs a unit`},
		{name: "bad env duration", env: map[string]string{"ALMANAC_OOO_WINDOW": "soon"}, err: `environment variable ALMANAC_OOO_WINDOW="soon"`},
		{name: "bad env bool", env: map[string]string{"ALMANAC_NO_SYNC": "maybe"}, err: `environment variable ALMANAC_NO_SYNC="maybe"`},
		{name: "unknown flag", args: []string{"--port", "1"}, err: "flag provided but not defined: -port"},
		{name: "stray argument", args: []string{"data"}, err: "unexpected arguments: data"},
		{name: "empty data", args: []string{"--data", ""}, err: "--data must not be empty"},
		{name: "admin and query limits", args: []string{"--enable-admin-api", "--query-timeout", "30s", "--lookback-delta", "10m", "--max-concurrent-queries", "4", "--max-samples", "1000"},
			want: with(func(c *serveConfig) {
				c.EnableAdminAPI, c.QueryTimeout, c.LookbackDelta, c.MaxConcurrentQueries, c.MaxSamples = true, 30*time.Second, 10*time.Minute, 4, 1000
			})},
		{name: "engine", args: []string{"--engine", "prometheus"}, want: with(func(c *serveConfig) { c.Engine = "prometheus" })},
		{name: "bad engine", args: []string{"--engine", "fast"}, err: `unknown --engine "fast"`},
		{name: "negative limit", args: []string{"--max-samples", "-1"}, err: "query limits must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			got, err := parseServeFlags(tc.args, func(k string) string { return tc.env[k] }, &stderr)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %+v, %v; want error %q", got, err, tc.err)
				}
				return
			}
			flags := got.Flags
			got.Flags = nil
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
			if flags["data"] != got.Data || len(flags) < 10 {
				t.Fatalf("Flags map %v does not carry every flag's value", flags)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{nil, 2, "", "no command given"},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"serve", "--bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{[]string{"serve", "--retention", "x"}, 2, "", `invalid value "x" for flag -retention`},
		{[]string{"serve", "-h"}, 0, "", "ALMANAC_DATA"},
		{[]string{"version"}, 0, "almanac ", ""},
		{[]string{"help"}, 0, "usage: almanac <command>", ""},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, func(string) string { return "" }, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
}

// child is almanac serve running as a child process.
type child struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	done   chan error
}

// startServe starts `almanac serve` on a free loopback port, learns the
// port from what it prints, and checks /-/ready.
func startServe(t *testing.T, dir string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--data", dir, "--listen", "127.0.0.1:0", "--no-sync")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ALMANAC_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, childEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stderr: new(bytes.Buffer), done: make(chan error, 1)}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := regexp.MustCompile(`^listening on (http://\S+)$`)
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
		c.done <- cmd.Wait()
	}()
	select {
	case c.url = <-urls:
	case err := <-c.done:
		t.Fatalf("almanac serve exited before listening: %v\n%s", err, c.stderr)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-c.done
		t.Fatalf("almanac serve did not print where it listens\n%s", c.stderr)
	}
	// The listener is bound before the address is printed, so this request
	// waits in the kernel's backlog until the server accepts it.
	resp, err := http.Get(c.url + "/-/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/-/ready: %d", resp.StatusCode)
	}
	return c
}

// stop sends SIGTERM and checks a clean exit.
func (c *child) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.done:
		if err != nil {
			t.Fatalf("almanac serve exited with %v after SIGTERM\n%s", err, c.stderr)
		}
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("almanac serve did not stop after SIGTERM\n%s", c.stderr)
	}
	if !strings.Contains(c.stderr.String(), "shutting down") {
		t.Fatalf("no shutdown in the log:\n%s", c.stderr)
	}
	http.DefaultClient.CloseIdleConnections()
}

func queryValue(t *testing.T, base, q string) string {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?" + url.Values{"query": {q}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.Status != "success" || len(r.Data.Result) != 1 {
		t.Fatalf("query %s: %+v", q, r)
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return s
}

// TestServeEndToEnd runs `almanac serve`, writes and queries, stops it with
// SIGTERM, and checks the data is there after a restart.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	c := startServe(t, dir)
	now := time.Now().UnixMilli()
	wr := prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels:  []prompb.Label{{Name: "__name__", Value: "e2e_total"}, {Name: "job", Value: "test"}},
		Samples: []prompb.Sample{{Timestamp: now - 30000, Value: 1}, {Timestamp: now - 15000, Value: 2}, {Timestamp: now, Value: 3}},
	}}}
	raw, err := wr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", c.url+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("write: %d", resp.StatusCode)
	}
	if got := queryValue(t, c.url, "count_over_time(e2e_total[5m])"); got != "3" {
		t.Fatalf("count before restart: %s", got)
	}
	c.stop(t)

	c = startServe(t, dir)
	if got := queryValue(t, c.url, "sum_over_time(e2e_total[5m])"); got != "6" {
		t.Fatalf("sum after restart: %s", got)
	}
	c.stop(t)
}

// TestServeBadListen: a listen address that cannot be used fails cleanly.
func TestServeBadListen(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"serve", "--data", t.TempDir(), "--listen", "256.0.0.1:bad"}, func(string) string { return "" }, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "almanac serve: listen tcp") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
