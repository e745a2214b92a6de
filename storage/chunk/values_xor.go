package chunk

import (
	"math"
	"math/bits"
)

// XOR coding (Gorilla, Pelkonen et al. 2015) for values that are not
// decimals: each value's bits are XORed with the previous value's and only
// the span of bits that differ is stored. The first value is 64 raw bits;
// then, per value, with bits read in stream order:
//
//	0                               same bits as the previous value
//	1 0 + payload                   XOR fits the current window: payload is
//	                                64-lead-trail bits, XOR >> trail
//	1 1 + lead(5) + sig-1(6) + payload
//	                                new window: lead leading zero bits (at
//	                                most 31), sig significant bits, payload
//	                                is sig bits, XOR >> (64-lead-sig)
//
// Unlike Gorilla, a value opens a new window when reusing the current one
// would waste more bits than the 11-bit window description costs.
//
// The same stream codes the exceptions of the decimal codec.

// xorNewWindowBits is how many more bits a new window costs than reusing
// the current one, not counting the payloads.
const xorNewWindowBits = 11

// xorEncoder holds the state between values.
type xorEncoder struct {
	prev        uint64
	lead, trail uint8
	window      bool
}

// code returns the control bits and payload that code v after the previous
// value, and makes v the previous value.
func (s *xorEncoder) code(v uint64) (ctrl uint64, ctrlBits uint, payload uint64, payloadBits uint) {
	x := v ^ s.prev
	s.prev = v
	if x == 0 {
		return 0, 1, 0, 0
	}
	lead := uint8(min(bits.LeadingZeros64(x), 31))
	trail := uint8(bits.TrailingZeros64(x))
	if s.window && lead >= s.lead && trail >= s.trail && (lead-s.lead)+(trail-s.trail) <= xorNewWindowBits {
		return 0b01, 2, x >> s.trail, uint(64 - s.lead - s.trail)
	}
	s.lead, s.trail, s.window = lead, trail, true
	sig := 64 - lead - trail
	return 0b11 | uint64(lead)<<2 | uint64(sig-1)<<7, 13, x >> trail, uint(sig)
}

// first starts a stream with v.
func (s *xorEncoder) first(v uint64) {
	*s = xorEncoder{prev: v}
}

// xorBits returns the size in bits of the XOR stream of vs, len(vs) >= 1.
func xorBits(vs []float64) int {
	var s xorEncoder
	s.first(math.Float64bits(vs[0]))
	n := 64
	for _, v := range vs[1:] {
		_, cb, _, pb := s.code(math.Float64bits(v))
		n += int(cb + pb)
	}
	return n
}

// appendXOR appends the XOR stream of vs, len(vs) >= 1.
func appendXOR(dst []byte, vs []float64) []byte {
	w := bitWriter{dst: dst}
	var s xorEncoder
	b := math.Float64bits(vs[0])
	s.first(b)
	w.writeBits(b, 64)
	for _, v := range vs[1:] {
		ctrl, cb, payload, pb := s.code(math.Float64bits(v))
		w.writeBits(ctrl, cb)
		w.writeBits(payload, pb)
	}
	return w.finish()
}

// xorDecoder is the reading side of xorEncoder.
type xorDecoder struct {
	prev        uint64
	lead, trail uint
	window      bool
}

// first reads the raw first value.
func (s *xorDecoder) first(br *bitReader) (uint64, bool) {
	*s = xorDecoder{}
	v, ok := br.readBits(64)
	s.prev = v
	return v, ok
}

// next reads the next value. It returns false on a truncated or invalid
// stream.
func (s *xorDecoder) next(br *bitReader) (uint64, bool) {
	b, ok := br.readBits(1)
	if !ok {
		return 0, false
	}
	if b == 0 {
		return s.prev, true
	}
	if b, ok = br.readBits(1); !ok {
		return 0, false
	}
	if b == 1 {
		h, ok := br.readBits(11)
		if !ok {
			return 0, false
		}
		lead, sig := uint(h&31), uint(h>>5)+1
		if lead+sig > 64 {
			return 0, false
		}
		s.lead, s.trail, s.window = lead, 64-lead-sig, true
	} else if !s.window {
		return 0, false
	}
	payload, ok := br.readBits(64 - s.lead - s.trail)
	if !ok {
		return 0, false
	}
	s.prev ^= payload << s.trail
	return s.prev, true
}

// decodeXOR decodes len(dst) values of an XOR stream into dst.
func decodeXOR(r *reader, dst []float64) error {
	br := r.bits()
	var s xorDecoder
	v, ok := s.first(&br)
	if !ok {
		return r.corrupt("truncated xor stream")
	}
	dst[0] = math.Float64frombits(v)
	for i := 1; i < len(dst); i++ {
		if v, ok = s.next(&br); !ok {
			return r.corrupt("bad or truncated xor stream at value %d", i)
		}
		dst[i] = math.Float64frombits(v)
	}
	r.skip(&br)
	return nil
}
