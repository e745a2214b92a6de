package chunk

// tsCodec says how the timestamp column is stored; it sits in bits 0-1 of
// the header flags.
type tsCodec uint8

const (
	// tsRegular: all deltas are equal. Nothing is stored: the header's
	// count, mint and maxt give t_i = mint + i*(maxt-mint)/(count-1).
	tsRegular tsCodec = 0
	// tsDelta: an integer sequence of kind seqDelta after t_0 = mint.
	tsDelta tsCodec = 1
	// tsDoD: an integer sequence of kind seqDoD after t_0 = mint.
	tsDoD tsCodec = 2
)

// isRegular reports whether all deltas of ts are equal.
func isRegular(ts []int64) bool {
	if len(ts) <= 2 {
		return true
	}
	d := uint64(ts[1]) - uint64(ts[0])
	for i := 2; i < len(ts); i++ {
		if uint64(ts[i])-uint64(ts[i-1]) != d {
			return false
		}
	}
	return true
}

// appendTimestamps appends the timestamp column of ts, which the caller has
// checked to be strictly increasing.
func appendTimestamps(dst []byte, ts []int64) ([]byte, tsCodec) {
	if isRegular(ts) {
		return dst, tsRegular
	}
	p := planSeq(ts)
	return appendSeq(dst, ts, &p), tsDelta + tsCodec(p.kind)
}

// decodeTimestamps decodes the timestamp column into dst, len(dst) ==
// h.count, and checks that the timestamps strictly increase from h.mint to
// h.maxt, so that decoded columns are always valid input to Append.
func decodeTimestamps(r *reader, h *header, dst []int64) error {
	n := len(dst)
	dst[0] = h.mint
	if n == 1 {
		return nil
	}
	if h.ts == tsRegular {
		span := uint64(h.maxt) - uint64(h.mint)
		steps := uint64(n - 1)
		if span%steps != 0 {
			return r.corrupt("regular timestamps: span %d not divisible into %d steps", span, steps)
		}
		step, t := span/steps, uint64(h.mint)
		for i := range dst {
			dst[i] = int64(t)
			t += step
		}
		return nil
	}
	var s seqReader
	if err := s.init(r, seqKind(h.ts-tsDelta), h.mint, n); err != nil {
		return err
	}
	if !s.read(dst[1:]) {
		return r.corrupt("truncated timestamp column")
	}
	s.skip(r)
	for i := 1; i < n; i++ {
		if dst[i] <= dst[i-1] {
			return r.corrupt("timestamp %d at index %d not after %d", dst[i], i, dst[i-1])
		}
	}
	if dst[n-1] != h.maxt {
		return r.corrupt("last timestamp %d, header says maxt %d", dst[n-1], h.maxt)
	}
	return nil
}
