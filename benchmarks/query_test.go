package benchmarks

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/query"
)

// BenchmarkQuery's low-resolution dataset: -query-long-series series
// scraped every 5 min for -query-long-days days (0 skips it and its query).
var (
	longSeriesFlag = flag.Int("query-long-series", 1000, "series in BenchmarkQuery's low-resolution dataset")
	longDaysFlag   = flag.Int("query-long-days", 30, "days of 5 min scrapes in BenchmarkQuery's low-resolution dataset (0: skip it)")
)

const (
	histogramSeed = 3
	longSeed      = 2
	// longStretch turns generate's 15 s scrapes into 5 min ones.
	longStretch = 20
	// memoryRuns is how many untimed runs measure a query's peak heap
	// (their median is reported).
	memoryRuns = 3
	// minOpTime is how long one op should take at least: a query that
	// takes less runs several times per op.
	minOpTime = 100 * time.Millisecond
	// resultTolerance is the relative difference allowed between the
	// engines' values (summation order may differ).
	resultTolerance = 1e-9
)

// benchQuery is one dashboard-like range query.
type benchQuery struct {
	name string
	expr string
	long bool          // over the whole low-resolution dataset (rng unused)
	rng  time.Duration // the query's range, ending at the data's end
	step time.Duration
}

var benchQueries = []benchQuery{
	{name: "sum-rate", expr: `sum by (job) (rate(node_cpu_seconds_total[5m]))`, rng: 3 * time.Hour, step: 30 * time.Second},
	{name: "histogram-quantile", expr: `histogram_quantile(0.99, sum by (le) (rate(request_duration_seconds_bucket[5m])))`, rng: 3 * time.Hour, step: 30 * time.Second},
	{name: "topk", expr: `topk(10, rate(node_cpu_seconds_total[5m]))`, rng: 3 * time.Hour, step: 30 * time.Second},
	{name: "regex", expr: `sum(rate(node_network_receive_bytes_total{instance=~"10\\.16\\.0\\.1.*"}[5m]))`, rng: 3 * time.Hour, step: 30 * time.Second},
	{name: "30d", expr: `sum by (mode) (rate(node_cpu_seconds_total[1h]))`, long: true, step: time.Hour},
	{name: "subquery", expr: `max_over_time(rate(node_network_receive_bytes_total[5m])[1h:1m])`, rng: 3 * time.Hour, step: 30 * time.Second},
	{name: "count-by", expr: `count by (job) (node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.5)`, rng: 3 * time.Hour, step: 30 * time.Second},
}

// queryPeer is one engine over one database.
type queryPeer interface {
	// run evaluates q over [start, end]; done releases the result (Prometheus
	// pools its points) and must be called once the result is no longer used.
	run(ctx context.Context, q string, start, end time.Time, step time.Duration) (m promql.Matrix, done func(), err error)
}

type almanacPeer struct {
	ng *query.Engine
	db *almanac.DB
}

func (p almanacPeer) run(ctx context.Context, q string, start, end time.Time, step time.Duration) (promql.Matrix, func(), error) {
	res, err := p.ng.Range(ctx, p.db.QueryStorage(), q, start, end, step, nil)
	if err != nil {
		return nil, func() {}, err
	}
	m, ok := res.Value.(promql.Matrix)
	if !ok {
		return nil, func() {}, fmt.Errorf("almanac returned a %T", res.Value)
	}
	return m, func() {}, nil
}

type prometheusPeer struct {
	ng *promql.Engine
	db *tsdb.DB
}

func (p prometheusPeer) run(ctx context.Context, q string, start, end time.Time, step time.Duration) (promql.Matrix, func(), error) {
	qry, err := p.ng.NewRangeQuery(ctx, p.db, nil, q, start, end, step)
	if err != nil {
		return nil, func() {}, err
	}
	res := qry.Exec(ctx)
	if res.Err != nil {
		qry.Close()
		return nil, func() {}, res.Err
	}
	m, err := res.Matrix()
	if err != nil {
		qry.Close()
		return nil, func() {}, err
	}
	return m, qry.Close, nil
}

// newPrometheusEngine is Prometheus's engine with the options of
// promqltest.NewTestEngine, less delayed name removal and start
// timestamps (almanac's engine has them off by default), and almanac's
// default sample limit.
func newPrometheusEngine() *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		MaxSamples:               50_000_000,
		Timeout:                  2 * time.Minute,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		LookbackDelta:            5 * time.Minute,
		Parser:                   parser.NewParser(parser.Options{}),
	})
}

// loadPeers ingests d into a new almanac and a new Prometheus TSDB under
// b's temporary directory; both are closed when b ends. compact writes
// everything to files first (almanac: Flush; Prometheus: its whole head
// into one block, with background compaction off so the head may span d),
// as a database holding older data has it; otherwise both stay as the
// ingest left them (Prometheus's head holds everything, almanac's head the
// last hour), as in BenchmarkSelect.
func loadPeers(b *testing.B, d *dataset, compact bool) (*almanac.DB, *tsdb.DB) {
	b.Helper()
	ctx := b.Context()
	adb, err := openAlmanac(b.TempDir(), true)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { adb.Close() })
	if err := ingestAlmanac(ctx, adb, d); err != nil {
		b.Fatal(err)
	}
	if compact {
		if err := adb.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	settledDiskBytes(adb) // let pebble finish the compactions the ingest started

	pdir := b.TempDir()
	pdb, err := openPrometheus(pdir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pdb.Close() })
	if compact {
		pdb.DisableCompactions()
	}
	if err := ingestPrometheus(ctx, pdb, d); err != nil {
		b.Fatal(err)
	}
	if compact {
		if _, _, err := compactPrometheus(pdb, pdir); err != nil {
			b.Fatal(err)
		}
	}
	return adb, pdb
}

// BenchmarkQuery runs dashboard-like PromQL range queries with almanac's
// engine on almanac and with Prometheus's engine on Prometheus's TSDB, the
// same data in both: the workload of the storage benchmarks plus a classic
// histogram (generateHistogram, 1,400 series for 100 targets), over its
// last 3 h at a 30 s step; and a low-resolution dataset (1,000 series of
// 5 min scrapes for 30 days, flushed / compacted into one block) over
// 30 days at a 1 h step. Before anything is timed, both engines' results
// must agree (same series, same steps, values within 1e-9 relative), or
// the benchmark fails. Each query then reports, per engine, ms/query,
// cpu-ms/query (the process's CPU time, GC included) and peak-heap-B (the
// most the Go heap grew while the query ran, median of memoryRuns untimed
// runs); one op runs a short query several times (queries/op) so that it
// lasts about minOpTime. The "ratio" sub-benchmark reports speedup-x
// (Prometheus's time / almanac's), cpu-speedup-x and mem-x (almanac's peak
// / Prometheus's), and "summary" the smallest and median speedup and the
// largest mem-x over all queries, and prints the table of
// docs/benchmarks.md.
func BenchmarkQuery(b *testing.B) {
	base := workload(b)
	nInst := (len(base.series) + seriesPerInstance - 1) / seriesPerInstance
	d := mergeScrapes(base, generateHistogram(histogramSeed, nInst, time.Duration(*hoursFlag*float64(time.Hour))))
	began := time.Now()
	adb, pdb := loadPeers(b, d, false)
	loaded := []string{fmt.Sprintf("loaded %d series, %d samples in %.1fs (load average %s)", len(d.series), d.samples(), time.Since(began).Seconds(), hostLoad())}
	end := dataStart.Add(time.Duration(*hoursFlag * float64(time.Hour)))

	ang := query.NewEngine(query.Options{})
	png := newPrometheusEngine()
	defer png.Close()
	peersOf := map[bool][2]queryPeer{false: {almanacPeer{ang, adb}, prometheusPeer{png, pdb}}}

	longEnd := dataStart.Add(3 * time.Hour)
	longStart := longEnd.Add(-time.Duration(*longDaysFlag) * 24 * time.Hour)
	if *longDaysFlag > 0 {
		began := time.Now()
		ld := stretch(generate(longSeed, *longSeriesFlag, longEnd.Sub(longStart)/longStretch), longStretch, longStart.UnixMilli())
		ladb, lpdb := loadPeers(b, ld, true)
		loaded = append(loaded, fmt.Sprintf("loaded %d series, %d samples over %d days in %.1fs (load average %s)", len(ld.series), ld.samples(), *longDaysFlag, time.Since(began).Seconds(), hostLoad()))
		peersOf[true] = [2]queryPeer{almanacPeer{ang, ladb}, prometheusPeer{png, lpdb}}
	}

	times, cpus, peaks := peers{}, peers{}, peers{}
	// figures holds each query's row of the summary; a ratio sub-benchmark
	// runs more than once (-benchtime=Nx, -count) and overwrites its row.
	type figures struct {
		speedup, mem float64
		row          string
	}
	figs := map[string]figures{}
	var order []string
	for _, q := range benchQueries {
		if q.long && *longDaysFlag == 0 {
			continue
		}
		qStart, qEnd := end.Add(-q.rng), end
		if q.long {
			qStart, qEnd = longStart, longEnd
		}
		pp := peersOf[q.long]
		b.Run(q.name, func(b *testing.B) {
			ctx := b.Context()
			series, points := checkSameResult(b, ctx, q.expr, pp[0], pp[1], qStart, qEnd, q.step)
			names := [2]string{"almanac", "prometheus"}
			var heap [2]float64
			slowest := time.Duration(0) // the slower peer's fastest untimed run
			for i, p := range pp {
				var ms []float64
				fastest := time.Duration(math.MaxInt64)
				for range memoryRuns {
					ms = append(ms, float64(peakHeap(func() {
						began := time.Now()
						_, done, err := p.run(ctx, q.expr, qStart, qEnd, q.step)
						if err != nil {
							b.Fatal(err)
						}
						fastest = min(fastest, time.Since(began))
						done()
					})))
				}
				heap[i] = median(ms)
				peaks.set(q.name+"/"+names[i], heap[i])
				slowest = max(slowest, fastest)
			}
			// One op runs the query reps times, the same for both peers, so
			// that an op of a short query is long enough to time.
			reps := int(min(100, max(1, minOpTime/max(slowest, 1))))
			for i, p := range pp {
				name := names[i]
				b.Run(name, func(b *testing.B) {
					// The labels (inherited by the goroutines a query starts)
					// let a profile of the whole run focus on one peer's
					// queries: go tool pprof -tagfocus=peer=almanac.
					cpu0 := processCPU()
					pprof.Do(ctx, pprof.Labels("peer", name, "query", q.name), func(ctx context.Context) {
						for b.Loop() {
							for range reps {
								_, done, err := p.run(ctx, q.expr, qStart, qEnd, q.step)
								if err != nil {
									b.Fatal(err)
								}
								done()
							}
						}
					})
					cpu := processCPU() - cpu0
					n := float64(b.N * reps)
					b.ReportMetric(times.set(q.name+"/"+name, b.Elapsed().Seconds()*1000/n), "ms/query")
					b.ReportMetric(cpus.set(q.name+"/"+name, cpu.Seconds()*1000/n), "cpu-ms/query")
					b.ReportMetric(heap[i], "peak-heap-B")
					b.ReportMetric(float64(reps), "queries/op")
					b.ReportMetric(float64(series), "series")
					b.ReportMetric(float64(points), "points")
				})
			}
			b.Run("ratio", func(b *testing.B) {
				an, pn := q.name+"/almanac", q.name+"/prometheus"
				if len(times[an]) == 0 || len(times[pn]) == 0 {
					b.Skip("ratio needs the almanac and prometheus sub-benchmarks in the same run")
				}
				for b.Loop() { // nothing to time: run once per -count
				}
				at, pt := median(times[an]), median(times[pn])
				ap, ppk := median(peaks[an]), median(peaks[pn])
				speedup, mem := ratio(pt, at), ratio(ap, ppk)
				b.ReportMetric(speedup, "speedup-x")
				b.ReportMetric(mem, "mem-x")
				if _, ok := figs[q.name]; !ok {
					order = append(order, q.name)
				}
				ac, pc := median(cpus[an]), median(cpus[pn])
				b.ReportMetric(ratio(pc, ac), "cpu-speedup-x")
				figs[q.name] = figures{speedup: speedup, mem: mem, row: fmt.Sprintf("| %s | `%s` | %d | %.1f ms | %.1f ms | %.2f× | %.1f ms | %.1f ms | %.2f× | %s | %s | %.2f× |",
					q.name, q.expr, series, at, pt, speedup, ac, pc, ratio(pc, ac), mib(ap), mib(ppk), mem)}
			})
		})
	}
	printed := false
	b.Run("summary", func(b *testing.B) {
		for _, l := range loaded {
			b.Log(l)
		}
		b.Log("load average " + hostLoad())
		if len(order) == 0 {
			b.Skip("no query ran with both engines")
		}
		for b.Loop() { // nothing to time: run once per -count
		}
		var speedups, mems []float64
		rows := []string{
			"| query | expression | series | almanac | prometheus | speedup | almanac CPU | prometheus CPU | CPU ratio | almanac peak heap | prometheus peak heap | peak ratio |",
			"|---|---|---|---|---|---|---|---|---|---|---|---|",
		}
		for _, name := range order {
			f := figs[name]
			speedups, mems = append(speedups, f.speedup), append(mems, f.mem)
			rows = append(rows, f.row)
		}
		b.ReportMetric(slices.Min(speedups), "min-speedup-x")
		b.ReportMetric(median(speedups), "median-speedup-x")
		b.ReportMetric(slices.Max(mems), "max-mem-x")
		if !printed { // to stdout: b.Log keeps only 10 lines of a benchmark's output
			printed = true
			fmt.Println(strings.Join(rows, "\n"))
		}
	})
}

func mib(n float64) string { return fmt.Sprintf("%.1f MiB", n/(1<<20)) }

// checkSameResult runs q on both peers and fails b unless they return the
// same series with the same steps and values within resultTolerance
// (relative; NaNs match NaNs), or return nothing. It returns the result's
// series and points.
func checkSameResult(b *testing.B, ctx context.Context, q string, a, p queryPeer, start, end time.Time, step time.Duration) (series, points int) {
	b.Helper()
	am, adone, err := a.run(ctx, q, start, end, step)
	if err != nil {
		b.Fatalf("almanac: %s: %v", q, err)
	}
	defer adone()
	pm, pdone, err := p.run(ctx, q, start, end, step)
	if err != nil {
		b.Fatalf("prometheus: %s: %v", q, err)
	}
	defer pdone()
	if err := diffMatrix(am, pm); err != nil {
		b.Fatalf("%s: almanac's result differs from Prometheus's: %v", q, err)
	}
	for _, s := range pm {
		points += len(s.Floats)
	}
	if points == 0 {
		b.Fatalf("%s: empty result, nothing to compare", q)
	}
	return len(pm), points
}

// diffMatrix describes the first difference between got (almanac) and
// want (Prometheus), or returns nil.
func diffMatrix(got, want promql.Matrix) error {
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if !labels.Equal(g.Metric, w.Metric) {
			return fmt.Errorf("series %d: almanac %s, prometheus %s", i, g.Metric, w.Metric)
		}
		if len(g.Histograms)+len(w.Histograms) > 0 {
			return fmt.Errorf("series %s: histogram samples", w.Metric)
		}
		for j := range min(len(g.Floats), len(w.Floats)) {
			gp, wp := g.Floats[j], w.Floats[j]
			if gp.T != wp.T {
				return fmt.Errorf("series %s, point %d: almanac t=%d, prometheus t=%d", w.Metric, j, gp.T, wp.T)
			}
			if !closeEnough(gp.F, wp.F) {
				return fmt.Errorf("series %s, t=%d: almanac %v, prometheus %v (relative difference %.3g)",
					w.Metric, wp.T, gp.F, wp.F, math.Abs(gp.F-wp.F)/math.Max(math.Abs(gp.F), math.Abs(wp.F)))
			}
		}
		if len(g.Floats) != len(w.Floats) {
			return fmt.Errorf("series %s: almanac %d points, prometheus %d", w.Metric, len(g.Floats), len(w.Floats))
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("almanac %d series, prometheus %d", len(got), len(want))
	}
	return nil
}

func closeEnough(a, b float64) bool {
	if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
		return true
	}
	return math.Abs(a-b) <= resultTolerance*math.Max(math.Abs(a), math.Abs(b))
}

// heapObjects is the runtime/metrics figure peakHeap samples: the bytes of
// live objects and of dead ones the GC has not yet freed.
const heapObjects = "/memory/classes/heap/objects:bytes"

// peakHeap runs f after two GCs and returns how far the Go heap's objects
// grew above their size before f, sampled every millisecond while f runs
// and once when it returns. The two GCs empty every sync.Pool (the first
// moves pooled objects to the victim cache, the second frees them), so a
// query cannot hide its working memory in buffers a previous run pooled.
// The figure counts garbage not yet collected, which the process holds
// too; memory outside the Go heap (pebble's block cache, Prometheus's
// memory-mapped chunks) is not counted. The runtime counts allocations
// when a P's cached span is swapped, so the figure is exact to a few
// hundred kB.
func peakHeap(f func()) int64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	done := make(chan struct{})
	var sampled uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: heapObjects}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				metrics.Read(s)
				sampled = max(sampled, s[0].Value.Uint64())
			}
		}
	})
	f()
	metrics.Read(s)
	close(done)
	wg.Wait()
	peak := max(sampled, s[0].Value.Uint64())
	if peak < before {
		return 0
	}
	return int64(peak - before)
}

// processCPU is the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// hostLoad is the 1-minute load average (for the logs of a run).
func hostLoad() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
