// Package server serves an almanac database over HTTP: Prometheus remote
// write (1.0 and 2.0) and the Prometheus HTTP query API, so Prometheus can
// remote-write into almanac and Grafana's Prometheus data source can read
// from it unchanged.
//
// New returns a *Server, an http.Handler with these routes:
//
//	POST     /api/v1/write               remote write 1.0 and 2.0 (by Content-Type)
//	GET|POST /api/v1/query               instant query
//	GET|POST /api/v1/query_range         range query
//	GET|POST /api/v1/labels              label names
//	GET      /api/v1/label/<name>/values label values
//	GET|POST /api/v1/series              series by match[]
//	GET      /api/v1/metadata            metric metadata (empty for now)
//	GET|POST /api/v1/query_exemplars     exemplars (empty for now)
//	GET      /api/v1/status/buildinfo    version
//	GET      /-/healthy, /-/ready        liveness and readiness
//	GET      /metrics                    the server's registry
//
// PromQL is evaluated for now by Prometheus's own engine (promql.Engine)
// over DB.PrometheusStorage, with experimental functions enabled. Answers,
// parameters, error types and status codes are Prometheus's.
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
