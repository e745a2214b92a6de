// Package chunk is the columnar codec for one series' samples over a time
// span: a timestamp column, a value column and an optional start-timestamp
// column, encoded together into one byte slice.
//
// It is pure: no I/O, no pebble, no globals. Append encodes, Decode decodes
// whole columns into caller-owned slices, ReadInfo reads only the header.
// The functions are safe for concurrent use; they share no state.
//
// Encoding is lossless: every float64 comes back bit-exactly, NaN payloads
// (the Prometheus stale marker 0x7ff0000000000002 among them), ±Inf, -0 and
// denormals included. The package does not cut series into chunks, merge
// out-of-order samples, or compress blocks of chunks; its callers do.
//
// # Format, version 1
//
// A chunk is a header and two or three columns, each starting on a byte
// boundary. Varints are encoding/binary's (uvarint; varint is zigzag);
// bit streams are packed least significant bit first and padded with zero
// bits to a byte. All integer arithmetic is modulo 2^64, so every int64
// sequence round-trips, however large its deltas.
//
//	+---------+-------+-----------+-----------+------------------+
//	| version | flags | count     | mint      | maxt - mint      |  header
//	| 1 byte  | 1 byte| uvarint   | varint    | uvarint          |
//	+---------+-------+-----------+-----------+------------------+
//	| timestamp column                                           |
//	+------------------------------------------------------------+
//	| value column                                               |
//	+------------------------------------------------------------+
//	| start-timestamp column            (only if flags bit 5)    |
//	+------------------------------------------------------------+
//
//	flags:  bit  7 6 | 5  | 4 3 2        | 1 0
//	             0 0 | st | value codec  | timestamp codec
//
// version (1) lets a later format be told apart. The header carries count,
// mint and maxt so that ReadInfo and a query planner can skip a chunk
// without touching its columns, and so that the timestamp column need not
// store what the header already says. The flags say how each column is
// coded; the reserved bits must be zero.
//
// Timestamp column (timestamps.go), one of:
//
//	0 regular: nothing. All deltas are equal, so t_i = mint +
//	  i*(maxt-mint)/(count-1): a chunk of regular scrapes spends no bits
//	  per sample on time.
//	1 delta, 2 delta-of-delta: the integer sequence t_1..t_(count-1) after
//	  t_0 = mint (intseq.go): a varint parameter, then a packed stream of
//	  zigzag(d_i - base), base near the median delta, or of
//	  zigzag(d_i - d_(i-1)).
//	3 grid: step, center, then a packed stream of each timestamp's offset
//	  from a grid of scrape times that moves on by whole steps after a
//	  missed scrape. Independent jitter of ±j ms costs about log2(2j+1)
//	  bits a sample, a bit less than deltas, which spread over twice that.
//
// Append writes the smallest. A packed stream (packed.go) writes each
// value either in the smallest of up to three bit widths chosen per
// stream, after a 0/10/11 prefix, or in one width w0 with the few values
// that do not fit patched afterwards by position. Either way a rare
// outlier (a missed scrape, a counter reset) does not widen every sample:
//
//	+--------+---------+-----+-----+-------------------------------+
//	| levels | w0      | w1? | w2? | prefix+value, prefix+value... |
//	| 1 byte | 1 byte  |     |     | bit stream                    |
//	+--------+---------+-----+-----+-------------------------------+
//	| 4      | w0      | k   | n values of w0 bits | k patches:   |
//	| 1 byte | 1 byte  | uv. | bit stream          | gap, high    |
//	+--------+---------+-----+---------------------+--------------+
//
// Value column, one of (values.go):
//
//	1 const:   uvarint of the value's byte-reversed bits; all values are
//	           bit-identical.
//	2 decimal: values v = float64(x)/10^e, one e in [0, 18] per chunk,
//	           |x| < 2^53 (values_decimal.go):
//	           +-------------+---------+-----+----------+------+-----------+
//	           | e | kind    | k       | x_0 | sequence | gaps | xor       |
//	           | 1 byte      | uvarint |     | x_1..    |      | k values  |
//	           +-------------+---------+-----+----------+------+-----------+
//	           the k exceptions (stale markers, NaN, ±Inf, -0, longer
//	           decimals) are stored by position and XOR-coded bits, so they
//	           do not force the chunk out of the decimal codec.
//	3 xor:     Gorilla XOR coding of the value bits (values_xor.go).
//
// Append sizes the decimal and XOR codings without writing either
// (exactly, but for a bound on the gap lengths of patched streams) and
// writes the smaller; a constant column always takes const.
//
// Start-timestamp column (starttimestamps.go): a mode byte, then a varint
// when st is constant over the chunk, a varint st_0 when st_i = t_(i-1)
// for every later sample, or else one packed 2-bit-or-less tag per sample
// (same as before, previous t, 0, explicit) followed by a varint
// st_i - t_i per explicit tag. A chunk without start timestamps spends
// only the flag bit on them.
package chunk
