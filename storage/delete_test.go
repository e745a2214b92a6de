package storage

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/prometheus/model/labels"
)

// TestDeleteSeries deletes part of one series and the whole of another,
// then checks samples, listings, per-day postings, counters, a stale
// series ref, re-creation, and that all of it holds after a reopen.
func TestDeleteSeries(t *testing.T) {
	day := 24 * time.Hour
	clock := &fakeClock{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	fs := vfs.NewMem()
	opts := Options{FS: fs, Now: clock.Now, ChunkSamples: 7, OutOfOrderWindow: 7 * day}
	db, err := Open("db", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	ctx := context.Background()
	start := clock.Now().Add(-3 * day).Truncate(day) // three whole days before today
	keep := labels.FromStrings("__name__", "m", "instance", "keep")
	part := labels.FromStrings("__name__", "m", "instance", "part")
	gone := labels.FromStrings("__name__", "gone", "instance", "gone")
	var batch []SeriesSamples
	for h := range 3*24 + 12 { // up to now: the last hours are in the head
		ts := start.Add(time.Duration(h) * time.Hour).UnixMilli()
		for _, l := range []labels.Labels{keep, part, gone} {
			batch = append(batch, SeriesSamples{Labels: l, Samples: []Sample{{T: ts, V: float64(h)}}})
		}
	}
	if err := db.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	goneRef := batch[2].Ref
	if goneRef == 0 {
		t.Fatal("Append set no ref")
	}
	all := []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")}
	count := func(l labels.Labels) int {
		t.Helper()
		ss, err := db.Select(ctx, math.MinInt64, math.MaxInt64, all...)
		if err != nil {
			t.Fatal(err)
		}
		defer ss.Close()
		n := 0
		for ss.Next() {
			if labels.Equal(ss.At().Labels, l) {
				for _, ts := range ss.At().T {
					if ts >= start.Add(day).UnixMilli() && ts < start.Add(2*day).UnixMilli() && labels.Equal(l, part) && ts != start.Add(day+30*time.Minute).UnixMilli() {
						t.Errorf("deleted sample t=%d still read", ts)
					}
				}
				n += len(ss.At().T)
			}
		}
		if err := ss.Err(); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The whole second day of "part", and everything of "gone".
	if err := deleteSeries(db, start.Add(day).UnixMilli(), start.Add(2*day).UnixMilli()-1, "instance", "part"); err != nil {
		t.Fatal(err)
	}
	if err := deleteSeries(db, math.MinInt64, math.MaxInt64, "__name__", "gone"); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		if got := count(keep); got != 84 {
			t.Errorf("%s: keep has %d samples, want 84", when, got)
		}
		if got := count(part); got != 60 {
			t.Errorf("%s: part has %d samples, want 60", when, got)
		}
		if got := count(gone); got != 0 {
			t.Errorf("%s: gone has %d samples, want 0", when, got)
		}
		names, err := db.LabelValues(ctx, math.MinInt64, math.MaxInt64, "__name__")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names, []string{"m"}) {
			t.Errorf("%s: metric names %v, want [m]", when, names)
		}
		inst, err := db.LabelValues(ctx, start.Add(day).UnixMilli(), start.Add(2*day).UnixMilli()-1, "instance")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(inst, []string{"keep"}) {
			t.Errorf("%s: instances on the deleted day %v, want [keep]", when, inst)
		}
		if got := db.Stats().Series; got != 2 {
			t.Errorf("%s: Stats.Series %d, want 2", when, got)
		}
	}
	check("after delete")
	if got := db.metrics.seriesDeleted.Load(); got != 1 {
		t.Errorf("series deleted counter %d, want 1", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open("db", opts); err != nil {
		t.Fatal(err)
	}
	check("after reopen")

	// A stale ref to the removed series must not write into it; the labels
	// create the series anew, holding only the new sample.
	now := clock.Now().UnixMilli()
	if err := db.Append(ctx, []SeriesSamples{{Ref: goneRef, Labels: gone, Samples: []Sample{{T: now, V: 1}}}}); err != nil {
		t.Fatal(err)
	}
	if got := count(gone); got != 1 {
		t.Errorf("re-created series has %d samples, want 1", got)
	}
	// The deleted day indexes "part" again when it gets a new sample.
	if err := db.Append(ctx, []SeriesSamples{{Labels: part, Samples: []Sample{{T: start.Add(day + 30*time.Minute).UnixMilli(), V: 1}}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	inst, err := db.LabelValues(ctx, start.Add(day).UnixMilli(), start.Add(2*day).UnixMilli()-1, "instance")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(inst, []string{"keep", "part"}) {
		t.Errorf("instances on the deleted day after a new sample %v, want [keep part]", inst)
	}
}

func TestDeleteSeriesNeedsMatcher(t *testing.T) {
	db, err := Open("db", Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.DeleteSeries(context.Background(), 0, 1); !errors.Is(err, ErrInvalidLabels) {
		t.Fatalf("delete without matchers: %v", err)
	}
}

func deleteSeries(db *DB, mint, maxt int64, name, value string) error {
	_, err := db.DeleteSeries(context.Background(), mint, maxt, labels.MustNewMatcher(labels.MatchEqual, name, value))
	return err
}
