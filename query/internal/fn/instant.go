package fn

// This file holds what the functions over instant vectors and scalars
// share: how an output column is made from an input column, and the
// functions with nothing of their own to compute.
//
// Conventions every instant function here follows, so the engine can rely
// on them:
//
//   - A function never modifies or retains its Args: every output V is a
//     fresh slice (outputs may share Labels values, which are immutable).
//   - An output series with no sample at any step is left out.
//   - Output series are in no particular order, except for the sort
//     functions evaluated at a single step.
//   - Two output series may carry the same labels: Prometheus then fails
//     the query with "vector cannot contain metrics with the same
//     labelset" if both have a sample at one step (after the metric name
//     is dropped where DropName says so), and merges them otherwise. The
//     engine does both; functions return such series as they are.

import (
	"github.com/prometheus/prometheus/model/labels"
)

func init() {
	// start_timestamp(v) returns the start timestamps of v's samples.
	// Prometheus knows them only when v is a plain vector selector (read
	// with start timestamps enabled), which the engine evaluates itself,
	// as it does timestamp(v). Over any other expression Prometheus returns
	// nothing at all, and so does this.
	Instant["start_timestamp"] = func(*InstantCall) ([]Series, error) { return nil, nil }
}

// hasSample reports whether v has a value at some step.
func hasSample(v []float64) bool {
	for _, x := range v {
		if !IsAbsent(x) {
			return true
		}
	}
	return false
}

// mapSeries returns a copy of each series of in transformed in place by
// k, which leaves Absent values alone and may make present ones Absent;
// copies left without a sample are dropped. The results drop the metric
// name, as every function that changes a value's meaning does.
func mapSeries(in []Series, k func(v []float64)) []Series {
	out := make([]Series, 0, len(in))
	for _, s := range in {
		v := make([]float64, len(s.V))
		copy(v, s.V)
		k(v)
		if hasSample(v) {
			out = append(out, Series{Labels: s.Labels, V: v, DropName: true})
		}
	}
	return out
}

// unlabelled returns v as one series without labels: the result of a
// function returning a scalar, or of a calendar function without argument.
func unlabelled(v []float64) []Series {
	return []Series{{Labels: labels.EmptyLabels(), V: v}}
}
