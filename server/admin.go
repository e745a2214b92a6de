package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
)

// This file serves Prometheus's TSDB admin API. Like Prometheus's
// --web.enable-admin-api, it answers only when Config.EnableAdminAPI is
// set; otherwise every admin endpoint answers Prometheus's error.

// errorUnavailable is Prometheus's "unavailable" class. Prometheus answers
// it with 500 (it has no status of its own there), and so do we.
var errorUnavailable = errorType{"unavailable", http.StatusInternalServerError}

// errorNotImplemented answers a well-formed admin request that this
// database cannot carry out.
var errorNotImplemented = errorType{"unavailable", http.StatusNotImplemented}

// errAdminDisabled is Prometheus's answer when the admin API is off.
var errAdminDisabled = &apiError{errorUnavailable, errors.New("admin APIs disabled")}

// seriesDeleter is the deletion method of *almanac.DB, found by type
// assertion so the server builds before the root package has it.
type seriesDeleter interface {
	// DeleteSeries deletes the samples in [mint, maxt] of the series
	// matching every matcher of ms.
	DeleteSeries(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) error
}

// handleDeleteSeries serves /api/v1/admin/tsdb/delete_series: it deletes
// the samples in [start, end] (default: all time) of the series matching
// any match[] (at least one required) and answers 204. Every selector is
// parsed before anything is deleted. Without DeleteSeries in the
// database it answers 501.
func (s *Server) handleDeleteSeries(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.EnableAdminAPI {
		s.respondError(w, errAdminDisabled)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.respondError(w, &apiError{errorBadData, fmt.Errorf("error parsing form values: %w", err)})
		return
	}
	if len(r.Form["match[]"]) == 0 {
		s.respondError(w, &apiError{errorBadData, errors.New("no match[] parameter provided")})
		return
	}
	start, err := parseTimeParam(r, "start", minTime)
	if err != nil {
		s.respondError(w, invalidParam(err, "start"))
		return
	}
	end, err := parseTimeParam(r, "end", maxTime)
	if err != nil {
		s.respondError(w, invalidParam(err, "end"))
		return
	}
	sets, err := s.parseMatchers(r.Form["match[]"])
	if err != nil {
		s.respondError(w, invalidParam(err, "match[]"))
		return
	}
	deleter, ok := any(s.db).(seriesDeleter)
	if !ok {
		s.respondError(w, &apiError{errorNotImplemented, errors.New("this almanac cannot delete series")})
		return
	}
	mint, maxt := timestamp.FromTime(start), timestamp.FromTime(end)
	for _, ms := range sets {
		if err := deleter.DeleteSeries(r.Context(), mint, maxt, ms...); err != nil {
			typ := errorInternal
			if errors.Is(err, context.Canceled) {
				typ = errorCanceled
			}
			s.respondError(w, &apiError{typ, fmt.Errorf("deleting series: %w", err)})
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleCleanTombstones serves /api/v1/admin/tsdb/clean_tombstones with
// 204 and does nothing: the storage has no tombstones to compact away.
func (s *Server) handleCleanTombstones(w http.ResponseWriter, _ *http.Request) {
	if !s.cfg.EnableAdminAPI {
		s.respondError(w, errAdminDisabled)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
