package chunk

import (
	"encoding/binary"
	"slices"
)

// An integer sequence x0, x1, ..., x(m-1) (timestamps, or the integers of a
// decimal value column) is stored after its first value, which its owner
// keeps elsewhere, in one of two transforms:
//
//	seqDelta: param = base, packed zigzag(d_i - base) for i = 1..m-1
//	seqDoD:   param = d_1,  packed zigzag(d_i - d_(i-1)) for i = 2..m-1
//
// where d_i = x_i - x_(i-1). param is a varint; the packed stream (see
// packed.go) is omitted when it would hold no values. All arithmetic wraps
// modulo 2^64, so any int64 sequence round-trips, including deltas that do
// not fit an int64 (math.MinInt64+1 followed by math.MaxInt64).
//
// seqDelta with base near the median delta suits data whose deltas scatter
// around a level: scrape intervals with jitter, counters growing at a noisy
// rate. The median keeps a counter reset or a missed scrape from moving the
// base; they become single outliers. seqDoD suits deltas that drift
// smoothly, where each delta predicts the next.

type seqKind uint8

const (
	seqDelta seqKind = 0
	seqDoD   seqKind = 1
)

// seqPlan is how a sequence will be written.
type seqPlan struct {
	kind  seqKind
	param int64
	pack  packPlan
	bytes int // encoded size after x0
}

// planSeq chooses the smaller transform for xs. len(xs) must be >= 2.
func planSeq(xs []int64) seqPlan {
	base := medianDelta(xs)
	var hd, hdd widthHist
	d1 := uint64(xs[1]) - uint64(xs[0])
	prev := d1
	hd.add(zigzag(int64(d1 - uint64(base))))
	for i := 2; i < len(xs); i++ {
		d := uint64(xs[i]) - uint64(xs[i-1])
		hd.add(zigzag(int64(d - uint64(base))))
		hdd.add(zigzag(int64(d - prev)))
		prev = d
	}
	delta := seqPlan{kind: seqDelta, param: base}
	delta.pack, delta.bytes = planPack(&hd, len(xs)-1)
	delta.bytes += varintLen(base)

	dod := seqPlan{kind: seqDoD, param: int64(d1), bytes: varintLen(int64(d1))}
	if len(xs) > 2 {
		var n int
		dod.pack, n = planPack(&hdd, len(xs)-2)
		dod.bytes += n
	}
	if dod.bytes < delta.bytes {
		return dod
	}
	return delta
}

// medianDelta estimates the median delta of xs from up to 15 evenly spaced
// deltas: cheap, deterministic and unmoved by a few outliers.
func medianDelta(xs []int64) int64 {
	var sample [15]int64
	n := len(xs) - 1 // number of deltas
	k := min(n, len(sample))
	for j := range k {
		i := 1 + j*n/k
		sample[j] = int64(uint64(xs[i]) - uint64(xs[i-1]))
	}
	s := sample[:k]
	slices.Sort(s)
	return s[k/2]
}

// appendSeq appends xs[1:] transformed as planned by planSeq(xs), using
// scratch (len 0) for the transformed values.
func appendSeq(dst []byte, xs []int64, p *seqPlan, scratch []uint64) []byte {
	dst = binary.AppendVarint(dst, p.param)
	vals := scratch[:0]
	if p.kind == seqDelta {
		for i := 1; i < len(xs); i++ {
			d := uint64(xs[i]) - uint64(xs[i-1])
			vals = append(vals, zigzag(int64(d-uint64(p.param))))
		}
	} else {
		for i := 2; i < len(xs); i++ {
			d, prev := uint64(xs[i])-uint64(xs[i-1]), uint64(xs[i-1])-uint64(xs[i-2])
			vals = append(vals, zigzag(int64(d-prev)))
		}
	}
	if len(vals) == 0 {
		return dst
	}
	return appendPacked(dst, &p.pack, vals)
}

// seqReader decodes a sequence written by appendSeq, in batches.
type seqReader struct {
	kind    seqKind
	pr      packReader
	x       uint64 // last value produced
	d       uint64 // seqDelta: base; seqDoD: last delta
	pending bool   // seqDoD: x1 = x0 + d1 not produced yet
	packed  bool   // a packed stream follows param
}

// init reads the parameters of a sequence of m values starting at x0 and
// the header of its packed stream.
func (s *seqReader) init(r *reader, kind seqKind, x0 int64, m int) error {
	*s = seqReader{kind: kind, x: uint64(x0)}
	if m < 2 {
		return nil
	}
	param, err := r.varint("sequence parameter")
	if err != nil {
		return err
	}
	s.d = uint64(param)
	first := 1
	if kind == seqDoD {
		first = 2
		s.pending = true
	}
	if m > first {
		s.packed = true
		return s.pr.init(r, m-first)
	}
	return nil
}

// read fills dst with the next len(dst) values. It returns false if the
// packed stream ends first.
func (s *seqReader) read(dst []int64) bool {
	if len(dst) == 0 {
		return true
	}
	if s.pending {
		s.pending = false
		s.x += s.d
		dst[0] = int64(s.x)
		dst = dst[1:]
		if len(dst) == 0 {
			return true
		}
	}
	if !s.packed || !s.pr.read(dst) {
		return false
	}
	x, d := s.x, s.d
	if s.kind == seqDelta {
		for i, u := range dst {
			x += unzigzag(uint64(u)) + d
			dst[i] = int64(x)
		}
	} else {
		for i, u := range dst {
			d += unzigzag(uint64(u))
			x += d
			dst[i] = int64(x)
		}
	}
	s.x, s.d = x, d
	return true
}

// finish moves r past the sequence, which must have been read to the end.
func (s *seqReader) finish(r *reader) error {
	if s.pending {
		return r.corrupt("sequence not read to the end")
	}
	if s.packed {
		return s.pr.finish(r)
	}
	return nil
}
