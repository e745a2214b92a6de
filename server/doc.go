// Package server serves an almanac database over HTTP: Prometheus remote
// write (1.0 and 2.0) and the Prometheus HTTP query API, so Prometheus can
// remote-write into almanac and Grafana's Prometheus data source can read
// from it unchanged.
//
// New returns a *Server, an http.Handler with these routes (docs/server.md
// has the parameters and answers of each):
//
//	POST     /api/v1/write                 remote write 1.0 and 2.0 (by Content-Type)
//	POST     /api/v1/read                  remote read (sampled and streamed chunks)
//	POST     /api/v1/otlp/v1/metrics       OpenTelemetry OTLP/HTTP metrics
//	POST     /api/v1/import[/prometheus|/csv], /write, /api/v2/write  imports
//	GET|POST /api/v1/export[/csv|/parquet] exports
//	GET|POST /api/v1/query, /api/v1/query_range, /api/v1/format_query
//	GET|POST /api/v1/labels, /api/v1/series; GET /api/v1/label/<name>/values
//	GET      /api/v1/metadata, /api/v1/query_exemplars (empty for now)
//	GET      /api/v1/status/{buildinfo,runtimeinfo,flags,config,walreplay,tsdb}
//	GET      /api/v1/rules, /api/v1/alerts (empty: no rule evaluation yet)
//	POST|PUT /api/v1/admin/tsdb/{delete_series,clean_tombstones} (Config.EnableAdminAPI)
//	GET      /-/healthy, /-/ready          liveness and readiness
//	GET      /metrics                      the server's registry
//
// PromQL, MetricsQL and almanac's analytics functions are evaluated by
// almanac's engine (package query); Config.Engine can choose Prometheus's
// engine over DB.PrometheusStorage instead. Answers, parameters, error
// types and status codes are Prometheus's.
//
// A remote-write batch that almanac rejects is not refused as a whole: the
// server drops the series and samples almanac names, stores the rest, and
// answers 400 listing what it dropped, so a sender neither retries data that
// can never be accepted nor loses the valid data sent with it. Only storage
// failures answer 5xx.
//
// Every response is gzip-compressed when the client accepts it, request
// bodies are bounded, and a panic in a handler is answered with 500 and
// logged, never crashing the process. The server starts no goroutines of
// its own; it is safe for concurrent use, and Close is not needed: the
// caller owns the DB and closes it after the HTTP server has drained.
package server
