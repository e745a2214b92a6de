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
// It also reads the text import formats users already have, each into the
// same Request: the Prometheus text exposition format and OpenMetrics
// (DecodePrometheus, with Prometheus's own parser), InfluxDB line protocol
// (DecodeInflux), VictoriaMetrics's JSON lines (DecodeVMJSON) and CSV
// (DecodeCSV with a ParseCSVFormat spec). ReadBody reads and decompresses
// an import (or OTLP) body within a size limit: gzip, zstd, snappy framed
// or block. A line of a text
// body that cannot be parsed does not stop the others: it is listed in
// Request.Invalid as a *LineError naming its line (and column where one
// helps), and values the format carries but almanac does not store
// (exemplars, string fields) are counted in Request.Ignored.
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
