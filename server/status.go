package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// buildInfo is the data of /api/v1/status/buildinfo, in Prometheus's shape.
type buildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

func (s *Server) handleBuildInfo(w http.ResponseWriter, _ *http.Request) {
	info := buildInfo{Version: s.cfg.Version, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				info.Revision = kv.Value
			case "vcs.time":
				info.BuildDate = kv.Value
			}
		}
	}
	s.respond(w, info, nil, "")
}

// metadataEntry is one metadata variant in Prometheus's JSON shape.
type metadataEntry struct {
	Type string `json:"type"`
	Help string `json:"help"`
	Unit string `json:"unit"`
}

// handleMetadata serves the metric metadata remote write carried, with
// Prometheus's parameters: metric, limit, limit_per_metric (absent or
// negative: no limit; 0: nothing, as in Prometheus).
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	limits := [2]int{-1, -1}
	for i, name := range []string{"limit", "limit_per_metric"} {
		v := r.FormValue(name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			s.respondError(w, &apiError{errorBadData, fmt.Errorf("%s must be a number", name)})
			return
		}
		limits[i] = n
	}
	out := map[string][]metadataEntry{}
	for metric, ms := range s.db.Metadata(r.FormValue("metric"), limits[0], limits[1]) {
		for _, m := range ms {
			out[metric] = append(out[metric], metadataEntry{Type: m.Type, Help: m.Help, Unit: m.Unit})
		}
	}
	s.respond(w, out, nil, "")
}

// handleExemplars answers that no exemplars are known: almanac does not
// store them yet. Grafana asks for them when exemplars are switched on.
func (s *Server) handleExemplars(w http.ResponseWriter, _ *http.Request) {
	s.respond(w, []struct{}{}, nil, "")
}

// processStart is when the process loaded this package: the startTime of
// /api/v1/status/runtimeinfo (Prometheus reports its own start there).
var processStart = time.Now().UTC()

// runtimeInfo is the data of /api/v1/status/runtimeinfo, in Prometheus's
// shape.
type runtimeInfo struct {
	StartTime           time.Time `json:"startTime"`
	CWD                 string    `json:"CWD"`
	Hostname            string    `json:"hostname"`
	ServerTime          time.Time `json:"serverTime"`
	ReloadConfigSuccess bool      `json:"reloadConfigSuccess"`
	LastConfigTime      time.Time `json:"lastConfigTime"`
	CorruptionCount     int64     `json:"corruptionCount"`
	GoroutineCount      int       `json:"goroutineCount"`
	GOMAXPROCS          int       `json:"GOMAXPROCS"`
	GOMEMLIMIT          int64     `json:"GOMEMLIMIT"`
	GOGC                string    `json:"GOGC"`
	GODEBUG             string    `json:"GODEBUG"`
	StorageRetention    string    `json:"storageRetention"`
}

// handleRuntimeInfo serves /api/v1/status/runtimeinfo. almanac's
// configuration is fixed when it starts, so the last (and only) config
// load is the start and it succeeded; corruption is surfaced as errors,
// not counted, so corruptionCount is 0.
func (s *Server) handleRuntimeInfo(w http.ResponseWriter, _ *http.Request) {
	cwd, err := os.Getwd()
	if err != nil {
		cwd = "<error retrieving current working directory>" // Prometheus's spelling
	}
	hostname, err := os.Hostname()
	if err != nil {
		s.respondError(w, &apiError{errorInternal, fmt.Errorf("error getting hostname: %w", err)})
		return
	}
	s.respond(w, runtimeInfo{
		StartTime:           processStart,
		CWD:                 cwd,
		Hostname:            hostname,
		ServerTime:          s.now().UTC(),
		ReloadConfigSuccess: true,
		LastConfigTime:      processStart,
		GoroutineCount:      runtime.NumGoroutine(),
		GOMAXPROCS:          runtime.GOMAXPROCS(0),
		GOMEMLIMIT:          debug.SetMemoryLimit(-1), // -1 reads the limit without changing it
		GOGC:                os.Getenv("GOGC"),
		GODEBUG:             os.Getenv("GODEBUG"),
		StorageRetention:    formatRetention(s.cfg.Retention),
	}, nil, "")
}

// formatRetention spells Config.Retention as Prometheus spells its
// retention ("30d"): empty when unknown, "forever" when nothing is deleted.
func formatRetention(d time.Duration) string {
	switch {
	case d == 0:
		return ""
	case d < 0:
		return "forever"
	}
	return model.Duration(d).String()
}

// handleFlags serves /api/v1/status/flags: Config.Flags, {} when nil.
func (s *Server) handleFlags(w http.ResponseWriter, _ *http.Request) {
	flags := s.cfg.Flags
	if flags == nil {
		flags = map[string]string{}
	}
	s.respond(w, flags, nil, "")
}

// handleConfig serves /api/v1/status/config in Prometheus's shape. almanac
// has no Prometheus configuration file (no scrapes, rules or remote
// writes), so the YAML is empty; Grafana and other tools only probe it.
func (s *Server) handleConfig(w http.ResponseWriter, _ *http.Request) {
	s.respond(w, struct {
		YAML string `json:"yaml"`
	}{}, nil, "")
}

// handleWALReplay serves /api/v1/status/walreplay: {"min":0,"max":0,"current":0}.
// almanac replays its head log inside almanac.Open, before the server
// exists, so there is never a replay in progress to report.
func (s *Server) handleWALReplay(w http.ResponseWriter, _ *http.Request) {
	s.respond(w, struct {
		Min     int `json:"min"`
		Max     int `json:"max"`
		Current int `json:"current"`
	}{}, nil, "")
}

// handleFormatQuery serves /api/v1/format_query: the query parameter
// parsed and printed back by Prometheus's pretty printer, or bad_data with
// the parser's message.
func (s *Server) handleFormatQuery(w http.ResponseWriter, r *http.Request) {
	expr, err := s.parser.ParseExpr(r.FormValue("query"))
	if err != nil {
		s.respondError(w, invalidParam(err, "query"))
		return
	}
	s.respond(w, expr.Pretty(0), nil, "")
}

// handleRules serves /api/v1/rules with no rule groups: almanac evaluates
// no recording or alerting rules yet. The type parameter is checked as
// Prometheus checks it.
func (s *Server) handleRules(w http.ResponseWriter, r *http.Request) {
	if typ := strings.ToLower(r.FormValue("type")); typ != "" && typ != "alert" && typ != "record" {
		s.respondError(w, invalidParam(fmt.Errorf("not supported value %q", typ), "type"))
		return
	}
	s.respond(w, struct {
		Groups []struct{} `json:"groups"`
	}{Groups: []struct{}{}}, nil, "")
}

// handleAlerts serves /api/v1/alerts with no alerts: almanac evaluates no
// alerting rules yet.
func (s *Server) handleAlerts(w http.ResponseWriter, _ *http.Request) {
	s.respond(w, struct {
		Alerts []struct{} `json:"alerts"`
	}{Alerts: []struct{}{}}, nil, "")
}

// maxTSDBStatusLimit bounds the limit parameter of /api/v1/status/tsdb, as
// Prometheus does.
const maxTSDBStatusLimit = 10000

// tsdbStat is one entry of a /api/v1/status/tsdb list.
type tsdbStat struct {
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}

// headStats is the headStats object of /api/v1/status/tsdb.
type headStats struct {
	NumSeries     uint64 `json:"numSeries"`
	NumLabelPairs int    `json:"numLabelPairs"`
	ChunkCount    int64  `json:"chunkCount"`
	MinTime       int64  `json:"minTime"`
	MaxTime       int64  `json:"maxTime"`
}

// tsdbStatus is the data of /api/v1/status/tsdb, in Prometheus's shape.
type tsdbStatus struct {
	HeadStats                   headStats  `json:"headStats"`
	SeriesCountByMetricName     []tsdbStat `json:"seriesCountByMetricName"`
	LabelValueCountByLabelName  []tsdbStat `json:"labelValueCountByLabelName"`
	MemoryInBytesByLabelName    []tsdbStat `json:"memoryInBytesByLabelName"`
	SeriesCountByLabelValuePair []tsdbStat `json:"seriesCountByLabelValuePair"`
}

// handleTSDBStatus serves /api/v1/status/tsdb: cardinality statistics
// over the whole database (Prometheus's cover its head block), each list
// cut to the limit parameter (default 10, at most 10000) largest entries.
//
// Cost: it reads the index (one postings bitmap per label pair, the
// series' newest timestamps and the oldest day's chunk keys), not the
// samples, and holds a map of every distinct label pair. It takes a query
// slot and is bounded by Config.QueryTimeout (503 timeout beyond).
func (s *Server) handleTSDBStatus(w http.ResponseWriter, r *http.Request) {
	limit := 10
	if v := r.FormValue("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.respondError(w, &apiError{errorBadData, errors.New("limit must be a positive number")})
			return
		}
		if n > maxTSDBStatusLimit {
			s.respondError(w, &apiError{errorBadData, fmt.Errorf("limit must not exceed %d", maxTSDBStatusLimit)})
			return
		}
		limit = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.QueryTimeout)
	defer cancel()
	release, apiErr := s.acquireQuery(ctx)
	if apiErr != nil {
		s.respondError(w, apiErr)
		return
	}
	defer release()
	st, err := s.tsdbStatus(ctx, limit)
	switch {
	case err == nil:
		s.respond(w, st, nil, "")
	case errors.Is(err, context.Canceled):
		s.respondError(w, &apiError{errorCanceled, err})
	case errors.Is(err, context.DeadlineExceeded):
		s.respondError(w, &apiError{errorTimeout, fmt.Errorf("computing TSDB status: %w", err)})
	default:
		s.respondError(w, &apiError{errorInternal, fmt.Errorf("computing TSDB status: %w", err)})
	}
}

// labelPair is a label name and value, the key of per-pair counts.
type labelPair struct{ name, value string }

// tsdbStatus computes the statistics of handleTSDBStatus from the index
// (one bitmap per label pair, not the samples). As Prometheus's head, an
// empty database has minTime math.MaxInt64 and maxTime math.MinInt64.
// chunkCount is 0: almanac's chunks are pebble keys, not counted.
func (s *Server) tsdbStatus(ctx context.Context, limit int) (tsdbStatus, error) {
	c, err := s.db.Cardinality(ctx)
	if err != nil {
		return tsdbStatus{}, err
	}
	head := headStats{NumSeries: c.Series, NumLabelPairs: len(c.Pairs), MinTime: c.MinTime, MaxTime: c.MaxTime}
	seriesByPair := make(map[labelPair]uint64, len(c.Pairs))
	for _, p := range c.Pairs {
		seriesByPair[labelPair{p.Name, p.Value}] = p.Series
	}

	type nameStats struct{ values, bytes uint64 }
	byName := map[string]*nameStats{}
	var byMetric []tsdbStat
	type pairCount struct {
		labelPair
		n uint64
	}
	pairs := make([]pairCount, 0, len(seriesByPair))
	for k, n := range seriesByPair {
		ns := byName[k.name]
		if ns == nil {
			ns = &nameStats{}
			byName[k.name] = ns
		}
		ns.values++
		ns.bytes += labels.SizeOfLabels(k.name, k.value, n)
		if k.name == labels.MetricName {
			byMetric = append(byMetric, tsdbStat{k.value, n})
		}
		pairs = append(pairs, pairCount{k, n})
	}
	valuesByName := make([]tsdbStat, 0, len(byName))
	bytesByName := make([]tsdbStat, 0, len(byName))
	for name, ns := range byName {
		valuesByName = append(valuesByName, tsdbStat{name, ns.values})
		bytesByName = append(bytesByName, tsdbStat{name, ns.bytes})
	}
	// Only the top pairs get a "name=value" string.
	slices.SortFunc(pairs, func(a, b pairCount) int {
		return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.name, b.name), strings.Compare(a.value, b.value))
	})
	byPair := make([]tsdbStat, 0, min(limit, len(pairs)))
	for _, p := range pairs[:min(limit, len(pairs))] {
		byPair = append(byPair, tsdbStat{p.name + "=" + p.value, p.n})
	}
	return tsdbStatus{
		HeadStats:                   head,
		SeriesCountByMetricName:     topStats(byMetric, limit),
		LabelValueCountByLabelName:  topStats(valuesByName, limit),
		MemoryInBytesByLabelName:    topStats(bytesByName, limit),
		SeriesCountByLabelValuePair: byPair,
	}, nil
}

// topStats returns the limit largest stats, largest first, ties by name;
// never nil, so an empty list is [] as in Prometheus's answer.
func topStats(stats []tsdbStat, limit int) []tsdbStat {
	slices.SortFunc(stats, func(a, b tsdbStat) int {
		return cmp.Or(cmp.Compare(b.Value, a.Value), strings.Compare(a.Name, b.Name))
	})
	if len(stats) > limit {
		stats = stats[:limit]
	}
	if stats == nil {
		stats = []tsdbStat{}
	}
	return stats
}
