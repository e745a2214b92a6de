package benchmarks

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// staleNaN is Prometheus's staleness marker, kept bit for bit by both engines.
var staleNaN = math.Float64frombits(0x7ff0000000000002)

const (
	scrapeInterval     = 15 * time.Second
	seriesPerInstance  = 100 // instanceSeries returns exactly this many
	instancesPerJob    = 10  // so a job selects 1000 series
	scrapeFailureOdds  = 2000
	rebootOdds         = 10000
	seriesEndPerMille  = 5
	timestampJitterMax = 3 // ± ms around the instance's scrape phase
)

// dataStart is fixed so the data (timestamps included) is identical on every
// run. The engines are opened so that this age does not matter to them (see
// openAlmanac).
var dataStart = time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)

// dataset is a whole generated workload, scrape-major: the samples of scrape
// i are ref/t/v[off[i]:off[i+1]], ref indexing series.
type dataset struct {
	series     []labels.Labels
	job        []string // job of each series
	off        []int
	ref        []int32
	t          []int64
	v          []float64
	mint, maxt int64
	stale      int // stale markers written
}

func (d *dataset) scrapes() int { return len(d.off) - 1 }
func (d *dataset) samples() int { return len(d.t) }

// scrape returns the bounds of scrape i in ref, t and v.
func (d *dataset) scrape(i int) (lo, hi int) { return d.off[i], d.off[i+1] }

// genKind is how a series' value evolves from one scrape to the next.
type genKind uint8

const (
	genConst      genKind = iota // never changes
	genCounter                   // integer counter: steady rate + noise, resets at reboot
	genCounterDec                // counter of seconds with `dec` decimals
	genGauge                     // random walk in multiples of quantum within [lo, hi]
	genGaugeDec                  // random walk rounded to `dec` decimals within [lo, hi]
	genLoad                      // exponentially damped run queue: full-precision floats
	genDuration                  // log-normal durations: full-precision floats
	genClock                     // node_time_seconds: scrape time in s plus µs noise
	genBootTime                  // constant, changes at reboot
)

type seriesGen struct {
	kind    genKind
	v       float64
	rate    float64 // counters: mean increase per scrape; gauges: walk step stddev
	quantum float64 // genGauge
	scale   float64 // 10^dec for the decimal kinds; 1/damping for genLoad (scrapes)
	lo, hi  float64
	ended   bool
	endAt   int // scrape index of the stale marker, -1: never
}

func (g *seriesGen) next(rng *rand.Rand, tMs int64, runQueue float64) float64 {
	switch g.kind {
	case genCounter:
		g.v += math.Round(math.Max(0, g.rate*(1+0.3*rng.NormFloat64())))
	case genCounterDec:
		g.v = math.Round((g.v+math.Max(0, g.rate*(1+0.25*rng.NormFloat64())))*g.scale) / g.scale
	case genGauge:
		g.v = math.Min(g.hi, math.Max(g.lo, g.v+g.quantum*math.Round(g.rate*rng.NormFloat64()/g.quantum)))
	case genGaugeDec:
		g.v = math.Round(math.Min(g.hi, math.Max(g.lo, g.v+g.rate*rng.NormFloat64()))*g.scale) / g.scale
	case genLoad:
		a := math.Exp(-1 / g.scale)
		g.v = g.v*a + runQueue*(1-a)
	case genDuration:
		g.v = g.rate * math.Exp(0.3*rng.NormFloat64())
	case genClock:
		g.v = float64(tMs)/1000 + rng.Float64()/1000
	}
	return g.v
}

// reboot restarts the counters of a rebooted machine.
func (g *seriesGen) reboot(rng *rand.Rand, tMs int64) {
	switch g.kind {
	case genCounter:
		g.v = math.Round(g.rate * rng.Float64() * 4)
	case genCounterDec:
		g.v = math.Round(g.rate*rng.Float64()*4*g.scale) / g.scale
	case genBootTime:
		g.v = float64(tMs/1000 - 30)
	}
}

type seriesDef struct {
	kv []string // label pairs besides instance and job
	g  seriesGen
}

// role is what a failed scrape writes for a series.
type role uint8

const (
	roleExported       role = iota // a stale marker
	roleUp                         // 0
	roleScrapeDuration             // the scrape timeout
	roleScrapeSamples              // 0
)

func roleOf(name string) role {
	switch name {
	case "up":
		return roleUp
	case "scrape_duration_seconds":
		return roleScrapeDuration
	case "scrape_samples_scraped":
		return roleScrapeSamples
	}
	return roleExported
}

// instanceSeries returns the seriesPerInstance series of one node_exporter
// target (plus the scrape's own up/scrape_* series), initialised as if the
// machine had been up for `uptime` scrapes, and the machine's load factor.
func instanceSeries(rng *rand.Rand, uptime float64) (defs []seriesDef, busy float64) {
	busy = 0.3 + 1.4*rng.Float64()
	add := func(g seriesGen, kv ...string) {
		g.endAt = -1
		defs = append(defs, seriesDef{kv: kv, g: g})
	}
	counter := func(rate float64) seriesGen {
		if rate == 0 {
			return seriesGen{kind: genConst}
		}
		return seriesGen{kind: genCounter, rate: rate, v: math.Round(rate * uptime * (0.9 + 0.2*rng.Float64()))}
	}
	counterDec := func(rate float64, dec int) seriesGen {
		s := math.Pow10(dec)
		if rate == 0 {
			return seriesGen{kind: genConst}
		}
		return seriesGen{kind: genCounterDec, rate: rate, scale: s, v: math.Round(rate*uptime*(0.9+0.2*rng.Float64())*s) / s}
	}
	gauge := func(v, step, quantum, lo, hi float64) seriesGen {
		return seriesGen{kind: genGauge, v: quantum * math.Round(v/quantum), rate: step, quantum: quantum, lo: lo, hi: hi}
	}
	gaugeDec := func(v, step float64, dec int, lo, hi float64) seriesGen {
		s := math.Pow10(dec)
		return seriesGen{kind: genGaugeDec, v: math.Round(v*s) / s, rate: step, scale: s, lo: lo, hi: hi}
	}
	constant := func(v float64) seriesGen { return seriesGen{kind: genConst, v: v} }

	// 16 CPU counters: seconds per 15 s scrape per CPU, two decimals.
	modes := []struct {
		name string
		rate float64
	}{{"idle", 12.5}, {"iowait", 0.1 * busy}, {"irq", 0}, {"nice", 0.01}, {"softirq", 0.08 * busy}, {"steal", 0.02}, {"system", 0.6 * busy}, {"user", 1.6 * busy}}
	for cpu := range 2 {
		for _, m := range modes {
			add(counterDec(m.rate*(0.8+0.4*rng.Float64()), 2), "__name__", "node_cpu_seconds_total", "cpu", strconv.Itoa(cpu), "mode", m.name)
		}
	}
	// 3 load averages over 1, 5 and 15 minutes.
	for _, l := range []struct {
		name    string
		scrapes float64
	}{{"node_load1", 4}, {"node_load5", 20}, {"node_load15", 60}} {
		add(seriesGen{kind: genLoad, scale: l.scrapes, v: busy}, "__name__", l.name)
	}
	// 15 memory gauges in bytes (kB granularity, as /proc/meminfo).
	total := float64(int64(8+8*rng.IntN(4)) << 30)
	for _, m := range []struct {
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
		v := total * m.frac * (0.7 + 0.6*rng.Float64())
		add(gauge(v, total*m.mov, 1024, 0, total), "__name__", name)
	}
	// 16 network counters for two devices; errors and drops mostly stay 0.
	for _, dev := range []struct {
		name  string
		bytes float64
	}{{"eth0", 3e6 * busy}, {"lo", 2e5}} {
		for _, dir := range []string{"receive", "transmit"} {
			add(counter(dev.bytes), "__name__", "node_network_"+dir+"_bytes_total", "device", dev.name)
			add(counter(dev.bytes/900), "__name__", "node_network_"+dir+"_packets_total", "device", dev.name)
			add(counter(0), "__name__", "node_network_"+dir+"_errs_total", "device", dev.name)
			add(counter(0.02*float64(rng.IntN(2))), "__name__", "node_network_"+dir+"_drop_total", "device", dev.name)
		}
	}
	// 14 disk counters for two devices; times in seconds with ms precision.
	for _, dev := range []string{"nvme0n1", "nvme1n1"} {
		add(counter(50*busy), "__name__", "node_disk_reads_completed_total", "device", dev)
		add(counter(300*busy), "__name__", "node_disk_writes_completed_total", "device", dev)
		add(counter(512*math.Round(4000*busy)), "__name__", "node_disk_read_bytes_total", "device", dev)
		add(counter(512*math.Round(16000*busy)), "__name__", "node_disk_written_bytes_total", "device", dev)
		add(counterDec(0.5*busy, 3), "__name__", "node_disk_io_time_seconds_total", "device", dev)
		add(counterDec(0.1*busy, 3), "__name__", "node_disk_read_time_seconds_total", "device", dev)
		add(counterDec(1.2*busy, 3), "__name__", "node_disk_write_time_seconds_total", "device", dev)
	}
	// 18 file system series for three mounts; sizes constant.
	for _, fs := range []struct{ dev, fstype, mount string }{
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
	// 3 kernel counters.
	add(counter(60000*busy), "__name__", "node_context_switches_total")
	add(counter(40000*busy), "__name__", "node_intr_total")
	add(counter(150*busy), "__name__", "node_forks_total")
	// 6 small integer gauges.
	add(gauge(2, 1, 1, 0, 16), "__name__", "node_procs_running")
	add(gauge(0, 0.4, 1, 0, 4), "__name__", "node_procs_blocked")
	add(gauge(120, 6, 1, 10, 400), "__name__", "node_sockstat_TCP_inuse")
	add(gauge(80, 15, 1, 0, 600), "__name__", "node_sockstat_TCP_tw")
	add(gauge(60, 4, 1, 5, 300), "__name__", "node_netstat_Tcp_CurrEstab")
	add(constant(256), "__name__", "node_entropy_available_bits")
	// 3 temperatures with one decimal.
	for i := range 3 {
		add(gaugeDec(45+10*rng.Float64(), 0.4, 1, 30, 90), "__name__", "node_hwmon_temp_celsius", "chip", "platform_coretemp_0", "sensor", "temp"+strconv.Itoa(i+1))
	}
	// 3 machine series.
	add(seriesGen{kind: genBootTime}, "__name__", "node_boot_time_seconds")
	add(seriesGen{kind: genClock}, "__name__", "node_time_seconds")
	add(constant(1), "__name__", "node_uname_info", "machine", "x86_64", "release", "6.8.0-45-generic", "sysname", "Linux")
	// 3 series the scraper adds: up, scrape_duration_seconds, scrape_samples_scraped.
	add(constant(1), "__name__", "up")
	add(seriesGen{kind: genDuration, rate: 0.02 + 0.05*rng.Float64()}, "__name__", "scrape_duration_seconds")
	add(constant(1000+float64(rng.IntN(200))), "__name__", "scrape_samples_scraped")
	if len(defs) != seriesPerInstance {
		panic(fmt.Sprintf("instanceSeries returned %d series, want %d", len(defs), seriesPerInstance))
	}
	return defs, busy
}

// generate builds a dataset of nSeries node_exporter-like series scraped
// every 15 s for dur, from a fixed seed: targets with their own scrape phase
// and a few ms of timestamp jitter; counters (integer and decimal) that
// reset when a machine reboots; gauges in bytes, integers and one or two
// decimals; constant series; full-precision floats (load averages, scrape
// durations, clock). As Prometheus's scraper would write it, a failed scrape
// writes up=0 and stale markers for the target's other series, and a few
// series disappear with a stale marker.
func generate(seed uint64, nSeries int, dur time.Duration) *dataset {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	nScrapes := int(dur / scrapeInterval)
	start := dataStart.UnixMilli()
	nInst := (nSeries + seriesPerInstance - 1) / seriesPerInstance

	d := &dataset{off: make([]int, 1, nScrapes+1), mint: math.MaxInt64, maxt: math.MinInt64}
	type target struct {
		first, n int // its series in d.series
		phase    int64
		busy     float64
		runQueue float64 // drives the load averages
	}
	targets := make([]target, nInst)
	var gens []seriesGen
	var roles []role
	for i := range targets {
		job := fmt.Sprintf("node-dc%02d", i/instancesPerJob)
		inst := fmt.Sprintf("10.%d.%d.%d:9100", 16+i/65536, i/256%256, i%256)
		defs, busy := instanceSeries(rng, 5760*(1+30*rng.Float64())) // up 1 to 31 days
		defs = defs[:min(len(defs), nSeries-len(d.series))]
		targets[i] = target{first: len(d.series), n: len(defs), phase: rng.Int64N(scrapeInterval.Milliseconds()), busy: busy, runQueue: busy}
		for _, def := range defs {
			b := labels.NewScratchBuilder(len(def.kv)/2 + 2)
			for k := 0; k < len(def.kv); k += 2 {
				b.Add(def.kv[k], def.kv[k+1])
			}
			b.Add("instance", inst)
			b.Add("job", job)
			b.Sort()
			g := def.g
			if g.kind == genBootTime {
				g.v = float64(start/1000) - 86400*(1+30*rng.Float64())
				g.v = math.Round(g.v)
			}
			if roleOf(def.kv[1]) == roleExported && rng.IntN(1000) < seriesEndPerMille {
				g.endAt = nScrapes/3 + rng.IntN(nScrapes-nScrapes/3)
			}
			d.series = append(d.series, b.Labels())
			d.job = append(d.job, job)
			roles = append(roles, roleOf(def.kv[1]))
			gens = append(gens, g)
		}
	}

	d.ref = make([]int32, 0, nSeries*nScrapes)
	d.t = make([]int64, 0, nSeries*nScrapes)
	d.v = make([]float64, 0, nSeries*nScrapes)
	emit := func(s int, t int64, v float64) {
		d.ref = append(d.ref, int32(s))
		d.t = append(d.t, t)
		d.v = append(d.v, v)
		if math.Float64bits(v) == math.Float64bits(staleNaN) {
			d.stale++
		}
		d.mint, d.maxt = min(d.mint, t), max(d.maxt, t)
	}
	for i := range nScrapes {
		for k := range targets {
			tg := &targets[k]
			t := start + int64(i)*scrapeInterval.Milliseconds() + tg.phase + rng.Int64N(2*timestampJitterMax+1) - timestampJitterMax
			failed := rng.IntN(scrapeFailureOdds) == 0
			if rng.IntN(rebootOdds) == 0 {
				for s := tg.first; s < tg.first+tg.n; s++ {
					gens[s].reboot(rng, t)
				}
			}
			tg.runQueue = math.Min(8, math.Max(0, tg.runQueue+0.3*rng.NormFloat64()+0.05*(tg.busy-tg.runQueue)))
			for s := tg.first; s < tg.first+tg.n; s++ {
				g := &gens[s]
				if g.ended {
					continue
				}
				switch {
				case i == g.endAt:
					g.ended = true
					emit(s, t, staleNaN)
				case !failed:
					emit(s, t, g.next(rng, t, tg.runQueue))
				case roles[s] == roleUp, roles[s] == roleScrapeSamples:
					emit(s, t, 0)
				case roles[s] == roleScrapeDuration:
					emit(s, t, 10) // the scrape timed out
				default:
					emit(s, t, staleNaN)
				}
			}
		}
		d.off = append(d.off, len(d.t))
	}
	return d
}
