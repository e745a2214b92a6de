package chunk

import "encoding/binary"

// The start-timestamp column begins with a mode byte:
//
//	stConst: varint st. Every sample has this start timestamp; the common
//	         case of a counter that did not reset, and of 0 (unknown).
//	stPrevT: varint st_0, then st_i = t_(i-1) for i >= 1: each sample
//	         covers the interval since the previous one (delta temporality).
//	stTags:  a packed stream (packed.go) of one tag per sample, then one
//	         varint zigzag(st_i - t_i) per tagExplicit, in sample order.
const (
	stConst byte = 0
	stPrevT byte = 1
	stTags  byte = 2
)

// Tags of the stTags mode, most common first so they get the shortest codes.
const (
	tagSame     = 0 // st_i = st_(i-1), with st_(-1) = 0
	tagPrevT    = 1 // st_i = t_(i-1); not allowed for i = 0
	tagZero     = 2 // st_i = 0 (unknown)
	tagExplicit = 3 // st_i = t_i + the next explicit varint
)

// stTag returns the tag for sample i.
func stTag(ts, sts []int64, i int) uint64 {
	prev := int64(0)
	if i > 0 {
		prev = sts[i-1]
	}
	switch st := sts[i]; {
	case st == prev:
		return tagSame
	case i > 0 && st == ts[i-1]:
		return tagPrevT
	case st == 0:
		return tagZero
	default:
		return tagExplicit
	}
}

// appendStartTimestamps appends the start-timestamp column; len(sts) ==
// len(ts) >= 1. scratch (len 0) holds the tags.
func appendStartTimestamps(dst []byte, ts, sts []int64, scratch []uint64) []byte {
	constant, prevT := true, len(ts) > 1
	for i := 1; i < len(sts); i++ {
		constant = constant && sts[i] == sts[0]
		prevT = prevT && sts[i] == ts[i-1]
	}
	switch {
	case constant:
		return binary.AppendVarint(append(dst, stConst), sts[0])
	case prevT:
		return binary.AppendVarint(append(dst, stPrevT), sts[0])
	}
	var h widthHist
	tags := scratch[:0]
	for i := range sts {
		tags = append(tags, stTag(ts, sts, i))
		h.add(tags[i])
	}
	p, _ := planPack(&h, len(sts))
	dst = appendPacked(append(dst, stTags), &p, tags)
	for i, tag := range tags {
		if tag == tagExplicit {
			dst = binary.AppendVarint(dst, int64(uint64(sts[i])-uint64(ts[i])))
		}
	}
	return dst
}

// decodeStartTimestamps decodes the column into dst, len(dst) == len(ts).
func decodeStartTimestamps(r *reader, ts, dst []int64) error {
	mode, err := r.byte("start-timestamp mode")
	if err != nil {
		return err
	}
	switch mode {
	case stConst, stPrevT:
		st, err := r.varint("start timestamp")
		if err != nil {
			return err
		}
		dst[0] = st
		for i := 1; i < len(dst); i++ {
			if mode == stConst {
				dst[i] = st
			} else {
				dst[i] = ts[i-1]
			}
		}
		return nil
	case stTags:
	default:
		return r.corrupt("unknown start-timestamp mode %d", mode)
	}
	var pr packReader
	if err := pr.init(r, len(dst)); err != nil {
		return err
	}
	if !pr.read(dst) {
		return r.corrupt("bad or truncated start-timestamp tags")
	}
	if err := pr.finish(r); err != nil {
		return err
	}
	prev := int64(0)
	for i, tag := range dst {
		switch tag {
		case tagSame:
			dst[i] = prev
		case tagPrevT:
			if i == 0 {
				return r.corrupt("start-timestamp tag 'previous t' for the first sample")
			}
			dst[i] = ts[i-1]
		case tagZero:
			dst[i] = 0
		case tagExplicit:
			d, err := r.varint("explicit start timestamp")
			if err != nil {
				return err
			}
			dst[i] = int64(uint64(ts[i]) + uint64(d))
		default:
			return r.corrupt("start-timestamp tag %d at index %d", tag, i)
		}
		prev = dst[i]
	}
	return nil
}
