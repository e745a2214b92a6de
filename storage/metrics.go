package storage

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Rejection reasons, the values of the reason label on
// almanac_storage_samples_rejected_total. Bounded: one per sentinel.
const (
	reasonInvalidLabels = "invalid_labels"
	reasonLabelLimit    = "label_limit"
	reasonRetention     = "out_of_retention"
	reasonFuture        = "too_far_in_future"
	reasonTooOld        = "too_old"
	reasonDuplicate     = "duplicate_conflict"
	reasonBatch         = "batch_rejected" // valid samples in a rejected batch
)

// metrics are the storage counters. They are plain atomics so that the
// storage works without a registry; register exposes them as collectors.
type metrics struct {
	samplesAppended   atomic.Uint64
	duplicatesDropped atomic.Uint64
	seriesCreated     atomic.Uint64
	seriesDeleted     atomic.Uint64
	chunksWritten     atomic.Uint64
	checkpoints       atomic.Uint64
	retentionDays     atomic.Uint64

	rejected *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "almanac_storage_samples_rejected_total",
			Help: "Samples refused by Append, by reason. A rejected batch counts all its samples.",
		}, []string{"reason"}),
	}
	for _, r := range []string{reasonInvalidLabels, reasonLabelLimit, reasonRetention, reasonFuture, reasonTooOld, reasonDuplicate, reasonBatch} {
		m.rejected.WithLabelValues(r)
	}
	return m
}

// register exposes the metrics and the gauges computed from db on r.
func (m *metrics) register(r prometheus.Registerer, db *DB) error {
	if r == nil {
		return nil
	}
	counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	cs := []prometheus.Collector{
		m.rejected,
		counter("almanac_storage_samples_appended_total", "Samples stored by Append.", &m.samplesAppended),
		counter("almanac_storage_duplicate_samples_dropped_total", "Exact duplicate samples (same timestamp, same value bits) dropped by Append.", &m.duplicatesDropped),
		counter("almanac_storage_series_created_total", "Series created.", &m.seriesCreated),
		counter("almanac_storage_series_deleted_total", "Series removed entirely by DeleteSeries.", &m.seriesDeleted),
		counter("almanac_storage_chunks_written_total", "Chunks written to pebble (cuts, checkpoints and out-of-order merges).", &m.chunksWritten),
		counter("almanac_storage_checkpoints_total", "Head checkpoints (open chunks written, head log truncated).", &m.checkpoints),
		counter("almanac_storage_retention_days_deleted_total", "Days of chunks deleted by retention.", &m.retentionDays),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "almanac_storage_head_series",
			Help: "Series held in memory (active series).",
		}, func() float64 { return float64(db.Stats().HeadSeries) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "almanac_storage_disk_bytes",
			Help: "Bytes pebble uses on disk, WAL included.",
		}, func() float64 { return float64(db.Stats().DiskBytes) }),
	}
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}
