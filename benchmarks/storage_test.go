package benchmarks

import (
	"flag"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
)

// The default workload is 10k series × 3h of 15 s scrapes (7.2M samples);
// -series and -hours scale it.
var (
	seriesFlag = flag.Int("series", 10_000, "series in the generated workload")
	hoursFlag  = flag.Float64("hours", 3, "hours of 15 s scrapes in the generated workload")
)

const (
	seed = 1
	// queriesPerOp selects run per benchmark op, so that one op (-benchtime=1x)
	// is long enough to time on a shared machine.
	queriesPerOp = 20
)

var (
	dataOnce sync.Once
	data     *dataset
)

// workload generates the dataset once per test binary, outside every timer.
func workload(b *testing.B) *dataset {
	b.Helper()
	dataOnce.Do(func() {
		data = generate(seed, *seriesFlag, time.Duration(*hoursFlag*float64(time.Hour)))
	})
	return data
}

// peers records the figures of each peer's runs (several with -count) so a
// "ratio" sub-benchmark can report the ratio of their medians,
// almanac / prometheus, when both ran in this process.
type peers map[string][]float64

func (p peers) set(name string, v float64) float64 {
	p[name] = append(p[name], v)
	return v
}

func (p peers) ratio(b *testing.B, unit, num, den string) {
	if len(p[num]) == 0 || len(p[den]) == 0 {
		b.Skipf("ratio needs the %s and %s sub-benchmarks in the same run", num, den)
	}
	b.ReportMetric(ratio(median(p[num]), median(p[den])), unit)
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkIngest appends the whole workload scrape by scrape into a new
// database on disk: almanac with one Append per scrape, fsynced (default)
// and with NoSync; Prometheus with one Appender and Commit per scrape.
// Prometheus's WAL does not fsync on Commit, so almanac-nosync is the
// like-for-like figure.
func BenchmarkIngest(b *testing.B) {
	d := workload(b)
	rate := peers{}
	for _, noSync := range []bool{false, true} {
		name := "almanac"
		if noSync {
			name = "almanac-nosync"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				db, err := openAlmanac(dir, noSync)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := ingestAlmanac(b.Context(), db, d); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
				os.RemoveAll(dir)
				b.StartTimer()
			}
			b.ReportMetric(rate.set(name, float64(d.samples()*b.N)/b.Elapsed().Seconds()), "samples/s")
		})
	}
	b.Run("prometheus", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := b.TempDir()
			db, err := openPrometheus(dir)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := ingestPrometheus(b.Context(), db, d); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := db.Close(); err != nil {
				b.Fatal(err)
			}
			os.RemoveAll(dir)
			b.StartTimer()
		}
		b.ReportMetric(rate.set("prometheus", float64(d.samples()*b.N)/b.Elapsed().Seconds()), "samples/s")
	})
	b.Run("ratio", func(b *testing.B) {
		rate.ratio(b, "fsync-x", "almanac", "prometheus")
		rate.ratio(b, "nosync-x", "almanac-nosync", "prometheus")
	})
}

// BenchmarkDisk ingests the workload (untimed), then writes everything to
// compressed files and reports bytes per sample; the timed op is that
// final write. almanac: Flush, then, once pebble has deleted the files its
// compaction made obsolete, Stats().DiskBytes (B/sample, pebble's WAL
// included) and the bytes of its sstables (noWAL-B/sample). Prometheus: the
// whole head compacted into one block; B/sample is the whole data directory
// (with the WAL and head chunks it keeps), noWAL-B/sample the block alone.
func BenchmarkDisk(b *testing.B) {
	d := workload(b)
	perSample := func(n int64) float64 { return float64(n) / float64(d.samples()) }
	bytes := peers{}
	b.Run("almanac", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := b.TempDir()
			db, err := openAlmanac(dir, true)
			if err != nil {
				b.Fatal(err)
			}
			if err := ingestAlmanac(b.Context(), db, d); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := db.Flush(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			all := perSample(settledDiskBytes(db))
			ssts, err := filesBytes(dir, "*.sst")
			if err != nil {
				b.Fatal(err)
			}
			noWAL := perSample(ssts)
			if err := db.Close(); err != nil {
				b.Fatal(err)
			}
			os.RemoveAll(dir)
			b.ReportMetric(bytes.set("almanac", all), "B/sample")
			b.ReportMetric(bytes.set("almanac-nowal", noWAL), "noWAL-B/sample")
			b.StartTimer()
		}
	})
	b.Run("prometheus", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := b.TempDir()
			db, err := openPrometheus(dir)
			if err != nil {
				b.Fatal(err)
			}
			if err := ingestPrometheus(b.Context(), db, d); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			blocks, total, err := compactPrometheus(db, dir)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := db.Close(); err != nil {
				b.Fatal(err)
			}
			os.RemoveAll(dir)
			b.ReportMetric(bytes.set("prometheus", perSample(total)), "B/sample")
			b.ReportMetric(bytes.set("prometheus-nowal", perSample(blocks)), "noWAL-B/sample")
			b.StartTimer()
		}
	})
	b.Run("ratio", func(b *testing.B) {
		bytes.ratio(b, "x", "almanac", "prometheus")
		bytes.ratio(b, "noWAL-x", "almanac-nowal", "prometheus-nowal")
	})
}

// BenchmarkMemory reports the memory an open database holds per series
// after ingesting the workload (for almanac, the last hour of every series
// in open chunks; Prometheus, its head): heap in use after GC minus the
// same before Open, and the same for anonymous resident memory, which also
// counts cgo allocations. The timed op is Open plus ingest.
func BenchmarkMemory(b *testing.B) {
	d := workload(b)
	perSeries := func(n int64) float64 { return float64(n) / float64(len(d.series)) }
	mem := peers{}
	b.Run("almanac", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := b.TempDir()
			base := measureMemory()
			b.StartTimer()
			db, err := openAlmanac(dir, true)
			if err != nil {
				b.Fatal(err)
			}
			if err := ingestAlmanac(b.Context(), db, d); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			used := measureMemory().sub(base)
			b.ReportMetric(mem.set("almanac", perSeries(used.heap)), "heap-B/series")
			b.ReportMetric(mem.set("almanac-anon", perSeries(used.anon)), "anon-B/series")
			b.ReportMetric(float64(db.Stats().HeadSeries), "head-series")
			if err := db.Close(); err != nil {
				b.Fatal(err)
			}
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})
	b.Run("prometheus", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := b.TempDir()
			base := measureMemory()
			b.StartTimer()
			db, err := openPrometheus(dir)
			if err != nil {
				b.Fatal(err)
			}
			if err := ingestPrometheus(b.Context(), db, d); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			used := measureMemory().sub(base)
			b.ReportMetric(mem.set("prometheus", perSeries(used.heap)), "heap-B/series")
			b.ReportMetric(mem.set("prometheus-anon", perSeries(used.anon)), "anon-B/series")
			b.ReportMetric(float64(db.Head().NumSeries()), "head-series")
			if err := db.Close(); err != nil {
				b.Fatal(err)
			}
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})
	b.Run("ratio", func(b *testing.B) {
		mem.ratio(b, "heap-x", "almanac", "prometheus")
		mem.ratio(b, "anon-x", "almanac-anon", "prometheus-anon")
	})
}

// BenchmarkSelect selects the 1000 series of one job over the whole range
// from a database holding the ingested workload as it stands after ingest
// (almanac: chunks on disk and open chunks; Prometheus: its head, with full
// chunks memory-mapped) and reads every sample. One op is queriesPerOp
// selects, after one untimed warm-up select.
func BenchmarkSelect(b *testing.B) {
	d := workload(b)
	m := labels.MustNewMatcher(labels.MatchEqual, "job", "node-dc00")
	rate := peers{}
	report := func(b *testing.B, name string, samples int) {
		b.ReportMetric(rate.set(name, float64(samples*queriesPerOp*b.N)/b.Elapsed().Seconds()), "samples/s")
		b.ReportMetric(float64(samples), "samples/select")
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(queriesPerOp*b.N), "ms/select")
	}
	b.Run("almanac", func(b *testing.B) {
		dir := b.TempDir()
		db, err := openAlmanac(dir, true)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if err := ingestAlmanac(b.Context(), db, d); err != nil {
			b.Fatal(err)
		}
		n, _, err := selectAlmanac(b.Context(), db, d.mint, d.maxt, m)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			for range queriesPerOp {
				if _, _, err := selectAlmanac(b.Context(), db, d.mint, d.maxt, m); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, "almanac", n)
	})
	b.Run("prometheus", func(b *testing.B) {
		dir := b.TempDir()
		db, err := openPrometheus(dir)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if err := ingestPrometheus(b.Context(), db, d); err != nil {
			b.Fatal(err)
		}
		n, _, err := selectPrometheus(b.Context(), db, d.mint, d.maxt, m)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			for range queriesPerOp {
				if _, _, err := selectPrometheus(b.Context(), db, d.mint, d.maxt, m); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, "prometheus", n)
	})
	b.Run("ratio", func(b *testing.B) {
		rate.ratio(b, "x", "almanac", "prometheus")
	})
}

// BenchmarkRecovery measures how long Open takes after a crash that left
// the whole workload in the head log (no checkpoint ran): the time a
// restart spends replaying. The crash is simulated with pebble's crashable
// in-memory file system, so disk speed is not part of the figure.
func BenchmarkRecovery(b *testing.B) {
	d := workload(b)
	fs := vfs.NewCrashableMem()
	opts := &almanac.Options{
		Retention:         -1,
		IdleSeriesTimeout: time.Since(dataStart) + 24*time.Hour,
		NoSync:            true,
		FS:                fs,
	}
	db, err := almanac.Open("db", opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := ingestAlmanac(b.Context(), db, d); err != nil {
		b.Fatal(err)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: rand.New(rand.NewPCG(1, 2))})
	db.Close()
	b.Run("almanac", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			clone := crashed.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: rand.New(rand.NewPCG(1, 2))})
			o := *opts
			o.FS = clone
			b.StartTimer()
			db, err := almanac.Open("db", &o)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(d.samples()*b.N)/b.Elapsed().Seconds(), "replayed-samples/s")
	})
}

// BenchmarkConcurrentWriters: several writers (like remote-write shards)
// append small fsynced batches at once; their fsyncs can be shared.
// almanac only: the figure to compare is before/after a change.
func BenchmarkConcurrentWriters(b *testing.B) {
	const writers, seriesPerBatch, batches = 8, 500, 40
	db, err := almanac.Open(b.TempDir(), &almanac.Options{Retention: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	base := time.Now().Add(-time.Hour).UnixMilli()
	round := 0
	for b.Loop() {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				batch := make([]almanac.SeriesSamples, seriesPerBatch)
				for i := range batch {
					batch[i].Labels = labels.FromStrings("__name__", "w", "writer", strconv.Itoa(w), "i", strconv.Itoa(i))
				}
				for n := range batches {
					for i := range batch {
						batch[i].Samples = []almanac.Sample{{T: base + int64(round*batches+n)*1000, V: float64(n)}}
					}
					if err := db.Append(b.Context(), batch); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		round++
	}
	b.ReportMetric(float64(writers*seriesPerBatch*batches*b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(writers*batches*b.N)/b.Elapsed().Seconds(), "batches/s")
}
