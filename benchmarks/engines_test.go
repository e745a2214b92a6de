package benchmarks

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/almanacdb/almanac"
)

// openAlmanac opens almanac for the generated data, which lies at a fixed
// date in the past: Retention -1 accepts it, and IdleSeriesTimeout covers
// its age so that checkpoints during ingest do not evict series the way
// they would evict targets that stopped reporting (live scrapes are never
// idle). Everything else is the default.
func openAlmanac(dir string, noSync bool) (*almanac.DB, error) {
	return almanac.Open(dir, &almanac.Options{
		Retention:         -1,
		IdleSeriesTimeout: time.Since(dataStart) + 24*time.Hour,
		NoSync:            noSync,
	})
}

// ingestAlmanac appends d scrape by scrape, one Append per scrape, passing
// back the series refs of the previous scrape as Prometheus's scraper does.
func ingestAlmanac(ctx context.Context, db *almanac.DB, d *dataset) error {
	batch := make([]almanac.SeriesSamples, 0, len(d.series))
	buf := make([]almanac.Sample, len(d.series))
	refs := make([]almanac.SeriesRef, len(d.series)) // like Prometheus's scrape cache
	for i := range d.scrapes() {
		lo, hi := d.scrape(i)
		batch = batch[:0]
		for j := lo; j < hi; j++ {
			k := j - lo
			buf[k] = almanac.Sample{T: d.t[j], V: d.v[j]}
			batch = append(batch, almanac.SeriesSamples{Labels: d.series[d.ref[j]], Samples: buf[k : k+1 : k+1], Ref: refs[d.ref[j]]})
		}
		if err := db.Append(ctx, batch); err != nil {
			return err
		}
		for j := lo; j < hi; j++ {
			refs[d.ref[j]] = batch[j-lo].Ref
		}
	}
	return nil
}

// selectAlmanac reads every sample of the series matching ms over the whole
// range and returns how many it read and their sum (kept so no read is dead).
func selectAlmanac(ctx context.Context, db *almanac.DB, mint, maxt int64, ms ...*labels.Matcher) (n int, sum float64, err error) {
	ss, err := db.Querier(mint, maxt).Select(ctx, ms...)
	if err != nil {
		return 0, 0, err
	}
	for ss.Next() {
		s := ss.At()
		for i, t := range s.T {
			sum += float64(t) + s.V[i]
		}
		n += len(s.T)
	}
	if err := ss.Err(); err != nil {
		ss.Close()
		return 0, 0, err
	}
	return n, sum, ss.Close()
}

// openPrometheus opens Prometheus's TSDB with its defaults: out-of-order
// ingestion disabled (OutOfOrderTimeWindow 0), no WAL compression, 2h
// blocks; retention long enough to keep everything.
func openPrometheus(dir string) (*tsdb.DB, error) {
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = int64(100 * 365 * 24 * time.Hour / time.Millisecond)
	opts.OutOfOrderTimeWindow = 0
	return tsdb.Open(dir, nil, nil, opts, nil)
}

// ingestPrometheus appends d as Prometheus's scraper does: one Appender and
// Commit per scrape, one Append per sample, passing back the series
// reference the previous scrape returned (the scrape cache).
func ingestPrometheus(ctx context.Context, db *tsdb.DB, d *dataset) error {
	refs := make([]storage.SeriesRef, len(d.series))
	for i := range d.scrapes() {
		lo, hi := d.scrape(i)
		app := db.Appender(ctx)
		for j := lo; j < hi; j++ {
			s := d.ref[j]
			ref, err := app.Append(refs[s], d.series[s], d.t[j], d.v[j])
			if err != nil {
				app.Rollback()
				return err
			}
			refs[s] = ref
		}
		if err := app.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// selectPrometheus is selectAlmanac for Prometheus: Querier.Select (sorted,
// as almanac's is) and every sample through the chunk iterator's At.
func selectPrometheus(ctx context.Context, db *tsdb.DB, mint, maxt int64, ms ...*labels.Matcher) (n int, sum float64, err error) {
	q, err := db.Querier(mint, maxt)
	if err != nil {
		return 0, 0, err
	}
	ss := q.Select(ctx, true, nil, ms...)
	var it chunkenc.Iterator
	for ss.Next() {
		it = ss.At().Iterator(it)
		for it.Next() == chunkenc.ValFloat {
			t, v := it.At()
			sum += float64(t) + v
			n++
		}
		if err := it.Err(); err != nil {
			q.Close()
			return 0, 0, err
		}
	}
	if err := ss.Err(); err != nil {
		q.Close()
		return 0, 0, err
	}
	return n, sum, q.Close()
}

// compactPrometheus writes Prometheus's whole head into one block, as its
// compactor does with a full head, and returns the bytes of the block
// directories (no WAL, no head chunks) and of the whole data directory.
func compactPrometheus(db *tsdb.DB, dir string) (blocks, total int64, err error) {
	head := db.Head()
	if err := db.CompactHead(tsdb.NewRangeHead(head, head.MinTime(), head.MaxTime())); err != nil {
		return 0, 0, err
	}
	for _, b := range db.Blocks() {
		n, err := dirBytes(b.Dir())
		if err != nil {
			return 0, 0, err
		}
		blocks += n
	}
	total, err = dirBytes(dir)
	return blocks, total, err
}

// settledDiskBytes returns almanac's Stats().DiskBytes once it has not
// changed for 300 ms (at most 5 s): pebble deletes the tables a compaction
// made obsolete in the background, shortly after Flush returns.
func settledDiskBytes(db *almanac.DB) int64 {
	last, stable := db.Stats().DiskBytes, 0
	for deadline := time.Now().Add(5 * time.Second); stable < 3 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		n := db.Stats().DiskBytes
		if n == last {
			stable++
		} else {
			last, stable = n, 0
		}
	}
	return int64(last)
}

// filesBytes is the size of the files in dir (not below) matching pattern.
func filesBytes(dir, pattern string) (int64, error) {
	names, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return 0, err
	}
	var n int64
	for _, name := range names {
		fi, err := os.Stat(name)
		if err != nil {
			return 0, err
		}
		n += fi.Size()
	}
	return n, nil
}

// dirBytes is the size of the regular files under dir.
func dirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		n += fi.Size()
		return nil
	})
	return n, err
}

// memory is the heap in use after a full GC, and the process's anonymous
// resident memory after returning freed memory to the OS (which also counts
// what cgo allocates: pebble's block cache and memtables live there).
type memory struct{ heap, anon int64 }

func measureMemory() memory {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{heap: int64(ms.HeapInuse), anon: rssAnon()}
}

func (m memory) sub(o memory) memory { return memory{heap: m.heap - o.heap, anon: m.anon - o.anon} }

// rssAnon reads RssAnon from /proc/self/status (0 where it is absent).
func rssAnon() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == "RssAnon:" {
			kb, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}
