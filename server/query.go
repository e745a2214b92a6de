package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/stats"
)

// maxPointsPerSeries bounds a range query's steps, as Prometheus does.
const maxPointsPerSeries = 11000

// handleQuery serves an instant query: query, time (default now), timeout,
// limit, lookback_delta, stats.
func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request) {
	limit, ok := s.parseQueryForm(w, r)
	if !ok {
		return
	}
	ts, err := parseTimeParam(r, "time", s.now())
	if err != nil {
		s.respondError(w, invalidParam(err, "time"))
		return
	}
	s.runQuery(w, r, limit, func(ctx context.Context, opts promql.QueryOpts, qs string) (promql.Query, error) {
		return s.engineFor(qs).NewInstantQuery(ctx, s.storage, opts, qs, ts)
	})
}

// handleQueryRange serves a range query: query, start, end, step, timeout,
// limit, lookback_delta, stats.
func (s *Server) handleQueryRange(w http.ResponseWriter, r *http.Request) {
	limit, ok := s.parseQueryForm(w, r)
	if !ok {
		return
	}
	start, err := parseTime(r.FormValue("start"))
	if err != nil {
		s.respondError(w, invalidParam(err, "start"))
		return
	}
	end, err := parseTime(r.FormValue("end"))
	if err != nil {
		s.respondError(w, invalidParam(err, "end"))
		return
	}
	if end.Before(start) {
		s.respondError(w, invalidParam(errors.New("end timestamp must not be before start time"), "end"))
		return
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil {
		s.respondError(w, invalidParam(err, "step"))
		return
	}
	if step <= 0 {
		s.respondError(w, invalidParam(errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer"), "step"))
		return
	}
	if end.Sub(start)/step > maxPointsPerSeries {
		s.respondError(w, &apiError{errorBadData, errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")})
		return
	}
	s.runQuery(w, r, limit, func(ctx context.Context, opts promql.QueryOpts, qs string) (promql.Query, error) {
		return s.engineFor(qs).NewRangeQuery(ctx, s.storage, opts, qs, start, end, step)
	})
}

// parseQueryForm parses the form and the limit parameter shared by both
// query endpoints, answering the error itself when there is one.
func (s *Server) parseQueryForm(w http.ResponseWriter, r *http.Request) (limit int, ok bool) {
	if err := r.ParseForm(); err != nil {
		s.respondError(w, &apiError{errorBadData, fmt.Errorf("error parsing form values: %w", err)})
		return 0, false
	}
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		s.respondError(w, invalidParam(err, "limit"))
		return 0, false
	}
	return limit, true
}

// runQuery applies the request's timeout, waits for a query slot, builds
// the query with newQuery and answers it.
func (s *Server) runQuery(w http.ResponseWriter, r *http.Request, limit int,
	newQuery func(context.Context, promql.QueryOpts, string) (promql.Query, error)) {
	ctx, cancel, apiErr := s.queryContext(r)
	if apiErr != nil {
		s.respondError(w, apiErr)
		return
	}
	defer cancel()
	release, apiErr := s.acquireQuery(ctx)
	if apiErr != nil {
		s.respondError(w, apiErr)
		return
	}
	defer release()
	opts, err := queryOpts(r)
	if err != nil {
		s.respondError(w, &apiError{errorBadData, err})
		return
	}
	qs := r.FormValue("query")
	qry, err := newQuery(ctx, opts, qs)
	if err != nil {
		s.respondError(w, constructionError(err))
		return
	}
	defer qry.Close()
	s.answerQuery(ctx, w, r, qry, qs, limit)
}

// answerQuery runs qry and writes its result, truncated to limit series
// when limit > 0. The result is written before qry is closed.
func (s *Server) answerQuery(ctx context.Context, w http.ResponseWriter, r *http.Request, qry promql.Query, qs string, limit int) {
	res := qry.Exec(ctx)
	if res.Err != nil {
		s.respondError(w, execError(res.Err))
		return
	}
	warnings := res.Warnings
	if limit > 0 {
		truncated := false
		switch v := res.Value.(type) {
		case promql.Vector:
			if len(v) > limit {
				res.Value, truncated = v[:limit], true
			}
		case promql.Matrix:
			if len(v) > limit {
				res.Value, truncated = v[:limit], true
			}
		}
		if truncated {
			warnings = warnings.Add(errors.New("results truncated due to limit"))
		}
	}
	data := queryData{value: res.Value}
	if r.FormValue("stats") != "" {
		data.stats = stats.NewQueryStats(qry.Stats())
	}
	s.respond(w, data, warnings, qs)
}

// queryContext bounds a query by its timeout parameter, if any; the
// engine's own timeout (Config.QueryTimeout) applies as well.
func (s *Server) queryContext(r *http.Request) (context.Context, context.CancelFunc, *apiError) {
	ctx := r.Context()
	v := r.FormValue("timeout")
	if v == "" {
		return ctx, func() {}, nil
	}
	timeout, err := parseDuration(v)
	if err != nil {
		return nil, nil, invalidParam(err, "timeout")
	}
	if timeout <= 0 {
		return nil, nil, invalidParam(fmt.Errorf("timeout must be positive, got %s", timeout), "timeout")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	return ctx, cancel, nil
}

// acquireQuery waits for a query slot, at most QueryTimeout and as long as
// the request lives, and returns the function that frees it. A free slot is
// taken even when the request's own timeout has passed, so that the engine
// reports that timeout as Prometheus does.
func (s *Server) acquireQuery(ctx context.Context) (func(), *apiError) {
	release := func() { <-s.queries }
	select {
	case s.queries <- struct{}{}:
		return release, nil
	default:
	}
	wait, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	select {
	case s.queries <- struct{}{}:
		return release, nil
	case <-wait.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, &apiError{errorCanceled, fmt.Errorf("query canceled while waiting for a query slot: %w", ctx.Err())}
		}
		return nil, &apiError{errorTimeout, fmt.Errorf("query timed out waiting for one of %d query slots", cap(s.queries))}
	}
}

// queryOpts reads lookback_delta and stats=all as Prometheus does.
func queryOpts(r *http.Request) (promql.QueryOpts, error) {
	var lookback time.Duration
	if v := r.FormValue("lookback_delta"); v != "" {
		d, err := parseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("error parsing lookback delta duration: %w", err)
		}
		lookback = d
	}
	return promql.NewPrometheusQueryOpts(r.FormValue("stats") == "all", lookback, nil), nil
}

func invalidParam(err error, name string) *apiError {
	return &apiError{errorBadData, fmt.Errorf("invalid parameter %q: %w", name, err)}
}

// constructionError maps an error from building a query: a timeout or
// cancellation while waiting, else a bad query.
func constructionError(err error) *apiError {
	if _, ok := errors.AsType[promql.ErrQueryTimeout](err); ok {
		return execError(err)
	}
	if _, ok := errors.AsType[promql.ErrQueryCanceled](err); ok {
		return execError(err)
	}
	return invalidParam(err, "query")
}

// execError maps an evaluation error to Prometheus's error classes.
func execError(err error) *apiError {
	switch {
	case isType[promql.ErrQueryCanceled](err):
		return &apiError{errorCanceled, err}
	case isType[promql.ErrQueryTimeout](err):
		return &apiError{errorTimeout, err}
	case isType[promql.ErrStorage](err):
		return &apiError{errorInternal, err}
	case errors.Is(err, context.Canceled):
		return &apiError{errorCanceled, err}
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{errorTimeout, err}
	}
	return &apiError{errorExec, err}
}

func isType[E error](err error) bool {
	_, ok := errors.AsType[E](err)
	return ok
}

// minTime and maxTime are the defaults of optional time ranges, the same
// instants as Prometheus's (clients send them back formatted).
var (
	minTime          = time.Unix(math.MinInt64/1000+62135596801, 0).UTC()
	maxTime          = time.Unix(math.MaxInt64/1000-62135596801, 999999999).UTC()
	minTimeFormatted = minTime.Format(time.RFC3339Nano)
	maxTimeFormatted = maxTime.Format(time.RFC3339Nano)
)

func parseTimeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.FormValue(name)
	if v == "" {
		return def, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid time value for '%s': %w", name, err)
	}
	return t, nil
}

// parseTime reads a time as Prometheus does: float seconds since the epoch
// (millisecond precision) or RFC 3339.
func parseTime(s string) (time.Time, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(t)
		frac = math.Round(frac*1000) / 1000
		return time.Unix(int64(sec), int64(frac*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	switch s {
	case minTimeFormatted:
		return minTime, nil
	case maxTimeFormatted:
		return maxTime, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration reads a duration as Prometheus does: float seconds or a
// Prometheus duration (1m30s, 2h, 1d, 1w, 1y).
func parseDuration(s string) (time.Duration, error) {
	if d, err := strconv.ParseFloat(s, 64); err == nil {
		ts := d * float64(time.Second)
		if math.IsNaN(ts) || ts >= float64(math.MaxInt64) || ts < float64(math.MinInt64) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ts), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	limit, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if limit < 0 {
		return 0, errors.New("limit must be non-negative")
	}
	return limit, nil
}
