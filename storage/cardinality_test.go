package storage

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/prometheus/model/labels"
)

func TestCardinality(t *testing.T) {
	db, err := Open("db", Options{FS: vfs.NewMem(), ChunkSamples: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	c, err := db.Cardinality(ctx)
	if err != nil || c.Series != 0 || len(c.Pairs) != 0 || c.MinTime != math.MaxInt64 || c.MaxTime != math.MinInt64 {
		t.Fatalf("empty: %+v, %v", c, err)
	}
	now := time.Now().Truncate(time.Minute)
	first, last := now.Add(-30*time.Hour).UnixMilli(), now.UnixMilli()
	var batch []SeriesSamples
	for i, job := range []string{"api", "api", "db"} {
		s := SeriesSamples{Labels: labels.FromStrings("__name__", "up", "job", job, "instance", string(rune('a'+i)))}
		for ts := first; ts <= last; ts += int64(time.Hour / time.Millisecond) {
			s.Samples = append(s.Samples, Sample{T: ts, V: 1})
		}
		batch = append(batch, s)
	}
	if err := db.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, flush := range []bool{false, true} {
		if flush {
			if err := db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		c, err := db.Cardinality(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]uint64{"__name__=up": 3, "job=api": 2, "job=db": 1, "instance=a": 1, "instance=b": 1, "instance=c": 1}
		got := map[string]uint64{}
		for _, p := range c.Pairs {
			got[p.Name+"="+p.Value] = p.Series
		}
		if c.Series != 3 || len(got) != len(want) || c.MinTime != first || c.MaxTime != last {
			t.Fatalf("flush=%v: %+v, want 3 series, %v, [%d, %d]", flush, c, want, first, last)
		}
		for k, n := range want {
			if got[k] != n {
				t.Fatalf("flush=%v: %s = %d, want %d", flush, k, got[k], n)
			}
		}
	}
}
