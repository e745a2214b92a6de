//go:build loadbench

package remotewrite

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

const (
	scrapeInterval     = 15 * time.Second
	seriesPerInstance  = 100 // instanceSeries returns exactly this many
	instancesPerJob    = 100 // so a job has 10,000 series
	timestampJitterMax = 3   // ± ms around the instance's scrape phase
)

// genKind is how a series' value evolves from one scrape to the next.
type genKind uint8

const (
	genConst   genKind = iota // never changes
	genCounter                // counter: steady rate + noise, rounded to 10^-dec
	genGauge                  // random walk in multiples of quantum within [lo, hi]
	genFloat                  // full-precision floats (load averages, durations)
	genClock                  // node_time_seconds: scrape time in s plus µs noise
)

// seriesGen generates one series' values.
type seriesGen struct {
	kind    genKind
	v       float64
	rate    float64 // counters: mean increase per scrape; gauges: walk stddev
	quantum float64 // gauges: 1024 for memory in bytes, 1 for counts, 0.1 for °C
	scale   float64 // counters: 10^dec
	lo, hi  float64
}

func (g *seriesGen) next(rng *rand.Rand, tMs int64) float64 {
	switch g.kind {
	case genCounter:
		g.v = math.Round((g.v+math.Max(0, g.rate*(1+0.3*rng.NormFloat64())))*g.scale) / g.scale
	case genGauge:
		g.v = math.Min(g.hi, math.Max(g.lo, g.v+g.quantum*math.Round(g.rate*rng.NormFloat64()/g.quantum)))
	case genFloat:
		g.v = math.Abs(g.v*0.9 + g.rate*0.1*math.Exp(0.5*rng.NormFloat64()))
	case genClock:
		g.v = float64(tMs)/1000 + rng.Float64()/1000
	}
	return g.v
}

// seriesDef is one series of a target before its instance and job labels.
type seriesDef struct {
	kv []string // label pairs, __name__ first
	g  seriesGen
}

// instanceSeries returns the seriesPerInstance series of one node_exporter
// target with the scraper's up and scrape_* series, as a machine that has
// been up for uptime scrapes: CPU seconds with two decimals, integer
// counters (network, disk, kernel), memory and file system gauges in
// bytes, small integer gauges, temperatures with one decimal, load
// averages and scrape durations in full precision, and constants.
func instanceSeries(rng *rand.Rand, uptime float64) []seriesDef {
	busy := 0.3 + 1.4*rng.Float64()
	var defs []seriesDef
	add := func(g seriesGen, kv ...string) { defs = append(defs, seriesDef{kv: kv, g: g}) }
	counter := func(rate float64, dec int) seriesGen {
		s := math.Pow10(dec)
		return seriesGen{kind: genCounter, rate: rate, scale: s, v: math.Round(rate*uptime*(0.9+0.2*rng.Float64())*s) / s}
	}
	gauge := func(v, step, quantum, lo, hi float64) seriesGen {
		return seriesGen{kind: genGauge, v: quantum * math.Round(v/quantum), rate: step, quantum: quantum, lo: lo, hi: hi}
	}
	constant := func(v float64) seriesGen { return seriesGen{kind: genConst, v: v} }

	for cpu := range 2 { // 16
		for _, m := range []struct {
			name string
			rate float64
		}{{"idle", 12.5}, {"iowait", 0.1 * busy}, {"irq", 0}, {"nice", 0.01}, {"softirq", 0.08 * busy}, {"steal", 0.02}, {"system", 0.6 * busy}, {"user", 1.6 * busy}} {
			add(counter(m.rate*(0.8+0.4*rng.Float64()), 2), "__name__", "node_cpu_seconds_total", "cpu", strconv.Itoa(cpu), "mode", m.name)
		}
	}
	for _, name := range []string{"node_load1", "node_load5", "node_load15"} { // 3
		add(seriesGen{kind: genFloat, v: busy, rate: busy}, "__name__", name)
	}
	total := float64(int64(8+8*rng.IntN(4)) << 30)
	for _, m := range []struct { // 15
		name      string
		frac, mov float64
	}{{"MemTotal", 1, 0}, {"MemFree", 0.1, 2e-4}, {"MemAvailable", 0.5, 2e-4}, {"Buffers", 0.02, 1e-5}, {"Cached", 0.35, 1e-4},
		{"Active", 0.4, 1e-4}, {"Inactive", 0.3, 1e-4}, {"Dirty", 0.001, 2e-5}, {"SwapTotal", 0, 0}, {"SwapFree", 0, 0},
		{"Slab", 0.03, 1e-6}, {"PageTables", 0.005, 1e-6}, {"Shmem", 0.01, 0}, {"Mapped", 0.05, 1e-5}, {"Committed_AS", 0.6, 5e-5}} {
		name := "node_memory_" + m.name + "_bytes"
		if m.mov == 0 {
			add(constant(1024*math.Round(total*m.frac/1024)), "__name__", name)
			continue
		}
		add(gauge(total*m.frac*(0.7+0.6*rng.Float64()), total*m.mov, 1024, 0, total), "__name__", name)
	}
	for _, dev := range []struct { // 16
		name  string
		bytes float64
	}{{"eth0", 3e6 * busy}, {"lo", 2e5}} {
		for _, dir := range []string{"receive", "transmit"} {
			add(counter(dev.bytes, 0), "__name__", "node_network_"+dir+"_bytes_total", "device", dev.name)
			add(counter(dev.bytes/900, 0), "__name__", "node_network_"+dir+"_packets_total", "device", dev.name)
			add(constant(0), "__name__", "node_network_"+dir+"_errs_total", "device", dev.name)
			add(counter(0.02, 0), "__name__", "node_network_"+dir+"_drop_total", "device", dev.name)
		}
	}
	for _, dev := range []string{"nvme0n1", "nvme1n1"} { // 14
		add(counter(50*busy, 0), "__name__", "node_disk_reads_completed_total", "device", dev)
		add(counter(300*busy, 0), "__name__", "node_disk_writes_completed_total", "device", dev)
		add(counter(512*math.Round(4000*busy), 0), "__name__", "node_disk_read_bytes_total", "device", dev)
		add(counter(512*math.Round(16000*busy), 0), "__name__", "node_disk_written_bytes_total", "device", dev)
		add(counter(0.5*busy, 3), "__name__", "node_disk_io_time_seconds_total", "device", dev)
		add(counter(0.1*busy, 3), "__name__", "node_disk_read_time_seconds_total", "device", dev)
		add(counter(1.2*busy, 3), "__name__", "node_disk_write_time_seconds_total", "device", dev)
	}
	for _, fs := range []struct{ dev, fstype, mount string }{ // 18
		{"/dev/nvme0n1p2", "ext4", "/"}, {"/dev/nvme0n1p1", "vfat", "/boot/efi"}, {"/dev/nvme1n1", "xfs", "/var/lib/docker"}} {
		size := float64(int64(1+rng.IntN(500)) << 30)
		kv := func(name string) []string {
			return []string{"__name__", name, "device", fs.dev, "fstype", fs.fstype, "mountpoint", fs.mount}
		}
		free := size * (0.2 + 0.6*rng.Float64())
		add(gauge(free*0.95, size*1e-6, 4096, 0, size), kv("node_filesystem_avail_bytes")...)
		add(gauge(free, size*1e-6, 4096, 0, size), kv("node_filesystem_free_bytes")...)
		add(constant(size), kv("node_filesystem_size_bytes")...)
		add(constant(math.Round(size/16384)), kv("node_filesystem_files")...)
		add(gauge(math.Round(size/16384*0.9), 3, 1, 0, size/16384), kv("node_filesystem_files_free")...)
		add(constant(0), kv("node_filesystem_readonly")...)
	}
	add(counter(60000*busy, 0), "__name__", "node_context_switches_total") // 3
	add(counter(40000*busy, 0), "__name__", "node_intr_total")
	add(counter(150*busy, 0), "__name__", "node_forks_total")
	add(gauge(2, 1, 1, 0, 16), "__name__", "node_procs_running") // 6
	add(gauge(0, 0.4, 1, 0, 4), "__name__", "node_procs_blocked")
	add(gauge(120, 6, 1, 10, 400), "__name__", "node_sockstat_TCP_inuse")
	add(gauge(80, 15, 1, 0, 600), "__name__", "node_sockstat_TCP_tw")
	add(gauge(60, 4, 1, 5, 300), "__name__", "node_netstat_Tcp_CurrEstab")
	add(constant(256), "__name__", "node_entropy_available_bits")
	for i := range 3 { // 3
		add(gauge(45+10*rng.Float64(), 0.4, 0.1, 30, 90), "__name__", "node_hwmon_temp_celsius", "chip", "platform_coretemp_0", "sensor", "temp"+strconv.Itoa(i+1))
	}
	add(constant(math.Round(1.7e9-uptime*15)), "__name__", "node_boot_time_seconds") // 3
	add(seriesGen{kind: genClock}, "__name__", "node_time_seconds")
	add(constant(1), "__name__", "node_uname_info", "machine", "x86_64", "release", "6.8.0-45-generic", "sysname", "Linux")
	add(constant(1), "__name__", "up") // 3
	d := 0.02 + 0.05*rng.Float64()
	add(seriesGen{kind: genFloat, v: d, rate: d}, "__name__", "scrape_duration_seconds")
	add(constant(1000+float64(rng.IntN(200))), "__name__", "scrape_samples_scraped")
	if len(defs) != seriesPerInstance {
		panic(fmt.Sprintf("instanceSeries returned %d series, want %d", len(defs), seriesPerInstance))
	}
	return defs
}

// workload is the whole load, encoded: the requests of each sender (one
// queue-manager shard) in the order it sends them.
type workload struct {
	series, scrapes int
	samples         int // in all requests
	mint, maxt      int64
	shards          [][]request
	encodedBytes    int
}

// request is one encoded remote-write body and the samples it carries.
type request struct {
	body    []byte
	samples int
}

// generate builds nSeries node_exporter-like series (targets of 100 series,
// jobs of 100 targets) scraped nScrapes times every 15 s, the last scrape
// at end, from a fixed seed, and encodes them as remote write 1.0 requests
// the way Prometheus's queue manager does: series are sharded over senders
// by series number (Prometheus shards by series ref, which it assigns in
// scrape order), each sender batches its samples in time order, up to
// perSend samples per request, one sample per TimeSeries entry with the
// series' full label set. There are no stale markers or failed scrapes, so
// every series has a sample within the last scrape interval.
func generate(seed uint64, nSeries, nScrapes, senders, perSend int, end time.Time) *workload {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	nInst := (nSeries + seriesPerInstance - 1) / seriesPerInstance
	step := scrapeInterval.Milliseconds()
	start := end.UnixMilli() - int64(nScrapes)*step

	lsets := make([][]prompb.Label, 0, nSeries)
	gens := make([]seriesGen, 0, nSeries)
	inst := make([]int32, 0, nSeries) // target of each series
	phase := make([]int64, nInst)
	for i := range nInst {
		instance := fmt.Sprintf("10.%d.%d.%d:9100", 16+i/65536, i/256%256, i%256)
		job := fmt.Sprintf("node-dc%02d", i/instancesPerJob)
		phase[i] = rng.Int64N(step)
		defs := instanceSeries(rng, 5760*(1+30*rng.Float64()))
		for _, def := range defs[:min(len(defs), nSeries-len(lsets))] {
			ls := make([]prompb.Label, 0, len(def.kv)/2+2)
			ls = append(ls, prompb.Label{Name: def.kv[0], Value: def.kv[1]})
			ls = append(ls, prompb.Label{Name: "instance", Value: instance}, prompb.Label{Name: "job", Value: job})
			for k := 2; k < len(def.kv); k += 2 {
				ls = append(ls, prompb.Label{Name: def.kv[k], Value: def.kv[k+1]})
			}
			slices.SortFunc(ls, func(a, b prompb.Label) int { return strings.Compare(a.Name, b.Name) })
			lsets = append(lsets, ls)
			gens = append(gens, def.g)
			inst = append(inst, int32(i))
		}
	}

	// Values scrape-major, generated on one goroutine from the seed.
	ts := make([]int64, nScrapes*nInst)
	vs := make([]float64, nScrapes*nSeries)
	w := &workload{series: nSeries, scrapes: nScrapes, samples: nScrapes * nSeries, mint: math.MaxInt64, maxt: math.MinInt64}
	for sc := range nScrapes {
		for i := range nInst {
			t := start + int64(sc)*step + phase[i] + rng.Int64N(2*timestampJitterMax+1) - timestampJitterMax
			ts[sc*nInst+i] = t
			w.mint, w.maxt = min(w.mint, t), max(w.maxt, t)
		}
		for s := range nSeries {
			vs[sc*nSeries+s] = gens[s].next(rng, ts[sc*nInst+int(inst[s])])
		}
	}

	// Each sender encodes its own shard.
	w.shards = make([][]request, senders)
	var wg sync.WaitGroup
	for sh := range senders {
		wg.Go(func() {
			var wr prompb.WriteRequest
			var buf []byte
			flush := func() {
				if len(wr.Timeseries) == 0 {
					return
				}
				n := wr.Size()
				if cap(buf) < n {
					buf = make([]byte, n)
				}
				n, err := wr.MarshalToSizedBuffer(buf[:n])
				if err != nil {
					panic(err) // a bug: the request was built here
				}
				w.shards[sh] = append(w.shards[sh], request{body: snappy.Encode(nil, buf[:n]), samples: len(wr.Timeseries)})
				wr.Timeseries = wr.Timeseries[:0]
			}
			samples := make([]prompb.Sample, 0, perSend)
			for sc := range nScrapes {
				for s := sh; s < nSeries; s += senders {
					samples = append(samples, prompb.Sample{Timestamp: ts[sc*nInst+int(inst[s])], Value: vs[sc*nSeries+s]})
					wr.Timeseries = append(wr.Timeseries, prompb.TimeSeries{Labels: lsets[s], Samples: samples[len(samples)-1:]})
					if len(wr.Timeseries) == perSend {
						flush()
						samples = samples[:0]
					}
				}
			}
			flush()
		})
	}
	wg.Wait()
	for _, sh := range w.shards {
		for _, r := range sh {
			w.encodedBytes += len(r.body)
		}
	}
	return w
}
