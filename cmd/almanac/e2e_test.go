//go:build e2e

// The end-to-end test with a real Prometheus and node_exporter: Prometheus
// scrapes node_exporter and itself every second and remote-writes to
// `almanac serve`; the same queries asked of both must give the same
// samples. It needs the binaries `prometheus` and `prometheus-node-exporter`
// (or `node_exporter`) in PATH and fails, not skips, without them:
//
//	apt-get install -y prometheus prometheus-node-exporter
//	go test -tags e2e -run E2E -v ./cmd/almanac/

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/golang/snappy"
	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
)

const (
	// e2eInstallHint says how to get the binaries the test runs.
	e2eInstallHint = "install them with `apt-get install -y prometheus prometheus-node-exporter` (CI does before running this test)"
	// e2eRemoteReadIssue is the failure while almanac has no remote read.
	e2eRemoteReadIssue = "almanac does not serve remote read yet (issue 4)"
	// e2eSettle is how much data both sides hold before the evaluation
	// time T. It exceeds the 60 s range plus the longest rate window
	// (15 s), so no rate window holds the start of a series: there
	// Prometheus 2.42 and almanac's newer engine extrapolate differently
	// (prometheus/prometheus#13725, merged in 2024), which says nothing about
	// almanac's storage. The series Prometheus creates for its API
	// handlers when the test first queries it start before that, too.
	e2eSettle = 80 * time.Second
	// e2eCatchUp is how far past T almanac's newest `up` samples must be
	// before T is queried: a sample scraped before T is then in almanac.
	e2eCatchUp = 5 * time.Second
	// e2eTolerance is the relative difference allowed between values; both
	// sides hold the same samples, so only float formatting may differ.
	e2eTolerance = 1e-9
)

// e2eQueries are asked of almanac and Prometheus, at T and over [T-60s, T].
var e2eQueries = []string{
	`up`,
	`count(node_cpu_seconds_total)`,
	`sum by (mode) (node_cpu_seconds_total)`,
	`rate(node_cpu_seconds_total[10s])`,
	`node_load1`,
	`node_memory_MemAvailable_bytes`,
	`prometheus_tsdb_head_series`,
	`sum(rate(prometheus_http_requests_total[15s]))`,
	`count by (__name__) ({job="node", __name__=~"node_network_.*"})`,
}

// TestE2EPrometheusRemoteWriteAndRead runs almanac, node_exporter and
// Prometheus on loopback, lets Prometheus remote-write its scrapes into
// almanac, and compares almanac's query, series and label API with
// Prometheus's for the same data. The remote_read subtest reads a series
// only almanac has through Prometheus.
func TestE2EPrometheusRemoteWriteAndRead(t *testing.T) {
	promBin := e2eFindTool(t, "prometheus")
	nodeBin := e2eFindTool(t, "prometheus-node-exporter", "node_exporter")
	t.Logf("prometheus: %s: %s", promBin, e2eVersion(t, promBin))
	t.Logf("node_exporter: %s: %s", nodeBin, e2eVersion(t, nodeBin))

	dir := t.TempDir()
	client := &http.Client{Timeout: 30 * time.Second}
	t.Cleanup(client.CloseIdleConnections)

	// Cleanups run last-registered first: Prometheus stops before
	// almanac, so it can flush its remote-write queue on the way out.
	alm := startServe(t, filepath.Join(dir, "data"))
	t.Cleanup(func() { alm.stop(t) })
	almURL := alm.url
	remoteRead := e2eServesRemoteRead(t, client, almURL)
	t.Logf("almanac: %s, remote read served: %v", almURL, remoteRead)

	nodeAddr := e2eFreeAddr(t)
	node := e2eStart(t, dir, "node_exporter", nodeBin,
		"--web.listen-address="+nodeAddr,
		// Only collectors that work in a container, for a small and
		// steady set of series.
		"--collector.disable-defaults",
		"--collector.cpu", "--collector.meminfo", "--collector.loadavg", "--collector.filesystem",
		"--collector.netdev", "--collector.stat", "--collector.time", "--collector.uname", "--collector.vmstat",
	)
	t.Cleanup(func() { node.stop(t, false) })
	node.waitOK(t, client, "http://"+nodeAddr+"/metrics", 30*time.Second)

	promAddr := e2eFreeAddr(t)
	almHost := strings.TrimPrefix(almURL, "http://")
	cfg := filepath.Join(dir, "prometheus.yml")
	e2eWriteConfig(t, cfg, map[string]any{"NodeExporter": nodeAddr, "Prometheus": promAddr, "Almanac": almHost, "RemoteRead": remoteRead})
	prom := e2eStart(t, dir, "prometheus", promBin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "prom"),
		"--web.listen-address="+promAddr,
	)
	t.Cleanup(func() { prom.stop(t, true) })
	promURL := "http://" + promAddr
	prom.waitOK(t, client, promURL+"/-/ready", 30*time.Second)

	// Both targets' scrapes reach almanac.
	e2eEventually(t, 60*time.Second, "almanac to receive both targets' scrapes", prom, func() (bool, string) {
		up, err1 := e2eInstant(client, almURL, `count(up)`, time.Now())
		cpu, err2 := e2eInstant(client, almURL, `count(node_cpu_seconds_total)`, time.Now())
		if err := errors.Join(err1, err2); err != nil {
			return false, err.Error()
		}
		return e2eScalar(up) == 2 && e2eScalar(cpu) > 0, fmt.Sprintf("count(up) = %v, count(node_cpu_seconds_total) = %v", up, cpu)
	})
	t0 := time.Now()
	T := e2eEvalTime(t, client, promURL, t0.Add(e2eSettle))

	// Wait until almanac's newest `up` of each target is past T: with one
	// remote-write shard, everything scraped up to T has arrived.
	e2eEventually(t, e2eSettle+e2eCatchUp+30*time.Second, "almanac to hold every sample up to T", prom, func() (bool, string) {
		res, err := e2eInstant(client, almURL, `timestamp(up)`, time.Now())
		if err != nil {
			return false, err.Error()
		}
		if len(res) != 2 {
			return false, fmt.Sprintf("timestamp(up) = %v", res)
		}
		for _, s := range res {
			if s[0].v*1000 < float64(T.Add(e2eCatchUp).UnixMilli()) {
				return false, fmt.Sprintf("timestamp(up) = %v, want >= %.3f", res, float64(T.Add(e2eCatchUp).UnixMilli())/1000)
			}
		}
		return true, ""
	})
	t.Logf("T = %s (now - %s); data since about %s", T.Format(time.RFC3339Nano), time.Since(T).Round(time.Millisecond), t0.Format(time.RFC3339))

	t.Run("query", func(t *testing.T) {
		for _, q := range e2eQueries {
			t.Run(q, func(t *testing.T) {
				instant := url.Values{"query": {q}, "time": {e2eTime(T)}}
				e2eCompareQuery(t, client, promURL, almURL, "/api/v1/query", instant)
				rng := url.Values{"query": {q}, "start": {e2eTime(T.Add(-60 * time.Second))}, "end": {e2eTime(T)}, "step": {"5"}}
				e2eCompareQuery(t, client, promURL, almURL, "/api/v1/query_range", rng)
			})
		}
	})

	t.Run("raw_samples", func(t *testing.T) {
		// Every sample of every series in the last minute, as stored: a
		// difference here is almanac's storage, not a PromQL engine's.
		for _, q := range []string{`{job="node"}[60s]`, `{job="prometheus"}[60s]`} {
			t.Run(q, func(t *testing.T) {
				e2eCompareQuery(t, client, promURL, almURL, "/api/v1/query", url.Values{"query": {q}, "time": {e2eTime(T)}})
			})
		}
	})

	t.Run("metadata", func(t *testing.T) {
		params := url.Values{"match[]": {`{job="node"}`}, "start": {e2eTime(T.Add(-30 * time.Second))}, "end": {e2eTime(T)}}
		for _, path := range []string{"/api/v1/series", "/api/v1/labels", "/api/v1/label/__name__/values"} {
			e2eCompareSuperset(t, client, promURL, almURL, path, params)
		}
	})

	t.Run("remote_write_errors", func(t *testing.T) {
		// Prometheus dropped nothing almanac refused, and almanac refused nothing.
		for _, q := range []string{`sum(prometheus_remote_storage_samples_failed_total)`, `sum(prometheus_remote_storage_samples_retried_total)`} {
			res, err := e2eInstant(client, promURL, q, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if v := e2eScalar(res); v != 0 {
				t.Errorf("prometheus: %s = %v, want 0; prometheus log:\n%s", q, v, prom.logTail())
			}
		}
		body, err := e2eGet(client, almURL+"/metrics")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(body))
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "almanac_remote_write_samples_dropped_total") && !strings.HasSuffix(line, " 0") {
				t.Errorf("almanac refused remote-write samples: %s", line)
			}
		}
	})

	t.Run("client_golang", func(t *testing.T) {
		// Prometheus's Go API client works against almanac unchanged and
		// gets the answers Prometheus gives.
		apis := map[string]promv1.API{}
		for name, u := range map[string]string{"prometheus": promURL, "almanac": almURL} {
			c, err := promapi.NewClient(promapi.Config{Address: u})
			if err != nil {
				t.Fatal(err)
			}
			apis[name] = promv1.NewAPI(c)
		}
		ctx := t.Context()
		for _, q := range []string{`up`, `sum by (mode) (rate(node_cpu_seconds_total[10s]))`} {
			var vals [2]model.Value
			for i, name := range []string{"prometheus", "almanac"} {
				v, _, _, err := apis[name].QueryRange(ctx, q, promv1.Range{Start: T.Add(-30 * time.Second), End: T, Step: 5 * time.Second})
				if err != nil {
					t.Fatalf("%s: QueryRange(%s): %v", name, q, err)
				}
				vals[i] = v
			}
			if vals[0].String() != vals[1].String() {
				t.Errorf("QueryRange(%s):\nprometheus %s\nalmanac    %s", q, vals[0], vals[1])
			}
		}
		if _, err := apis["almanac"].Buildinfo(ctx); err != nil {
			t.Errorf("Buildinfo: %v", err)
		}
		if _, err := apis["almanac"].Runtimeinfo(ctx); err != nil {
			t.Errorf("Runtimeinfo: %v", err)
		}
		if _, err := apis["almanac"].Flags(ctx); err != nil {
			t.Errorf("Flags: %v", err)
		}
		if _, err := apis["almanac"].Rules(ctx, nil); err != nil {
			t.Errorf("Rules: %v", err)
		}
		if _, err := apis["almanac"].TSDB(ctx); err != nil {
			t.Errorf("TSDB: %v", err)
		}
		names, _, _, err := apis["almanac"].LabelValues(ctx, "__name__", []string{`{job="node"}`}, T.Add(-30*time.Second), T)
		if err != nil || len(names) == 0 {
			t.Errorf("LabelValues(__name__) = %v, %v", names, err)
		}
		sets, _, _, err := apis["almanac"].Series(ctx, []string{`up`}, T.Add(-30*time.Second), T)
		if err != nil || len(sets) != 2 {
			t.Errorf("Series(up) = %v, %v; want the 2 targets", sets, err)
		}
	})

	t.Run("analytics", func(t *testing.T) {
		// almanac's own functions over what Prometheus wrote: one answer
		// per series, through the same API.
		for _, q := range []string{`anomaly_score(node_load1[60s])`, `forecast(node_load1[60s], 30)`, `forecast_band(node_load1[60s], 30, 0.9)`} {
			res, err := e2eInstant(client, almURL, q, T)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			want := 1
			if strings.HasPrefix(q, "forecast_band") {
				want = 2
			}
			if len(res) != want {
				t.Errorf("%s = %v; want %d series", q, res, want)
			}
		}
	})

	t.Run("promtool", func(t *testing.T) {
		// promtool, Prometheus's command-line client, gets the same text
		// from almanac as from Prometheus.
		promtool := e2eFindTool(t, "promtool")
		for _, args := range [][]string{
			{"query", "instant", "--time=" + e2eTime(T), "%s", `sum by (mode) (node_cpu_seconds_total)`},
			{"query", "range", "--start=" + e2eTime(T.Add(-20*time.Second)), "--end=" + e2eTime(T), "--step=5s", "%s", `count(up)`},
			{"query", "series", "--match=up", "--start=" + e2eTime(T.Add(-20*time.Second)), "--end=" + e2eTime(T), "%s"},
		} {
			var outs [2]string
			for i, u := range []string{promURL, almURL} {
				a := slices.Clone(args)
				for j := range a {
					if a[j] == "%s" {
						a[j] = u
					}
				}
				out, err := exec.Command(promtool, a...).CombinedOutput()
				if err != nil {
					t.Fatalf("promtool %v: %v\n%s", a, err, out)
				}
				outs[i] = string(out)
			}
			if outs[0] != outs[1] {
				t.Errorf("promtool %v:\nprometheus:\n%s\nalmanac:\n%s", args, outs[0], outs[1])
			}
		}
	})

	t.Run("remote_read", func(t *testing.T) {
		if !remoteRead {
			t.Fatal(e2eRemoteReadIssue + ": POST /api/v1/read answers 404, so Prometheus ran without remote_read")
		}
		// A series only almanac has: Prometheus can answer it only by
		// reading it back from almanac.
		name := fmt.Sprintf("e2e_remote_read_only_%d", time.Now().UnixNano())
		ts := time.Now().Add(-2 * time.Second).UnixMilli()
		const value = 42.5
		e2eRemoteWrite(t, client, almURL, prompb.TimeSeries{
			Labels:  []prompb.Label{{Name: "__name__", Value: name}, {Name: "e2e", Value: "remote_read"}},
			Samples: []prompb.Sample{{Timestamp: ts, Value: value}},
		})
		q := name + `{e2e="remote_read"}`
		want := fmt.Sprintf(`{__name__="%s", e2e="remote_read"}`, name)
		e2eEventually(t, 10*time.Second, "prometheus to read "+q+" back from almanac", prom, func() (bool, string) {
			res, err := e2eInstant(client, promURL, q, time.UnixMilli(ts).Add(time.Second))
			if err != nil {
				return false, err.Error()
			}
			got, ok := res[want]
			return ok && len(res) == 1 && got[0].v == value, fmt.Sprintf("got %v, want %s => %v", res, want, value)
		})
	})
}

// e2eFindTool returns the path of the first of names found in PATH, and
// fails the test when none is there.
func e2eFindTool(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("%s not found in PATH: this test runs a real Prometheus and node_exporter; %s", strings.Join(names, " or "), e2eInstallHint)
	return ""
}

// e2eVersion is the first line of `bin --version`.
func e2eVersion(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return first
}

// e2eFreeAddr returns a loopback address with a port free right now. The
// port is released before the caller's process binds it; a process that
// loses that race exits, and waitOK reports it with its log.
func e2eFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// e2eServesRemoteRead reports whether almanac routes POST /api/v1/read
// (anything but 404; an empty body is a bad request, not a missing route).
func e2eServesRemoteRead(t *testing.T, client *http.Client, base string) bool {
	t.Helper()
	resp, err := client.Post(base+"/api/v1/read", "application/x-protobuf", http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode != http.StatusNotFound
}

func e2eWriteConfig(t *testing.T, path string, data map[string]any) {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "e2e", "prometheus.yml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("prometheus.yml:\n%s", buf.Bytes())
}

// e2eProc is a child process (Prometheus, node_exporter) whose output
// goes to a log file in the test's directory.
type e2eProc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed once the process has exited; err is set
	err     error
	stopped bool
}

func e2eStart(t *testing.T, dir, name, bin string, args ...string) *e2eProc {
	t.Helper()
	p := &e2eProc{name: name, logPath: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	f, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p
}

// logTail is the end of the process's log, for failure messages.
func (p *e2eProc) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	const max = 4000
	if len(b) > max {
		b = append([]byte("..."), b[len(b)-max:]...)
	}
	return string(b)
}

// exited reports whether the process has ended, and how.
func (p *e2eProc) exited() (bool, string) {
	select {
	case <-p.done:
		return true, fmt.Sprintf("%s exited: %v\n%s", p.name, p.err, p.logTail())
	default:
		return false, ""
	}
}

// waitOK polls u until it answers 200, failing if the process exits or
// the deadline passes.
func (p *e2eProc) waitOK(t *testing.T, client *http.Client, u string, timeout time.Duration) {
	t.Helper()
	e2eEventually(t, timeout, p.name+" to answer "+u, p, func() (bool, string) {
		_, err := e2eGet(client, u)
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}

// stop sends SIGTERM and waits up to 30 s, then kills. With clean, the
// process must exit with code 0.
func (p *e2eProc) stop(t *testing.T, clean bool) {
	t.Helper()
	if p.stopped {
		return
	}
	p.stopped = true
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within 30s of SIGTERM\n%s", p.name, p.logTail())
		return
	}
	var exit *exec.ExitError
	switch {
	case p.err == nil:
	case !clean && errors.As(p.err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGTERM:
		// node_exporter leaves SIGTERM to Go's default: death by signal.
	default:
		t.Errorf("%s exited with %v after SIGTERM\n%s", p.name, p.err, p.logTail())
	}
}

// e2eEventually polls cond every 250 ms until it holds, failing with its
// last explanation when timeout passes or proc exits.
func e2eEventually(t *testing.T, timeout time.Duration, what string, proc *e2eProc, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return
		}
		if gone, how := proc.exited(); gone {
			t.Fatalf("waiting for %s: %s", what, how)
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: %s\n%s log:\n%s", timeout, what, why, proc.name, proc.logTail())
		}
		<-tick.C
	}
}

// e2eEvalTime picks the evaluation time: the first millisecond at or after
// near whose phase within the 1 s scrape interval is farthest from both
// targets' scrape phases. Samples then never sit on the edge of a range
// window (every step and range in the queries is whole seconds), where
// Prometheus 2 (closed windows) and almanac's Prometheus 3 engine (windows
// open on the left) differ, and where a few ms of scrape jitter would make
// the comparison flaky.
func e2eEvalTime(t *testing.T, client *http.Client, promURL string, near time.Time) time.Time {
	t.Helper()
	res, err := e2eInstant(client, promURL, `timestamp(up)`, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var phases []int64
	for _, s := range res {
		phases = append(phases, int64(math.Round(s[0].v*1000))%1000)
	}
	if len(phases) == 0 {
		t.Fatalf("prometheus has no up samples: %v", res)
	}
	slices.Sort(phases)
	best, bestGap := int64(0), int64(-1)
	for i, p := range phases {
		next := phases[0] + 1000
		if i+1 < len(phases) {
			next = phases[i+1]
		}
		if gap := next - p; gap > bestGap {
			best, bestGap = (p+gap/2)%1000, gap
		}
	}
	ms := near.UnixMilli()
	ms += ((best-ms%1000)%1000 + 1000) % 1000
	t.Logf("scrape phases %v ms; evaluating at phase %d ms", phases, best)
	return time.UnixMilli(ms)
}

// e2eTime formats t as the API's float seconds.
func e2eTime(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }

func e2eGet(client *http.Client, u string) ([]byte, error) {
	resp, err := client.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

// e2eAPI calls a Prometheus-API endpoint and returns its "data".
func e2eAPI(client *http.Client, base, path string, params url.Values) (json.RawMessage, error) {
	body, err := e2eGet(client, base+path+"?"+params.Encode())
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%s%s: %w: %s", base, path, err, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s%s: status %q: %s", base, path, r.Status, r.Error)
	}
	return r.Data, nil
}

// e2ePoint is one sample of a query result, time in seconds as the API
// writes it.
type e2ePoint struct {
	t float64
	v float64
}

// e2eResult maps each result series, as `{a="b", ...}` with sorted names,
// to its points (one for a vector or scalar).
type e2eResult map[string][]e2ePoint

func (r e2eResult) String() string {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range r {
			if !yield(k) {
				return
			}
		}
	})
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s => %v; ", k, r[k])
	}
	return strings.TrimSuffix(b.String(), "; ")
}

func e2eParsePoint(raw [2]any) (e2ePoint, error) {
	ts, ok1 := raw[0].(float64)
	s, ok2 := raw[1].(string)
	if !ok1 || !ok2 {
		return e2ePoint{}, fmt.Errorf("malformed point %v", raw)
	}
	v, err := strconv.ParseFloat(s, 64)
	return e2ePoint{ts, v}, err
}

func e2eParseResult(data json.RawMessage) (string, e2eResult, error) {
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return "", nil, err
	}
	res := e2eResult{}
	switch d.ResultType {
	case "scalar":
		var raw [2]any
		if err := json.Unmarshal(d.Result, &raw); err != nil {
			return "", nil, err
		}
		p, err := e2eParsePoint(raw)
		res["scalar"] = []e2ePoint{p}
		return d.ResultType, res, err
	case "vector", "matrix":
	default:
		return "", nil, fmt.Errorf("unexpected result type %q", d.ResultType)
	}
	var series []struct {
		Metric map[string]string `json:"metric"`
		Value  *[2]any           `json:"value"`
		Values [][2]any          `json:"values"`
	}
	if err := json.Unmarshal(d.Result, &series); err != nil {
		return "", nil, err
	}
	for _, s := range series {
		raws := s.Values
		if s.Value != nil {
			raws = [][2]any{*s.Value}
		}
		key := labels.FromMap(s.Metric).String()
		if _, dup := res[key]; dup {
			return "", nil, fmt.Errorf("series %s twice in the result", key)
		}
		points := make([]e2ePoint, 0, len(raws))
		for _, raw := range raws {
			p, err := e2eParsePoint(raw)
			if err != nil {
				return "", nil, err
			}
			points = append(points, p)
		}
		res[key] = points
	}
	return d.ResultType, res, nil
}

// e2eInstant runs an instant query at ts.
func e2eInstant(client *http.Client, base, q string, ts time.Time) (e2eResult, error) {
	data, err := e2eAPI(client, base, "/api/v1/query", url.Values{"query": {q}, "time": {e2eTime(ts)}})
	if err != nil {
		return nil, err
	}
	_, res, err := e2eParseResult(data)
	return res, err
}

// e2eScalar is the value of a one-series result, NaN otherwise.
func e2eScalar(r e2eResult) float64 {
	if len(r) != 1 {
		return math.NaN()
	}
	for _, ps := range r {
		if len(ps) == 1 {
			return ps[0].v
		}
	}
	return math.NaN()
}

func e2eSameValue(a, b float64) bool {
	if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
		return true
	}
	return math.Abs(a-b) <= e2eTolerance*math.Max(math.Abs(a), math.Abs(b))
}

// e2eCompareQuery asks both servers the same query and reports every
// series and point where they differ.
func e2eCompareQuery(t *testing.T, client *http.Client, promURL, almURL, path string, params url.Values) {
	t.Helper()
	what := path + "?" + params.Encode()
	results := make([]e2eResult, 2)
	types := make([]string, 2)
	for i, base := range []string{promURL, almURL} {
		data, err := e2eAPI(client, base, path, params)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if types[i], results[i], err = e2eParseResult(data); err != nil {
			t.Errorf("%s on %s: %v", what, base, err)
			return
		}
	}
	prom, alm := results[0], results[1]
	if types[0] != types[1] {
		t.Errorf("%s: result type: prometheus %s, almanac %s", what, types[0], types[1])
	}
	var diffs []string
	keys := map[string]bool{}
	for k := range prom {
		keys[k] = true
	}
	for k := range alm {
		keys[k] = true
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	}) {
		p, inProm := prom[k]
		a, inAlm := alm[k]
		switch {
		case !inAlm:
			diffs = append(diffs, fmt.Sprintf("series %s: only prometheus has it: %v", k, p))
			continue
		case !inProm:
			diffs = append(diffs, fmt.Sprintf("series %s: only almanac has it: %v", k, a))
			continue
		}
		byTime := map[float64][2]*float64{}
		for i, ps := range [][]e2ePoint{p, a} {
			for _, pt := range ps {
				e := byTime[pt.t]
				e[i] = &pt.v
				byTime[pt.t] = e
			}
		}
		for _, ts := range slices.Sorted(func(yield func(float64) bool) {
			for ts := range byTime {
				if !yield(ts) {
					return
				}
			}
		}) {
			e := byTime[ts]
			show := func(v *float64) string {
				if v == nil {
					return "no sample"
				}
				return strconv.FormatFloat(*v, 'g', -1, 64)
			}
			if e[0] == nil || e[1] == nil || !e2eSameValue(*e[0], *e[1]) {
				diffs = append(diffs, fmt.Sprintf("series %s at %.3f: prometheus %s, almanac %s", k, ts, show(e[0]), show(e[1])))
			}
		}
	}
	if len(prom) == 0 {
		// Both empty would be a comparison that cannot fail.
		diffs = append(diffs, "prometheus returned no series: nothing was compared")
	}
	if len(diffs) > 0 {
		const max = 20
		more := ""
		if len(diffs) > max {
			more = fmt.Sprintf("\n  ... and %d more", len(diffs)-max)
			diffs = diffs[:max]
		}
		t.Errorf("%s: %s\n(%d series in prometheus, %d in almanac) differences:\n  %s%s",
			params.Get("query"), what, len(prom), len(alm), strings.Join(diffs, "\n  "), more)
	}
}

// e2eCompareSuperset checks that a list endpoint (series, label names or
// values) on almanac holds everything Prometheus's holds. almanac answers
// at day granularity, so it may hold more.
func e2eCompareSuperset(t *testing.T, client *http.Client, promURL, almURL, path string, params url.Values) {
	t.Helper()
	what := path + "?" + params.Encode()
	sets := make([]map[string]bool, 2)
	for i, base := range []string{promURL, almURL} {
		data, err := e2eAPI(client, base, path, params)
		if err != nil {
			t.Errorf("%v", err)
			return
		}
		set := map[string]bool{}
		if path == "/api/v1/series" {
			var series []map[string]string
			if err := json.Unmarshal(data, &series); err != nil {
				t.Fatalf("%s on %s: %v", what, base, err)
			}
			for _, s := range series {
				set[labels.FromMap(s).String()] = true
			}
		} else {
			var names []string
			if err := json.Unmarshal(data, &names); err != nil {
				t.Fatalf("%s on %s: %v", what, base, err)
			}
			for _, n := range names {
				set[n] = true
			}
		}
		sets[i] = set
	}
	var missing, extra []string
	for k := range sets[0] {
		if !sets[1][k] {
			missing = append(missing, k)
		}
	}
	for k := range sets[1] {
		if !sets[0][k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	t.Logf("%s: prometheus %d, almanac %d, almanac only %v", what, len(sets[0]), len(sets[1]), extra)
	if len(sets[0]) == 0 {
		t.Errorf("%s: prometheus returned nothing: nothing was compared", what)
	}
	if len(missing) > 0 {
		t.Errorf("%s: almanac lacks %d of prometheus's %d entries:\n  %s", what, len(missing), len(sets[0]), strings.Join(missing, "\n  "))
	}
}

// e2eRemoteWrite sends one remote-write 1.0 request to almanac.
func e2eRemoteWrite(t *testing.T, client *http.Client, base string, series ...prompb.TimeSeries) {
	t.Helper()
	raw, err := (&prompb.WriteRequest{Timeseries: series}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", base+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("remote write to almanac: %s: %s", resp.Status, body)
	}
}
