// Package benchmarks compares almanac's storage with Prometheus's TSDB on the
// same generated node_exporter-like data: ingest rate, disk bytes per
// sample, memory per active series and select+decode rate. The benchmarks
// live in the package's tests; see docs/benchmarks.md for how to run them
// and the latest figures.
package benchmarks
