package almanac

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac/query"
)

// QueryStorage presents db to almanac's query engine: selected series
// arrive as the storage's own columns, without copying.
func (db *DB) QueryStorage() query.Storage { return queryStorage{db} }

// EngineStorage lets query.PromEngine read db directly when it is handed
// db.PrometheusStorage().
func (p promStorage) EngineStorage() query.Storage { return queryStorage{p.db} }

type queryStorage struct{ db *DB }

func (s queryStorage) Select(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) (query.SeriesSet, error) {
	set, err := s.db.st.SelectInCreationOrder(ctx, mint, maxt, ms...)
	if err != nil {
		return nil, err
	}
	return querySet{set}, nil
}

type querySet struct{ *SeriesSet }

func (q querySet) At() (labels.Labels, []int64, []float64, []int64) {
	s := q.SeriesSet.At()
	return s.Labels, s.T, s.V, s.ST
}

// Query evaluates a PromQL (or MetricsQL) expression at time t with an
// engine of default options. Servers and heavy users should keep one
// query.Engine and call it with db.QueryStorage().
func (db *DB) Query(ctx context.Context, q string, t time.Time) (*query.Result, error) {
	return defaultEngine().Instant(ctx, db.QueryStorage(), q, t, nil)
}

// QueryRange evaluates q at every step from start to end.
func (db *DB) QueryRange(ctx context.Context, q string, start, end time.Time, step time.Duration) (*query.Result, error) {
	return defaultEngine().Range(ctx, db.QueryStorage(), q, start, end, step, nil)
}

var defaultEngine = sync.OnceValue(func() *query.Engine { return query.NewEngine(query.Options{}) })
