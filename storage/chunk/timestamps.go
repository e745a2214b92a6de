package chunk

import (
	"encoding/binary"
	"math"
)

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
	// tsGrid: offsets from a grid of scrape times; see gridSteps.
	tsGrid tsCodec = 3
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
func appendTimestamps(dst []byte, ts []int64, scratch []uint64) ([]byte, tsCodec) {
	if isRegular(ts) {
		return dst, tsRegular
	}
	p := planSeq(ts)
	if g := planGrid(ts, p.bytes); g.bytes < p.bytes {
		return appendGrid(dst, ts, &g, scratch), tsGrid
	}
	return appendSeq(dst, ts, &p, scratch), tsDelta + tsCodec(p.kind)
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
	if h.ts == tsGrid {
		if err := decodeGrid(r, dst); err != nil {
			return err
		}
	} else {
		var s seqReader
		if err := s.init(r, seqKind(h.ts-tsDelta), h.mint, n); err != nil {
			return err
		}
		if !s.read(dst[1:]) {
			return r.corrupt("truncated timestamp column")
		}
		if err := s.finish(r); err != nil {
			return err
		}
	}
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

// The grid codec models scrapes as t_i = g_0 + k_i*step + jitter_i: a
// ticker fires every step and each scrape records its own small delay.
// Offsets from the grid spread over the jitter's range, where deltas
// (jitter_i - jitter_(i-1)) spread over twice that, one bit more a sample.
//
// Layout: uvarint step (>= 1), varint center, then a packed stream of
// zigzag(r_i) for i = 1..count-1, where, with p_0 = t_0,
//
//	q_i = p_(i-1) + step            the next grid point
//	t_i = q_i + center + r_i
//	p_i = q_i + gridSteps(r_i, step)*step
//
// center is the typical offset of the samples from the grid, so that r_i
// is small. A missed scrape gives one large r_i, after which the grid has
// moved on by whole steps and the following offsets are small again.

// gridSteps returns r/step rounded to the nearest integer (halves towards
// zero), as a wrapping uint64 multiplier: how many more steps the grid
// moves after an offset of r. step must be >= 1.
func gridSteps(r int64, step uint64) uint64 {
	a := uint64(r)
	if r < 0 {
		a = -a // |r|, right for math.MinInt64 too
	}
	if a <= step/2 {
		return 0 // the common case: jitter within half a step
	}
	k := a / step
	if a%step > step/2 {
		k++
	}
	if r < 0 {
		k = -k
	}
	return k
}

// gridPlan is how a grid-coded timestamp column will be written.
type gridPlan struct {
	step   int64 // >= 1
	center int64
	pack   packPlan
	bytes  int
}

// planGrid returns the smaller grid coding of ts, len(ts) >= 3, for two
// estimates of the step: the mean of the deltas near the median delta, and
// the median itself. The mean is exact for a ticker with jitter, where the
// sampled median may be off by a millisecond or two, which would make the
// offsets drift; the median is tried only if the mean's coding is not
// smaller than beat bytes, the size of another coding.
func planGrid(ts []int64, beat int) gridPlan {
	median := medianDelta(ts)
	best := gridPlan{bytes: math.MaxInt}
	for i, step := range [2]int64{meanDeltaNear(ts, median), median} {
		if step <= 0 || (i == 1 && (step == best.step || best.bytes < beat)) {
			continue
		}
		if g := planGridStep(ts, step); g.bytes < best.bytes {
			best = g
		}
	}
	return best
}

// meanDeltaNear returns the mean, rounded, of the deltas of ts within m/4
// of m, or m if there are none or m is too large to sum deltas safely.
func meanDeltaNear(ts []int64, m int64) int64 {
	if m <= 0 || m > 1<<40 {
		return m
	}
	var sum, c int64 // sum of d - m, |d - m| <= m/4 < 2^38, c < 2^16
	for i := 1; i < len(ts); i++ {
		off := int64(uint64(ts[i])-uint64(ts[i-1])) - m
		if off >= -m/4 && off <= m/4 {
			sum += off
			c++
		}
	}
	if c == 0 {
		return m
	}
	q, rem := sum/c, sum%c
	if 2*rem >= c {
		q++
	} else if 2*rem <= -c {
		q--
	}
	return m + q
}

// planGridStep plans the grid coding of ts with the given step, step >= 1.
// A first pass centres the offsets between the smallest and largest within
// a quarter step of the grid (outliers left out); a second counts the
// widths of the centred offsets.
func planGridStep(ts []int64, step int64) gridPlan {
	ustep := uint64(step)
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	p := uint64(ts[0])
	for _, t := range ts[1:] {
		q := p + ustep
		r := int64(uint64(t) - q)
		if r >= -step/4 && r <= step/4 {
			lo, hi = min(lo, r), max(hi, r)
		}
		p = q + gridSteps(r, ustep)*ustep
	}
	g := gridPlan{step: step}
	if lo <= hi {
		g.center = lo + (hi-lo)/2
	}

	var h widthHist
	p = uint64(ts[0])
	for _, t := range ts[1:] {
		q := p + ustep
		r := int64(uint64(t) - q - uint64(g.center))
		h.add(zigzag(r))
		p = q + gridSteps(r, ustep)*ustep
	}
	var n int
	g.pack, n = planPack(&h, len(ts)-1)
	g.bytes = uvarintLen(ustep) + varintLen(g.center) + n
	return g
}

// appendGrid appends ts coded as planned, using scratch (len 0) for the
// residuals.
func appendGrid(dst []byte, ts []int64, g *gridPlan, scratch []uint64) []byte {
	step := uint64(g.step)
	dst = binary.AppendUvarint(dst, step)
	dst = binary.AppendVarint(dst, g.center)
	vals := scratch[:0]
	p := uint64(ts[0])
	for _, t := range ts[1:] {
		q := p + step
		r := int64(uint64(t) - q - uint64(g.center))
		vals = append(vals, zigzag(r))
		p = q + gridSteps(r, step)*step
	}
	return appendPacked(dst, &g.pack, vals)
}

// decodeGrid decodes a grid-coded column into dst, dst[0] = mint already.
func decodeGrid(r *reader, dst []int64) error {
	step, err := r.uvarint("grid step")
	if err != nil {
		return err
	}
	if step == 0 || step > math.MaxInt64 {
		return r.corrupt("grid step %d", step)
	}
	c, err := r.varint("grid center")
	if err != nil {
		return err
	}
	rest := dst[1:]
	var pr packReader
	if err := pr.init(r, len(rest)); err != nil {
		return err
	}
	if !pr.read(rest) {
		return r.corrupt("bad or truncated timestamp column")
	}
	if err := pr.finish(r); err != nil {
		return err
	}
	p, center := uint64(dst[0]), uint64(c)
	for i, u := range rest {
		res := int64(unzigzag(uint64(u)))
		q := p + step
		rest[i] = int64(q + center + uint64(res))
		p = q + gridSteps(res, step)*step
	}
	return nil
}
