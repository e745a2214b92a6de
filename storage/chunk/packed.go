package chunk

import (
	"encoding/binary"
	"math/bits"
)

// A packed stream holds a known number n of unsigned integers (zig-zagged
// deltas and offsets, tags) in one of two layouts, chosen per stream from a
// histogram of the values' bit lengths:
//
// Levels: up to three bit widths w0 < w1 < w2. Each value is written in the
// smallest width it fits, after a truncated-unary prefix naming the width:
//
//	levels=1: w0 bits, no prefix (plain frame of reference)
//	levels=2: 0 + w0 bits | 1 + w1 bits
//	levels=3: 0 + w0 bits | 10 + w1 bits | 11 + w2 bits
//
// Patched: every value is written in w0 bits, and the few values that do
// not fit are patched afterwards: a list of their positions and the bits
// above w0. No value pays a prefix bit for the rare outlier (a missed
// scrape, a counter reset), which makes this the layout of choice when
// outliers are rarer than about one in twenty.
//
//	+-------+----+---------+---------------------+----------------------+
//	| 4     | w0 | k       | n values of w0 bits | k x (gap, high bits) |
//	| byte  |byte| uvarint | ceil(n*w0/8) bytes  | uvarint, uvarint     |
//	+-------+----+---------+---------------------+----------------------+
//
// gap is p_0, then p_j - p_(j-1) - 1; high is value >> w0.
//
// Levels streams start with a byte holding levels (1..3) and one byte per
// width (0..64, strictly increasing). Bit streams end on a byte boundary.

const (
	maxLevels   = 3
	patchedKind = 4 // the header byte of a patched stream
)

// widthHist counts values by bit length (bits.Len64): index 0 counts zeros,
// index 64 values with the top bit set.
type widthHist [65]int32

func (h *widthHist) add(u uint64) {
	h[bits.Len64(u)]++
}

// packPlan is the layout of one packed stream.
type packPlan struct {
	levels  int // 1..3, or 0 when patched
	widths  [maxLevels]uint8
	patches int // patched: the number of values wider than widths[0]
}

// planPack returns the cheapest plan for the n values counted in h and the
// size of the stream in bytes, header included: exact for levels, an upper
// bound for patched streams, whose gap lengths depend on the positions of
// the patches. n must be > 0.
func planPack(h *widthHist, n int) (packPlan, int) {
	// ws lists the bit lengths that occur, cum[i] counts values of length <= ws[i].
	var ws [65]uint8
	var cum [65]int
	d, c := 0, 0
	for w, k := range h {
		if k == 0 {
			continue
		}
		c += int(k)
		ws[d], cum[d] = uint8(w), c
		d++
	}
	maxW := int(ws[d-1])

	best := packPlan{levels: 1, widths: [maxLevels]uint8{uint8(maxW)}}
	bestBytes := 2 + (n*maxW+7)/8
	for i := 0; i < d-1; i++ {
		w0, c0 := int(ws[i]), cum[i]
		nbits := c0*(1+w0) + (n-c0)*(1+maxW)
		if b := 3 + (nbits+7)/8; b < bestBytes {
			best = packPlan{levels: 2, widths: [maxLevels]uint8{uint8(w0), uint8(maxW)}}
			bestBytes = b
		}
		for j := i + 1; j < d-1; j++ {
			w1, c1 := int(ws[j]), cum[j]
			nbits := c0*(1+w0) + (c1-c0)*(2+w1) + (n-c1)*(2+maxW)
			if b := 4 + (nbits+7)/8; b < bestBytes {
				best = packPlan{levels: 3, widths: [maxLevels]uint8{uint8(w0), uint8(w1), uint8(maxW)}}
				bestBytes = b
			}
		}
		// Patched at w0: every high part of a value of width w has
		// exactly w-w0 bits, so only the gaps are bounded, not counted.
		k := n - c0
		b := 2 + uvarintLen(uint64(k)) + (n*w0+7)/8 + patchGapBound(k, n)
		for j := i + 1; j < d; j++ {
			b += int(h[ws[j]]) * ((int(ws[j]) - w0 + 6) / 7)
		}
		if b < bestBytes {
			best = packPlan{widths: [maxLevels]uint8{uint8(w0)}, patches: k}
			bestBytes = b
		}
	}
	return best, bestBytes
}

// patchGapBound bounds the bytes of k gap uvarints between positions < n:
// the gaps sum to less than n, so at most n>>7 of them take two bytes or
// more, and at most n>>14 three.
func patchGapBound(k, n int) int {
	return k + min(k, n>>7) + min(k, n>>14)
}

// appendPacked appends vals packed as planned; p must come from planPack
// for a histogram of vals.
func appendPacked(dst []byte, p *packPlan, vals []uint64) []byte {
	if p.levels == 0 {
		dst = append(dst, patchedKind, p.widths[0])
		dst = binary.AppendUvarint(dst, uint64(p.patches))
	} else {
		dst = append(dst, byte(p.levels))
		dst = append(dst, p.widths[:p.levels]...)
	}
	w := bitWriter{dst: dst}
	w0, w1 := uint(p.widths[0]), uint(p.widths[1])
	switch p.levels {
	case 0, 1:
		for _, u := range vals {
			w.writeBits(u, w0) // patched: the bits above w0 follow below
		}
	case 2:
		for _, u := range vals {
			if uint(bits.Len64(u)) <= w0 {
				w.writeBits(u<<1, w0+1) // prefix 0; w0 < 64
			} else {
				w.writeBits(1, 1)
				w.writeBits(u, w1)
			}
		}
	default:
		for _, u := range vals {
			switch n := uint(bits.Len64(u)); {
			case n <= w0:
				w.writeBits(u<<1, w0+1)
			case n <= w1:
				w.writeBits(0b01, 2)
				w.writeBits(u, w1)
			default:
				w.writeBits(0b11, 2)
				w.writeBits(u, uint(p.widths[2]))
			}
		}
	}
	dst = w.finish()
	if p.levels == 0 {
		last := -1
		for i, u := range vals {
			if uint(bits.Len64(u)) > w0 {
				dst = binary.AppendUvarint(dst, uint64(i-last-1))
				dst = binary.AppendUvarint(dst, u>>w0)
				last = i
			}
		}
	}
	return dst
}

// packReader reads a packed stream of n values in one or more batches.
type packReader struct {
	plan packPlan
	br   bitReader
	n, i int // values in the stream, values read so far
	// Patched streams only:
	patches  reader // the list of patches, positioned at the next one
	left     int    // patches not yet applied
	nextPos  int    // position of the next patch
	nextHigh uint64 // its bits above w0
}

// init reads the header of a stream of n > 0 values at r.
func (pr *packReader) init(r *reader, n int) error {
	*pr = packReader{n: n}
	kind, err := r.byte("packed stream header")
	if err != nil {
		return err
	}
	switch {
	case kind == patchedKind:
		w0, err := r.byte("packed stream width")
		if err != nil {
			return err
		}
		k, err := r.uvarint("patch count")
		if err != nil {
			return err
		}
		if w0 > 64 || k > uint64(n) {
			return r.corrupt("patched stream of width %d with %d patches for %d values", w0, k, n)
		}
		bitBytes := (n*int(w0) + 7) / 8
		if bitBytes > r.remaining() {
			return r.corrupt("truncated packed stream")
		}
		pr.plan = packPlan{widths: [maxLevels]uint8{w0}, patches: int(k)}
		pr.br = r.bits()
		pr.patches = reader{src: r.src, off: r.off + bitBytes}
		pr.left, pr.nextPos = int(k), -1
		return pr.nextPatch()
	case kind >= 1 && kind <= maxLevels:
		pr.plan.levels = int(kind)
		for i := range pr.plan.levels {
			w, err := r.byte("packed stream width")
			if err != nil {
				return err
			}
			if w > 64 || (i > 0 && w <= pr.plan.widths[i-1]) {
				return r.corrupt("packed stream width %d not in order or above 64", w)
			}
			pr.plan.widths[i] = w
		}
		pr.br = r.bits()
		return nil
	}
	return r.corrupt("packed stream with %d levels", kind)
}

// nextPatch loads the next patch, if any is left, checking that it lies
// after the previous one and inside the stream, and that its high bits fit.
func (pr *packReader) nextPatch() error {
	if pr.left == 0 {
		return nil
	}
	gap, err := pr.patches.uvarint("patch position")
	if err != nil {
		return err
	}
	if gap >= uint64(pr.n-pr.nextPos-1) {
		return pr.patches.corrupt("patch position beyond %d values", pr.n)
	}
	high, err := pr.patches.uvarint("patch value")
	if err != nil {
		return err
	}
	if w0 := pr.plan.widths[0]; w0 > 0 && high>>(64-w0) != 0 {
		return pr.patches.corrupt("patch value %#x does not fit above %d bits", high, w0)
	}
	pr.nextPos += int(gap) + 1
	pr.nextHigh = high
	pr.left--
	return nil
}

// read reads the next len(dst) values into dst (as the bits of int64s,
// which is what every caller transforms them into). It returns false if
// the stream ends first or a patch is invalid.
func (pr *packReader) read(dst []int64) bool {
	if len(dst) > pr.n-pr.i || !unpack(&pr.br, &pr.plan, dst) {
		return false
	}
	if pr.plan.levels == 0 {
		w0, end := pr.plan.widths[0], pr.i+len(dst)
		for pr.nextPos >= 0 && pr.nextPos < end {
			dst[pr.nextPos-pr.i] |= int64(pr.nextHigh << w0)
			if pr.left == 0 {
				pr.nextPos = -1
			} else if pr.nextPatch() != nil {
				return false
			}
		}
	}
	pr.i += len(dst)
	return true
}

// finish moves r past the stream, which must have been read to the end.
func (pr *packReader) finish(r *reader) error {
	if pr.i != pr.n {
		return r.corrupt("packed stream read %d of %d values", pr.i, pr.n)
	}
	if pr.plan.levels == 0 {
		r.off = pr.patches.off
		return nil
	}
	r.skip(&pr.br)
	return nil
}

// unpack reads len(dst) values of a levels stream, or the low w0 bits of a
// patched one, into dst. It returns false if the stream ends first.
func unpack(r *bitReader, p *packPlan, dst []int64) bool {
	w0 := uint(p.widths[0])
	switch p.levels {
	case 0, 1:
		if w0 == 0 {
			clear(dst)
			return true
		}
		for i := range dst {
			u, ok := r.readBits(w0)
			if !ok {
				return false
			}
			dst[i] = int64(u)
		}
	case 2:
		w1 := uint(p.widths[1])
		for i := range dst {
			b, ok := r.readBits(1)
			if !ok {
				return false
			}
			w := w0
			if b != 0 {
				w = w1
			}
			u, ok := r.readBits(w)
			if !ok {
				return false
			}
			dst[i] = int64(u)
		}
	default:
		w1, w2 := uint(p.widths[1]), uint(p.widths[2])
		for i := range dst {
			b, ok := r.readBits(1)
			if !ok {
				return false
			}
			w := w0
			if b != 0 {
				if b, ok = r.readBits(1); !ok {
					return false
				}
				w = w1
				if b != 0 {
					w = w2
				}
			}
			u, ok := r.readBits(w)
			if !ok {
				return false
			}
			dst[i] = int64(u)
		}
	}
	return true
}
