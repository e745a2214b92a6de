package storage

import (
	"bytes"
	"context"
	"fmt"
	"math"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac/storage/chunk"
)

// DeleteSeries deletes the samples in [mint, maxt] of every series matching
// all matchers, as Prometheus's delete_series admin API does. The deletion
// is physical and durable when DeleteSeries returns: chunks are rewritten
// without the deleted samples, per-day postings of days left empty are
// removed, and a series left with no samples at all is removed from the
// index entirely (a later sample with the same labels creates it anew).
//
// It checkpoints the head first, so that no head log record can bring a
// deleted sample back after a crash, and holds the append lock throughout:
// appends wait for it. It returns the number of series it touched.
func (db *DB) DeleteSeries(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) (int, error) {
	if len(ms) == 0 {
		return 0, fmt.Errorf("%w: delete needs at least one matcher", ErrInvalidLabels)
	}
	if mint > maxt {
		return 0, nil
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return 0, ErrClosed
	}
	if err := db.writableLocked(); err != nil {
		return 0, err
	}
	// Persist the head and empty the head log; then cut the open chunks
	// the deletion reaches, so all their samples are chunks on disk too.
	if err := db.checkpointLocked(false); err != nil {
		return 0, err
	}
	ix := &indexReader{r: db.pdb}
	bm, err := ix.selectSeries(ms)
	if err != nil {
		return 0, err
	}
	sids := bm.ToArray()
	cut := db.pdb.NewBatch()
	defer cut.Close()
	for _, sid := range sids {
		if s := db.mu.series[sid]; s != nil && s.open != nil && s.openMaxt >= mint && s.openMint <= maxt {
			if err := db.cutLocked(cut, sid, s); err != nil {
				return 0, err
			}
		}
	}
	if !cut.Empty() {
		if err := db.commitLocked(cut, pebble.Sync); err != nil {
			return 0, err
		}
	}

	days, err := chunkDays(db.pdb, math.MinInt32, math.MaxInt32)
	if err != nil {
		return 0, err
	}
	d := &deletion{db: db, b: db.pdb.NewBatch(), removals: map[string]*roaring.Bitmap{}}
	defer d.b.Close()
	touched := 0
	for i, sid := range sids {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		changed, err := d.series(sid, mint, maxt, days)
		if err != nil {
			return 0, err
		}
		if changed {
			touched++
		}
	}
	if err := d.applyRemovals(); err != nil {
		return 0, err
	}
	if d.b.Empty() {
		return touched, nil
	}
	if err := db.commitLocked(d.b, pebble.Sync); err != nil {
		return 0, err
	}
	for _, sid := range d.removed {
		db.forgetSeriesLocked(sid, d.hashes[sid])
	}
	db.metrics.seriesDeleted.Add(uint64(len(d.removed)))
	return touched, nil
}

// deletion collects one DeleteSeries' writes: chunk rewrites in b, and the
// series ids to take out of each postings list, applied at the end with
// one read-modify-write per list.
type deletion struct {
	db       *DB
	b        *pebble.Batch
	removals map[string]*roaring.Bitmap // postings key → sids to remove
	removed  []uint32                   // series removed entirely
	hashes   map[uint32]uint64
}

func (d *deletion) remove(key []byte, sid uint32) {
	bm := d.removals[string(key)]
	if bm == nil {
		bm = roaring.New()
		d.removals[string(key)] = bm
	}
	bm.Add(sid)
}

// series deletes [mint, maxt] from one series and reports whether any
// sample was deleted. REQUIRES: db.mu is held for writing and the series'
// head holds no samples in [mint, maxt] (DeleteSeries cut them to disk).
func (d *deletion) series(sid uint32, mint, maxt int64, days []int32) (bool, error) {
	db := d.db
	lset, err := db.seriesLabelsLocked(db.pdb, sid)
	if err != nil {
		return false, err
	}
	s := db.mu.series[sid]
	changed, remaining := false, false
	for _, day := range days {
		dayChanged, dayRemaining, err := d.day(sid, day, mint, maxt)
		if err != nil {
			return false, err
		}
		changed = changed || dayChanged
		remaining = remaining || dayRemaining
		headInDay := s != nil && s.open != nil && dayOf(s.openMint) == day
		if dayChanged && !dayRemaining && !headInDay {
			var key []byte
			d.remove(dayPostingsKey(key, day, allPostingsName, ""), sid)
			lset.Range(func(l labels.Label) { d.remove(dayPostingsKey(key[:0], day, l.Name, l.Value), sid) })
			if s != nil && s.dayIsIndexed && s.indexedDay == day {
				s.dayIsIndexed = false // a new sample that day must index it again
			}
		}
	}
	if remaining || (s != nil && (s.open != nil || len(s.ooo) > 0)) {
		return changed, nil
	}
	// Nothing left: remove the series from the index and the registry.
	var key []byte
	d.remove(postingsKey(key, allPostingsName, ""), sid)
	lset.Range(func(l labels.Label) { d.remove(postingsKey(key[:0], l.Name, l.Value), sid) })
	hash := lset.Hash()
	if d.hashes == nil {
		d.hashes = map[uint32]uint64{}
	}
	d.hashes[sid] = hash
	d.removed = append(d.removed, sid)
	for _, k := range [][]byte{seriesKey(nil, sid), seriesHashKey(nil, hash, sid), seriesMaxTKey(nil, sid)} {
		if err := d.b.Delete(k, nil); err != nil {
			return false, err
		}
	}
	return true, nil
}

// day rewrites the chunks of one series in one day without the samples in
// [mint, maxt], and reports whether it deleted any and whether any remain.
func (d *deletion) day(sid uint32, day int32, mint, maxt int64) (changed, remaining bool, _ error) {
	prefix := chunkSeriesPrefix(nil, day, sid)
	it, err := d.db.pdb.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return false, false, err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		info, err := chunk.ReadInfo(it.Value())
		if err != nil {
			return false, false, fmt.Errorf("series %d chunk %x: %w: %w", sid, it.Key(), ErrCorruption, err)
		}
		if info.MaxT < mint || info.MinT > maxt {
			remaining = true
			continue
		}
		changed = true
		key := bytes.Clone(it.Key())
		if err := d.b.Delete(key, nil); err != nil {
			return false, false, err
		}
		if info.MinT >= mint && info.MaxT <= maxt {
			continue // wholly deleted
		}
		ts, vs, sts, err := chunk.Decode(it.Value(), nil, nil, nil)
		if err != nil {
			return false, false, fmt.Errorf("series %d chunk %x: %w: %w", sid, key, ErrCorruption, err)
		}
		kt, kv, kst := ts[:0], vs[:0], []int64(nil)
		if sts != nil {
			kst = sts[:0]
		}
		for i, t := range ts {
			if t >= mint && t <= maxt {
				continue
			}
			kt, kv = append(kt, t), append(kv, vs[i])
			if sts != nil {
				kst = append(kst, sts[i])
			}
		}
		enc, err := chunk.Append(nil, kt, kv, kst)
		if err != nil {
			return false, false, fmt.Errorf("re-encode chunk of series %d: %w", sid, err)
		}
		if err := d.b.Set(chunkKey(nil, day, sid, kt[0]), enc, nil); err != nil {
			return false, false, err
		}
		remaining = true
	}
	return changed, remaining, it.Error()
}

// applyRemovals rewrites each postings list the deletion shrinks. The
// lists are read with every merge operand folded in; the Set replaces
// them, and appends (which only Merge, under the same lock) stack on top.
func (d *deletion) applyRemovals() error {
	for key, gone := range d.removals {
		cur := roaring.New()
		if err := readBitmap(d.db.pdb, []byte(key), cur); err != nil {
			return err
		}
		cur.AndNot(gone)
		if cur.IsEmpty() {
			if err := d.b.Delete([]byte(key), nil); err != nil {
				return err
			}
			continue
		}
		cur.RunOptimize()
		enc, err := cur.ToBytes()
		if err != nil {
			return err
		}
		if err := d.b.Set([]byte(key), enc, nil); err != nil {
			return err
		}
	}
	return nil
}

// forgetSeriesLocked drops a removed series from memory: the head, the
// hash registry, and marks its id deleted so a stale ref cannot name it.
// REQUIRES: db.mu is held for writing.
func (db *DB) forgetSeriesLocked(sid uint32, hash uint64) {
	if db.mu.series[sid] != nil {
		db.mu.series[sid] = nil
		db.mu.headCount--
	}
	db.mu.deleted.Add(sid)
	if db.mu.byHash[hash] == sid {
		if rest := db.mu.collisions[hash]; len(rest) > 0 {
			db.mu.byHash[hash] = rest[0]
			if len(rest) == 1 {
				delete(db.mu.collisions, hash)
			} else {
				db.mu.collisions[hash] = rest[1:]
			}
		} else {
			delete(db.mu.byHash, hash)
		}
		return
	}
	rest := db.mu.collisions[hash]
	for i, c := range rest {
		if c == sid {
			rest = append(rest[:i:i], rest[i+1:]...)
			break
		}
	}
	if len(rest) == 0 {
		delete(db.mu.collisions, hash)
	} else {
		db.mu.collisions[hash] = rest
	}
}
