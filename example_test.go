package almanac_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/almanacdb/almanac"
)

// Open a data directory, append a batch and read it back as columns.
func Example() {
	dir, err := os.MkdirTemp("", "almanac-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	db, err := almanac.Open(dir, nil) // nil: all defaults
	if err != nil {
		panic(err)
	}
	defer db.Close()

	ctx := context.Background()
	t0 := time.Now().Truncate(time.Minute).Add(-time.Minute).UnixMilli()
	err = db.Append(ctx, []almanac.SeriesSamples{{
		Labels:  labels.FromStrings("__name__", "node_load1", "instance", "a"),
		Samples: []almanac.Sample{{T: t0, V: 0.25}, {T: t0 + 15_000, V: 0.5}},
	}})
	if err != nil {
		panic(err)
	}

	ss, err := db.Querier(t0, t0+60_000).Select(ctx, labels.MustNewMatcher(labels.MatchEqual, "instance", "a"))
	if err != nil {
		panic(err)
	}
	defer ss.Close()
	for ss.Next() {
		s := ss.At()
		fmt.Println(s.Labels, len(s.T), "samples:", s.V)
	}
	if err := ss.Err(); err != nil {
		panic(err)
	}
	// Output: {__name__="node_load1", instance="a"} 2 samples: [0.25 0.5]
}

// A batch with an invalid sample is refused whole, and the error says which
// series and why.
func ExampleDB_Append_rejected() {
	dir, err := os.MkdirTemp("", "almanac-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := almanac.Open(dir, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()

	far := time.Now().Add(48 * time.Hour).UnixMilli()
	err = db.Append(context.Background(), []almanac.SeriesSamples{{
		Labels:  labels.FromStrings("__name__", "up"),
		Samples: []almanac.Sample{{T: far, V: 1}},
	}})
	var be *almanac.BatchError
	fmt.Println(errors.As(err, &be), errors.Is(err, almanac.ErrTooFarInFuture), be.Rejected)
	// Output: true true 1
}

// Evaluate PromQL, and almanac's analytics functions, in the process.
func ExampleDB_Query() {
	dir, err := os.MkdirTemp("", "almanac-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := almanac.Open(dir, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()

	ctx := context.Background()
	now := time.Now().Truncate(time.Minute)
	var samples []almanac.Sample
	for i := range 60 { // an hour of a counter growing by 30 per minute
		samples = append(samples, almanac.Sample{T: now.Add(time.Duration(i-59) * time.Minute).UnixMilli(), V: float64(30 * i)})
	}
	if err := db.Append(ctx, []almanac.SeriesSamples{{
		Labels: labels.FromStrings("__name__", "requests_total", "job", "api"), Samples: samples,
	}}); err != nil {
		panic(err)
	}
	for _, q := range []string{
		`sum by (job) (rate(requests_total[5m]))`,
		`forecast(requests_total[1h], 600, "linear")`,
	} {
		res, err := db.Query(ctx, q, now)
		if err != nil {
			panic(err)
		}
		for _, s := range res.Value.(promql.Vector) {
			fmt.Println(q, "=>", s.Metric, s.F)
		}
	}
	// Output:
	// sum by (job) (rate(requests_total[5m])) => {job="api"} 0.5
	// forecast(requests_total[1h], 600, "linear") => {job="api"} 2070
}
