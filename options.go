package almanac

import (
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/almanacdb/almanac/storage"
)

// Options configure a DB. A nil *Options, and the zero value of any field,
// mean the documented default.
type Options struct {
	// Retention is how long samples are kept. Default 30 days. Whole days
	// older than that are deleted, and older samples are refused. Negative
	// keeps everything forever.
	Retention time.Duration
	// OutOfOrderWindow: a sample older than its series' newest sample is
	// accepted when it is at most this much older. Default 1h. Negative
	// accepts any age inside retention (useful for backfills).
	OutOfOrderWindow time.Duration
	// MaxFutureSkew: samples further ahead of the clock are refused. Default 1h.
	MaxFutureSkew time.Duration
	// NoSync acknowledges an append once it is written to the WAL, without
	// waiting for fsync. Appends get several times faster; a crash of the
	// process loses nothing, but a power loss or kernel crash may lose the
	// last acknowledged batches. Default false (fsync every append).
	NoSync bool

	// MaxLabelNameBytes, MaxLabelValueBytes and MaxLabelsPerSeries bound label
	// sets. Defaults 1024, 16384 and 128.
	MaxLabelNameBytes  int
	MaxLabelValueBytes int
	MaxLabelsPerSeries int

	// ChunkSamples: samples per series collected in memory before they are
	// written as a compressed chunk. Default 120 (30 minutes of 15 s scrapes).
	// Larger compresses better and uses more memory per active series.
	ChunkSamples int
	// CheckpointInterval and CheckpointBytes bound the head log, and so the
	// time Open spends replaying it after a crash. Defaults 5m and 128 MiB.
	// A checkpoint rewrites every open chunk, so smaller values cost ingest
	// throughput.
	CheckpointInterval time.Duration
	CheckpointBytes    int64
	// IdleSeriesTimeout: a series without samples for this long leaves
	// memory at the next checkpoint. Default 1h.
	IdleSeriesTimeout time.Duration
	// CacheBytes is the block cache size. Default 64 MiB.
	CacheBytes int64

	// Logger receives background errors and notices. Default: discard.
	Logger *slog.Logger
	// Registerer, if set, receives the storage metrics
	// (almanac_storage_*; see docs/operations.md).
	Registerer prometheus.Registerer
	// FS is the file system; nil is the OS's. Tests pass vfs.NewMem().
	FS vfs.FS
}

func (o *Options) storageOptions() storage.Options {
	if o == nil {
		return storage.Options{}
	}
	return storage.Options{
		Retention:          o.Retention,
		OutOfOrderWindow:   o.OutOfOrderWindow,
		MaxFutureSkew:      o.MaxFutureSkew,
		NoSync:             o.NoSync,
		MaxLabelNameBytes:  o.MaxLabelNameBytes,
		MaxLabelValueBytes: o.MaxLabelValueBytes,
		MaxLabelsPerSeries: o.MaxLabelsPerSeries,
		ChunkSamples:       o.ChunkSamples,
		CheckpointBytes:    o.CheckpointBytes,
		CheckpointInterval: o.CheckpointInterval,
		IdleSeriesTimeout:  o.IdleSeriesTimeout,
		CacheBytes:         o.CacheBytes,
		Logger:             o.Logger,
		Registerer:         o.Registerer,
		FS:                 o.FS,
	}
}
