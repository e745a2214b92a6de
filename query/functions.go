package query

import (
	"maps"

	"github.com/prometheus/prometheus/promql/parser"
)

// extraFunctions are almanac's functions beyond Prometheus's: the native
// analytics (docs/analytics.md) and the MetricsQL functions the dialect
// lowers to (docs/metricsql.md). Files that implement them add their
// signatures here in init().
var extraFunctions = map[string]*parser.Function{}

// Functions returns the parser's function table: Prometheus's functions
// and almanac's own.
func Functions() map[string]*parser.Function {
	fs := maps.Clone(parser.Functions)
	maps.Copy(fs, extraFunctions)
	return fs
}
