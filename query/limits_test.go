package query_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/query"
)

// limitsDB holds 200 series of one sample every 15 s over two hours.
func limitsDB(t *testing.T) (*almanac.DB, time.Time) {
	t.Helper()
	db, err := almanac.Open(t.TempDir(), &almanac.Options{NoSync: true, Retention: -1, OutOfOrderWindow: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	end := time.Now().Truncate(time.Minute)
	var batch []almanac.SeriesSamples
	for i := range 200 {
		s := almanac.SeriesSamples{Labels: labels.FromStrings("__name__", "load", "instance", fmt.Sprint(i))}
		for k := range 480 {
			s.Samples = append(s.Samples, almanac.Sample{T: end.Add(-2 * time.Hour).Add(time.Duration(k) * 15 * time.Second).UnixMilli(), V: float64(k)})
		}
		batch = append(batch, s)
	}
	if err := db.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	return db, end
}

// TestLimits checks every limit fails the query with its documented
// error and that the engine answers the next query normally.
func TestLimits(t *testing.T) {
	db, end := limitsDB(t)
	st := db.QueryStorage()
	ctx := context.Background()
	start := end.Add(-time.Hour)
	run := func(e *query.Engine, ctx context.Context, q string) error {
		_, err := e.Range(ctx, st, q, start, end, 15*time.Second, nil)
		return err
	}
	cases := []struct {
		name  string
		opts  query.Options
		ctx   func() (context.Context, context.CancelFunc)
		query string
		check func(error) bool
	}{
		{"max samples", query.Options{MaxSamples: 10_000}, nil, `sum(rate(load[5m]))`,
			func(err error) bool { return errors.Is(err, query.ErrTooManySamples) }},
		{"max series", query.Options{MaxSeries: 50}, nil, `sum(load)`,
			func(err error) bool { return errors.Is(err, query.ErrTooManySeries) }},
		{"timeout", query.Options{Timeout: time.Nanosecond}, nil, `sum(rate(load[5m]))`,
			func(err error) bool { _, ok := errors.AsType[promql.ErrQueryTimeout](err); return ok }},
		{"cancelled", query.Options{}, func() (context.Context, context.CancelFunc) {
			c, cancel := context.WithCancel(ctx)
			cancel()
			return c, cancel
		}, `sum(rate(load[5m]))`,
			func(err error) bool { _, ok := errors.AsType[promql.ErrQueryCanceled](err); return ok }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := query.NewEngine(tc.opts)
			qctx := ctx
			if tc.ctx != nil {
				var cancel context.CancelFunc
				qctx, cancel = tc.ctx()
				defer cancel()
			}
			err := run(e, qctx, tc.query)
			if err == nil || !tc.check(err) {
				t.Fatalf("got %v (%T)", err, err)
			}
			// The same engine still answers a small query.
			if tc.ctx == nil && tc.opts.Timeout == 0 {
				res, err := e.Instant(ctx, st, `load{instance="7"}`, end, nil)
				if err != nil || len(res.Value.(promql.Vector)) != 1 {
					t.Fatalf("after the limit: %v, %v", res, err)
				}
			}
		})
	}
	// Statistics: what was read and when.
	res, err := query.NewEngine(query.Options{}).Range(ctx, st, `sum(load)`, start, end, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.SeriesRead != 200 || res.Stats.SamplesRead == 0 || res.Stats.PeakSamples == 0 || res.Stats.Eval <= 0 {
		t.Fatalf("stats %+v", res.Stats)
	}
}
