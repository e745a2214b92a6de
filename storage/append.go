package storage

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"unicode/utf8"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac/storage/chunk"
)

// Sample is one float sample. ST is its start timestamp (Prometheus 3's
// created/start time of a counter), 0 when unknown.
type Sample struct {
	T  int64
	V  float64
	ST int64
}

// SeriesSamples is one series and its samples in an append batch. Samples
// need not be sorted.
type SeriesSamples struct {
	Labels  labels.Labels
	Samples []Sample
	// Ref, when not zero, names the series without a label look-up. Append
	// sets it on every series of a batch it accepts; a caller that appends
	// the same series again (a scraper, a remote-write connection) passes it
	// back with the same Labels, as Prometheus's scrape cache does. A Ref
	// given with other labels stores the samples under the Ref's series.
	Ref SeriesRef
}

// SeriesRef identifies a series for as long as the database exists.
type SeriesRef uint64

// prepared is one series of a batch after validation: its normalised labels,
// its id if it exists, and the samples to store (sorted, duplicates removed).
type prepared struct {
	lset    labels.Labels
	hash    uint64
	sid     uint32
	exists  bool
	samples []sample
}

// Append stores a batch atomically: either every sample is stored and the
// batch is durable (unless Options.NoSync) when Append returns nil, or
// nothing is stored and the error (a *BatchError) lists what was wrong.
// Exact duplicates of stored samples are dropped silently.
func (db *DB) Append(ctx context.Context, batch []SeriesSamples) error {
	rejected, err := db.appendBatch(ctx, batch, true)
	if err != nil {
		return err
	}
	if rejected != nil {
		return rejected
	}
	return nil
}

// AppendValid stores every valid sample of a batch, as one durable write,
// and reports what it refused: the returned *BatchError (nil when nothing
// was refused) lists the problems and counts the refused samples by reason.
// The error is for failures of the database itself, not of the input.
// Receivers of protocols that cannot take a batch back in part (remote
// write) use it to keep the valid data of a request.
func (db *DB) AppendValid(ctx context.Context, batch []SeriesSamples) (*BatchError, error) {
	return db.appendBatch(ctx, batch, false)
}

func (db *DB) appendBatch(ctx context.Context, batch []SeriesSamples, atomic bool) (*BatchError, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.resolveRefs(batch)
	db.mu.Lock()
	berr, wait, err := db.appendLocked(batch, atomic)
	db.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// The fsync is waited for outside the lock, so that concurrent appends
	// share one (pebble's group commit). Nothing is acknowledged before it.
	if wait != nil {
		if err := wait(); err != nil {
			return nil, err
		}
	}
	return berr, nil
}

// resolveRefs sets the Ref of every entry whose series is in memory with
// exactly these labels, hashing outside any lock and looking up under the
// read lock, so that concurrent appends do this work in parallel and the
// exclusive section takes the ref fast path. A series deleted or dropped
// from memory in between is handled there (a deleted id falls back to
// the labels; an idle one is loaded again).
func (db *DB) resolveRefs(batch []SeriesSamples) {
	const chunk = 1024 // bound the read lock's hold time
	hashes := make([]uint64, min(len(batch), chunk))
	for lo := 0; lo < len(batch); lo += chunk {
		part := batch[lo:min(lo+chunk, len(batch))]
		for i := range part {
			if part[i].Ref == 0 {
				hashes[i] = part[i].Labels.Hash()
			}
		}
		db.mu.RLock()
		if db.mu.closed {
			db.mu.RUnlock()
			return
		}
		for i := range part {
			if part[i].Ref != 0 {
				continue
			}
			if sid, ok := db.mu.byHash[hashes[i]]; ok {
				if ms := db.mu.series[sid]; ms != nil && labels.Equal(ms.lset, part[i].Labels) {
					part[i].Ref = SeriesRef(sid) + 1
				}
			}
		}
		db.mu.RUnlock()
	}
}

// appendLocked is appendBatch under the lock; wait, when not nil, waits
// for the batch's fsync. REQUIRES: db.mu is held for writing.
func (db *DB) appendLocked(batch []SeriesSamples, atomic bool) (*BatchError, func() error, error) {
	if err := db.writableLocked(); err != nil {
		return nil, nil, err
	}
	preps, entries, berr, err := db.prepareLocked(batch)
	if err != nil {
		return nil, nil, err
	}
	if berr != nil && atomic {
		db.metrics.rejected.WithLabelValues(reasonBatch).Add(float64(berr.Accepted))
		berr.Accepted = 0
		return berr, nil, nil
	}
	wait, err := db.applyLocked(preps, false)
	if err != nil {
		return nil, nil, err
	}
	for i, e := range entries {
		if e >= 0 {
			batch[i].Ref = SeriesRef(preps[e].sid) + 1
		}
	}
	return berr, wait, nil
}

// prepareLocked validates a batch without changing anything (beyond
// bringing existing series into memory).
// REQUIRES: db.mu is held for writing.
// It returns the valid part of the batch, for each entry of batch the index
// of its prepared series (-1 when refused), and what it refused (nil when
// nothing); err is for failures of the database, not of the input.
func (db *DB) prepareLocked(batch []SeriesSamples) (_ []prepared, entries []int, _ *BatchError, err error) {
	now := db.opts.Now()
	minT := int64(math.MinInt64)
	if db.opts.Retention > 0 {
		minT = now.Add(-db.opts.Retention).UnixMilli()
	}
	maxT := now.Add(db.opts.MaxFutureSkew).UnixMilli()

	var berr BatchError
	reject := func(se *SampleError, reason string) {
		db.metrics.rejected.WithLabelValues(reason).Add(float64(se.Samples))
		berr.add(se)
	}
	total := 0
	for _, in := range batch {
		total += len(in.Samples)
	}
	defer func() {
		if len(berr.Errors) > 0 && err == nil {
			berr.Accepted = total - berr.Rejected
		}
	}()
	// One slab holds every sample of the batch; each series gets a
	// capacity-limited window of it, so a series given twice copies out.
	slab := make([]sample, 0, total)
	preps := make([]prepared, 0, len(batch))
	entries = make([]int, len(batch))
	db.mu.batchGen++
	gen := db.mu.batchGen
	var newSeries map[uint64][]int // series created by this batch, by hash

	// existing returns the index in preps of series ms, adding it once.
	existing := func(ms *memSeries, sid uint32, hash uint64) int {
		i := int(ms.batchIdx)
		if ms.batchGen != gen || i >= len(preps) || preps[i].sid != sid || !preps[i].exists {
			ms.batchGen, ms.batchIdx = gen, int32(len(preps))
			preps = append(preps, prepared{lset: ms.lset, hash: hash, sid: sid, exists: true})
		}
		return int(ms.batchIdx)
	}
	for e, in := range batch {
		entries[e] = -1
		idx := -1
		var hash uint64
		switch {
		case in.Ref != 0 && in.Ref <= SeriesRef(db.mu.nextSID) && !db.mu.deleted.Contains(uint32(in.Ref-1)):
			// Fastest path: the caller names the series.
			sid := uint32(in.Ref - 1)
			ms, err := db.loadSeriesLocked(sid)
			if err != nil {
				return nil, nil, nil, err
			}
			idx = existing(ms, sid, 0)
		default:
			// Fast path: a series in memory, given exactly as stored, is valid.
			hash = in.Labels.Hash()
			if sid, ok := db.mu.byHash[hash]; ok {
				if ms := db.mu.series[sid]; ms != nil && labels.Equal(ms.lset, in.Labels) {
					idx = existing(ms, sid, hash)
				}
			}
		}
		if idx < 0 {
			lset, se, reason := db.normalizeLabels(in.Labels)
			if se != nil {
				se.Samples = len(in.Samples)
				reject(se, reason)
				continue
			}
			hash = lset.Hash()
			sid, ok, err := db.lookupLocked(lset, hash)
			if err != nil {
				return nil, nil, nil, err
			}
			if ok {
				ms, err := db.loadSeriesLocked(sid)
				if err != nil {
					return nil, nil, nil, err
				}
				idx = existing(ms, sid, hash)
			} else {
				for _, i := range newSeries[hash] {
					if labels.Equal(preps[i].lset, lset) {
						idx = i
					}
				}
				if idx < 0 {
					if newSeries == nil {
						newSeries = map[uint64][]int{}
					}
					idx = len(preps)
					newSeries[hash] = append(newSeries[hash], idx)
					preps = append(preps, prepared{lset: lset, hash: hash})
				}
			}
		}
		entries[e] = idx
		p := &preps[idx]
		first := len(slab)
		for _, s := range in.Samples {
			switch {
			case s.T < minT:
				reject(&SampleError{Labels: p.lset, T: s.T, HasT: true, Reason: ErrOutOfRetention, Samples: 1,
					Detail: fmt.Sprintf("retention starts at t=%d", minT)}, reasonRetention)
			case s.T > maxT:
				reject(&SampleError{Labels: p.lset, T: s.T, HasT: true, Reason: ErrTooFarInFuture, Samples: 1,
					Detail: fmt.Sprintf("latest accepted t=%d", maxT)}, reasonFuture)
			default:
				slab = append(slab, sample{t: s.T, v: s.V, st: s.ST})
			}
		}
		if len(p.samples) == 0 {
			p.samples = slab[first:len(slab):len(slab)]
		} else {
			p.samples = append(p.samples, slab[first:]...)
		}
	}
	for i := range preps {
		if err := db.checkSamplesLocked(&preps[i], reject); err != nil {
			return nil, nil, nil, err
		}
	}
	if len(berr.Errors) > 0 {
		return preps, entries, &berr, nil
	}
	return preps, entries, nil, nil
}

// normalizeLabels drops empty-valued labels (Prometheus treats them as
// absent), sorts, and checks names, values and limits.
func (db *DB) normalizeLabels(in labels.Labels) (labels.Labels, *SampleError, string) {
	lset := in.WithoutEmpty()
	bad := func(reason error, metric, format string, args ...any) (labels.Labels, *SampleError, string) {
		return lset, &SampleError{Labels: in, Reason: reason, Detail: fmt.Sprintf(format, args...)}, metric
	}
	if in.Has(labels.MetricName) && in.Get(labels.MetricName) == "" {
		return bad(ErrInvalidLabels, reasonInvalidLabels, "empty metric name")
	}
	if lset.IsEmpty() {
		return bad(ErrInvalidLabels, reasonInvalidLabels, "empty label set")
	}
	if n := lset.Len(); n > db.opts.MaxLabelsPerSeries {
		return bad(ErrLabelLimit, reasonLabelLimit, "%d labels, limit %d", n, db.opts.MaxLabelsPerSeries)
	}
	var se *SampleError
	var metric string
	prev, sorted := "", true
	lset.Range(func(l labels.Label) {
		if se != nil {
			return
		}
		switch {
		case l.Name == "":
			_, se, metric = bad(ErrInvalidLabels, reasonInvalidLabels, "empty label name")
		case !utf8.ValidString(l.Name):
			_, se, metric = bad(ErrInvalidLabels, reasonInvalidLabels, "label name %q is not valid UTF-8", l.Name)
		case !utf8.ValidString(l.Value):
			_, se, metric = bad(ErrInvalidLabels, reasonInvalidLabels, "value of label %q is not valid UTF-8", l.Name)
		case len(l.Name) > db.opts.MaxLabelNameBytes:
			_, se, metric = bad(ErrLabelLimit, reasonLabelLimit, "label name of %d bytes, limit %d", len(l.Name), db.opts.MaxLabelNameBytes)
		case len(l.Value) > db.opts.MaxLabelValueBytes:
			_, se, metric = bad(ErrLabelLimit, reasonLabelLimit, "value of label %q has %d bytes, limit %d", l.Name, len(l.Value), db.opts.MaxLabelValueBytes)
		}
		if l.Name < prev {
			sorted = false
		}
		prev = l.Name
	})
	if se != nil {
		return lset, se, metric
	}
	if !sorted {
		b := labels.NewScratchBuilder(lset.Len())
		lset.Range(func(l labels.Label) { b.Add(l.Name, l.Value) })
		b.Sort()
		lset = b.Labels()
	}
	if name, dup := lset.HasDuplicateLabelNames(); dup {
		return bad(ErrInvalidLabels, reasonInvalidLabels, "label name %q appears twice", name)
	}
	return lset, nil, ""
}

// checkSamplesLocked sorts p's samples, drops exact duplicates (within the
// batch and against stored data) and reports conflicting duplicates and
// samples outside the out-of-order window. REQUIRES: db.mu is held for writing.
func (db *DB) checkSamplesLocked(p *prepared, reject func(*SampleError, string)) error {
	if !slices.IsSortedFunc(p.samples, func(a, b sample) int { return cmpInt64(a.t, b.t) }) {
		slices.SortStableFunc(p.samples, func(a, b sample) int { return cmpInt64(a.t, b.t) })
	}
	conflict := func(t int64, have, got float64) {
		reject(&SampleError{Labels: p.lset, T: t, HasT: true, Reason: ErrDuplicateSample, Samples: 1,
			Detail: fmt.Sprintf("stored value %v, new value %v", have, got)}, reasonDuplicate)
	}
	out := p.samples[:0]
	for i, s := range p.samples {
		if i > 0 && p.samples[i-1].t == s.t {
			if !sameBits(p.samples[i-1].v, s.v) {
				conflict(s.t, p.samples[i-1].v, s.v)
			} else {
				db.metrics.duplicatesDropped.Add(1)
			}
			continue
		}
		out = append(out, s)
	}
	p.samples = out
	if !p.exists || len(p.samples) == 0 {
		return nil
	}
	ms, err := db.loadSeriesLocked(p.sid)
	if err != nil {
		return err
	}
	if p.samples[0].t > ms.lastT {
		return nil // the common case: everything is newer than the series
	}
	var openTs []int64
	var openVs []float64
	out = p.samples[:0]
	for _, s := range p.samples {
		if s.t > ms.lastT {
			out = append(out, s)
			continue
		}
		if w := db.opts.OutOfOrderWindow; w >= 0 && s.t < ms.lastT-w.Milliseconds() {
			reject(&SampleError{Labels: p.lset, T: s.t, HasT: true, Reason: ErrTooOldSample, Samples: 1,
				Detail: fmt.Sprintf("series' newest sample is at t=%d, window %s", ms.lastT, w)}, reasonTooOld)
			continue
		}
		var have float64
		var found bool
		switch ms.place(s.t) {
		case placeOpen:
			if openTs == nil {
				openTs, openVs, _ = ms.openSamples(nil, nil, nil)
			}
			i, ok := slices.BinarySearch(openTs, s.t)
			have, found = openVs[min(i, len(openVs)-1)], ok
		default:
			if i, ok := ms.findOOO(s.t); ok {
				have, found = ms.ooo[i].v, true
			} else if have, found, err = db.persistedValue(p.sid, s.t); err != nil {
				return err
			}
		}
		switch {
		case !found:
			out = append(out, s)
		case sameBits(have, s.v):
			db.metrics.duplicatesDropped.Add(1)
		default:
			conflict(s.t, have, s.v)
		}
	}
	p.samples = out
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// persistedValue looks t up in series sid's chunks on disk.
func (db *DB) persistedValue(sid uint32, t int64) (float64, bool, error) {
	prefix := chunkSeriesPrefix(nil, dayOf(t), sid)
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return 0, false, err
	}
	defer it.Close()
	if !it.SeekLT(chunkKey(nil, dayOf(t), sid, t+1)) {
		return 0, false, it.Error()
	}
	ts, vs, _, err := chunk.Decode(it.Value(), nil, nil, nil)
	if err != nil {
		return 0, false, fmt.Errorf("series %d chunk %x: %w: %w", sid, it.Key(), ErrCorruption, err)
	}
	i, ok := slices.BinarySearch(ts, t)
	if !ok {
		return 0, false, nil
	}
	return vs[i], true, nil
}

// applyLocked stores validated series: new series are registered and
// indexed, samples enter the head, full open chunks are cut, and one head
// log record makes the batch durable, all in one pebble batch.
// With replay, it re-applies a logged batch at Open: nothing is logged again.
// REQUIRES: db.mu is held for writing.
//
// The batch is applied to pebble in the lock's order; unless NoSync, the
// returned wait (nil otherwise) waits for its fsync and must be called,
// without the lock, before the batch is acknowledged.
func (db *DB) applyLocked(preps []prepared, replay bool) (wait func() error, _ error) {
	b := db.pdb.NewBatch()
	closeBatch := true
	defer func() {
		if closeBatch {
			b.Close()
		}
	}()
	// New series and memory look-ups touch db.mu's maps: serially.
	series := make([]*memSeries, len(preps))
	n := 0
	for i := range preps {
		p := &preps[i]
		if len(p.samples) == 0 {
			continue
		}
		if !p.exists {
			p.sid = db.createSeriesLocked(b, p.lset, p.hash)
			p.exists = true
		}
		ms, err := db.loadSeriesLocked(p.sid)
		if err != nil {
			return nil, err
		}
		series[i] = ms
		n += len(p.samples)
	}
	// Each series' head is its own: large batches are applied by several
	// workers over disjoint series, each into its own pebble batch and log
	// fragment (a log record is a concatenation of series blocks).
	workers := 1
	if n >= parallelApplySamples {
		workers = min(runtime.GOMAXPROCS(0), maxApplyWorkers, len(preps))
	}
	shards := make([]applyShard, workers)
	var wg sync.WaitGroup
	for w := range shards {
		sh := &shards[w]
		lo, hi := w*len(preps)/workers, (w+1)*len(preps)/workers
		sh.preps, sh.series = preps[lo:hi], series[lo:hi]
		if w == 0 {
			sh.b = b
			continue // runs on this goroutine once the others are started
		}
		sh.b = db.pdb.NewBatch()
		defer sh.b.Close()
		wg.Go(func() { db.applyShard(sh, replay) })
	}
	db.applyShard(&shards[0], replay)
	wg.Wait()
	var rec []byte
	for w := range shards {
		sh := &shards[w]
		if sh.err != nil {
			// The head already holds part of the batch: refuse writes until reopened.
			db.mu.failed = sh.err
			return nil, fmt.Errorf("%w: %w", ErrFailed, sh.err)
		}
		if w > 0 {
			if err := b.Apply(sh.b, nil); err != nil {
				db.mu.failed = err
				return nil, fmt.Errorf("%w: %w", ErrFailed, err)
			}
		}
		rec = append(rec, sh.rec...)
	}
	if replay {
		return nil, db.commitLocked(b, pebble.NoSync)
	}
	if n == 0 && b.Empty() {
		return nil, nil
	}
	if err := b.Set(headLogKey(nil, db.mu.nextSeq), rec, nil); err != nil {
		return nil, err
	}
	db.mu.nextSeq++
	if db.opts.NoSync {
		if err := db.commitLocked(b, pebble.NoSync); err != nil {
			return nil, err
		}
	} else {
		// Applied now, in order; the fsync is waited for without the lock.
		if err := db.pdb.ApplyNoSyncWait(b, pebble.Sync); err != nil {
			db.mu.failed = err
			return nil, fmt.Errorf("%w: %w", ErrFailed, err)
		}
		closeBatch = false
		wait = func() error {
			defer b.Close()
			if err := b.SyncWait(); err != nil {
				db.markFailed(err)
				return fmt.Errorf("%w: %w", ErrFailed, err)
			}
			return nil
		}
	}
	db.mu.logBytes += int64(len(rec))
	db.metrics.samplesAppended.Add(uint64(n))
	if db.mu.logBytes >= db.opts.CheckpointBytes {
		if err := db.checkpointLocked(true); err != nil {
			if wait != nil {
				wait()
			}
			return nil, err
		}
	}
	return wait, nil
}

const (
	// parallelApplySamples: batches with at least this many samples are
	// applied by several workers.
	parallelApplySamples = 4096
	maxApplyWorkers      = 8
)

// applyShard is one worker's part of applyLocked: its series, its pebble
// batch and log fragment, and its error.
type applyShard struct {
	preps  []prepared
	series []*memSeries // series[i] is the head of preps[i]; nil: nothing to add
	b      *pebble.Batch
	rec    []byte
	err    error
}

// applyShard adds the shard's samples to the head, writing cut chunks into
// sh.b and the log fragment into sh.rec, and records its error (or panic)
// in sh.err. It touches only the shard's series and sh.
// REQUIRES: db.mu is held for writing by the caller of applyLocked.
func (db *DB) applyShard(sh *applyShard, replay bool) {
	defer func() {
		if r := recover(); r != nil {
			sh.err = fmt.Errorf("applying a batch panicked: %v", r)
		}
	}()
	for i := range sh.preps {
		p, ms := &sh.preps[i], sh.series[i]
		if ms == nil {
			continue
		}
		for _, s := range p.samples {
			if sh.err = db.addSampleLocked(sh.b, p.sid, ms, s); sh.err != nil {
				return
			}
		}
		if len(ms.ooo) >= db.opts.ChunkSamples {
			if sh.err = db.flushOOOLocked(sh.b, p.sid, ms); sh.err != nil {
				return
			}
		}
		if !replay {
			sh.rec = appendLogSeries(sh.rec, p.sid, p.samples)
		}
	}
}

// createSeriesLocked allocates a series id and writes the series keys and
// its all-time postings into b. REQUIRES: db.mu is held for writing.
func (db *DB) createSeriesLocked(b *pebble.Batch, lset labels.Labels, hash uint64) uint32 {
	sid := db.mu.nextSID
	db.mu.nextSID++
	db.mu.series = append(db.mu.series, newMemSeries(lset, math.MinInt64))
	db.mu.headCount++
	db.registerLocked(hash, sid)
	_ = b.Set(seriesHashKey(nil, hash, sid), nil, nil)
	_ = b.Set(seriesKey(nil, sid), encodeLabels(nil, lset), nil)
	op := singletonBitmap(sid)
	var key []byte
	_ = b.Merge(postingsKey(key[:0], allPostingsName, ""), op, nil)
	lset.Range(func(l labels.Label) {
		_ = b.Merge(postingsKey(key[:0], l.Name, l.Value), op, nil)
	})
	db.metrics.seriesCreated.Add(1)
	return sid
}

// indexDayLocked writes the per-day postings of series sid for day d.
func indexDay(b *pebble.Batch, sid uint32, lset labels.Labels, d int32) {
	op := singletonBitmap(sid)
	var key []byte
	_ = b.Merge(dayPostingsKey(key[:0], d, allPostingsName, ""), op, nil)
	lset.Range(func(l labels.Label) {
		_ = b.Merge(dayPostingsKey(key[:0], d, l.Name, l.Value), op, nil)
	})
}

// addSampleLocked puts one validated sample into series ms.
// REQUIRES: db.mu is held for writing.
func (db *DB) addSampleLocked(b *pebble.Batch, sid uint32, ms *memSeries, s sample) error {
	d := dayOf(s.t)
	if !ms.dayIsIndexed || ms.indexedDay != d {
		indexDay(b, sid, ms.lset, d)
		if !ms.dayIsIndexed || d > ms.indexedDay {
			ms.indexedDay, ms.dayIsIndexed = d, true
		}
	}
	switch ms.place(s.t) {
	case placeAppend:
		if ms.open != nil && (int(ms.openCount) >= db.opts.ChunkSamples || dayOf(ms.openMint) != d) {
			if err := db.cutLocked(b, sid, ms); err != nil {
				return err
			}
		}
		if ms.open == nil {
			ms.startOpen(s)
		} else {
			ms.app.Append(s.st, s.t, s.v)
			ms.openMaxt = s.t
			ms.openCount++
		}
		ms.lastT = s.t
	case placeOpen:
		ts, vs, sts := ms.openSamples(nil, nil, nil)
		i, found := slices.BinarySearch(ts, s.t)
		if found {
			return nil // an exact duplicate met again during replay
		}
		if s.st != 0 && sts == nil {
			sts = make([]int64, len(ts))
		}
		ts = slices.Insert(ts, i, s.t)
		vs = slices.Insert(vs, i, s.v)
		if sts != nil {
			sts = slices.Insert(sts, i, s.st)
		}
		ms.rebuildOpen(ts, vs, sts)
	case placeOld:
		ms.insertOOO(s)
	}
	return nil
}

// cutLocked writes the open chunk of ms to b and empties it.
// REQUIRES: db.mu is held for writing.
func (db *DB) cutLocked(b *pebble.Batch, sid uint32, ms *memSeries) error {
	ts, vs, sts := ms.openSamples(nil, nil, nil)
	if err := db.writeChunkLocked(b, sid, ms, ts, vs, sts); err != nil {
		return err
	}
	ms.open, ms.app = nil, nil
	return nil
}

// writeChunkLocked encodes one chunk (all in one day) into b and records
// the series' newest timestamp.
func (db *DB) writeChunkLocked(b *pebble.Batch, sid uint32, ms *memSeries, ts []int64, vs []float64, sts []int64) error {
	enc, err := chunk.Append(nil, ts, vs, sts)
	if err != nil {
		return fmt.Errorf("encode chunk of series %d at t=%d: %w", sid, ts[0], err)
	}
	if err := b.Set(chunkKey(nil, dayOf(ts[0]), sid, ts[0]), enc, nil); err != nil {
		return err
	}
	db.metrics.chunksWritten.Add(1)
	return b.Set(seriesMaxTKey(nil, sid), appendTime(nil, ms.lastT), nil)
}

// flushOOOLocked merges the out-of-order buffer of ms into the chunks on
// disk: per day, the chunks overlapping the buffered samples are decoded,
// merged with them (stored values win over a conflicting replayed one),
// rewritten in pieces of at most ChunkSamples, and the old keys deleted.
// Chunks of a series thus never overlap in time.
// REQUIRES: db.mu is held for writing.
func (db *DB) flushOOOLocked(b *pebble.Batch, sid uint32, ms *memSeries) error {
	for len(ms.ooo) > 0 {
		d := dayOf(ms.ooo[0].t)
		n := sort.Search(len(ms.ooo), func(i int) bool { return dayOf(ms.ooo[i].t) != d })
		group := ms.ooo[:n]
		if err := db.mergeDayLocked(b, sid, ms, d, group); err != nil {
			return err
		}
		ms.ooo = ms.ooo[n:]
	}
	ms.ooo = nil
	return nil
}

func (db *DB) mergeDayLocked(b *pebble.Batch, sid uint32, ms *memSeries, d int32, group []sample) error {
	lo, hi := group[0].t, group[len(group)-1].t
	prefix := chunkSeriesPrefix(nil, d, sid)
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	var ts, sts []int64
	var vs []float64
	var oldKeys [][]byte
	hasST := false
	for valid := it.First(); valid; valid = it.Next() {
		info, err := chunk.ReadInfo(it.Value())
		if err != nil {
			it.Close()
			return fmt.Errorf("series %d chunk %x: %w: %w", sid, it.Key(), ErrCorruption, err)
		}
		if info.MaxT < lo || info.MinT > hi {
			continue
		}
		if ms.open != nil && decodeTime(it.Key()[len(prefix):]) == ms.openMint {
			continue // the head's own partial checkpoint; never overlaps older samples
		}
		var cts, csts []int64
		var cvs []float64
		if cts, cvs, csts, err = chunk.Decode(it.Value(), nil, nil, nil); err != nil {
			it.Close()
			return fmt.Errorf("series %d chunk %x: %w: %w", sid, it.Key(), ErrCorruption, err)
		}
		if csts != nil && !hasST {
			hasST, sts = true, make([]int64, len(ts), len(ts)+len(cts))
		}
		ts, vs = append(ts, cts...), append(vs, cvs...)
		if hasST {
			if csts == nil {
				csts = make([]int64, len(cts))
			}
			sts = append(sts, csts...)
		}
		oldKeys = append(oldKeys, slices.Clone(it.Key()))
	}
	if err := it.Close(); err != nil {
		return err
	}
	// Merge the stored columns (sorted, non-overlapping chunks) with the group.
	mts := make([]int64, 0, len(ts)+len(group))
	mvs := make([]float64, 0, len(ts)+len(group))
	var msts []int64
	groupHasST := slices.ContainsFunc(group, func(s sample) bool { return s.st != 0 })
	if hasST || groupHasST {
		msts = make([]int64, 0, len(ts)+len(group))
	}
	i, j := 0, 0
	for i < len(ts) || j < len(group) {
		switch {
		case j == len(group) || (i < len(ts) && ts[i] < group[j].t):
			mts, mvs = append(mts, ts[i]), append(mvs, vs[i])
			if msts != nil {
				msts = append(msts, stAt(sts, i))
			}
			i++
		case i == len(ts) || group[j].t < ts[i]:
			mts, mvs = append(mts, group[j].t), append(mvs, group[j].v)
			if msts != nil {
				msts = append(msts, group[j].st)
			}
			j++
		default: // same timestamp: the stored sample stays
			j++
		}
	}
	written := map[string]bool{}
	for start := 0; start < len(mts); start += db.opts.ChunkSamples {
		end := min(start+db.opts.ChunkSamples, len(mts))
		var piece []int64
		if msts != nil {
			piece = msts[start:end]
		}
		if err := db.writeChunkLocked(b, sid, ms, mts[start:end], mvs[start:end], piece); err != nil {
			return err
		}
		written[string(chunkKey(nil, d, sid, mts[start]))] = true
	}
	for _, k := range oldKeys {
		if !written[string(k)] {
			if err := b.Delete(k, nil); err != nil {
				return err
			}
		}
	}
	return nil
}
