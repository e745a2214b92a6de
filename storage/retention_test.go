package storage

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/prometheus/model/labels"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func countSamples(t *testing.T, db *DB, mint, maxt int64) int {
	t.Helper()
	ss, err := db.Select(context.Background(), mint, maxt, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	n := 0
	for ss.Next() {
		n += len(ss.At().T)
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRetentionDeletesWholeDays appends one sample per hour over five days
// with a four-day retention, moves the clock, and checks that exactly the
// days wholly outside retention disappear, that older samples are refused,
// and that per-day postings go with their days.
func TestRetentionDeletesWholeDays(t *testing.T) {
	day := 24 * time.Hour
	clock := &fakeClock{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	db, err := Open("db", Options{FS: vfs.NewMem(), Retention: 4 * day, Now: clock.Now, ChunkSamples: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	start := clock.Now().Add(-3 * day).Truncate(day) // 2026-03-07 00:00
	lset := labels.FromStrings("__name__", "hourly")
	for h := range 3 * 24 {
		ts := start.Add(time.Duration(h) * time.Hour).UnixMilli()
		if err := db.Append(ctx, []SeriesSamples{{Labels: lset, Samples: []Sample{{T: ts, V: float64(h)}}}}); err != nil {
			t.Fatalf("hour %d: %v", h, err)
		}
	}
	if got := countSamples(t, db, 0, start.Add(10*day).UnixMilli()); got != 72 {
		t.Fatalf("before retention: %d samples, want 72", got)
	}
	// Two days later the cutoff is 2026-03-08 12:00: the 7th goes, the 8th
	// straddles the cutoff and stays whole, and so does the 9th.
	clock.Add(2 * day)
	if err := db.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if got := countSamples(t, db, 0, start.Add(10*day).UnixMilli()); got != 48 {
		t.Fatalf("after retention: %d samples, want 48 (the 8th and 9th)", got)
	}
	vals, err := db.LabelValues(ctx, start.UnixMilli(), start.Add(day-time.Millisecond).UnixMilli(), "__name__")
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 0 {
		t.Fatalf("per-day postings of deleted days survive: %v", vals)
	}
	err = db.Append(ctx, []SeriesSamples{{Labels: lset, Samples: []Sample{{T: start.UnixMilli(), V: 1}}}})
	if !errors.Is(err, ErrOutOfRetention) {
		t.Fatalf("sample older than retention: got %v", err)
	}
	if db.metrics.retentionDays.Load() != 1 {
		t.Fatalf("retention days counter %d, want 1", db.metrics.retentionDays.Load())
	}
}
