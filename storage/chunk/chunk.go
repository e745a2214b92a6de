package chunk

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// MaxSamples is the most samples one chunk may hold: 65535, the count
// Prometheus chunks are limited to as well. It bounds what Decode
// allocates for any input to MaxSamples timestamps, values and start
// timestamps (about 1.5 MiB).
const MaxSamples = 1<<16 - 1

// scratchLen is how many integers of working memory Append keeps on the
// stack; longer chunks take it from the heap.
const scratchLen = 512

// formatVersion is the first byte of every chunk.
const formatVersion = 1

// Header flag bits; see doc.go.
const (
	flagsTSMask         = 0b11
	flagsValuesShift    = 2
	flagsValuesMask     = 0b111 << flagsValuesShift
	flagStartTimestamps = 1 << 5
	flagsReserved       = 0b11 << 6
)

// Info is what a chunk's header says, readable without decoding the
// columns.
type Info struct {
	// Count is the number of samples, 1 <= Count <= MaxSamples.
	Count int
	// MinT and MaxT are the first and last timestamps.
	MinT, MaxT int64
	// Values is the codec of the value column.
	Values ValueCodec
	// HasStartTimestamps says whether the chunk has a start-timestamp column.
	HasStartTimestamps bool
}

// header is the decoded header of a chunk.
type header struct {
	count      int
	mint, maxt int64
	ts         tsCodec
	values     ValueCodec
	hasST      bool
}

// Append appends the encoding of the samples to dst and returns the
// extended slice.
//
// ts must be strictly increasing, len(vs) == len(ts) and 1 <= len(ts) <=
// MaxSamples. sts is the optional start-timestamp column (0 means unknown):
// nil when the series has none, otherwise of length len(ts). Every float64
// is kept bit-exactly, NaN payloads included.
//
// Bad input returns dst unchanged and an error wrapping ErrInvalidInput.
// Append does not retain ts, vs or sts. Beyond growing dst it allocates
// working memory only for chunks of more than 512 samples.
func Append(dst []byte, ts []int64, vs []float64, sts []int64) ([]byte, error) {
	if err := checkInput(ts, vs, sts); err != nil {
		return dst, err
	}
	start, n := len(dst), len(ts)
	dst = append(dst, formatVersion, 0) // the flags are patched in below
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = binary.AppendVarint(dst, ts[0])
	dst = binary.AppendUvarint(dst, uint64(ts[n-1])-uint64(ts[0]))
	var scratch [scratchLen]uint64
	dst, tc := appendTimestamps(dst, ts, scratch[:0])
	dst, vc := appendValues(dst, vs, scratch[:0])
	flags := byte(tc) | byte(vc)<<flagsValuesShift
	if sts != nil {
		flags |= flagStartTimestamps
		dst = appendStartTimestamps(dst, ts, sts, scratch[:0])
	}
	dst[start+1] = flags
	if invariants {
		checkRoundTrip(dst[start:], ts, vs, sts)
	}
	return dst, nil
}

// checkInput validates Append's arguments.
func checkInput(ts []int64, vs []float64, sts []int64) error {
	n := len(ts)
	switch {
	case n == 0:
		return fmt.Errorf("%w: no samples", ErrInvalidInput)
	case n > MaxSamples:
		return fmt.Errorf("%w: %d samples, at most %d fit a chunk", ErrInvalidInput, n, MaxSamples)
	case len(vs) != n:
		return fmt.Errorf("%w: %d timestamps but %d values", ErrInvalidInput, n, len(vs))
	case sts != nil && len(sts) != n:
		return fmt.Errorf("%w: %d timestamps but %d start timestamps", ErrInvalidInput, n, len(sts))
	}
	for i := 1; i < n; i++ {
		if ts[i] <= ts[i-1] {
			return fmt.Errorf("%w: timestamps not strictly increasing: ts[%d]=%d after ts[%d]=%d",
				ErrInvalidInput, i, ts[i], i-1, ts[i-1])
		}
	}
	return nil
}

// Decode appends the decoded columns of the chunk in src to ts, vs and sts
// and returns them. sts is returned unchanged when the chunk has no
// start-timestamp column. Decode does not retain src.
//
// Corrupt or truncated input, including trailing bytes after the chunk,
// returns an error wrapping ErrCorrupt and ts, vs and sts as passed in
// (their spare capacity may have been written to). Decode never panics and allocates at most room for
// MaxSamples samples per column, only once the header is valid.
func Decode(src []byte, ts []int64, vs []float64, sts []int64) ([]int64, []float64, []int64, error) {
	r := reader{src: src}
	h, err := readHeader(&r)
	if err != nil {
		return ts, vs, sts, err
	}
	n, ts0, vs0, sts0 := h.count, len(ts), len(vs), len(sts)
	gts := slices.Grow(ts, n)[:ts0+n]
	gvs := slices.Grow(vs, n)[:vs0+n]
	gsts := sts
	if h.hasST {
		gsts = slices.Grow(sts, n)[:sts0+n]
	}
	err = decodeTimestamps(&r, &h, gts[ts0:])
	if err == nil {
		err = decodeValues(&r, h.values, gvs[vs0:])
	}
	if err == nil && h.hasST {
		err = decodeStartTimestamps(&r, gts[ts0:], gsts[sts0:])
	}
	if err == nil && r.off != len(src) {
		err = r.corrupt("%d trailing bytes", len(src)-r.off)
	}
	if err != nil {
		return ts, vs, sts, err
	}
	return gts, gvs, gsts, nil
}

// ReadInfo returns what the header of the chunk in src says. It reads only
// the header, so it does not notice corruption in the columns; Decode does.
func ReadInfo(src []byte) (Info, error) {
	r := reader{src: src}
	h, err := readHeader(&r)
	if err != nil {
		return Info{}, err
	}
	return Info{Count: h.count, MinT: h.mint, MaxT: h.maxt, Values: h.values, HasStartTimestamps: h.hasST}, nil
}

// readHeader reads and validates the header.
func readHeader(r *reader) (header, error) {
	var h header
	v, err := r.byte("version")
	if err != nil {
		return h, err
	}
	if v != formatVersion {
		return h, r.corrupt("unknown format version %d", v)
	}
	flags, err := r.byte("flags")
	if err != nil {
		return h, err
	}
	h.ts = tsCodec(flags & flagsTSMask)
	h.values = ValueCodec((flags & flagsValuesMask) >> flagsValuesShift)
	h.hasST = flags&flagStartTimestamps != 0
	if flags&flagsReserved != 0 || !h.values.valid() {
		return h, r.corrupt("bad flags %#x", flags)
	}
	count, err := r.uvarint("sample count")
	if err != nil {
		return h, err
	}
	if count < 1 || count > MaxSamples {
		return h, r.corrupt("sample count %d not in [1, %d]", count, MaxSamples)
	}
	h.count = int(count)
	if h.mint, err = r.varint("mint"); err != nil {
		return h, err
	}
	span, err := r.uvarint("time span")
	if err != nil {
		return h, err
	}
	h.maxt = int64(uint64(h.mint) + span)
	switch {
	case h.count == 1 && (span != 0 || h.ts != tsRegular):
		return h, r.corrupt("single sample with time span %d and timestamp codec %d", span, h.ts)
	case h.count > 1 && (span == 0 || h.maxt < h.mint):
		return h, r.corrupt("time span %d from mint %d", span, h.mint)
	case span > 0 && span < count-1:
		return h, r.corrupt("time span %d too short for %d strictly increasing timestamps", span, count)
	}
	return h, nil
}

// checkRoundTrip decodes a chunk Append just wrote and panics unless it
// holds exactly the input: a broken invariant, so a bug in this package.
// It runs only when invariants are on (-race or -tags invariants).
func checkRoundTrip(src []byte, ts []int64, vs []float64, sts []int64) {
	gts, gvs, gsts, err := Decode(src, nil, nil, nil)
	if err != nil {
		panic(fmt.Sprintf("chunk: decoding a chunk just encoded: %v", err))
	}
	if !slices.Equal(gts, ts) || !slices.Equal(gsts, sts) || (sts == nil) != (gsts == nil) {
		panic("chunk: timestamps or start timestamps did not round-trip")
	}
	for i, v := range vs {
		if math.Float64bits(gvs[i]) != math.Float64bits(v) {
			panic(fmt.Sprintf("chunk: value %d did not round-trip: %#x became %#x",
				i, math.Float64bits(v), math.Float64bits(gvs[i])))
		}
	}
}
