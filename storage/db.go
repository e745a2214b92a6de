package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/prometheus/model/labels"
)

// DB is almanac's storage: one pebble database holding the series registry,
// the postings, the chunks and the head log, plus the in-memory head. It is
// safe for concurrent use.
type DB struct {
	opts    Options
	pdb     *pebble.DB
	metrics *metrics

	mu struct {
		sync.RWMutex
		series     []*memSeries // by series id; nil when not in memory
		byHash     map[uint64]uint32
		collisions map[uint64][]uint32 // further sids sharing a hash (rare)
		deleted    *roaring.Bitmap     // ids of series DeleteSeries removed
		headCount  int                 // non-nil entries of series
		nextSID    uint32
		nextSeq    uint64 // next head log sequence number
		batchGen   uint32 // numbers Append's batches; see memSeries.batchGen
		logBytes   int64  // head log bytes since the last checkpoint
		closed     bool
		failed     error // set when a pebble commit failed
	}

	meta metadataStore

	stop chan struct{}
	wg   sync.WaitGroup
}

// blockBytes is pebble's target data block size.
const blockBytes = 32 << 10

// Open opens (creating if needed) the storage in dir, replays the head log
// and starts the background checkpoint and retention loop.
func Open(dir string, opts Options) (*DB, error) {
	opts = opts.ensureDefaults()
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref()
	popts := &pebble.Options{
		FS:                 opts.FS,
		Merger:             postingsMerger,
		Cache:              cache,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             pebbleLogger{opts.Logger},
	}
	popts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionBalanced })
	// Large blocks let zstd find what neighbouring chunks share (the series
	// of one target are created together, so their ids and keys are
	// adjacent, and they share their timestamps' jitter).
	for i := range popts.Levels {
		popts.Levels[i].BlockSize = blockBytes
	}
	pdb, err := pebble.Open(dir, popts)
	if err != nil {
		return nil, fmt.Errorf("open pebble in %s: %w", dir, err)
	}
	db := &DB{opts: opts, pdb: pdb, metrics: newMetrics(), stop: make(chan struct{})}
	db.mu.byHash = map[uint64]uint32{}
	db.mu.collisions = map[uint64][]uint32{}
	db.mu.deleted = roaring.New()
	if err := db.load(); err != nil {
		pdb.Close()
		return nil, err
	}
	if err := db.metrics.register(opts.Registerer, db); err != nil {
		pdb.Close()
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	db.wg.Add(1)
	go db.background()
	return db, nil
}

// load checks the format version, loads the series registry, replays the
// head log and checkpoints, so that the log is empty after Open.
func (db *DB) load() error {
	v, closer, err := db.pdb.Get(metaFormatKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if err := db.pdb.Set(metaFormatKey, []byte{formatVersion}, pebble.Sync); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		ok := len(v) == 1 && v[0] == formatVersion
		closer.Close()
		if !ok {
			return fmt.Errorf("%w: data format version %v, this almanac reads version %d", ErrCorruption, v, formatVersion)
		}
	}

	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixSeriesHash}, UpperBound: []byte{prefixSeriesHash + 1}})
	if err != nil {
		return err
	}
	live := roaring.New()
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()
		if len(k) != 13 {
			it.Close()
			return fmt.Errorf("%w: series hash key %x", ErrCorruption, k)
		}
		hash, sid := binary.BigEndian.Uint64(k[1:9]), binary.BigEndian.Uint32(k[9:13])
		db.registerLocked(hash, sid)
		live.Add(sid)
		if sid >= db.mu.nextSID {
			db.mu.nextSID = sid + 1
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	db.mu.series = make([]*memSeries, db.mu.nextSID)
	if err := db.loadMetadata(); err != nil {
		return err
	}
	// Ids below nextSID without a registry entry were deleted.
	db.mu.deleted.AddRange(0, uint64(db.mu.nextSID))
	db.mu.deleted.AndNot(live)

	if err := db.replayLog(); err != nil {
		return err
	}
	return db.checkpoint(false)
}

func (db *DB) registerLocked(hash uint64, sid uint32) {
	if _, ok := db.mu.byHash[hash]; ok {
		db.mu.collisions[hash] = append(db.mu.collisions[hash], sid)
		return
	}
	db.mu.byHash[hash] = sid
}

// Close checkpoints the head (so nothing needs replaying at the next Open),
// stops the background loop and closes pebble.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.mu.closed {
		db.mu.Unlock()
		return nil
	}
	db.mu.closed = true
	db.mu.Unlock()
	close(db.stop)
	db.wg.Wait()

	var errs []error
	db.mu.Lock()
	if db.mu.failed == nil {
		errs = append(errs, db.checkpointLocked(false))
	}
	db.mu.Unlock()
	errs = append(errs, db.pdb.Close())
	return errors.Join(errs...)
}

// background runs checkpoints and retention until Close.
func (db *DB) background() {
	defer db.wg.Done()
	tick := time.NewTicker(db.opts.CheckpointInterval)
	defer tick.Stop()
	db.logError("retention", db.EnforceRetention(context.Background()))
	lastRetention := db.opts.Now()
	compacted := int32(math.MinInt32)
	for {
		select {
		case <-db.stop:
			return
		case <-tick.C:
			db.logError("checkpoint", db.checkpoint(true))
			if db.opts.Now().Sub(lastRetention) >= time.Hour {
				db.logError("retention", db.EnforceRetention(context.Background()))
				lastRetention = db.opts.Now()
			}
			var err error
			compacted, err = db.compactClosedDays(context.Background(), compacted)
			db.logError("chunk compaction", err)
		}
	}
}

func (db *DB) logError(what string, err error) {
	if err != nil && !errors.Is(err, ErrClosed) {
		db.opts.Logger.Error("background "+what+" failed", "err", err)
	}
}

// commitLocked commits b; a failure marks the database failed, because the
// in-memory head may already hold the batch's samples.
// REQUIRES: db.mu is held for writing.
func (db *DB) commitLocked(b *pebble.Batch, opts *pebble.WriteOptions) error {
	if err := b.Commit(opts); err != nil {
		db.mu.failed = err
		db.opts.Logger.Error("pebble commit failed; refusing writes until reopened", "err", err)
		return fmt.Errorf("%w: %w", ErrFailed, err)
	}
	return nil
}

// markFailed records a failed write: the database refuses writes until it
// is reopened.
func (db *DB) markFailed(err error) {
	db.mu.Lock()
	if db.mu.failed == nil {
		db.mu.failed = err
	}
	db.mu.Unlock()
	db.opts.Logger.Error("pebble write failed; refusing writes until reopened", "err", err)
}

// writableLocked reports why the database cannot take writes, if it cannot.
func (db *DB) writableLocked() error {
	if db.mu.closed {
		return ErrClosed
	}
	if db.mu.failed != nil {
		return fmt.Errorf("%w: %w", ErrFailed, db.mu.failed)
	}
	return nil
}

// checkpoint writes the open chunk of every head series (a partial chunk a
// later cut overwrites under the same key), merges out-of-order buffers into
// the chunks on disk, drops idle series from memory, and truncates the head
// log, all in one synced batch. With onlyIfNeeded it does nothing when no
// log was written since the last checkpoint.
func (db *DB) checkpoint(onlyIfNeeded bool) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return ErrClosed
	}
	if onlyIfNeeded && db.mu.logBytes == 0 {
		return db.dropIdleLocked()
	}
	return db.checkpointLocked(true)
}

// checkpointLocked is checkpoint. REQUIRES: db.mu is held for writing.
func (db *DB) checkpointLocked(dropIdle bool) error {
	if db.mu.failed != nil {
		return fmt.Errorf("%w: %w", ErrFailed, db.mu.failed)
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	idleBefore := db.opts.Now().Add(-db.opts.IdleSeriesTimeout).UnixMilli()
	for sid, s := range db.mu.series {
		if s == nil {
			continue
		}
		if err := db.flushOOOLocked(b, uint32(sid), s); err != nil {
			return err
		}
		idle := dropIdle && s.lastT < idleBefore
		if s.open != nil {
			if idle {
				if err := db.cutLocked(b, uint32(sid), s); err != nil {
					return err
				}
			} else {
				ts, vs, sts := s.openSamples(nil, nil, nil)
				if err := db.writeChunkLocked(b, uint32(sid), s, ts, vs, sts); err != nil {
					return err
				}
			}
		}
		if idle {
			db.mu.series[sid] = nil
			db.mu.headCount--
		}
	}
	if err := b.DeleteRange(headLogKey(nil, 0), headLogKey(nil, db.mu.nextSeq), nil); err != nil {
		return err
	}
	if err := db.commitLocked(b, pebble.Sync); err != nil {
		return err
	}
	db.mu.logBytes = 0
	db.metrics.checkpoints.Add(1)
	return nil
}

// dropIdleLocked releases memory of series with nothing in the head and no
// recent samples. REQUIRES: db.mu is held for writing.
func (db *DB) dropIdleLocked() error {
	idleBefore := db.opts.Now().Add(-db.opts.IdleSeriesTimeout).UnixMilli()
	for sid, s := range db.mu.series {
		if s != nil && s.open == nil && len(s.ooo) == 0 && s.lastT < idleBefore {
			db.mu.series[sid] = nil
			db.mu.headCount--
		}
	}
	return nil
}

// Stats is a snapshot of the storage's size.
type Stats struct {
	Series     int    // series ever created (and not yet removed)
	HeadSeries int    // series held in memory
	DiskBytes  uint64 // pebble's disk usage, WAL included
}

// Stats returns current sizes.
func (db *DB) Stats() Stats {
	db.mu.RLock()
	defer db.mu.RUnlock()
	st := Stats{Series: int(uint64(db.mu.nextSID) - db.mu.deleted.GetCardinality()), HeadSeries: db.mu.headCount}
	if !db.mu.closed { // pebble must not be asked after Close (a late /metrics scrape)
		st.DiskBytes = db.pdb.Metrics().DiskSpaceUsage()
	}
	return st
}

// Flush checkpoints the head, merges every series' chunks of each day into
// large chunks, and writes pebble's memtables to compacted sstables, so that
// disk usage reflects compressed data (benchmarks and tests use it; normal
// operation need not: closed days are merged in the background).
func (db *DB) Flush() error {
	if err := db.checkpoint(false); err != nil {
		return err
	}
	if _, err := db.compactChunks(context.Background(), math.MinInt32, math.MaxInt32); err != nil {
		return err
	}
	if err := db.pdb.Flush(); err != nil {
		return err
	}
	return db.pdb.Compact(context.Background(), []byte{0}, []byte{0xff}, true)
}

// seriesLabelsLocked returns the labels of sid from memory or disk.
// REQUIRES: db.mu is held.
func (db *DB) seriesLabelsLocked(r pebble.Reader, sid uint32) (labels.Labels, error) {
	if s := db.mu.series[sid]; s != nil {
		return s.lset, nil
	}
	return readSeriesLabels(r, sid)
}

func readSeriesLabels(r pebble.Reader, sid uint32) (labels.Labels, error) {
	v, closer, err := r.Get(seriesKey(nil, sid))
	if err != nil {
		if errors.Is(err, pebble.ErrNotFound) {
			return labels.EmptyLabels(), fmt.Errorf("%w: series %d has no label set", ErrCorruption, sid)
		}
		return labels.EmptyLabels(), err
	}
	defer closer.Close()
	var b labels.ScratchBuilder
	lset, err := decodeLabels(&b, v)
	if err != nil {
		return lset, fmt.Errorf("series %d: %w", sid, err)
	}
	return lset, nil
}

// loadSeriesLocked brings series sid into memory, reading its labels and
// newest persisted timestamp. REQUIRES: db.mu is held for writing.
func (db *DB) loadSeriesLocked(sid uint32) (*memSeries, error) {
	if s := db.mu.series[sid]; s != nil {
		return s, nil
	}
	lset, err := readSeriesLabels(db.pdb, sid)
	if err != nil {
		return nil, err
	}
	lastT := int64(math.MinInt64)
	v, closer, err := db.pdb.Get(seriesMaxTKey(nil, sid))
	switch {
	case err == nil:
		if len(v) == 8 {
			lastT = decodeTime(v)
		}
		closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		return nil, err
	}
	s := newMemSeries(lset, lastT)
	db.mu.series[sid] = s
	db.mu.headCount++
	return s, nil
}

// lookupLocked finds the series id of lset. REQUIRES: db.mu is held for writing.
func (db *DB) lookupLocked(lset labels.Labels, hash uint64) (uint32, bool, error) {
	sid, ok := db.mu.byHash[hash]
	if !ok {
		return 0, false, nil
	}
	same := func(cand uint32) (bool, error) {
		got, err := db.seriesLabelsLocked(db.pdb, cand)
		return err == nil && labels.Equal(got, lset), err
	}
	if eq, err := same(sid); eq || err != nil {
		return sid, eq, err
	}
	for _, cand := range db.mu.collisions[hash] {
		if eq, err := same(cand); eq || err != nil {
			return cand, eq, err
		}
	}
	return 0, false, nil
}

// pebbleLogger routes pebble's log lines to slog: its routine notices at
// debug level, its errors as errors.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf is called by pebble on an invariant violation it cannot survive;
// pebble requires it not to return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	panic(fmt.Sprintf(format, args...))
}
