package almanac_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"go.uber.org/goleak"

	"github.com/almanacdb/almanac"
)

var seedFlag = flag.Uint64("seed", 0, "seed for randomised tests (0: time-based)")

func testSeed(t *testing.T) uint64 {
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed=%d)", s, s)
	return s
}

func mustOpen(t testing.TB, fs vfs.FS, dir string, o almanac.Options) *almanac.DB {
	t.Helper()
	o.FS = fs
	db, err := almanac.Open(dir, &o)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// readAll returns every series matching ms in [mint, maxt] as a map from
// label string to samples.
func readAll(t testing.TB, db *almanac.DB, mint, maxt int64, ms ...*labels.Matcher) map[string][]almanac.Sample {
	t.Helper()
	if len(ms) == 0 {
		ms = []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")}
	}
	ss, err := db.Querier(mint, maxt).Select(context.Background(), ms...)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	out := map[string][]almanac.Sample{}
	var prev labels.Labels
	for ss.Next() {
		s := ss.At()
		if len(s.T) != len(s.V) || (s.ST != nil && len(s.ST) != len(s.T)) {
			t.Fatalf("%s: column lengths %d %d %d", s.Labels, len(s.T), len(s.V), len(s.ST))
		}
		if !prev.IsEmpty() && labels.Compare(prev, s.Labels) >= 0 {
			t.Fatalf("series not sorted: %s then %s", prev, s.Labels)
		}
		prev = s.Labels.Copy()
		var smp []almanac.Sample
		for i := range s.T {
			x := almanac.Sample{T: s.T[i], V: s.V[i]}
			if s.ST != nil {
				x.ST = s.ST[i]
			}
			smp = append(smp, x)
		}
		out[s.Labels.String()] = smp
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// model is the plain in-memory truth the randomised test compares with.
type model struct {
	series map[string]labels.Labels
	data   map[string]map[int64]almanac.Sample
	newest map[string]int64
}

func newModel() *model {
	return &model{series: map[string]labels.Labels{}, data: map[string]map[int64]almanac.Sample{}, newest: map[string]int64{}}
}

func (m *model) selectRange(ms []*labels.Matcher, mint, maxt int64) map[string][]almanac.Sample {
	out := map[string][]almanac.Sample{}
	for key, lset := range m.series {
		ok := true
		for _, mt := range ms {
			ok = ok && mt.Matches(lset.Get(mt.Name))
		}
		if !ok {
			continue
		}
		var smp []almanac.Sample
		for t, s := range m.data[key] {
			if t >= mint && t <= maxt {
				smp = append(smp, s)
			}
		}
		slices.SortFunc(smp, func(a, b almanac.Sample) int { return int(a.T - b.T) })
		if len(smp) > 0 {
			out[key] = smp
		}
	}
	return out
}

// deleteRange removes the samples in [mint, maxt] of the series matching ms.
func (m *model) deleteRange(ms []*labels.Matcher, mint, maxt int64) {
	for key, lset := range m.series {
		ok := true
		for _, mt := range ms {
			ok = ok && mt.Matches(lset.Get(mt.Name))
		}
		if !ok {
			continue
		}
		for t := range m.data[key] {
			if t >= mint && t <= maxt {
				delete(m.data[key], t)
			}
		}
	}
}

func sameSamples(a, b []almanac.Sample) bool {
	return slices.EqualFunc(a, b, func(x, y almanac.Sample) bool {
		return x.T == y.T && x.ST == y.ST && math.Float64bits(x.V) == math.Float64bits(y.V)
	})
}

func diffResults(t *testing.T, what string, got, want map[string][]almanac.Sample) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Fatalf("%s: series %s missing (want %d samples)", what, k, len(w))
		} else if !sameSamples(g, w) {
			t.Fatalf("%s: series %s:\n got %v\nwant %v", what, k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Fatalf("%s: unexpected series %s", what, k)
		}
	}
}

// TestRandomisedAgainstModel appends random batches (in order, out of order
// inside the window, exact and conflicting duplicates, stale markers, start
// timestamps) and checks random selects against a plain model, reopening
// the database now and then.
func TestRandomisedAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 7))
	fs := vfs.NewMem()
	opts := almanac.Options{ChunkSamples: 1 + rng.IntN(30), OutOfOrderWindow: 30 * time.Minute}
	db := mustOpen(t, fs, "db", opts)
	defer func() { db.Close() }()
	m := newModel()
	ctx := context.Background()

	jobs := []string{"api", "db", "cache"}
	var names []labels.Labels
	for i := range 40 {
		names = append(names, labels.FromStrings(
			"__name__", []string{"up", "cpu_seconds_total", "mem.bytes"}[i%3],
			"job", jobs[rng.IntN(len(jobs))],
			"instance", fmt.Sprintf("host-%d", i),
			"zone", []string{"", "a", "b"}[rng.IntN(3)], // empty value: label absent
		))
	}
	now := time.Now().UnixMilli()
	start := now - 3*24*time.Hour.Milliseconds()
	clock := start
	values := []float64{0, 1, -0.0, 12.34, math.Inf(1), math.Inf(-1), math.Float64frombits(value.StaleNaN),
		math.Float64frombits(0x7ff8000000000abc), math.SmallestNonzeroFloat64, 1e300}

	for round := range 300 {
		var batch []almanac.SeriesSamples
		type pending struct {
			key string
			s   almanac.Sample
		}
		var adds []pending
		conflict := false
		clock += int64(rng.IntN(90_000)) // time moves on, sometimes across days
		for range 1 + rng.IntN(8) {
			lset := names[rng.IntN(len(names))]
			key := lset.WithoutEmpty().String()
			var smp []almanac.Sample
			for range 1 + rng.IntN(6) {
				t0 := clock + int64(rng.IntN(20_000))
				if newest, ok := m.newest[key]; ok && rng.IntN(4) == 0 {
					t0 = newest - int64(rng.IntN(int(20*time.Minute/time.Millisecond))) // out of order, inside window
				}
				v := float64(rng.IntN(1000)) / 10
				if rng.IntN(10) == 0 {
					v = values[rng.IntN(len(values))]
				}
				s := almanac.Sample{T: t0, V: v}
				if rng.IntN(5) == 0 {
					s.ST = t0 - 1000
				}
				if old, ok := m.data[key][t0]; ok {
					if rng.IntN(2) == 0 {
						s = old // exact duplicate: dropped silently
					} else if math.Float64bits(old.V) != math.Float64bits(s.V) {
						conflict = true
					}
				}
				smp = append(smp, s)
				adds = append(adds, pending{key, s})
			}
			batch = append(batch, almanac.SeriesSamples{Labels: lset, Samples: smp})
		}
		// Within one batch the same timestamp twice with different values is a conflict too.
		seen := map[string]map[int64]uint64{}
		for _, a := range adds {
			if seen[a.key] == nil {
				seen[a.key] = map[int64]uint64{}
			}
			if b, ok := seen[a.key][a.s.T]; ok && b != math.Float64bits(a.s.V) {
				conflict = true
			}
			seen[a.key][a.s.T] = math.Float64bits(a.s.V)
		}
		err := db.Append(ctx, batch)
		if conflict {
			if !errors.Is(err, almanac.ErrDuplicateSample) {
				t.Fatalf("round %d: want ErrDuplicateSample, got %v", round, err)
			}
		} else if err != nil {
			t.Fatalf("round %d: %v", round, err)
		} else {
			for _, b := range batch {
				key := b.Labels.WithoutEmpty().String()
				m.series[key] = b.Labels.WithoutEmpty()
				if m.data[key] == nil {
					m.data[key] = map[int64]almanac.Sample{}
				}
			}
			for _, a := range adds {
				if _, ok := m.data[a.key][a.s.T]; !ok {
					m.data[a.key][a.s.T] = a.s
				}
				m.newest[a.key] = max(m.newest[a.key], a.s.T)
			}
		}
		if rng.IntN(30) == 0 { // merges chunks of each day, among others
			if err := db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		if rng.IntN(25) == 0 { // a partial or whole delete of some series
			ms := []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "instance", fmt.Sprintf("host-%d", rng.IntN(40)))}
			if rng.IntN(3) == 0 {
				ms = []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "job", jobs[rng.IntN(3)])}
			}
			mint, maxt := int64(math.MinInt64), int64(math.MaxInt64)
			if rng.IntN(2) == 0 {
				mint = start + rng.Int64N(max(1, clock-start))
				maxt = mint + rng.Int64N(12*time.Hour.Milliseconds())
			}
			if err := db.DeleteSeries(ctx, mint, maxt, ms...); err != nil {
				t.Fatalf("round %d: delete %v [%d,%d]: %v", round, ms, mint, maxt, err)
			}
			m.deleteRange(ms, mint, maxt)
		}
		if rng.IntN(40) == 0 {
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			db = mustOpen(t, fs, "db", opts)
		}
		if round%10 == 0 {
			mint := start + rng.Int64N(max(1, clock-start))
			maxt := mint + rng.Int64N(2*24*time.Hour.Milliseconds())
			ms := []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")}
			switch rng.IntN(5) {
			case 0:
				ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, "job", jobs[rng.IntN(3)]))
			case 1:
				ms = append(ms, labels.MustNewMatcher(labels.MatchNotEqual, "zone", "a"))
			case 2:
				ms = append(ms, labels.MustNewMatcher(labels.MatchRegexp, "zone", "b|"))
			case 3:
				ms = append(ms, labels.MustNewMatcher(labels.MatchNotRegexp, "instance", "host-1.*"))
			}
			diffResults(t, fmt.Sprintf("round %d select %v [%d,%d]", round, ms, mint, maxt),
				readAll(t, db, mint, maxt, ms...), m.selectRange(ms, mint, maxt))
		}
	}
	diffResults(t, "final", readAll(t, db, math.MinInt64, math.MaxInt64), m.selectRange(nil, math.MinInt64, math.MaxInt64))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, fs, "db", opts)
	diffResults(t, "after reopen", readAll(t, db, math.MinInt64, math.MaxInt64), m.selectRange(nil, math.MinInt64, math.MaxInt64))
}

// TestBadInput checks that every kind of bad input is refused with a clear
// error naming the series and reason, stores nothing of its batch, and
// leaves the database accepting valid data.
func TestBadInput(t *testing.T) {
	db := mustOpen(t, vfs.NewMem(), "db", almanac.Options{MaxLabelValueBytes: 64, MaxLabelsPerSeries: 5})
	defer db.Close()
	ctx := context.Background()
	now := time.Now().UnixMilli()
	good := labels.FromStrings("__name__", "good", "job", "x")
	if err := db.Append(ctx, []almanac.SeriesSamples{{Labels: good, Samples: []almanac.Sample{{T: now, V: 1}}}}); err != nil {
		t.Fatal(err)
	}
	lbl := func(ss ...string) labels.Labels {
		b := labels.NewScratchBuilder(len(ss) / 2)
		for i := 0; i < len(ss); i += 2 {
			b.Add(ss[i], ss[i+1])
		}
		return b.Labels() // unsorted and unchecked on purpose
	}
	cases := []struct {
		name   string
		lset   labels.Labels
		t      int64
		want   error
		inText string
	}{
		{"empty label set", labels.EmptyLabels(), now, almanac.ErrInvalidLabels, "empty label set"},
		{"only empty values", lbl("job", ""), now, almanac.ErrInvalidLabels, "empty label set"},
		{"empty name", lbl("", "v", "__name__", "m"), now, almanac.ErrInvalidLabels, "empty label name"},
		{"empty metric name", lbl("__name__", "", "job", "x"), now, almanac.ErrInvalidLabels, "empty metric name"},
		{"bad utf8 name", lbl("__name__", "m", "a\xff", "v"), now, almanac.ErrInvalidLabels, "not valid UTF-8"},
		{"bad utf8 value", lbl("__name__", "m", "a", "\xc3\x28"), now, almanac.ErrInvalidLabels, "not valid UTF-8"},
		{"duplicate name", lbl("__name__", "m", "a", "1", "a", "2"), now, almanac.ErrInvalidLabels, "appears twice"},
		{"value too long", lbl("__name__", "m", "a", strings.Repeat("x", 65)), now, almanac.ErrLabelLimit, "limit 64"},
		{"too many labels", lbl("__name__", "m", "a", "1", "b", "1", "c", "1", "d", "1", "e", "1"), now, almanac.ErrLabelLimit, "limit 5"},
		{"min int64", good, math.MinInt64, almanac.ErrOutOfRetention, "retention"},
		{"max int64", good, math.MaxInt64, almanac.ErrTooFarInFuture, "future"},
		{"two hours ahead", good, now + 2*time.Hour.Milliseconds(), almanac.ErrTooFarInFuture, "future"},
		{"older than retention", good, now - 31*24*time.Hour.Milliseconds(), almanac.ErrOutOfRetention, "retention"},
		{"outside OOO window", good, now - 2*time.Hour.Milliseconds(), almanac.ErrTooOldSample, "window"},
		{"conflicting duplicate", good, now, almanac.ErrDuplicateSample, "different value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			other := labels.FromStrings("__name__", "innocent", "case", c.name)
			err := db.Append(ctx, []almanac.SeriesSamples{
				{Labels: other, Samples: []almanac.Sample{{T: now, V: 5}}},
				{Labels: c.lset, Samples: []almanac.Sample{{T: c.t, V: 2}}},
			})
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			var be *almanac.BatchError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), c.inText) {
				t.Fatalf("error %q: want a *BatchError mentioning %q", err, c.inText)
			}
			if c.lset.Len() > 0 && !strings.Contains(err.Error(), "series {") {
				t.Fatalf("error %q does not name the series", err)
			}
			if got := readAll(t, db, 0, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "case", c.name)); len(got) != 0 {
				t.Fatalf("a rejected batch stored %v", got)
			}
			// The database still takes valid data.
			if err := db.Append(ctx, []almanac.SeriesSamples{{Labels: other, Samples: []almanac.Sample{{T: now, V: 5}}}}); err != nil {
				t.Fatalf("valid batch after bad one: %v", err)
			}
		})
	}
	got := readAll(t, db, 0, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", "good"))
	if want := []almanac.Sample{{T: now, V: 1}}; !sameSamples(got[good.String()], want) {
		t.Fatalf("stored series changed: %v", got)
	}
}

// TestExactDuplicateIsIdempotent: re-sending an acknowledged batch (a
// remote-write retry) succeeds and changes nothing, in the head, on disk
// and after reopening.
func TestExactDuplicateIsIdempotent(t *testing.T) {
	fs := vfs.NewMem()
	db := mustOpen(t, fs, "db", almanac.Options{ChunkSamples: 4})
	ctx := context.Background()
	now := time.Now().UnixMilli()
	lset := labels.FromStrings("__name__", "c")
	var smp []almanac.Sample
	for i := range 10 {
		smp = append(smp, almanac.Sample{T: now - int64(10-i)*1000, V: float64(i)})
	}
	batch := []almanac.SeriesSamples{{Labels: lset, Samples: smp}}
	for range 3 {
		if err := db.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db = mustOpen(t, fs, "db", almanac.Options{ChunkSamples: 4})
	defer db.Close()
	if err := db.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, db, 0, math.MaxInt64)[lset.String()]; !sameSamples(got, smp) {
		t.Fatalf("got %v want %v", got, smp)
	}
}

// TestLargeBatches exercises the parallel apply of big batches: thousands
// of series per batch with cuts (tiny chunks) and out-of-order samples,
// checked sample by sample, also after a reopen.
func TestLargeBatches(t *testing.T) {
	fs := vfs.NewMem()
	opts := almanac.Options{ChunkSamples: 3, NoSync: true}
	db := mustOpen(t, fs, "db", opts)
	ctx := context.Background()
	base := time.Now().Add(-time.Hour).UnixMilli()
	const series = 3000
	want := map[string][]almanac.Sample{}
	for round := range 8 {
		batch := make([]almanac.SeriesSamples, 0, series)
		for i := range series {
			lset := labels.FromStrings("__name__", "big", "i", fmt.Sprint(i))
			t0 := base + int64(round)*10_000
			smp := []almanac.Sample{{T: t0, V: float64(round)}, {T: t0 + 5000, V: float64(i)}}
			if round > 2 && i%7 == 0 {
				smp = append(smp, almanac.Sample{T: t0 - 27_000, V: -1}) // between earlier samples
			}
			batch = append(batch, almanac.SeriesSamples{Labels: lset, Samples: smp})
			want[lset.String()] = append(want[lset.String()], smp...)
		}
		if err := db.Append(ctx, batch); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	for k, s := range want {
		slices.SortFunc(s, func(a, b almanac.Sample) int { return int(a.T - b.T) })
		want[k] = s
	}
	diffResults(t, "large batches", readAll(t, db, math.MinInt64, math.MaxInt64), want)

	// A set closed early, or whose context ends, stops its decoders.
	ignore := goleak.IgnoreCurrent()
	cctx, cancel := context.WithCancel(ctx)
	ss, err := db.Querier(math.MinInt64, math.MaxInt64).Select(cctx, labels.MustNewMatcher(labels.MatchEqual, "__name__", "big"))
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if !ss.Next() {
			t.Fatalf("set ended early: %v", ss.Err())
		}
	}
	cancel()
	for ss.Next() {
	}
	if !errors.Is(ss.Err(), context.Canceled) {
		t.Fatalf("after cancel: %v", ss.Err())
	}
	ss.Close()
	goleak.VerifyNone(t, ignore)
	db.Close()
	db = mustOpen(t, fs, "db", opts)
	defer db.Close()
	diffResults(t, "large batches after reopen", readAll(t, db, math.MinInt64, math.MaxInt64), want)
}

// TestAppendValid stores the valid part of a mixed batch and reports the
// rest, counted by reason.
func TestAppendValid(t *testing.T) {
	db := mustOpen(t, vfs.NewMem(), "db", almanac.Options{})
	defer db.Close()
	ctx := context.Background()
	now := time.Now().UnixMilli()
	good := labels.FromStrings("__name__", "good")
	bad := labels.FromStrings("__name__", "bad", "x", "\xff")
	rep, err := db.AppendValid(ctx, []almanac.SeriesSamples{
		{Labels: good, Samples: []almanac.Sample{{T: now - 1000, V: 1}, {T: math.MaxInt64, V: 2}, {T: now, V: 3}}},
		{Labels: bad, Samples: []almanac.Sample{{T: now, V: 1}, {T: now - 1, V: 1}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep == nil || rep.Rejected != 3 || rep.Accepted != 2 ||
		rep.ByReason[almanac.ErrInvalidLabels] != 2 || rep.ByReason[almanac.ErrTooFarInFuture] != 1 {
		t.Fatalf("report %+v", rep)
	}
	if !strings.Contains(rep.Error(), "3 samples refused, 2 stored") {
		t.Fatalf("message %q", rep.Error())
	}
	got := readAll(t, db, 0, math.MaxInt64)
	if !sameSamples(got[good.String()], []almanac.Sample{{T: now - 1000, V: 1}, {T: now, V: 3}}) || len(got) != 1 {
		t.Fatalf("stored %v", got)
	}
	rep, err = db.AppendValid(ctx, []almanac.SeriesSamples{{Labels: good, Samples: []almanac.Sample{{T: now + 1000, V: 4}}}})
	if err != nil || rep != nil {
		t.Fatalf("all-valid batch: report %v, err %v", rep, err)
	}
}
