// Package ingest decodes write requests from outside almanac into batches
// of series and samples.
//
// It reads Prometheus remote write 1.0 (a snappy-compressed
// prometheus.WriteRequest) and 2.0 (a snappy-compressed
// io.prometheus.write.v2.Request, whose labels are references into a
// symbols table and whose samples may carry start timestamps). ReadRemoteWrite
// reads and decompresses a body within a size limit; DecodeWriteV1 and
// DecodeWriteV2 decode an uncompressed message.
//
// The main types are Request (what a decoded request holds), Series and
// Sample. ingest imports nothing of almanac: it checks the structure of a
// request (sizes, compression, protobuf framing, symbol references) and
// leaves the meaning of labels and timestamps (valid names, retention,
// order) to whoever stores the batch.
//
// What ingest cannot turn into float samples is not dropped silently: a part
// of a request it refuses while decoding the rest (a native histogram, a
// series whose label references are out of range) is listed in
// Request.Dropped as a *SeriesError, so the caller can store the rest and
// tell the sender what was refused.
//
// Decoders return errors, never panic, on any input; they are fuzzed. They
// are safe for concurrent use: they keep no state between calls. A returned
// Request owns its memory; nothing in it aliases the input.
package ingest
