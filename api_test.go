package almanac_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
)

// TestConcurrentAppendAndQuery runs writers and readers at once (run it
// with -race) and checks every acknowledged sample afterwards.
func TestConcurrentAppendAndQuery(t *testing.T) {
	db := mustOpen(t, vfs.NewMem(), "db", almanac.Options{ChunkSamples: 16, CheckpointBytes: 8 << 10, NoSync: true})
	defer db.Close()
	ctx := context.Background()
	base := time.Now().Add(-time.Hour).UnixMilli()
	const writers, batches, perBatch = 4, 60, 5
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				var batch []almanac.SeriesSamples
				for s := range perBatch {
					batch = append(batch, almanac.SeriesSamples{
						Labels:  labels.FromStrings("__name__", "conc", "writer", fmt.Sprint(w), "s", fmt.Sprint(s)),
						Samples: []almanac.Sample{{T: base + int64(b)*1000, V: float64(b)}},
					})
				}
				if err := db.Append(ctx, batch); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				got := readAll(t, db, math.MinInt64, math.MaxInt64)
				for k, s := range got {
					for i := 1; i < len(s); i++ {
						if s[i].T <= s[i-1].T {
							t.Errorf("%s: timestamps out of order", k)
							return
						}
					}
				}
				if _, err := db.Querier(math.MinInt64, math.MaxInt64).LabelValues(ctx, "writer"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	got := readAll(t, db, math.MinInt64, math.MaxInt64)
	if len(got) != writers*perBatch {
		t.Fatalf("%d series, want %d", len(got), writers*perBatch)
	}
	for k, s := range got {
		if len(s) != batches {
			t.Fatalf("%s: %d samples, want %d", k, len(s), batches)
		}
	}
}

// TestLabelQueries checks label names, values and series look-ups with
// matchers and time ranges.
func TestLabelQueries(t *testing.T) {
	db := mustOpen(t, vfs.NewMem(), "db", almanac.Options{})
	defer db.Close()
	ctx := context.Background()
	now := time.Now().UnixMilli()
	dayAgo := now - 25*time.Hour.Milliseconds()
	add := func(ts int64, ss ...string) {
		t.Helper()
		if err := db.Append(ctx, []almanac.SeriesSamples{{Labels: labels.FromStrings(ss...), Samples: []almanac.Sample{{T: ts, V: 1}}}}); err != nil {
			t.Fatal(err)
		}
	}
	add(now, "__name__", "up", "job", "api", "instance", "a")
	add(now, "__name__", "up", "job", "db", "instance", "b")
	add(now, "__name__", "http.requests", "job", "api", "code", "200") // a UTF-8 (OpenTelemetry) name
	add(dayAgo, "__name__", "old", "job", "batch")

	q := db.Querier(now-time.Hour.Milliseconds(), now)
	f := func(what string, got []string, err error, want ...string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", what, got, want)
		}
	}
	names, err := q.LabelNames(ctx)
	f("names, last hour", names, err, "__name__", "code", "instance", "job")
	names, err = q.LabelNames(ctx, labels.MustNewMatcher(labels.MatchEqual, "job", "db"))
	f("names of job=db", names, err, "__name__", "instance", "job")
	vals, err := q.LabelValues(ctx, "job")
	f("jobs, last hour", vals, err, "api", "db")
	vals, err = q.LabelValues(ctx, "__name__", labels.MustNewMatcher(labels.MatchEqual, "job", "api"))
	f("names of job=api", vals, err, "http.requests", "up")
	vals, err = q.LabelValues(ctx, "instance", labels.MustNewMatcher(labels.MatchEqual, "code", ""))
	f("instance of series without code", vals, err, "a", "b")
	vals, err = db.Querier(dayAgo-1, now).LabelValues(ctx, "job")
	f("jobs over two days", vals, err, "api", "batch", "db")

	series, err := q.Series(ctx, labels.MustNewMatcher(labels.MatchRegexp, "__name__", "up|http.*"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range series {
		got = append(got, s.String())
	}
	f("series", got, nil,
		`{__name__="http.requests", code="200", job="api"}`,
		`{__name__="up", instance="a", job="api"}`,
		`{__name__="up", instance="b", job="db"}`)
}

// TestMetrics checks the counters the caller's registry receives.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	db := mustOpen(t, vfs.NewMem(), "db", almanac.Options{Registerer: reg, ChunkSamples: 2})
	defer db.Close()
	ctx := context.Background()
	now := time.Now().UnixMilli()
	lset := labels.FromStrings("__name__", "m")
	for i := range 5 {
		if err := db.Append(ctx, []almanac.SeriesSamples{{Labels: lset, Samples: []almanac.Sample{{T: now - int64(10-i)*1000, V: 1}}}}); err != nil {
			t.Fatal(err)
		}
	}
	db.Append(ctx, []almanac.SeriesSamples{{Labels: lset, Samples: []almanac.Sample{{T: math.MaxInt64, V: 1}}}})
	want := `
# HELP almanac_storage_samples_appended_total Samples stored by Append.
# TYPE almanac_storage_samples_appended_total counter
almanac_storage_samples_appended_total 5
# HELP almanac_storage_series_created_total Series created.
# TYPE almanac_storage_series_created_total counter
almanac_storage_series_created_total 1
# HELP almanac_storage_head_series Series held in memory (active series).
# TYPE almanac_storage_head_series gauge
almanac_storage_head_series 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"almanac_storage_samples_appended_total", "almanac_storage_series_created_total", "almanac_storage_head_series"); err != nil {
		t.Fatal(err)
	}
	if v := testutil.ToFloat64(mustCollector(t, reg, "almanac_storage_samples_rejected_total", "too_far_in_future")); v != 1 {
		t.Fatalf("rejected{too_far_in_future} = %v, want 1", v)
	}
	if n, err := testutil.GatherAndCount(reg, "almanac_storage_chunks_written_total", "almanac_storage_disk_bytes"); err != nil || n != 2 {
		t.Fatalf("chunk and disk metrics: %d, %v", n, err)
	}
}

// mustCollector finds one labelled counter's value in a registry.
func mustCollector(t *testing.T, reg *prometheus.Registry, name, reason string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "reason" && lp.GetValue() == reason {
					c := prometheus.NewCounter(prometheus.CounterOpts{Name: "copy"})
					c.Add(m.GetCounter().GetValue())
					return c
				}
			}
		}
	}
	t.Fatalf("%s{reason=%q} not found", name, reason)
	return nil
}

// TestSeriesRef: Append sets refs; refs given back skip the label look-up
// and still land in the right series, also after a reopen.
func TestSeriesRef(t *testing.T) {
	fs := vfs.NewMem()
	db := mustOpen(t, fs, "db", almanac.Options{})
	ctx := context.Background()
	now := time.Now().UnixMilli()
	a, b := labels.FromStrings("__name__", "a"), labels.FromStrings("__name__", "b")
	batch := []almanac.SeriesSamples{
		{Labels: a, Samples: []almanac.Sample{{T: now - 2000, V: 1}}},
		{Labels: b, Samples: []almanac.Sample{{T: now - 2000, V: 2}}},
	}
	if err := db.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if batch[0].Ref == 0 || batch[1].Ref == 0 || batch[0].Ref == batch[1].Ref {
		t.Fatalf("refs %d, %d: want two distinct non-zero refs", batch[0].Ref, batch[1].Ref)
	}
	refA, refB := batch[0].Ref, batch[1].Ref
	db.Close()
	db = mustOpen(t, fs, "db", almanac.Options{})
	defer db.Close()
	if err := db.Append(ctx, []almanac.SeriesSamples{
		{Labels: b, Ref: refB, Samples: []almanac.Sample{{T: now - 1000, V: 20}}},
		{Labels: a, Ref: refA, Samples: []almanac.Sample{{T: now - 1000, V: 10}}},
	}); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, db, 0, math.MaxInt64)
	if !sameSamples(got[a.String()], []almanac.Sample{{T: now - 2000, V: 1}, {T: now - 1000, V: 10}}) ||
		!sameSamples(got[b.String()], []almanac.Sample{{T: now - 2000, V: 2}, {T: now - 1000, V: 20}}) {
		t.Fatalf("got %v", got)
	}
}

// TestUseAfterClose: every method answers ErrClosed after Close, and
// metrics can still be gathered; nothing panics.
func TestUseAfterClose(t *testing.T) {
	reg := prometheus.NewRegistry()
	db := mustOpen(t, vfs.NewMem(), "db", almanac.Options{Registerer: reg})
	ctx := context.Background()
	now := time.Now().UnixMilli()
	if err := db.Append(ctx, []almanac.SeriesSamples{{Labels: labels.FromStrings("__name__", "x"), Samples: []almanac.Sample{{T: now, V: 1}}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	q := db.Querier(0, now)
	m := labels.MustNewMatcher(labels.MatchEqual, "__name__", "x")
	if _, err := q.Select(ctx, m); !errors.Is(err, almanac.ErrClosed) {
		t.Errorf("Select: %v", err)
	}
	if _, err := q.LabelNames(ctx); !errors.Is(err, almanac.ErrClosed) {
		t.Errorf("LabelNames: %v", err)
	}
	if _, err := q.LabelValues(ctx, "__name__"); !errors.Is(err, almanac.ErrClosed) {
		t.Errorf("LabelValues: %v", err)
	}
	if _, err := q.Series(ctx, m); !errors.Is(err, almanac.ErrClosed) {
		t.Errorf("Series: %v", err)
	}
	if err := db.Append(ctx, []almanac.SeriesSamples{{Labels: labels.FromStrings("__name__", "x"), Samples: []almanac.Sample{{T: now + 1, V: 1}}}}); !errors.Is(err, almanac.ErrClosed) {
		t.Errorf("Append: %v", err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Errorf("gather after close: %v", err)
	}
}
