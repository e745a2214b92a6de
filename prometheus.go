package almanac

import (
	"context"
	"errors"
	"math"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	promstorage "github.com/prometheus/prometheus/storage"
)

var errNativeHistograms = errors.New("native histogram samples are not supported by almanac storage yet")

// PrometheusStorage presents db as a Prometheus storage.Storage: queriers
// for Prometheus's PromQL engine and appenders (v1 and v2) for its
// remote-write handlers and test suite. Closing it closes db.
func (db *DB) PrometheusStorage() promstorage.Storage { return promStorage{db} }

type promStorage struct{ db *DB }

var (
	_ promstorage.Storage      = promStorage{}
	_ promstorage.Appender     = (*promAppender)(nil)
	_ promstorage.AppenderV2   = (*promAppenderV2)(nil)
	_ promstorage.Querier      = (*promQuerier)(nil)
	_ promstorage.ChunkQuerier = (*promChunkQuerier)(nil)
)

func (p promStorage) Querier(mint, maxt int64) (promstorage.Querier, error) {
	return &promQuerier{q: p.db.Querier(mint, maxt)}, nil
}

func (p promStorage) ChunkQuerier(mint, maxt int64) (promstorage.ChunkQuerier, error) {
	return &promChunkQuerier{promQuerier{q: p.db.Querier(mint, maxt)}}, nil
}

func (p promStorage) Appender(ctx context.Context) promstorage.Appender {
	return &promAppender{appendBuffer{ctx: ctx, db: p.db}}
}

func (p promStorage) AppenderV2(ctx context.Context) promstorage.AppenderV2 {
	return &promAppenderV2{appendBuffer{ctx: ctx, db: p.db}}
}

// StartTime is the oldest timestamp almanac may still hold.
func (p promStorage) StartTime() (int64, error) { return math.MinInt64, nil }

func (p promStorage) Close() error { return p.db.Close() }

// appendBuffer buffers samples until Commit, which appends them as one
// atomic batch.
type appendBuffer struct {
	ctx     context.Context
	db      *DB
	batch   []SeriesSamples
	byLabel map[string]int
}

// promAppender is Prometheus's v1 appender interface on an appendBuffer.
type promAppender struct{ appendBuffer }

// promAppenderV2 is Prometheus's v2 appender interface (start timestamps
// with every sample) on an appendBuffer.
type promAppenderV2 struct{ appendBuffer }

func (a *appendBuffer) add(l labels.Labels, s Sample) (promstorage.SeriesRef, error) {
	if a.byLabel == nil {
		a.byLabel = map[string]int{}
	}
	key := string(l.Bytes(nil))
	i, ok := a.byLabel[key]
	if !ok {
		i = len(a.batch)
		a.byLabel[key] = i
		a.batch = append(a.batch, SeriesSamples{Labels: l})
	}
	a.batch[i].Samples = append(a.batch[i].Samples, s)
	return promstorage.SeriesRef(l.Hash()), nil
}

func (a *promAppender) Append(ref promstorage.SeriesRef, l labels.Labels, t int64, v float64) (promstorage.SeriesRef, error) {
	return a.add(l, Sample{T: t, V: v})
}

func (a *promAppender) AppendSTZeroSample(ref promstorage.SeriesRef, l labels.Labels, t, st int64) (promstorage.SeriesRef, error) {
	return promstorage.SeriesRef(l.Hash()), nil // start timestamps travel with samples (AppenderV2)
}

func (a *promAppender) SetOptions(*promstorage.AppendOptions) {}

func (a *promAppender) AppendExemplar(ref promstorage.SeriesRef, l labels.Labels, e exemplar.Exemplar) (promstorage.SeriesRef, error) {
	return promstorage.SeriesRef(l.Hash()), nil // exemplars are not stored yet
}

func (a *promAppender) AppendHistogram(promstorage.SeriesRef, labels.Labels, int64, *histogram.Histogram, *histogram.FloatHistogram) (promstorage.SeriesRef, error) {
	return 0, errNativeHistograms
}

func (a *promAppender) AppendHistogramSTZeroSample(promstorage.SeriesRef, labels.Labels, int64, int64, *histogram.Histogram, *histogram.FloatHistogram) (promstorage.SeriesRef, error) {
	return 0, errNativeHistograms
}

func (a *promAppender) UpdateMetadata(ref promstorage.SeriesRef, l labels.Labels, m metadata.Metadata) (promstorage.SeriesRef, error) {
	return promstorage.SeriesRef(l.Hash()), nil // metadata is not stored yet
}

func (a *promAppenderV2) Append(ref promstorage.SeriesRef, l labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, _ promstorage.AOptions) (promstorage.SeriesRef, error) {
	if h != nil || fh != nil {
		return 0, errNativeHistograms
	}
	return a.add(l, Sample{T: t, V: v, ST: st})
}

func (a *appendBuffer) Commit() error {
	batch := a.batch
	a.batch, a.byLabel = nil, nil
	if len(batch) == 0 {
		return nil
	}
	return a.db.Append(a.ctx, batch)
}

func (a *appendBuffer) Rollback() error {
	a.batch, a.byLabel = nil, nil
	return nil
}
