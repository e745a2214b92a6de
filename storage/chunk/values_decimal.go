package chunk

import (
	"encoding/binary"
	"math"
)

// The decimal codec stores values that are really integers or short
// decimals as integers x with v = float64(x) / 10^e for one exponent e per
// chunk. Both float64(x) (|x| < 2^53) and 10^e (e <= 22) are exact, and the
// division is correctly rounded, so the decoder computes exactly the float
// the encoder checked, and it is the float that strconv.ParseFloat returns
// for the decimal text an exporter wrote.
//
// Values that do not round-trip at e (stale markers, NaN, ±Inf, -0, values
// with more digits) are exceptions: their positions and raw bits are stored
// apart, and the rest of the column stays decimal.
//
// Layout:
//
//	byte     e (bits 0-4), sequence kind (bit 5), bits 6-7 zero
//	uvarint  k, the number of exceptions
//	varint   x_0 of the m = count-k integers    (only if m >= 1)
//	sequence x_1..x_(m-1), see intseq.go         (only if m >= 2)
//	uvarint  k position gaps: p_0, then p_j - p_(j-1) - 1
//	xor      the k exception values, see values_xor.go (only if k >= 1),
//	         each coded after the previous one, the first after the stale
//	         marker, so that no value is stored raw

// staleNaNBits is the bits of Prometheus's stale marker, the most common
// exception by far. The XOR stream of exceptions starts from it as if it
// were the previous value, so a stale marker costs one bit, not 64.
const staleNaNBits = 0x7ff0000000000002

// maxDecimalExp is the largest exponent the codec uses. Larger would need
// integers beyond 2^53 for all but tiny values.
const maxDecimalExp = 18

// decimalLimit bounds |x|: every integer below it is exact in a float64.
const decimalLimit = 1 << 53

// decimalCheckLimit bounds |v*10^e| when a value is probed for being
// decimal at all: below 2^50 the product's rounding error is far below 0.5,
// so rounding finds the right integer.
const decimalCheckLimit = 1 << 50

var pow10 = [maxDecimalExp + 1]float64{
	1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
}

// decimalAt returns the integer x with float64(x)/10^e bit-identical to v,
// if there is one below decimalLimit.
func decimalAt(v float64, e int) (int64, bool) {
	m := v * pow10[e]
	if !(m > -decimalLimit && m < decimalLimit) { // also false for NaN
		return 0, false
	}
	x := int64(math.RoundToEven(m))
	if x >= decimalLimit || x <= -decimalLimit {
		return 0, false
	}
	return x, math.Float64bits(float64(x)/pow10[e]) == math.Float64bits(v)
}

// decimalExcBits estimates what an exception costs: a position gap byte and
// an XOR code of a value unlike its neighbours.
const decimalExcBits = 40

// decimalExp chooses the chunk exponent. It returns false when too many
// values are not decimal for the codec to pay off.
//
// Each value is probed at the largest exponent seen so far (one check for
// most data); a value that fails is probed once at the largest exponent
// that keeps it below decimalCheckLimit, and only if it passes there is its
// smallest exponent searched. Then e is chosen to trade exceptions against
// the log2(10) bits each step of e adds to every integer.
func decimalExp(vs []float64) (int, bool) {
	var byExp [maxDecimalExp + 1]int
	none, hint := 0, 0
	for _, v := range vs {
		if _, ok := decimalAt(v, hint); ok {
			byExp[hint]++
			continue
		}
		top := hint
		if a := math.Abs(v); a < decimalCheckLimit {
			for top < maxDecimalExp && a*pow10[top+1] < decimalCheckLimit {
				top++
			}
		}
		if _, ok := decimalAt(v, top); top == hint || !ok {
			if none++; none > len(vs)/2 {
				return 0, false
			}
			continue
		}
		for e := hint + 1; e <= top; e++ {
			if _, ok := decimalAt(v, e); ok {
				byExp[e]++
				hint = e
				break
			}
		}
	}
	best, bestCost, above := -1, 0, 0
	for e := maxDecimalExp; e >= 0; e-- {
		if byExp[e] > 0 {
			exc := none + above
			cost := exc*decimalExcBits + (len(vs)-exc)*e*332/100
			if best < 0 || cost <= bestCost {
				best, bestCost = e, cost
			}
		}
		above += byExp[e]
	}
	return best, best >= 0
}

// decimalPlan is a planned decimal column.
type decimalPlan struct {
	e     int
	xs    []int64 // the integers of the non-exception values
	k     int     // number of exceptions
	seq   seqPlan // for xs, if len(xs) >= 2
	bytes int     // encoded size
}

// planDecimal plans the decimal column of vs, using xs (len 0) as scratch
// for the integers. It returns false if vs is not worth coding as decimals.
func planDecimal(vs []float64, xs []int64) (decimalPlan, bool) {
	e, ok := decimalExp(vs)
	if !ok {
		return decimalPlan{}, false
	}
	p := decimalPlan{e: e, xs: xs}
	var xe xorEncoder
	xe.first(staleNaNBits)
	xorBits, gapBytes, last := 0, 0, -1
	for i, v := range vs {
		if x, ok := decimalAt(v, e); ok {
			p.xs = append(p.xs, x)
			continue
		}
		_, cb, _, pb := xe.code(math.Float64bits(v))
		xorBits += int(cb + pb)
		gapBytes += uvarintLen(uint64(i - last - 1))
		last = i
		p.k++
	}
	p.bytes = 1 + uvarintLen(uint64(p.k)) + gapBytes + (xorBits+7)/8
	if len(p.xs) >= 1 {
		p.bytes += varintLen(p.xs[0])
	}
	if len(p.xs) >= 2 {
		p.seq = planSeq(p.xs)
		p.bytes += p.seq.bytes
	}
	return p, true
}

// append appends the planned column for vs, using scratch (len 0) for the
// transformed integers.
func (p *decimalPlan) append(dst []byte, vs []float64, scratch []uint64) []byte {
	dst = append(dst, byte(p.e)|byte(p.seq.kind)<<5)
	dst = binary.AppendUvarint(dst, uint64(p.k))
	if len(p.xs) >= 1 {
		dst = binary.AppendVarint(dst, p.xs[0])
	}
	if len(p.xs) >= 2 {
		dst = appendSeq(dst, p.xs, &p.seq, scratch)
	}
	if p.k == 0 {
		return dst
	}
	last := -1
	for i, v := range vs {
		if _, ok := decimalAt(v, p.e); !ok {
			dst = binary.AppendUvarint(dst, uint64(i-last-1))
			last = i
		}
	}
	w := bitWriter{dst: dst}
	var xe xorEncoder
	xe.first(staleNaNBits)
	for _, v := range vs {
		if _, ok := decimalAt(v, p.e); ok {
			continue
		}
		ctrl, cb, payload, pb := xe.code(math.Float64bits(v))
		w.writeBits(ctrl, cb)
		w.writeBits(payload, pb)
	}
	return w.finish()
}

// decodeBatch is how many integers decodeDecimal unpacks at a time into a
// stack buffer.
const decodeBatch = 128

// decodeDecimal decodes a decimal column into dst, len(dst) = count.
//
// The m integers are decoded, converted and stored at the end of dst,
// dst[k:]; then the exceptions are merged in from the front, moving runs of
// converted values down with copy. No scratch memory beyond one batch.
func decodeDecimal(r *reader, dst []float64) error {
	n := len(dst)
	hdr, err := r.byte("decimal header")
	if err != nil {
		return err
	}
	e, kind := int(hdr&31), seqKind(hdr>>5&1)
	if hdr>>6 != 0 || e > maxDecimalExp {
		return r.corrupt("decimal header %#x", hdr)
	}
	k64, err := r.uvarint("exception count")
	if err != nil {
		return err
	}
	// Each exception takes at least one byte (its gap), which bounds k by
	// the input length as well as by n.
	if k64 > uint64(n) || k64 > uint64(r.remaining()) {
		return r.corrupt("%d exceptions in %d values", k64, n)
	}
	k := int(k64)
	if m := n - k; m > 0 {
		x0, err := r.varint("first decimal")
		if err != nil {
			return err
		}
		var s seqReader
		if err := s.init(r, kind, x0, m); err != nil {
			return err
		}
		var buf [decodeBatch]int64
		buf[0] = x0
		out, p := dst[k:], pow10[e]
		for done, fromSeq := 0, 1; done < m; fromSeq = 0 {
			c := min(m-done, decodeBatch)
			if !s.read(buf[fromSeq:c]) {
				return r.corrupt("truncated decimal column")
			}
			for j, x := range buf[:c] {
				if x >= decimalLimit || x <= -decimalLimit {
					return r.corrupt("decimal %d out of range", x)
				}
				out[done+j] = float64(x) / p
			}
			done += c
		}
		if err := s.finish(r); err != nil {
			return err
		}
	}
	if k == 0 {
		return nil
	}
	return decodeExceptions(r, dst, k)
}

// decodeExceptions reads k position gaps and k XOR-coded values and merges
// them into dst, whose last n-k entries hold the decoded decimals.
func decodeExceptions(r *reader, dst []float64, k int) error {
	n := len(dst)
	gaps := r.off
	pos := -1
	for range k {
		g, err := r.uvarint("exception position")
		if err != nil {
			return err
		}
		if g >= uint64(n-pos-1) {
			return r.corrupt("exception position beyond %d values", n)
		}
		pos += int(g) + 1
	}
	br := r.bits()
	var xd xorDecoder
	gr := reader{src: r.src, off: gaps}
	next, at := k, 0 // next decimal in dst, next slot to fill
	xd.prev = staleNaNBits
	for range k {
		g, _ := gr.uvarint("exception position") // checked above
		pos := at + int(g)
		copy(dst[at:pos], dst[next:])
		next += pos - at
		v, ok := xd.next(&br)
		if !ok {
			return r.corrupt("bad or truncated exception values")
		}
		dst[pos] = math.Float64frombits(v)
		at = pos + 1
	}
	copy(dst[at:], dst[next:])
	r.skip(&br)
	return nil
}
