package almanac

import (
	"context"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac/storage"
)

// Sample is one float sample: timestamp T in milliseconds since the epoch,
// value V (Prometheus staleness markers are kept bit for bit) and optional
// start timestamp ST (0 when unknown).
type Sample = storage.Sample

// SeriesSamples is one series and its samples in an append batch, and
// optionally the series' Ref from an earlier Append.
type SeriesSamples = storage.SeriesSamples

// SeriesRef names a series without its labels. Append sets SeriesSamples.Ref
// on every series of an accepted batch; passing it back with the same
// labels skips the label look-up (the way Prometheus's scrape cache works).
type SeriesRef = storage.SeriesRef

// Series is one series' samples in a queried range as columns: T, V, and ST
// (nil when the series has no start timestamps in range).
type Series = storage.Series

// SeriesSet iterates selected series: Next, At, Err, Close.
type SeriesSet = storage.SeriesSet

// Stats is a snapshot of the database's size.
type Stats = storage.Stats

// Metadata describes a metric family: type, help and unit, as Prometheus's
// metadata API and remote write carry them.
type Metadata = storage.Metadata

// DB is an open almanac database. It is safe for concurrent use.
type DB struct {
	st *storage.DB
}

// Open opens the database in dir, creating it if needed. A nil opts means
// all defaults. Open replays what a crash left in the head log, so every
// acknowledged sample is readable once it returns.
func Open(dir string, opts *Options) (*DB, error) {
	st, err := storage.Open(dir, opts.storageOptions())
	if err != nil {
		return nil, err
	}
	return &DB{st: st}, nil
}

// Append stores a batch of samples atomically. It returns nil once the batch
// is durable; otherwise nothing of the batch is stored and the error (a
// *BatchError for invalid input) says which series and samples were wrong and
// why. Samples need not be sorted; exact duplicates are dropped.
func (db *DB) Append(ctx context.Context, batch []SeriesSamples) error {
	return db.st.Append(ctx, batch)
}

// AppendValid stores every valid sample of a batch as one durable write and
// reports what it refused: the *BatchError (nil when nothing was refused)
// lists the problems and counts refused samples by reason. The error is for
// failures of the database itself. Receivers of protocols that cannot hand
// part of a request back (remote write) use it to keep the valid data.
func (db *DB) AppendValid(ctx context.Context, batch []SeriesSamples) (*BatchError, error) {
	return db.st.AppendValid(ctx, batch)
}

// DeleteSeries deletes the samples in the inclusive range [mint, maxt] of
// every series matching all matchers (at least one), durably, as
// Prometheus's delete_series admin API does. A series left without samples
// disappears from label and series listings. Appends wait while it runs.
func (db *DB) DeleteSeries(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) error {
	_, err := db.st.DeleteSeries(ctx, mint, maxt, ms...)
	return err
}

// SetMetadata records metric family metadata (type, help, unit). Known
// entries cost a map lookup; a new variant is stored durably. A metric
// keeps up to 10 variants, the newest.
func (db *DB) SetMetadata(ms []Metadata) error { return db.st.SetMetadata(ms) }

// Metadata returns the metadata of metric (every metric when empty), at
// most limit metrics and limitPerMetric variants each (negative: no
// limit), newest variant first.
func (db *DB) Metadata(metric string, limit, limitPerMetric int) map[string][]Metadata {
	return db.st.Metadata(metric, limit, limitPerMetric)
}

// Cardinality is the index statistics: series, series per label pair,
// and the stored time range.
type Cardinality = storage.Cardinality

// Cardinality reads the index statistics Prometheus's status/tsdb page
// shows, from the postings (one bitmap per label pair), not the samples.
func (db *DB) Cardinality(ctx context.Context) (*Cardinality, error) { return db.st.Cardinality(ctx) }

// Querier returns a querier over the inclusive time range [mint, maxt].
func (db *DB) Querier(mint, maxt int64) *Querier {
	return &Querier{db: db, mint: mint, maxt: maxt}
}

// Stats returns the number of series, series in memory and bytes on disk.
func (db *DB) Stats() Stats { return db.st.Stats() }

// Flush writes everything held in memory to compressed, compacted files. It
// is never needed for durability; benchmarks use it to measure disk usage.
func (db *DB) Flush() error { return db.st.Flush() }

// EnforceRetention deletes the days older than the retention period now,
// instead of waiting for the hourly background pass.
func (db *DB) EnforceRetention(ctx context.Context) error { return db.st.EnforceRetention(ctx) }

// Close writes the head to disk and closes the database. Nothing
// acknowledged is lost, and the next Open has nothing to replay.
func (db *DB) Close() error { return db.st.Close() }

// Querier reads series over one time range. It holds no resources: each
// Select takes its own consistent snapshot.
type Querier struct {
	db         *DB
	mint, maxt int64
}

// Select returns the series matching every matcher (Prometheus semantics:
// a matcher that matches "" also selects series without the label) that
// have samples in the querier's range, sorted by labels. Close the set.
func (q *Querier) Select(ctx context.Context, ms ...*labels.Matcher) (*SeriesSet, error) {
	return q.db.st.Select(ctx, q.mint, q.maxt, ms...)
}

// LabelNames returns the sorted label names of the series matching ms (all
// series when none) with samples in the days the range touches.
func (q *Querier) LabelNames(ctx context.Context, ms ...*labels.Matcher) ([]string, error) {
	return q.db.st.LabelNames(ctx, q.mint, q.maxt, ms...)
}

// LabelValues returns the sorted values of label name among the series
// matching ms with samples in the days the range touches.
func (q *Querier) LabelValues(ctx context.Context, name string, ms ...*labels.Matcher) ([]string, error) {
	return q.db.st.LabelValues(ctx, q.mint, q.maxt, name, ms...)
}

// Series returns the sorted label sets of the series matching ms with
// samples in the days the range touches.
func (q *Querier) Series(ctx context.Context, ms ...*labels.Matcher) ([]labels.Labels, error) {
	return q.db.st.SeriesLabels(ctx, q.mint, q.maxt, ms...)
}
