package storage

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/almanacdb/almanac/storage/chunk"
)

const (
	// compactedChunkSamples is the size chunks are merged up to: larger
	// chunks compress better and decode faster per sample, and a day of
	// 15 s scrapes (5,760 samples) becomes two chunks.
	compactedChunkSamples = 2880
	// compactStepSeries bounds the series merged per lock hold, so appends
	// wait at most for one step.
	compactStepSeries = 512
)

// compactChunks merges each series' chunks of the days in [fromDay, toDay]
// into chunks of up to compactedChunkSamples, skipping the chunk a head
// checkpoint wrote (the head will overwrite it). It works in steps of
// compactStepSeries series, taking the append lock for each. It returns
// how many chunks it removed.
func (db *DB) compactChunks(ctx context.Context, fromDay, toDay int32) (int, error) {
	removed := 0
	start := appendDay([]byte{prefixChunk}, fromDay)
	end := prefixEnd(appendDay([]byte{prefixChunk}, toDay))
	for start != nil {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		n, next, err := db.compactStep(start, end)
		removed += n
		if err != nil {
			return removed, err
		}
		start = next
	}
	return removed, nil
}

// compactStep merges the chunks of up to compactStepSeries (day, series)
// groups from start on, and returns where the next step starts (nil: done).
func (db *DB) compactStep(start, end []byte) (removed int, next []byte, _ error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.writableLocked(); err != nil {
		return 0, nil, err
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return 0, nil, err
	}
	defer it.Close()
	b := db.pdb.NewBatch()
	defer b.Close()

	var group [][2][]byte // keys and values of one (day, series)
	groupPrefix := []byte(nil)
	groups := 0
	flush := func() error {
		if len(group) >= 2 {
			n, err := db.mergeGroupLocked(b, group)
			removed += n
			if err != nil {
				return err
			}
		}
		group = group[:0]
		return nil
	}
	valid := it.First()
	for ; valid; valid = it.Next() {
		k := it.Key()
		if len(k) != 17 {
			return removed, nil, fmt.Errorf("%w: chunk key %x", ErrCorruption, k)
		}
		if groupPrefix == nil || string(k[:9]) != string(groupPrefix) {
			if err := flush(); err != nil {
				return removed, nil, err
			}
			if groups == compactStepSeries {
				next = slices.Clone(k)
				break
			}
			groups++
			groupPrefix = append(groupPrefix[:0], k[:9]...)
		}
		sid, mint := binary.BigEndian.Uint32(k[5:9]), decodeTime(k[9:17])
		if int(sid) < len(db.mu.series) {
			if s := db.mu.series[sid]; s != nil && s.open != nil && mint == s.openMint {
				continue // the head's own partial chunk: a later cut overwrites it
			}
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return removed, nil, err
		}
		group = append(group, [2][]byte{slices.Clone(k), slices.Clone(v)})
	}
	if err := it.Error(); err != nil {
		return removed, nil, err
	}
	if next == nil {
		if err := flush(); err != nil {
			return removed, nil, err
		}
	}
	if b.Empty() {
		return removed, next, nil
	}
	return removed, next, db.commitLocked(b, pebble.Sync)
}

// mergeGroupLocked rewrites one series' chunks of one day (sorted by mint,
// non-overlapping) as few large chunks, and returns how many chunks fewer
// there are. REQUIRES: db.mu is held for writing.
func (db *DB) mergeGroupLocked(b *pebble.Batch, group [][2][]byte) (int, error) {
	total := 0
	for _, kv := range group {
		info, err := chunk.ReadInfo(kv[1])
		if err != nil {
			return 0, fmt.Errorf("chunk %x: %w: %w", kv[0], ErrCorruption, err)
		}
		total += info.Count
	}
	pieces := (total + compactedChunkSamples - 1) / compactedChunkSamples
	if pieces >= len(group) {
		return 0, nil // already as large as they get
	}
	ts := make([]int64, 0, total)
	vs := make([]float64, 0, total)
	var sts []int64
	for _, kv := range group {
		n := len(ts)
		var got []int64
		var err error
		if ts, vs, got, err = chunk.Decode(kv[1], ts, vs, sts); err != nil {
			return 0, fmt.Errorf("chunk %x: %w: %w", kv[0], ErrCorruption, err)
		}
		sts = padST(sts, got, n, len(ts))
	}
	if !slices.IsSorted(ts) {
		return 0, fmt.Errorf("%w: chunks of key prefix %x overlap", ErrCorruption, group[0][0][:9])
	}
	day := decodeDay(group[0][0][1:5])
	sid := binary.BigEndian.Uint32(group[0][0][5:9])
	written := map[string]bool{}
	for lo := 0; lo < len(ts); lo += compactedChunkSamples {
		hi := min(lo+compactedChunkSamples, len(ts))
		var piece []int64
		if sts != nil {
			piece = sts[lo:hi]
		}
		enc, err := chunk.Append(nil, ts[lo:hi], vs[lo:hi], piece)
		if err != nil {
			return 0, fmt.Errorf("encode merged chunk of series %d: %w", sid, err)
		}
		key := chunkKey(nil, day, sid, ts[lo])
		if err := b.Set(key, enc, nil); err != nil {
			return 0, err
		}
		written[string(key)] = true
		db.metrics.chunksWritten.Add(1)
	}
	for _, kv := range group {
		if !written[string(kv[0])] {
			if err := b.Delete(kv[0], nil); err != nil {
				return 0, err
			}
		}
	}
	return len(group) - pieces, nil
}

// compactClosedDays merges the chunks of the days before today (by the
// clock) that retention keeps, once per day: the background loop calls it.
func (db *DB) compactClosedDays(ctx context.Context, lastDone int32) (int32, error) {
	today := dayOf(db.opts.Now().UnixMilli())
	if today-1 <= lastDone {
		return lastDone, nil
	}
	from := lastDone + 1
	if lastDone == math.MinInt32 {
		from = today - 2 // at start-up, the last two closed days
	}
	_, err := db.compactChunks(ctx, from, today-1)
	if err != nil {
		return lastDone, err
	}
	return today - 1, nil
}
