package almanac_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/prometheus/model/labels"

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
