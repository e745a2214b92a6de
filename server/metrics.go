package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's own metrics. Labels are bounded: handler is a
// route pattern, code an HTTP status, reason one of the fixed drop reasons.
type metrics struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	panics         prometheus.Counter
	samplesStored  prometheus.Counter
	samplesDropped *prometheus.CounterVec
	// writesThrottled counts write requests answered 429.
	writesThrottled prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "almanac_http_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"handler", "code"})),
		duration: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "almanac_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route.",
			Buckets: []float64{.001, .005, .025, .1, .25, 1, 2.5, 10, 30, 120},
		}, []string{"handler"})),
		panics: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "almanac_http_panics_recovered_total",
			Help: "Panics in HTTP handlers answered with 500 instead of crashing.",
		})),
		samplesStored: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "almanac_remote_write_samples_stored_total",
			Help: "Samples received by remote write and stored.",
		})),
		samplesDropped: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "almanac_remote_write_samples_dropped_total",
			Help: "Samples received by remote write and refused (answered 400), by reason.",
		}, []string{"reason"})),
		writesThrottled: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "almanac_http_writes_throttled_total",
			Help: "Write requests answered 429 because MaxConcurrentWrites were busy for WriteWait.",
		})),
	}
}

// register registers c, or returns the equal collector registered before
// (a second Server on the same registry shares its metrics).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

// instrument counts and times every request by route and status code.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		h := handlerName(r)
		s.metrics.requests.WithLabelValues(h, strconv.Itoa(rec.code)).Inc()
		s.metrics.duration.WithLabelValues(h).Observe(time.Since(start).Seconds())
	})
}

// statusRecorder remembers the status code a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusRecorder) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
