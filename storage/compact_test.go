package storage

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/prometheus/model/labels"
)

func countChunkKeys(t *testing.T, db *DB) int {
	t.Helper()
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixChunk}, UpperBound: []byte{prefixChunk + 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for valid := it.First(); valid; valid = it.Next() {
		n++
	}
	return n
}

// TestCompactChunksMergesADaysChunks: many small chunks of one series and
// day become one, the head's checkpointed partial chunk is left alone,
// and every sample reads back unchanged, also after more appends.
func TestCompactChunksMergesADaysChunks(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 3, 10, 12, 10, 0, 0, time.UTC)} // the series is not idle
	db, err := Open("db", Options{FS: vfs.NewMem(), Now: clock.Now, ChunkSamples: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	start := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC).UnixMilli()
	lset := labels.FromStrings("__name__", "m")
	add := func(from, to int) {
		for i := from; i < to; i++ {
			if err := db.Append(ctx, []SeriesSamples{{Labels: lset, Samples: []Sample{{T: start + int64(i)*15000, V: float64(i) / 4}}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(0, 505)
	if err := db.checkpoint(false); err != nil { // writes the open chunk as a partial chunk
		t.Fatal(err)
	}
	before := countChunkKeys(t, db)
	if before != 51 {
		t.Fatalf("%d chunks before compaction, want 51 (50 cut + 1 partial)", before)
	}
	removed, err := db.compactChunks(ctx, math.MinInt32, math.MaxInt32)
	if err != nil {
		t.Fatal(err)
	}
	if after := countChunkKeys(t, db); removed != 49 || after != 2 {
		t.Fatalf("removed %d, %d chunks left; want 49 removed and 2 left (merged + partial)", removed, after)
	}
	add(505, 530) // the head goes on; its partial chunk is overwritten by its cut
	if got := countSamples(t, db, 0, math.MaxInt64); got != 530 {
		t.Fatalf("%d samples, want 530", got)
	}
	ss, err := db.Select(ctx, 0, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	for ss.Next() {
		s := ss.At()
		for i := range s.T {
			if s.T[i] != start+int64(i)*15000 || s.V[i] != float64(i)/4 {
				t.Fatalf("sample %d: t=%d v=%v", i, s.T[i], s.V[i])
			}
		}
	}
}
