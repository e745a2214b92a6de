package chunk

import (
	"encoding/binary"
	"fmt"
)

// bitWriter appends a stream of bits to a byte slice, least significant bit
// first: the first bit written is bit 0 of the first byte. Bits collect in a
// 64-bit accumulator and reach dst eight bytes at a time, so a write is a
// shift, an or and (every 64 bits) one append.
type bitWriter struct {
	dst []byte
	acc uint64 // pending bits; the oldest is bit 0
	n   uint   // number of pending bits in acc, always < 64
}

// lowBits returns a mask of the n low bits, n <= 64.
func lowBits(n uint) uint64 {
	// For n == 64 the shift yields 0 and the subtraction wraps to all ones.
	return 1<<n - 1
}

// writeBits writes the n low bits of v, n <= 64. Higher bits of v are ignored.
func (w *bitWriter) writeBits(v uint64, n uint) {
	v &= lowBits(n)
	w.acc |= v << w.n
	free := 64 - w.n
	if n < free {
		w.n += n
		return
	}
	w.dst = binary.LittleEndian.AppendUint64(w.dst, w.acc)
	// free is in 1..64; a shift by 64 yields 0, which is what we want when
	// the accumulator was empty and v filled it exactly.
	w.acc = v >> free
	w.n = n - free
}

// finish appends the pending bits, padded with zero bits to a whole byte, and
// returns dst. The writer must not be used afterwards.
func (w *bitWriter) finish() []byte {
	for w.n > 0 {
		w.dst = append(w.dst, byte(w.acc))
		w.acc >>= 8
		if w.n <= 8 {
			w.n = 0
		} else {
			w.n -= 8
		}
	}
	return w.dst
}

// bitReader reads a stream written by bitWriter. A read past the end of src
// reports failure instead of panicking; the caller turns it into ErrCorrupt.
type bitReader struct {
	src    []byte // bytes not yet loaded into acc
	acc    uint64 // loaded bits not yet read; the next one is bit 0
	n      uint   // number of valid bits in acc
	loaded int    // bytes moved from src into acc so far
}

func newBitReader(src []byte) bitReader {
	return bitReader{src: src}
}

// readBits reads n bits, n <= 64. It returns false if src ends first.
func (r *bitReader) readBits(n uint) (uint64, bool) {
	if n > r.n {
		return r.readSlow(n)
	}
	v := r.acc & (1<<n - 1) // as lowBits, written out to keep this inlinable
	r.acc >>= n             // n == 64 only when r.n == 64; the shift then yields 0
	r.n -= n
	return v, true
}

// readSlow is readBits when acc holds fewer than n bits: it takes what acc
// holds and refills from src.
func (r *bitReader) readSlow(n uint) (uint64, bool) {
	v, have := r.acc, r.n // have < n <= 64
	var next uint64
	var got uint
	if len(r.src) >= 8 {
		next = binary.LittleEndian.Uint64(r.src)
		r.src = r.src[8:]
		r.loaded += 8
		got = 64
	} else {
		for i, b := range r.src {
			next |= uint64(b) << (8 * uint(i))
		}
		got = 8 * uint(len(r.src))
		r.loaded += len(r.src)
		r.src = r.src[len(r.src):]
	}
	rest := n - have
	if rest > got {
		r.acc, r.n = 0, 0
		return 0, false
	}
	v |= (next & lowBits(rest)) << have
	r.acc = next >> rest
	r.n = got - rest
	return v, true
}

// consumed returns how many bytes of the original src hold bits read so far,
// counting a partly read last byte as read: the length of the byte-aligned
// bit stream, which is where the next section of the chunk starts.
func (r *bitReader) consumed() int {
	return r.loaded - int(r.n/8)
}

// zigzag maps signed integers to unsigned ones so that values near zero,
// negative or positive, get small codes: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ...
func zigzag(x int64) uint64 {
	return uint64(x<<1) ^ uint64(x>>63)
}

// unzigzag inverts zigzag.
func unzigzag(u uint64) uint64 {
	return (u >> 1) ^ -(u & 1)
}

// uvarintLen returns the length of binary.AppendUvarint's encoding of x.
func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// varintLen returns the length of binary.AppendVarint's encoding of x.
func varintLen(x int64) int {
	return uvarintLen(zigzag(x))
}

// reader walks the byte-aligned sections of a chunk. Every method checks the
// remaining length and reports ErrCorrupt with the byte offset instead of
// panicking.
type reader struct {
	src []byte
	off int
}

func (r *reader) corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s at byte %d", ErrCorrupt, fmt.Sprintf(format, args...), r.off)
}

func (r *reader) remaining() int {
	return len(r.src) - r.off
}

func (r *reader) byte(what string) (byte, error) {
	if r.off >= len(r.src) {
		return 0, r.corrupt("truncated %s", what)
	}
	b := r.src[r.off]
	r.off++
	return b, nil
}

func (r *reader) uvarint(what string) (uint64, error) {
	x, n := binary.Uvarint(r.src[r.off:])
	if n <= 0 {
		return 0, r.corrupt("bad or truncated %s", what)
	}
	r.off += n
	return x, nil
}

func (r *reader) varint(what string) (int64, error) {
	x, n := binary.Varint(r.src[r.off:])
	if n <= 0 {
		return 0, r.corrupt("bad or truncated %s", what)
	}
	r.off += n
	return x, nil
}

// bits returns a bitReader over the rest of src. After reading, the caller
// passes it to skip to move past the bit stream.
func (r *reader) bits() bitReader {
	return newBitReader(r.src[r.off:])
}

// skip moves past the byte-aligned bit stream read by br.
func (r *reader) skip(br *bitReader) {
	r.off += br.consumed()
}
