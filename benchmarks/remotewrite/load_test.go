//go:build loadbench

package remotewrite

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The knobs, as flags (after -args) or environment variables.
var (
	flagSeries  = flag.Int("series", envInt("LOADBENCH_SERIES", 100_000), "active series (env LOADBENCH_SERIES)")
	flagScrapes = flag.Int("scrapes", envInt("LOADBENCH_SCRAPES", 60), "samples per series, 15 s apart (env LOADBENCH_SCRAPES)")
	flagSenders = flag.Int("senders", envInt("LOADBENCH_SENDERS", 8), "concurrent senders, as queue-manager shards (env LOADBENCH_SENDERS)")
	flagPerSend = flag.Int("samples-per-send", envInt("LOADBENCH_SAMPLES_PER_SEND", 2000), "samples per request, max_samples_per_send (env LOADBENCH_SAMPLES_PER_SEND)")
	flagPeers   = flag.String("peers", envString("LOADBENCH_PEERS", defaultPeers), "peers to run, in order (env LOADBENCH_PEERS); also almanac-inprocess")
	flagOut     = flag.String("out", os.Getenv("LOADBENCH_OUT"), "also write the result table to this file (env LOADBENCH_OUT)")
	flagRounds  = flag.Int("rounds", envInt("LOADBENCH_ROUNDS", 3), "runs of every peer, interleaved; the table shows medians (env LOADBENCH_ROUNDS)")
	flagSeed    = flag.Uint64("seed", 1, "seed of the generated data")
	flagProfile = flag.String("load-cpuprofile", os.Getenv("LOADBENCH_CPUPROFILE"),
		"write a CPU profile of this process while it sends the load (env LOADBENCH_CPUPROFILE); with -peers=almanac-inprocess it shows the server's time")
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envString(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// result is what one peer measured.
type result struct {
	peer, version string
	inProcess     bool
	accepted      int64 // samples acknowledged with 2xx
	rejected      int64 // samples answered 4xx, or failed after the retries
	retries       int64
	wall          time.Duration // first request sent to last answer received
	senderCPU     time.Duration // this process's CPU during the load
	serverCPU     time.Duration // the server process's CPU during the load
	peakRSS       int64         // VmHWM at the end of the load
	diskBytes     int64         // data directory after a graceful stop
	diskCompacted int64         // the same after peer.compact; 0 without
	count         int64         // count({__name__=~".+"}) after the load; -1: not checked
	visibleAfter  time.Duration // how long after the load the count was right
	statuses      map[int]int64
}

func (r *result) samplesPerSec() float64 { return float64(r.accepted) / r.wall.Seconds() }

// TestRemoteWriteLoad sends the same pre-encoded remote-write load to each
// peer in turn and prints a table comparing them. It fails when a peer is
// missing, when a peer does not acknowledge every sample, or when a peer's
// series count after the load is wrong.
func TestRemoteWriteLoad(t *testing.T) {
	byName := map[string]*peer{}
	for _, p := range peers() {
		byName[p.name] = p
	}
	var run []*peer
	versions := map[string]string{}
	for name := range strings.SplitSeq(*flagPeers, ",") {
		p, ok := byName[strings.TrimSpace(name)]
		if !ok {
			t.Fatalf("unknown peer %q; known: %s,almanac-inprocess", name, defaultPeers)
		}
		v, err := p.resolve(t)
		if err != nil {
			t.Fatalf("peer %s: %v", p.name, err)
		}
		versions[p.name] = v
		run = append(run, p)
	}

	began := time.Now()
	w := generate(*flagSeed, *flagSeries, *flagScrapes, *flagSenders, *flagPerSend, time.Now().Truncate(time.Second))
	nReq := 0
	for _, sh := range w.shards {
		nReq += len(sh)
	}
	t.Logf("load: %d series × %d scrapes = %d samples in %d requests of ≤ %d samples from %d senders, %.1f MiB encoded (%.1f B/sample); generated in %v",
		w.series, w.scrapes, w.samples, nReq, *flagPerSend, *flagSenders, float64(w.encodedBytes)/(1<<20),
		float64(w.encodedBytes)/float64(w.samples), time.Since(began).Round(time.Millisecond))
	runtime.GC() // the generator's garbage is not the first peer's cost

	var order []string
	results := map[string][]*result{}
	for round := range *flagRounds {
		for _, p := range run {
			name := p.name
			if *flagRounds > 1 {
				name = fmt.Sprintf("%s/round%d", p.name, round+1)
			}
			t.Run(name, func(t *testing.T) {
				r := runPeer(t, p, w)
				r.version = versions[p.name]
				if len(results[p.name]) == 0 {
					order = append(order, p.name)
				}
				results[p.name] = append(results[p.name], r)
				t.Logf("%s: %d accepted, %d rejected, %d retries, statuses %v in %v: %.0f samples/s; server CPU %v, sender CPU %v; peak RSS %.1f MiB; disk %.2f B/sample; count %d after %v",
					p.name, r.accepted, r.rejected, r.retries, r.statuses, r.wall.Round(time.Millisecond), r.samplesPerSec(),
					r.serverCPU, r.senderCPU, float64(r.peakRSS)/(1<<20), float64(r.diskBytes)/float64(max(r.accepted, 1)),
					r.count, r.visibleAfter.Round(time.Millisecond))
			})
		}
	}
	var sums []summary
	for _, name := range order {
		sums = append(sums, summarize(results[name]))
	}

	var b strings.Builder
	fmt.Fprintf(&b, "load: %d series × %d scrapes = %d samples, %d requests of ≤ %d samples, %d senders, %.1f B/sample encoded; %d CPUs (%s)\n\n",
		w.series, w.scrapes, w.samples, nReq, *flagPerSend, *flagSenders, float64(w.encodedBytes)/float64(w.samples), runtime.NumCPU(), runtime.Version())
	if *flagRounds > 1 {
		fmt.Fprintf(&b, "%d rounds, peers interleaved; each figure is the median of the rounds (samples/s of every round in parentheses).\n\n", *flagRounds)
	}
	writeTable(&b, sums)
	fmt.Print("\n" + b.String())
	if *flagOut != "" {
		if err := os.WriteFile(*flagOut, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// runPeer starts p on an empty data directory, sends it the load, checks
// the series count, reads its peak RSS, stops it and measures its data.
func runPeer(t *testing.T, p *peer, w *workload) *result {
	r := &result{peer: p.name, inProcess: p.inProcess, count: -1, statuses: map[int]int64{}}
	dataDir := filepath.Join(t.TempDir(), "data")
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	inst, err := p.start(t, dataDir, addr)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			inst.stop()
		}
	}()

	cpu0, err := procCPU(inst.pid)
	if err != nil {
		t.Fatal(err)
	}
	if *flagProfile != "" {
		f, err := os.Create(*flagProfile)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		send(t, inst.url+"/api/v1/write", w, r)
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	} else {
		send(t, inst.url+"/api/v1/write", w, r)
	}
	cpu1, err := procCPU(inst.pid)
	if err != nil {
		t.Fatal(err)
	}
	r.serverCPU = cpu1 - cpu0
	if r.rejected > 0 {
		t.Errorf("%d of %d samples were not acknowledged (statuses %v)", r.rejected, w.samples, r.statuses)
	}

	if inst.countURL != nil {
		r.count, r.visibleAfter, err = awaitCount(inst.countURL(`count({__name__=~".+"})`, w.maxt), int64(w.series))
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() && inst.log != "" {
		t.Logf("%s's log ends:\n%s", p.name, tail(inst.log))
	}
	if r.peakRSS, err = procStatus(inst.pid, "VmHWM"); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if err := inst.stop(); err != nil {
		t.Fatalf("stopping %s: %v", p.name, err)
	}
	if _, err := os.Stat(dataDir); err == nil {
		var byKind map[string]int64
		if r.diskBytes, byKind, err = dirBytes(dataDir); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s data directory: %d bytes; by kind: %v", p.name, r.diskBytes, byKind)
		if p.compact != nil {
			if err := p.compact(dataDir); err != nil {
				t.Fatalf("compacting %s's data: %v", p.name, err)
			}
			if r.diskCompacted, byKind, err = dirBytes(dataDir); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s data directory after a full compaction: %d bytes; by kind: %v", p.name, r.diskCompacted, byKind)
		}
	}
	return r
}

// send posts every request of w to url, each sender its shard in order,
// as Prometheus's queue manager does: a 5xx or 429 answer or a transport
// error is retried with exponential backoff from 30 ms (Prometheus's
// min_backoff) up to 10 tries; any other non-2xx answer drops the request.
func send(t *testing.T, url string, w *workload, r *result) {
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: len(w.shards),
		DisableCompression:  true,
	}, Timeout: 2 * time.Minute}
	defer client.CloseIdleConnections()

	var accepted, rejected, retries atomic.Int64
	var mu sync.Mutex
	statuses := map[int]int64{}
	var firstErr atomic.Pointer[string]
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	var wg sync.WaitGroup
	for _, shard := range w.shards {
		wg.Go(func() {
			for _, rq := range shard {
				code, msg := post(client, url, rq.body, &retries)
				mu.Lock()
				statuses[code]++
				mu.Unlock()
				if code/100 == 2 {
					accepted.Add(int64(rq.samples))
					continue
				}
				rejected.Add(int64(rq.samples))
				m := fmt.Sprintf("status %d: %.300s", code, msg)
				firstErr.CompareAndSwap(nil, &m)
			}
		})
	}
	wg.Wait()
	r.wall = time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	r.senderCPU = time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	r.accepted, r.rejected, r.retries, r.statuses = accepted.Load(), rejected.Load(), retries.Load(), statuses
	if m := firstErr.Load(); m != nil {
		t.Logf("first refused request: %s", *m)
	}
}

// post sends one request with its retries and returns the last status
// (0 for a transport error) and, when it is not 2xx, the answer's body.
func post(client *http.Client, url string, body []byte, retries *atomic.Int64) (int, string) {
	backoff := 30 * time.Millisecond
	for try := 1; ; try++ {
		code, msg := postOnce(client, url, body)
		retry := code == 0 || code == http.StatusTooManyRequests || code/100 == 5
		if !retry || try == 10 {
			return code, msg
		}
		retries.Add(1)
		time.Sleep(backoff)
		backoff = min(2*backoff, 5*time.Second)
	}
}

func postOnce(client *http.Client, url string, body []byte) (int, string) {
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", "almanac-loadbench")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, ""
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, string(msg)
}

// awaitCount runs the instant query at url, whose answer is one number,
// until it is want or a minute passes (VictoriaMetrics makes new series
// searchable about a second after it accepts them).
func awaitCount(url string, want int64) (got int64, after time.Duration, err error) {
	start := time.Now()
	for {
		got, err = queryScalar(url)
		if err == nil && got == want {
			return got, time.Since(start), nil
		}
		if time.Since(start) > time.Minute {
			if err == nil {
				err = fmt.Errorf("count({__name__=~\".+\"}) is %d a minute after the load, want %d", got, want)
			}
			return got, time.Since(start), err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func queryScalar(url string) (int64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		return 0, fmt.Errorf("query %s: status %d: %.300s", url, resp.StatusCode, body)
	}
	if len(r.Data.Result) != 1 {
		return 0, nil // no series yet
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	f, err := strconv.ParseFloat(s, 64)
	return int64(f), err
}

// summary is a peer's figures over its rounds: medians, each on its own.
type summary struct {
	peer, version string
	inProcess     bool
	rates         []float64 // accepted samples/s of each round
	rate          float64
	wall          time.Duration
	serverCPU     time.Duration
	peakRSS       int64
	diskPerSample float64
	compactedDisk float64 // B/sample after peer.compact; 0 without
	count         string  // the series count check, "—" when not made
}

func summarize(rs []*result) summary {
	s := summary{peer: rs[0].peer, version: rs[0].version, inProcess: rs[0].inProcess, count: "—"}
	var walls, cpus, rss []float64
	var disk, compacted []float64
	for _, r := range rs {
		compacted = append(compacted, float64(r.diskCompacted)/float64(max(r.accepted, 1)))
		s.rates = append(s.rates, r.samplesPerSec())
		walls = append(walls, float64(r.wall))
		cpus = append(cpus, float64(r.serverCPU))
		rss = append(rss, float64(r.peakRSS))
		disk = append(disk, float64(r.diskBytes)/float64(max(r.accepted, 1)))
	}
	s.rate = median(s.rates)
	s.wall, s.serverCPU = time.Duration(median(walls)), time.Duration(median(cpus))
	s.peakRSS, s.diskPerSample, s.compactedDisk = int64(median(rss)), median(disk), median(compacted)
	if r := rs[len(rs)-1]; r.count >= 0 {
		s.count = fmt.Sprintf("%d (after %.1f s)", r.count, r.visibleAfter.Seconds())
	}
	return s
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// writeTable writes the summaries as a markdown table, then the ratios of
// each almanac row to VictoriaMetrics and Prometheus.
func writeTable(b *strings.Builder, ss []summary) {
	b.WriteString("| server | version | accepted samples/s | wall s | server CPU s | peak RSS MiB | disk B/sample | series queryable |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, s := range ss {
		rate := thousands(s.rate)
		if len(s.rates) > 1 {
			var each []string
			for _, r := range s.rates {
				each = append(each, thousands(r))
			}
			rate += " (" + strings.Join(each, ", ") + ")"
		}
		cpu, rss, disk := fmt.Sprintf("%.1f", s.serverCPU.Seconds()), fmt.Sprintf("%.0f", float64(s.peakRSS)/(1<<20)), fmt.Sprintf("%.2f", s.diskPerSample)
		if s.inProcess {
			cpu, rss = cpu+"¹", rss+"¹"
		}
		if s.peer == "null" {
			disk = "—"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %.1f | %s | %s | %s | %s |\n", s.peer, s.version, rate, s.wall.Seconds(), cpu, rss, disk, s.count)
	}
	for _, a := range ss {
		if !strings.HasPrefix(a.peer, "almanac") {
			continue
		}
		for _, p := range ss {
			if p.peer != "victoriametrics" && p.peer != "prometheus" {
				continue
			}
			fmt.Fprintf(b, "| %s / %s | | %.2f× | | %.2f× | %.2f× | %.2f× | |\n", a.peer, p.peer,
				a.rate/p.rate, a.serverCPU.Seconds()/p.serverCPU.Seconds(),
				float64(a.peakRSS)/float64(p.peakRSS), a.diskPerSample/p.diskPerSample)
		}
	}
	b.WriteString("\n")
	if slices.ContainsFunc(ss, func(s summary) bool { return s.inProcess }) {
		b.WriteString("¹ in the test process: includes the load generator's CPU and memory.\n")
	}
	for _, s := range ss {
		if s.compactedDisk > 0 {
			fmt.Fprintf(b, "%s's data directory after reopening it and a full compaction (DB.Flush): %.2f B/sample.\n", s.peer, s.compactedDisk)
		}
	}
}

// thousands formats a rate with thousands separators.
func thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
