package query

import (
	"context"
	"errors"
	"fmt"
	"github.com/prometheus/prometheus/schema"
	"runtime"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/almanacdb/almanac/query/internal/fn"
)

// Options configure an Engine. The zero value of every field means the
// documented default.
type Options struct {
	// LookbackDelta is how far back an instant vector selector looks for a
	// sample. Default 5m.
	LookbackDelta time.Duration
	// MaxSamples bounds the samples a query holds at once: those read from
	// storage plus those of the intermediate results. Default 50,000,000.
	MaxSamples int
	// MaxSeries bounds the series one selector may read. Default 0: no bound.
	MaxSeries int
	// Timeout bounds every query. Default 2m.
	Timeout time.Duration
	// NoStepSubqueryInterval is the step of a subquery written without one
	// (x[1h:]). Default 1m, Prometheus's default evaluation interval.
	NoStepSubqueryInterval time.Duration
	// UseStartTimestamps lets rate and increase use samples' start
	// timestamps, as Prometheus's start-timestamp feature does.
	UseStartTimestamps bool
	// Parallelism is how many goroutines evaluate a node's series.
	// Default GOMAXPROCS.
	Parallelism int
}

func (o Options) withDefaults() Options {
	if o.LookbackDelta <= 0 {
		o.LookbackDelta = 5 * time.Minute
	}
	if o.MaxSamples <= 0 {
		o.MaxSamples = 50_000_000
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.NoStepSubqueryInterval <= 0 {
		o.NoStepSubqueryInterval = time.Minute
	}
	if o.Parallelism <= 0 {
		o.Parallelism = runtime.GOMAXPROCS(0)
	}
	return o
}

// Engine evaluates PromQL (with almanac's functions) over a Storage. It is
// safe for concurrent use.
type Engine struct {
	opts   Options
	parser parser.Parser
}

// NewEngine returns an engine with the given options.
func NewEngine(opts Options) *Engine {
	return &Engine{opts: opts.withDefaults(), parser: NewParser()}
}

// NewParser returns the PromQL parser almanac uses: Prometheus's, with the
// experimental functions and fill modifiers enabled.
func NewParser() parser.Parser {
	return parser.NewParser(ParserOptions())
}

// ParserOptions are the options of NewParser, for callers (such as the
// server) that build Prometheus's parser themselves.
func ParserOptions() parser.Options {
	return parser.Options{
		EnableExperimentalFunctions: true,
		EnableBinopFillModifiers:    true,
		EnableUnquotedUTF8Names:     true,
		Functions:                   Functions(),
	}
}

// QueryOpts adjust one query.
type QueryOpts struct {
	// LookbackDelta overrides the engine's lookback delta when positive.
	LookbackDelta time.Duration
}

// Result is the answer to a query.
type Result struct {
	// Value is a promql.Vector, promql.Matrix, promql.Scalar or
	// promql.String, as Prometheus's engine returns them.
	Value parser.Value
	// Warnings are Prometheus's warning and info annotations.
	Warnings annotations.Annotations
	Stats    Stats
}

// Stats describe what a query cost.
type Stats struct {
	SeriesRead  int           // series read from storage
	SamplesRead int           // samples read from storage
	PeakSamples int           // most samples held at once (the MaxSamples measure)
	Parse       time.Duration // parsing and preparing the expression
	Eval        time.Duration // evaluation, storage reads included
}

// Errors a query can fail with, besides parse errors.
var (
	// ErrTooManySamples: the query would hold more samples than MaxSamples.
	ErrTooManySamples = errors.New("query processing would load too many samples into memory in query execution")
	// ErrTooManySeries: a selector matched more series than MaxSeries.
	ErrTooManySeries = errors.New("query would read too many series")
)

// Instant evaluates q at time t.
func (e *Engine) Instant(ctx context.Context, st Storage, q string, t time.Time, opts *QueryOpts) (*Result, error) {
	return e.exec(ctx, st, q, t, t, 0, opts)
}

// Range evaluates q at every step from start to end.
func (e *Engine) Range(ctx context.Context, st Storage, q string, start, end time.Time, step time.Duration, opts *QueryOpts) (*Result, error) {
	if step <= 0 {
		return nil, errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer")
	}
	if end.Before(start) {
		return nil, errors.New("end timestamp must not be before start time")
	}
	return e.exec(ctx, st, q, start, end, step, opts)
}

// Parse parses and prepares q for evaluation over [start, end] at step
// (0 for an instant query).
func (e *Engine) Parse(q string, start, end time.Time, step time.Duration) (parser.Expr, error) {
	expr, err := e.parser.ParseExpr(q)
	if err != nil {
		// Not PromQL: MetricsQL (docs/metricsql.md)? If not that either,
		// Prometheus's error stands.
		mexpr, merr := e.parseMetricsQL(q, start, end, step)
		if errors.Is(merr, errNotMetricsQL) {
			return nil, err
		}
		return mexpr, merr
	}
	if step > 0 && expr.Type() != parser.ValueTypeVector && expr.Type() != parser.ValueTypeScalar {
		return nil, fmt.Errorf("invalid expression type %q for range query, must be Scalar or instant Vector", parser.DocumentedType(expr.Type()))
	}
	if err := CheckAnalytics(expr); err != nil {
		return nil, err // a bad method name is a bad query, not an empty answer
	}
	return promql.PreprocessExpr(expr, start, end, step)
}

func (e *Engine) exec(ctx context.Context, st Storage, q string, start, end time.Time, step time.Duration, opts *QueryOpts) (*Result, error) {
	began := time.Now()
	expr, err := e.Parse(q, start, end, step)
	if err != nil {
		return nil, err
	}
	return e.execExpr(ctx, st, expr, start, end, step, opts, began)
}

func (e *Engine) execExpr(ctx context.Context, st Storage, expr parser.Expr, start, end time.Time, step time.Duration, opts *QueryOpts, began time.Time) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	res := &Result{}
	res.Stats.Parse = time.Since(began)
	ev := &evaluator{
		ctx:      ctx,
		st:       st,
		opts:     &e.opts,
		lookback: e.opts.LookbackDelta.Milliseconds(),
		stats:    &res.Stats,
	}
	if opts != nil && opts.LookbackDelta > 0 {
		ev.lookback = opts.LookbackDelta.Milliseconds()
	}
	g := newGrid(start.UnixMilli(), end.UnixMilli(), step.Milliseconds())
	evalStart := time.Now()
	v, err := ev.run(expr, g)
	res.Stats.Eval = time.Since(evalStart)
	res.Warnings = ev.annos
	if err != nil {
		return res, err
	}
	if res.Value, err = ev.result(expr, v, g, step == 0); err != nil {
		return res, err
	}
	return res, nil
}

// run evaluates expr, turning the evaluator's panics into errors.
func (ev *evaluator) run(expr parser.Expr, g grid) (v value, err error) {
	defer func() {
		if r := recover(); r != nil {
			if qe, ok := r.(queryError); ok {
				err = qe.err
				return
			}
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			err = fmt.Errorf("unexpected error: %v\n%s", r, buf)
		}
	}()
	return ev.eval(expr, g), nil
}

// result turns the evaluated value into Prometheus's result types, with
// delayed metric-name removal applied.
func (ev *evaluator) result(expr parser.Expr, v value, g grid, instant bool) (parser.Value, error) {
	switch v.typ {
	case parser.ValueTypeScalar:
		if instant {
			return promql.Scalar{T: g.start, V: v.scalar[0]}, nil
		}
		m := promql.Matrix{{Metric: labels.EmptyLabels()}}
		for i, f := range v.scalar {
			m[0].Floats = append(m[0].Floats, promql.FPoint{T: g.at(i), F: f})
		}
		return m, nil
	case parser.ValueTypeString:
		return promql.String{T: g.start, V: v.str}, nil
	case parser.ValueTypeMatrix:
		m := make(promql.Matrix, 0, len(v.matrix))
		for _, s := range v.matrix {
			lset := s.Labels
			if s.dropName {
				lset = lset.DropReserved(schema.IsMetadataLabel)
			}
			out := promql.Series{Metric: lset}
			if v.anchored || v.smoothed {
				ts, vs := fn.ExtendWindow(s.T, s.V, s.ST, v.ends[0]-v.rng, v.ends[0], ev.lookback, v.smoothed)
				for i, t := range ts {
					out.Floats = append(out.Floats, promql.FPoint{T: t, F: vs[i]})
				}
			}
			for i, t := range s.T {
				if !v.anchored && !v.smoothed && t > v.ends[0]-v.rng && t <= v.ends[0] {
					out.Floats = append(out.Floats, promql.FPoint{T: t, F: s.V[i]})
				}
			}
			if len(out.Floats) > 0 {
				m = append(m, out)
			}
		}
		slices.SortFunc(m, func(a, b promql.Series) int { return labels.Compare(a.Metric, b.Metric) })
		return m, nil
	}
	out := dropNames(v.series)
	out, err := mergeSameLabels(out)
	if err != nil {
		return nil, err
	}
	if instant {
		vec := make(promql.Vector, 0, len(out))
		for _, s := range out {
			if !fn.IsAbsent(s.V[0]) {
				vec = append(vec, promql.Sample{Metric: s.Labels, T: g.start, F: s.V[0]})
			}
		}
		if !ordered(expr) {
			// Order is not part of PromQL except after sort functions and
			// topk/bottomk; label order makes answers reproducible.
			slices.SortFunc(vec, func(a, b promql.Sample) int { return labels.Compare(a.Metric, b.Metric) })
		}
		return vec, nil
	}
	m := make(promql.Matrix, 0, len(out))
	for _, s := range out {
		ps := promql.Series{Metric: s.Labels}
		for i, f := range s.V {
			if !fn.IsAbsent(f) {
				ps.Floats = append(ps.Floats, promql.FPoint{T: g.at(i), F: f})
			}
		}
		if len(ps.Floats) > 0 {
			m = append(m, ps)
		}
	}
	slices.SortFunc(m, func(a, b promql.Series) int { return labels.Compare(a.Metric, b.Metric) })
	return m, nil
}

// ordered reports whether an instant query's result order means
// something: when it sorts, or ranks with topk/bottomk/limitk.
func ordered(expr parser.Expr) bool {
	found := false
	mqlWalk(expr, func(n parser.Node) bool {
		switch n := n.(type) {
		case *parser.Call:
			switch n.Func.Name {
			case "sort", "sort_desc", "sort_by_label", "sort_by_label_desc":
				found = true
			}
		case *parser.AggregateExpr:
			switch n.Op {
			case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
				found = true
			}
		}
		return !found
	})
	return found
}

// dropNames applies delayed name removal.
func dropNames(ss []fn.Series) []fn.Series {
	for i := range ss {
		if ss[i].DropName {
			ss[i].Labels = ss[i].Labels.DropReserved(schema.IsMetadataLabel)
			ss[i].DropName = false
		}
	}
	return ss
}

// mergeSameLabels joins series with equal label sets into one (they come,
// for example, from `or` or from name removal); two values at one step
// are an error, as in Prometheus.
func mergeSameLabels(ss []fn.Series) ([]fn.Series, error) {
	if len(ss) < 2 {
		return ss, nil
	}
	byHash := make(map[uint64][]int, len(ss))
	out := ss[:0:0]
	for _, s := range ss {
		h := s.Labels.Hash()
		merged := false
		for _, j := range byHash[h] {
			if !labels.Equal(out[j].Labels, s.Labels) {
				continue
			}
			for i, f := range s.V {
				if fn.IsAbsent(f) {
					continue
				}
				if !fn.IsAbsent(out[j].V[i]) {
					return nil, errors.New("vector cannot contain metrics with the same labelset")
				}
				out[j].V[i] = f
			}
			out[j].DropName = out[j].DropName && s.DropName
			merged = true
			break
		}
		if !merged {
			byHash[h] = append(byHash[h], len(out))
			out = append(out, s)
		}
	}
	return out, nil
}

// queryError carries a user-facing error out of evaluation by panic, so
// that deep recursion needs no error plumbing.
type queryError struct{ err error }

func (ev *evaluator) fail(err error) { panic(queryError{err}) }

func (ev *evaluator) failf(format string, args ...any) { ev.fail(fmt.Errorf(format, args...)) }

// checkCtx fails the query when it was cancelled or timed out.
func (ev *evaluator) checkCtx() {
	if err := ev.ctx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			ev.fail(promql.ErrQueryTimeout("expression evaluation"))
		}
		ev.fail(promql.ErrQueryCanceled("expression evaluation"))
	}
}

// addSamples accounts for samples held in memory.
func (ev *evaluator) addSamples(n int) {
	ev.samples += n
	if ev.samples > ev.stats.PeakSamples {
		ev.stats.PeakSamples = ev.samples
	}
	if ev.samples > ev.opts.MaxSamples {
		ev.fail(ErrTooManySamples)
	}
}
