package storage

import (
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a DB. The zero value of every field means its default;
// ensureDefaults fills them in.
type Options struct {
	// Retention is how long samples are kept, counted back from the clock.
	// Whole days older than that are deleted. Default 30 days; negative keeps
	// everything forever.
	Retention time.Duration
	// OutOfOrderWindow is how far behind its series' newest sample a sample
	// may be and still be accepted. Default 1h; negative accepts any age
	// inside retention.
	OutOfOrderWindow time.Duration
	// MaxFutureSkew is how far ahead of the clock a sample may be. Default 1h.
	MaxFutureSkew time.Duration
	// NoSync acknowledges appends once they are in pebble's WAL buffer,
	// without waiting for fsync. Much faster; a machine crash (not a process
	// crash) may lose the last acknowledged batches.
	NoSync bool

	MaxLabelNameBytes  int // default 1024
	MaxLabelValueBytes int // default 16384
	MaxLabelsPerSeries int // default 128

	// ChunkSamples is how many samples the head collects per series before
	// it writes them as a chunk. Default 120 (30 minutes of 15 s scrapes).
	ChunkSamples int
	// CheckpointBytes of head log written since the last checkpoint trigger
	// one: the head's open chunks are written and the log is truncated, which
	// bounds restart time. Default 128 MiB (about 10M samples to replay).
	CheckpointBytes int64
	// CheckpointInterval triggers a checkpoint at least this often. Default 5m.
	CheckpointInterval time.Duration
	// IdleSeriesTimeout: at a checkpoint, a series whose newest sample is
	// older than this (by the clock) leaves memory. Default 1h.
	IdleSeriesTimeout time.Duration

	// CacheBytes is pebble's block cache size. Default 64 MiB.
	CacheBytes int64

	Logger     *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: no metrics registered
	FS         vfs.FS                // nil: the OS file system; tests pass vfs.NewMem()

	// Now is the clock; nil means time.Now. Tests set it to move time.
	Now func() time.Time
}

func (o Options) ensureDefaults() Options {
	if o.Retention == 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	if o.OutOfOrderWindow == 0 {
		o.OutOfOrderWindow = time.Hour
	}
	if o.MaxFutureSkew == 0 {
		o.MaxFutureSkew = time.Hour
	}
	if o.MaxLabelNameBytes == 0 {
		o.MaxLabelNameBytes = 1024
	}
	if o.MaxLabelValueBytes == 0 {
		o.MaxLabelValueBytes = 16 * 1024
	}
	if o.MaxLabelsPerSeries == 0 {
		o.MaxLabelsPerSeries = 128
	}
	if o.ChunkSamples <= 0 {
		o.ChunkSamples = 120
	}
	if o.CheckpointBytes <= 0 {
		o.CheckpointBytes = 128 << 20
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = 5 * time.Minute
	}
	if o.IdleSeriesTimeout <= 0 {
		o.IdleSeriesTimeout = time.Hour
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
