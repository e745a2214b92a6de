package query

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	promstorage "github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/stats"
)

// PromEngine presents an Engine as Prometheus's promql.QueryEngine, so
// that code written for Prometheus's engine (its test suite, its HTTP
// API) runs on almanac's.
type PromEngine struct{ Engine *Engine }

var _ promql.QueryEngine = PromEngine{}

// NewInstantQuery parses qs for evaluation at ts.
func (p PromEngine) NewInstantQuery(_ context.Context, q promstorage.Queryable, opts promql.QueryOpts, qs string, ts time.Time) (promql.Query, error) {
	return p.newQuery(q, opts, qs, ts, ts, 0)
}

// NewRangeQuery parses qs for evaluation from start to end at interval.
func (p PromEngine) NewRangeQuery(_ context.Context, q promstorage.Queryable, opts promql.QueryOpts, qs string, start, end time.Time, interval time.Duration) (promql.Query, error) {
	if interval <= 0 {
		return nil, errZeroStep
	}
	return p.newQuery(q, opts, qs, start, end, interval)
}

var errZeroStep = promqlError("zero or negative query resolution step widths are not accepted. Try a positive integer")

type promqlError string

func (e promqlError) Error() string { return string(e) }

func (p PromEngine) newQuery(q promstorage.Queryable, opts promql.QueryOpts, qs string, start, end time.Time, step time.Duration) (promql.Query, error) {
	began := time.Now()
	timers := stats.NewQueryTimers()
	prep := timers.GetTimer(stats.QueryPreparationTime).Start()
	expr, err := p.Engine.Parse(qs, start, end, step)
	prep.Stop()
	if err != nil {
		return nil, err
	}
	var st Storage
	if es, ok := q.(interface{ EngineStorage() Storage }); ok {
		st = es.EngineStorage() // almanac's storage, read without iterators
	} else {
		st = FromQueryable(q)
	}
	pq := &promQuery{
		engine: p.Engine, st: st, qs: qs, expr: expr,
		stmt:  &parser.EvalStmt{Expr: expr, Start: start, End: end, Interval: step},
		began: began, timers: timers,
		samples: stats.NewQuerySamples(false),
	}
	if opts != nil {
		pq.opts = &QueryOpts{LookbackDelta: opts.LookbackDelta()}
		pq.stmt.LookbackDelta = opts.LookbackDelta()
	}
	return pq, nil
}

type promQuery struct {
	engine *Engine
	st     Storage
	qs     string
	expr   parser.Expr
	stmt   *parser.EvalStmt
	opts   *QueryOpts
	began  time.Time

	timers  *stats.QueryTimers
	samples *stats.QuerySamples

	mu     sync.Mutex
	cancel context.CancelFunc
}

func (q *promQuery) Exec(ctx context.Context) *promql.Result {
	ctx, cancel := context.WithCancel(ctx)
	q.mu.Lock()
	q.cancel = cancel
	q.mu.Unlock()
	defer cancel()
	total := q.timers.GetTimer(stats.ExecTotalTime).Start()
	eval := q.timers.GetTimer(stats.EvalTotalTime).Start()
	res, err := q.engine.execExpr(ctx, q.st, q.expr, q.stmt.Start, q.stmt.End, q.stmt.Interval, q.opts, q.began)
	eval.Stop()
	total.Stop()
	out := &promql.Result{Err: err}
	if res != nil {
		out.Value = res.Value
		out.Warnings = res.Warnings
		q.samples.PeakSamples = res.Stats.PeakSamples
		q.samples.TotalSamples = int64(res.Stats.SamplesRead)
		q.samples.SamplesRead = int64(res.Stats.SamplesRead)
		q.samples.TotalSeries = int64(res.Stats.SeriesRead)
	}
	return out
}

func (q *promQuery) Close()                      {}
func (q *promQuery) Statement() parser.Statement { return q.stmt }
func (q *promQuery) Stats() *stats.Statistics {
	return &stats.Statistics{Timers: q.timers, Samples: q.samples}
}
func (q *promQuery) String() string { return q.qs }

func (q *promQuery) Cancel() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cancel != nil {
		q.cancel()
	}
}
