package chunk

import "math/bits"

// A packed stream holds a known number of unsigned integers (zig-zagged
// deltas, delta-of-deltas, tags) in one of up to three bit widths
// w0 < w1 < w2. A value is written in the smallest of the widths it fits,
// after a truncated-unary prefix naming the width:
//
//	levels=1: w0 bits, no prefix (plain frame of reference)
//	levels=2: 0 + w0 bits | 1 + w1 bits
//	levels=3: 0 + w0 bits | 10 + w1 bits | 11 + w2 bits
//
// The widths are chosen per stream from a histogram of the values' bit
// lengths, so a stream of zeros costs nothing per value, small jitter costs
// a few bits, and a rare outlier (a missed scrape, a counter reset) costs its
// own width without widening every other value.
//
// Header: one byte levels (1..3), then one byte per width (0..64, strictly
// increasing). The bit stream follows and ends on a byte boundary.

const maxLevels = 3

// widthHist counts values by bit length (bits.Len64): index 0 counts zeros,
// index 64 values with the top bit set.
type widthHist [65]int32

func (h *widthHist) add(u uint64) {
	h[bits.Len64(u)]++
}

// packPlan is the layout of one packed stream.
type packPlan struct {
	levels int
	widths [maxLevels]uint8
}

// planPack returns the cheapest plan for the n values counted in h and the
// size of the stream in bytes, header included. n must be > 0.
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
	}
	return best, bestBytes
}

// appendHeader appends the plan's header.
func (p *packPlan) appendHeader(dst []byte) []byte {
	dst = append(dst, byte(p.levels))
	return append(dst, p.widths[:p.levels]...)
}

// readPackPlan reads and validates a header written by appendHeader.
func readPackPlan(r *reader) (packPlan, error) {
	var p packPlan
	l, err := r.byte("packed stream header")
	if err != nil {
		return p, err
	}
	if l < 1 || l > maxLevels {
		return p, r.corrupt("packed stream with %d levels", l)
	}
	p.levels = int(l)
	for i := range p.levels {
		w, err := r.byte("packed stream width")
		if err != nil {
			return p, err
		}
		if w > 64 || (i > 0 && w <= p.widths[i-1]) {
			return p, r.corrupt("packed stream width %d after %d", w, p.widths[max(i-1, 0)])
		}
		p.widths[i] = w
	}
	return p, nil
}

// put writes u, which must fit the widest level.
func (p *packPlan) put(w *bitWriter, u uint64) {
	n := uint8(bits.Len64(u))
	switch {
	case p.levels == 1:
		w.writeBits(u, uint(p.widths[0]))
	case n <= p.widths[0]:
		w.writeBits(0, 1)
		w.writeBits(u, uint(p.widths[0]))
	case p.levels == 2:
		w.writeBits(1, 1)
		w.writeBits(u, uint(p.widths[1]))
	case n <= p.widths[1]:
		w.writeBits(0b01, 2)
		w.writeBits(u, uint(p.widths[1]))
	default:
		w.writeBits(0b11, 2)
		w.writeBits(u, uint(p.widths[2]))
	}
}

// unpack reads len(dst) values into dst (as the bits of int64s, which is
// what every caller transforms them into). It returns false if the stream
// ends first.
func unpack(r *bitReader, p *packPlan, dst []int64) bool {
	w0 := uint(p.widths[0])
	switch p.levels {
	case 1:
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
