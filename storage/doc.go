// Package storage is almanac's storage engine: one pebble database per data
// directory holding a series registry, a label index of roaring bitmaps,
// columnar chunks and a head log, plus an in-memory head of recent samples.
//
// # Write path
//
// Append validates a whole batch first (labels, timestamps, retention, the
// out-of-order window, duplicates) and rejects it whole, storing nothing,
// if anything is wrong. An accepted batch becomes one pebble batch: new
// series keys and postings merges, any chunks the batch completed, and one
// head log record with all its samples. Batches are applied to pebble in
// order under one mutex; the fsync is awaited after the mutex is released,
// so concurrent appends share one. Append returns only after it (unless
// Options.NoSync), so an Append that returned nil survives a crash:
// pebble's WAL is our durability, there is no second log. AppendValid is
// the same, but stores the valid part of a batch and reports the rest.
//
// The head keeps each active series' open chunk compressed in memory. A
// chunk is cut when it holds Options.ChunkSamples samples or a sample of the
// next day arrives (chunks never span days, so retention can drop days).
// A checkpoint (every CheckpointInterval, every CheckpointBytes of log, at
// Open and at Close) writes every open chunk as a partial chunk under the
// key its full version will later overwrite, merges out-of-order buffers
// into the chunks on disk, and deletes the head log in the same batch.
//
// # Order and duplicates
//
// A sample newer than its series' newest is appended. An older one is
// accepted if it is within Options.OutOfOrderWindow of the newest: inside
// the open chunk's range the chunk is re-encoded with it; older, it waits in
// a per-series buffer and is merged into the chunks on disk, which are
// rewritten so that a series' chunks never overlap in time. A sample whose
// timestamp is already stored with the same value bits is an exact duplicate
// and is dropped (counted); with different bits it is a conflicting
// duplicate and rejects its batch with ErrDuplicateSample: the first
// accepted value always stays.
//
// # Key space
//
// Every key starts with a prefix byte; fixed-width fields are big-endian,
// signed ones with the sign bit flipped, so byte order is scan order.
//
//	'v' "format"                     → version byte (1)
//	'h' hash:8 sid:4                 → ∅            labels hash → series id
//	's' sid:4                        → label set    (uvarint n, n × (len name, len value))
//	'p' uvarint(len n) n v           → roaring      all-time postings of label n=v
//	'p' 0x00                         → roaring      every series
//	'd' day:4 uvarint(len n) n v     → roaring      postings of series with samples that day
//	'c' day:4 sid:4 mint:8           → chunk        storage/chunk format
//	'm' sid:4                        → t:8          the series' newest timestamp at its last chunk write
//	'l' seq:8                        → log record   samples of one acknowledged batch
//
// Postings are only ever extended with pebble Merge operations of a one-bit
// bitmap, unioned by postingsMerger; nothing reads a bitmap to modify it.
// Hash collisions are resolved by comparing label sets.
//
// # Reads
//
// Select evaluates matchers on the postings (per-day postings when the range
// spans at most a week, all-time postings otherwise), then, under the head
// lock, takes a pebble snapshot and a copy of the selected series' head
// state, so chunks and head describe one moment. Series are decoded one at
// a time as the caller iterates.
//
// # Concurrency
//
// DB is safe for concurrent use. Appends and checkpoints are serialised;
// queries share a read lock only while they copy head state.
package storage
