// Package almanac is an embedded time-series database for operations data.
//
// A program opens a data directory with Open, appends batches of samples for
// series named by Prometheus label sets with DB.Append, and reads them back
// with a Querier that selects series by Prometheus label matchers over a time
// range and yields each series' timestamps and values as columns:
//
//	db, err := almanac.Open("data", nil)
//	...
//	err = db.Append(ctx, []almanac.SeriesSamples{{
//		Labels:  labels.FromStrings("__name__", "up", "job", "node"),
//		Samples: []almanac.Sample{{T: t, V: 1}},
//	}})
//	q := db.Querier(mint, maxt)
//	ss, err := q.Select(ctx, labels.MustNewMatcher(labels.MatchEqual, "job", "node"))
//	for ss.Next() { s := ss.At(); _ = s.T; _ = s.V }
//
// An Append that returned nil is on disk (fsynced, unless Options.NoSync) and
// survives a crash. A batch is atomic: if any sample or label set is invalid,
// Append returns an error naming each problem and stores nothing.
//
// DB.PrometheusStorage presents the database as a Prometheus storage.Storage,
// so Prometheus's PromQL engine, test suite and remote-write handlers run on
// almanac unchanged.
//
// A DB is safe for concurrent use. Values returned by iterators are valid
// until the next call to Next.
package almanac
