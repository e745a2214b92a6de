package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	promstorage "github.com/prometheus/prometheus/storage"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/ingest"
	"github.com/almanacdb/almanac/query"
)

// Config configures a Server. The zero value of every field means the
// documented default.
type Config struct {
	// Registry receives the server's metrics (HTTP requests, remote write,
	// Go runtime, process, PromQL engine) and is served at /metrics. Pass
	// the registry given to almanac.Options.Registerer so /metrics shows
	// the storage metrics too. Default: a new registry.
	Registry *prometheus.Registry
	// Logger receives request failures and recovered panics. Default: discard.
	Logger *slog.Logger
	// MaxRequestBytes bounds the body of any request. Default 64 MiB.
	MaxRequestBytes int64
	// MaxWriteBytes bounds a remote-write message after decompression.
	// Default 32 MiB (ingest.DefaultMaxBytes), as Prometheus's receiver.
	MaxWriteBytes int
	// LookbackDelta is how far back an instant vector selector looks for a
	// sample. Default 5m.
	LookbackDelta time.Duration
	// QueryTimeout bounds every query; a request's timeout parameter may
	// only shorten it. Default 2m.
	QueryTimeout time.Duration
	// MaxConcurrentQueries bounds the queries evaluated at once; more wait
	// for a slot, at most QueryTimeout. Default 20.
	MaxConcurrentQueries int
	// MaxConcurrentWrites bounds the write requests (remote write, OTLP,
	// imports) decoded and stored at once, and so the memory they hold.
	// A request that finds no slot within WriteWait is answered 429 with
	// Retry-After, which Prometheus and the OpenTelemetry Collector retry.
	// Default 4 × GOMAXPROCS.
	MaxConcurrentWrites int
	// WriteWait is how long a write request waits for a slot. Default 10s.
	WriteWait time.Duration
	// MaxSamples bounds the samples a query holds in memory at once.
	// Default 50,000,000.
	MaxSamples int
	// BearerToken, when set, must be presented by every request but the
	// health checks as "Authorization: Bearer <token>"; others get 401.
	BearerToken string
	// Version is reported by /api/v1/status/buildinfo. Default: the main
	// module's version from the build info, or "dev".
	Version string
	// Retention is reported as storageRetention by
	// /api/v1/status/runtimeinfo, since almanac.DB does not expose its
	// options: pass the retention the DB was opened with, defaults applied
	// (almanac.Options.Retention, or 30 days when that was zero). Zero
	// reports "" (unknown); negative, "forever".
	Retention time.Duration
	// Flags is served by /api/v1/status/flags, flag name to value, as
	// Prometheus serves its command line. Default: none ({}).
	Flags map[string]string
	// EnableAdminAPI turns on /api/v1/admin/tsdb/*, which can delete data;
	// like Prometheus's --web.enable-admin-api. When false (the default)
	// they answer Prometheus's 500 "unavailable": "admin APIs disabled".
	EnableAdminAPI bool
	// Engine chooses the PromQL engine: "almanac" (the default) evaluates
	// everything with almanac's engine (package query); "prometheus"
	// evaluates standard PromQL with Prometheus's engine over the same
	// storage, as an escape hatch; "auto" sends standard PromQL to
	// Prometheus's engine and what only almanac's engine understands (its
	// analytics functions, MetricsQL) to almanac's.
	Engine string
}

func (c *Config) ensureDefaults() {
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = 64 << 20
	}
	if c.MaxWriteBytes <= 0 {
		c.MaxWriteBytes = ingest.DefaultMaxBytes
	}
	if c.LookbackDelta <= 0 {
		c.LookbackDelta = 5 * time.Minute
	}
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = 2 * time.Minute
	}
	if c.MaxConcurrentQueries <= 0 {
		c.MaxConcurrentQueries = 20
	}
	if c.MaxConcurrentWrites <= 0 {
		c.MaxConcurrentWrites = 4 * runtime.GOMAXPROCS(0)
	}
	if c.WriteWait <= 0 {
		c.WriteWait = 10 * time.Second
	}
	if c.MaxSamples <= 0 {
		c.MaxSamples = 50_000_000
	}
	if c.Version == "" {
		c.Version = buildVersion()
	}
	if c.Engine == "" {
		c.Engine = EngineAlmanac
	}
}

// Server is almanac's HTTP API on one database. It is an http.Handler and
// safe for concurrent use.
type Server struct {
	db      *almanac.DB
	cfg     Config
	logger  *slog.Logger
	storage promstorage.Storage // db as Prometheus storage; never closed here
	engine  *promql.Engine      // Prometheus's
	almanac query.PromEngine    // almanac's
	queries chan struct{}       // a token per query being evaluated
	writes  chan struct{}       // a token per write request being handled
	parser  parser.Parser
	metrics *metrics
	handler http.Handler
	ready   atomic.Bool
	now     func() time.Time
}

// New returns a server for db, ready to serve (see SetReady). db must stay
// open while the server handles requests.
func New(db *almanac.DB, cfg Config) *Server {
	cfg.ensureDefaults()
	s := &Server{
		db:      db,
		cfg:     cfg,
		logger:  cfg.Logger,
		storage: db.PrometheusStorage(),
		parser:  parser.NewParser(parser.Options{EnableExperimentalFunctions: true}),
		now:     time.Now,
		queries: make(chan struct{}, cfg.MaxConcurrentQueries),
		writes:  make(chan struct{}, cfg.MaxConcurrentWrites),
	}
	reg := tolerantRegisterer{cfg.Registry, cfg.Logger}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = newMetrics(cfg.Registry)
	s.engine = promql.NewEngine(promql.EngineOpts{
		Logger:               cfg.Logger,
		Reg:                  reg,
		MaxSamples:           cfg.MaxSamples,
		Timeout:              cfg.QueryTimeout,
		LookbackDelta:        cfg.LookbackDelta,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		// Prometheus's default evaluation interval for subqueries without a step.
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		Parser:                   s.parser,
	})
	s.almanac = query.PromEngine{Engine: query.NewEngine(query.Options{
		LookbackDelta:          cfg.LookbackDelta,
		MaxSamples:             cfg.MaxSamples,
		Timeout:                cfg.QueryTimeout,
		NoStepSubqueryInterval: time.Minute,
	})}
	s.handler = s.routes()
	s.ready.Store(true)
	return s
}

// Engines Config.Engine names.
const (
	EngineAuto       = "auto"
	EngineAlmanac    = "almanac"
	EnginePrometheus = "prometheus"
)

// engineFor picks the engine that evaluates qs (see Config.Engine).
func (s *Server) engineFor(qs string) promql.QueryEngine {
	switch s.cfg.Engine {
	case EngineAlmanac:
		return s.almanac
	case EnginePrometheus:
		return s.engine
	}
	if _, err := s.parser.ParseExpr(qs); err != nil {
		// Not Prometheus's PromQL: almanac's functions or MetricsQL? A
		// MetricsQL construct almanac does not support, or a bad argument
		// of an almanac function, is almanac's to explain; any other parse
		// error is Prometheus's.
		if _, err := query.NewParser().ParseExpr(qs); err == nil {
			return s.almanac
		}
		_, err := s.almanac.Engine.Parse(qs, time.Unix(0, 0), time.Unix(0, 0), 0)
		if err == nil || errors.Is(err, query.ErrMetricsQLUnsupported) {
			return s.almanac
		}
	}
	return s.engine
}

// SetReady sets what /-/ready answers: 200 when ready, 503 when not (for
// example while the process drains requests before it exits).
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// Registry returns the registry served at /metrics.
func (s *Server) Registry() *prometheus.Registry { return s.cfg.Registry }

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// routes builds the handler chain: metrics, compression, panic recovery,
// body limit, then the router.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	get, getPost, postPut := []string{"GET"}, []string{"GET", "POST"}, []string{"POST", "PUT"}
	for _, rt := range []struct {
		methods []string
		path    string
		h       http.HandlerFunc
	}{
		{[]string{"POST"}, "/api/v1/write", s.limitWrites(s.handleWrite)},
		{[]string{"POST"}, "/api/v1/read", s.readHandler()},
		{[]string{"POST"}, "/api/v1/import", s.limitWrites(s.handleImportVMJSON)},
		{[]string{"POST"}, "/api/v1/import/prometheus", s.limitWrites(s.handleImportPrometheus)},
		{[]string{"POST"}, "/api/v1/import/csv", s.limitWrites(s.handleImportCSV)},
		{[]string{"POST"}, "/write", s.limitWrites(s.handleImportInflux)},
		{[]string{"POST"}, "/api/v2/write", s.limitWrites(s.handleImportInflux)},
		{[]string{"POST"}, "/api/v1/otlp/v1/metrics", s.limitWrites(s.handleOTLP)},
		{getPost, "/api/v1/query", s.handleQuery},
		{getPost, "/api/v1/query_range", s.handleQueryRange},
		{getPost, "/api/v1/labels", s.handleLabels},
		{get, "/api/v1/label/{name}/values", s.handleLabelValues},
		{getPost, "/api/v1/series", s.handleSeries},
		{getPost, "/api/v1/export", s.handleExport},
		{getPost, "/api/v1/export/csv", s.handleExportCSV},
		{getPost, "/api/v1/export/parquet", s.handleExportParquet},
		{get, "/api/v1/metadata", s.handleMetadata},
		{getPost, "/api/v1/query_exemplars", s.handleExemplars},
		{get, "/api/v1/status/buildinfo", s.handleBuildInfo},
		{get, "/api/v1/status/runtimeinfo", s.handleRuntimeInfo},
		{get, "/api/v1/status/flags", s.handleFlags},
		{get, "/api/v1/status/config", s.handleConfig},
		{get, "/api/v1/status/walreplay", s.handleWALReplay},
		{get, "/api/v1/status/tsdb", s.handleTSDBStatus},
		{getPost, "/api/v1/format_query", s.handleFormatQuery},
		{get, "/api/v1/rules", s.handleRules},
		{get, "/api/v1/alerts", s.handleAlerts},
		{postPut, "/api/v1/admin/tsdb/delete_series", s.handleDeleteSeries},
		{postPut, "/api/v1/admin/tsdb/clean_tombstones", s.handleCleanTombstones},
		{get, "/-/healthy", s.handleHealthy},
		{get, "/-/ready", s.handleReady},
		{get, "/metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{
			ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelError), DisableCompression: true,
		}).ServeHTTP},
	} {
		for _, m := range rt.methods {
			mux.Handle(m+" "+rt.path, rt.h)
		}
	}
	var h http.Handler = mux
	h = s.requireBearer(h)
	h = s.limitBody(h)
	h = s.recoverPanics(h)
	if gz, err := gzhttp.NewWrapper(gzhttp.EnableZstd(false)); err == nil {
		h = gz(h)
	} else {
		s.logger.Error("response compression disabled", "err", err)
	}
	return s.instrument(h)
}

// limitWrites bounds the write requests handled at once; one that waits
// longer than WriteWait for a slot is answered 429 with Retry-After, so
// the sender backs off and retries instead of the server running out of
// memory. Nothing of a refused request was read.
func (s *Server) limitWrites(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.writes <- struct{}{}:
		default:
			t := time.NewTimer(s.cfg.WriteWait)
			select {
			case s.writes <- struct{}{}:
				t.Stop()
			case <-t.C:
				s.metrics.writesThrottled.Inc()
				w.Header().Set("Retry-After", "1")
				http.Error(w, fmt.Sprintf("too many concurrent writes (%d): retry later", cap(s.writes)), http.StatusTooManyRequests)
				return
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		defer func() { <-s.writes }()
		h(w, r)
	}
}

// requireBearer answers 401 to requests without the configured bearer
// token; health checks stay open for load balancers and orchestrators.
func (s *Server) requireBearer(next http.Handler) http.Handler {
	if s.cfg.BearerToken == "" {
		return next
	}
	want := []byte("Bearer " + s.cfg.BearerToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/-/healthy" || r.URL.Path == "/-/ready" ||
			subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) == 1 {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="almanac"`)
		http.Error(w, "unauthorized: this almanac requires a bearer token", http.StatusUnauthorized)
	})
}

func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestBytes)
		next.ServeHTTP(w, r)
	})
}

// recoverPanics answers a panicking handler with 500 and logs the panic
// with its stack, so one bad request never takes the process down.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &headerWatcher{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.metrics.panics.Inc()
			s.logger.Error("panic in HTTP handler", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if !rw.wroteHeader {
				s.respondError(w, &apiError{errorInternal, fmt.Errorf("internal error: %v", p)})
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// headerWatcher records whether a handler has started its response.
type headerWatcher struct {
	http.ResponseWriter
	wroteHeader bool
}

func (w *headerWatcher) WriteHeader(code int) {
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *headerWatcher) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *headerWatcher) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) handleHealthy(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "almanac is Healthy.\n")
}

func (s *Server) handleReady(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !s.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "almanac is not ready.\n")
		return
	}
	io.WriteString(w, "almanac is Ready.\n")
}

// handlerName names a matched route for metrics: its path pattern, or
// "other" for requests no route matched. The set is fixed by routes.
func handlerName(r *http.Request) string {
	if r.Pattern == "" {
		return "other"
	}
	_, path, _ := strings.Cut(r.Pattern, " ")
	return path
}

// tolerantRegisterer registers into a registry, ignoring collectors that
// are already registered (by the caller, or an earlier Server on the same
// registry), so New cannot panic on them.
type tolerantRegisterer struct {
	*prometheus.Registry
	logger *slog.Logger
}

// MustRegister registers cs, logging (instead of panicking on) a collector
// the registry refuses.
func (t tolerantRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := t.Register(c); err != nil {
			t.logger.Error("metrics not registered", "err", err)
		}
	}
}

func (t tolerantRegisterer) Register(c prometheus.Collector) error {
	err := t.Registry.Register(c)
	if _, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		return nil
	}
	return err
}

// buildVersion is the main module's version, or "dev" in a development build.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "dev"
	}
	return bi.Main.Version
}
