package storage

import (
	"context"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// EnforceRetention deletes every whole day of chunks and per-day postings
// that lies entirely before the retention period. The day that straddles
// the boundary is kept until it too is entirely outside, so a query may see
// up to one day more than the retention period. A negative retention keeps
// everything.
func (db *DB) EnforceRetention(ctx context.Context) error {
	if db.opts.Retention < 0 {
		return nil
	}
	cutoff := db.opts.Now().Add(-db.opts.Retention).UnixMilli()
	keepFrom := dayOf(cutoff)
	db.mu.Lock()
	if err := db.writableLocked(); err != nil {
		db.mu.Unlock()
		return err
	}
	b := db.pdb.NewBatch()
	var deleted uint64
	for _, p := range []byte{prefixChunk, prefixDayPosting} {
		lo := appendDay([]byte{p}, math.MinInt32)
		hi := appendDay([]byte{p}, keepFrom)
		if p == prefixChunk {
			deleted = db.countDaysBefore(lo, hi)
		}
		if err := b.DeleteRange(lo, hi, nil); err != nil {
			b.Close()
			db.mu.Unlock()
			return err
		}
	}
	// Out-of-order samples waiting in memory for an expired day go too.
	for _, s := range db.mu.series {
		if s == nil || len(s.ooo) == 0 {
			continue
		}
		i := 0
		for i < len(s.ooo) && dayOf(s.ooo[i].t) < keepFrom {
			i++
		}
		s.ooo = s.ooo[i:]
	}
	err := db.commitLocked(b, pebble.Sync)
	b.Close()
	db.mu.Unlock()
	if err != nil || deleted == 0 {
		return err
	}
	db.metrics.retentionDays.Add(deleted)
	db.opts.Logger.Info("retention deleted old days", "days", deleted, "before_day_start_ms", dayStart(keepFrom))
	// Reclaim the space now rather than whenever compactions get there.
	return db.pdb.Compact(ctx, []byte{prefixChunk}, appendDay([]byte{prefixChunk}, keepFrom), false)
}

// countDaysBefore counts the distinct days with chunks in [lo, hi).
func (db *DB) countDaysBefore(lo, hi []byte) uint64 {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0
	}
	defer it.Close()
	var n uint64
	for valid := it.First(); valid; {
		n++
		d := decodeDay(it.Key()[1:5])
		if d == math.MaxInt32 {
			break
		}
		valid = it.SeekGE(appendDay([]byte{prefixChunk}, d+1))
	}
	return n
}
