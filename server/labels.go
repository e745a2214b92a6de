package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/util/annotations"
)

// rangeParams are the parameters shared by the labels, label values and
// series endpoints: start, end (default: all time), match[] and limit.
type rangeParams struct {
	mint, maxt int64
	matchers   [][]*labels.Matcher
	limit      int
}

func (s *Server) parseRangeParams(r *http.Request) (rangeParams, *apiError) {
	var p rangeParams
	if err := r.ParseForm(); err != nil {
		return p, &apiError{errorBadData, fmt.Errorf("error parsing form values: %w", err)}
	}
	var err error
	if p.limit, err = parseLimit(r.FormValue("limit")); err != nil {
		return p, invalidParam(err, "limit")
	}
	start, err := parseTimeParam(r, "start", minTime)
	if err != nil {
		return p, invalidParam(err, "start")
	}
	end, err := parseTimeParam(r, "end", maxTime)
	if err != nil {
		return p, invalidParam(err, "end")
	}
	p.mint, p.maxt = timestamp.FromTime(start), timestamp.FromTime(end)
	if p.matchers, err = s.parseMatchers(r.Form["match[]"]); err != nil {
		return p, invalidParam(err, "match[]")
	}
	return p, nil
}

// parseMatchers parses match[] selectors; each must have a matcher that
// does not match the empty string, as Prometheus requires.
func (s *Server) parseMatchers(selectors []string) ([][]*labels.Matcher, error) {
	sets, err := s.parser.ParseMetricSelectors(selectors)
	if err != nil {
		return nil, err
	}
	for _, set := range sets {
		if !slices.ContainsFunc(set, func(m *labels.Matcher) bool { return !m.Matches("") }) {
			return nil, errors.New("match[] must contain at least one non-empty matcher")
		}
	}
	return sets, nil
}

// union calls list once per matcher set (once without matchers when there
// are none) and returns the sorted union of the results.
func union(ctx context.Context, sets [][]*labels.Matcher, list func(context.Context, ...*labels.Matcher) ([]string, error)) ([]string, error) {
	if len(sets) <= 1 {
		var ms []*labels.Matcher
		if len(sets) == 1 {
			ms = sets[0]
		}
		return list(ctx, ms...)
	}
	var all []string
	for _, ms := range sets {
		vs, err := list(ctx, ms...)
		if err != nil {
			return nil, err
		}
		all = append(all, vs...)
	}
	slices.Sort(all)
	return slices.Compact(all), nil
}

// handleLabels serves the label names of series in range.
func (s *Server) handleLabels(w http.ResponseWriter, r *http.Request) {
	p, apiErr := s.parseRangeParams(r)
	if apiErr != nil {
		s.respondError(w, apiErr)
		return
	}
	names, err := union(r.Context(), p.matchers, s.db.Querier(p.mint, p.maxt).LabelNames)
	if err != nil {
		s.respondError(w, execError(err))
		return
	}
	s.respondStrings(w, names, p.limit)
}

// handleLabelValues serves the values of one label among series in range.
// A name may be given in Prometheus's U__ escaping for UTF-8 names.
func (s *Server) handleLabelValues(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		s.respondError(w, &apiError{errorBadData, fmt.Errorf("invalid label name: %q", name)})
		return
	}
	p, apiErr := s.parseRangeParams(r)
	if apiErr != nil {
		s.respondError(w, apiErr)
		return
	}
	q := s.db.Querier(p.mint, p.maxt)
	values, err := union(r.Context(), p.matchers, func(ctx context.Context, ms ...*labels.Matcher) ([]string, error) {
		return q.LabelValues(ctx, name, ms...)
	})
	if err != nil {
		s.respondError(w, execError(err))
		return
	}
	s.respondStrings(w, values, p.limit)
}

func (s *Server) respondStrings(w http.ResponseWriter, list []string, limit int) {
	var annos annotations.Annotations
	if limit > 0 && len(list) > limit {
		list = list[:limit]
		annos = annos.Add(errors.New("results truncated due to limit"))
	}
	if list == nil {
		list = []string{}
	}
	s.respond(w, stringList(list), annos, "")
}

// handleSeries serves the label sets of series matching any match[] with
// samples in range.
func (s *Server) handleSeries(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.respondError(w, &apiError{errorBadData, fmt.Errorf("error parsing form values: %w", err)})
		return
	}
	if len(r.Form["match[]"]) == 0 {
		s.respondError(w, &apiError{errorBadData, errors.New("no match[] parameter provided")})
		return
	}
	p, apiErr := s.parseRangeParams(r)
	if apiErr != nil {
		s.respondError(w, apiErr)
		return
	}
	q := s.db.Querier(p.mint, p.maxt)
	var all []labels.Labels
	for _, ms := range p.matchers {
		lsets, err := q.Series(r.Context(), ms...)
		if err != nil {
			s.respondError(w, execError(err))
			return
		}
		all = append(all, lsets...)
	}
	if len(p.matchers) > 1 {
		slices.SortFunc(all, labels.Compare)
		all = slices.CompactFunc(all, labels.Equal)
	}
	var annos annotations.Annotations
	if p.limit > 0 && len(all) > p.limit {
		all = all[:p.limit]
		annos = annos.Add(errors.New("results truncated due to limit"))
	}
	s.respond(w, labelSets(all), annos, "")
}
