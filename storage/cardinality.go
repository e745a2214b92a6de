package storage

import (
	"context"
	"fmt"
	"math"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cockroachdb/pebble/v2"
)

// LabelPairCount is how many series carry one label pair.
type LabelPairCount struct {
	Name, Value string
	Series      uint64
}

// Cardinality describes the index: the series, and for every label pair
// how many series carry it. It reads postings (one bitmap per pair), not
// samples, so its cost grows with the number of label pairs.
type Cardinality struct {
	Series uint64
	Pairs  []LabelPairCount // in key order: by name, then value
	// MinTime and MaxTime bound the stored samples (math.MaxInt64 and
	// math.MinInt64 when there are none); MinTime is the first sample of
	// the oldest day with chunks, MaxTime the newest sample of any series.
	MinTime, MaxTime int64
}

// Cardinality computes the index statistics Prometheus's status/tsdb
// page shows.
func (db *DB) Cardinality(ctx context.Context) (*Cardinality, error) {
	snap, err := db.snapshot()
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	c := &Cardinality{MinTime: math.MaxInt64, MaxTime: math.MinInt64}
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixPostings}, UpperBound: []byte{prefixPostings + 1}})
	if err != nil {
		return nil, err
	}
	n := 0
	for valid := it.First(); valid; valid = it.Next() {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				it.Close()
				return nil, err
			}
		}
		name, value, err := splitPostingsKey(it.Key()[1:])
		if err != nil {
			it.Close()
			return nil, err
		}
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return nil, err
		}
		var bm roaring.Bitmap
		if err := bm.UnmarshalBinary(v); err != nil {
			it.Close()
			return nil, fmt.Errorf("%w: postings %q: %v", ErrCorruption, it.Key(), err)
		}
		if name == allPostingsName {
			c.Series = bm.GetCardinality()
			continue
		}
		c.Pairs = append(c.Pairs, LabelPairCount{Name: name, Value: value, Series: bm.GetCardinality()})
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	if err := db.timeBounds(snap, c); err != nil {
		return nil, err
	}
	return c, nil
}

// timeBounds finds the oldest sample (in the first day with chunks) and
// the newest (the series' newest persisted timestamps and the head's).
func (db *DB) timeBounds(snap *pebble.Snapshot, c *Cardinality) error {
	days, err := chunkDays(snap, math.MinInt32, math.MaxInt32)
	if err != nil {
		return err
	}
	if len(days) > 0 {
		p := appendDay([]byte{prefixChunk}, days[0])
		it, err := snap.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
		if err != nil {
			return err
		}
		for valid := it.First(); valid; valid = it.Next() {
			if k := it.Key(); len(k) == 17 {
				c.MinTime = min(c.MinTime, decodeTime(k[9:17]))
			}
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixSeriesMaxT}, UpperBound: []byte{prefixSeriesMaxT + 1}})
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		if v := it.Value(); len(v) == 8 {
			c.MaxTime = max(c.MaxTime, decodeTime(v))
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	db.mu.RLock()
	for _, s := range db.mu.series {
		if s != nil && s.lastT != math.MinInt64 {
			c.MaxTime = max(c.MaxTime, s.lastT)
			if s.open != nil {
				c.MinTime = min(c.MinTime, s.openMint)
			}
		}
		for _, o := range s.oooOrNil() {
			c.MinTime = min(c.MinTime, o.t)
		}
	}
	db.mu.RUnlock()
	return nil
}
