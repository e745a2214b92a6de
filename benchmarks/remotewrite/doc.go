// Package remotewrite is a remote-write load benchmark: a bounded load
// generator that sends the same pre-encoded Prometheus remote write 1.0
// requests (snappy-compressed protobuf, one sample per time series entry,
// as Prometheus's queue manager sends them) to almanac, VictoriaMetrics
// and Prometheus, each a separate process started on loopback, one after
// another in one run. For each it reports accepted samples per second,
// the server's peak RSS and its data directory's bytes per sample after a
// graceful stop, and checks that every series is queryable.
//
// The benchmark is a test behind the build tag loadbench, because it needs
// the peers' binaries (Debian packages victoria-metrics and prometheus):
//
//	make bench-remote-write
//
// installs them when missing and runs it. It fails, rather than skips,
// when a peer it was asked to run is missing. See docs/benchmarks.md,
// section "Remote-write load", for the knobs and the latest figures.
package remotewrite
