package storage

import (
	"math"
	"slices"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// sample is one float sample with its optional start timestamp (0: none).
type sample struct {
	t, st int64
	v     float64
}

// memSeries is the in-memory state of one active series. The open chunk is
// kept compressed (Prometheus's XOR2 encoding, which appends one sample at a
// time and carries start timestamps only when a series has them), so memory
// per series stays a few hundred bytes.
//
// All fields are guarded by DB.mu.
type memSeries struct {
	lset labels.Labels

	open      *chunkenc.XOR2Chunk // nil when the head holds no samples
	app       chunkenc.Appender
	openMint  int64  // first timestamp in open
	openMaxt  int64  // last timestamp in open
	openCount uint16 // samples in open (read without touching the chunk)

	// lastT is the newest timestamp of the series anywhere (head or disk);
	// math.MinInt64 when the series has no samples.
	lastT int64

	// ooo holds accepted samples older than openMint, sorted by t, until
	// they are merged into the chunks on disk.
	ooo []sample

	// indexedDay is the last day for which per-day postings were written.
	indexedDay   int32
	dayIsIndexed bool

	// batchGen and batchIdx find this series' entry in the batch Append is
	// preparing (when batchGen is the current batch), without a map.
	batchGen uint32
	batchIdx int32
}

func newMemSeries(lset labels.Labels, lastT int64) *memSeries {
	return &memSeries{lset: lset, lastT: lastT}
}

// openSamples decodes the open chunk into columns (appending to the given
// slices). sts stays nil when no sample carries a start timestamp.
func (s *memSeries) openSamples(ts []int64, vs []float64, sts []int64) ([]int64, []float64, []int64) {
	if s.open == nil {
		return ts, vs, sts
	}
	return decodeXOR2(s.open.Bytes(), ts, vs, sts)
}

// decodeXOR2 decodes head chunk bytes into columns.
func decodeXOR2(b []byte, ts []int64, vs []float64, sts []int64) ([]int64, []float64, []int64) {
	var c chunkenc.XOR2Chunk
	c.Reset(b)
	it := c.Iterator(nil)
	start := len(ts)
	for it.Next() == chunkenc.ValFloat {
		t, v := it.At()
		st := it.AtST()
		if st != 0 && sts == nil {
			sts = make([]int64, len(ts)-start, cap(ts))
		}
		ts = append(ts, t)
		vs = append(vs, v)
		if sts != nil {
			sts = append(sts, st)
		}
	}
	return ts, vs, sts
}

// startOpen begins a new open chunk with its first sample.
func (s *memSeries) startOpen(smp sample) {
	s.open = chunkenc.NewXOR2Chunk()
	s.app, _ = s.open.Appender() // a new chunk's appender cannot fail
	s.app.Append(smp.st, smp.t, smp.v)
	s.openMint, s.openMaxt = smp.t, smp.t
	s.openCount = 1
}

// rebuildOpen re-encodes the open chunk from columns (after an out-of-order
// insert inside its time range). openMint is unchanged: inserts never go below it.
func (s *memSeries) rebuildOpen(ts []int64, vs []float64, sts []int64) {
	s.startOpen(sample{t: ts[0], v: vs[0], st: stAt(sts, 0)})
	for i := 1; i < len(ts); i++ {
		s.app.Append(stAt(sts, i), ts[i], vs[i])
	}
	s.openMaxt = ts[len(ts)-1]
	s.openCount = uint16(len(ts))
}

func stAt(sts []int64, i int) int64 {
	if sts == nil {
		return 0
	}
	return sts[i]
}

// where tells where a sample at t would go in a series.
type placement uint8

const (
	placeAppend placement = iota // newer than everything: append to the open chunk
	placeOpen                    // inside the open chunk's time range
	placeOld                     // older than the open chunk: the out-of-order buffer, then disk
)

func (s *memSeries) place(t int64) placement {
	switch {
	case t > s.lastT:
		return placeAppend
	case s.open != nil && t >= s.openMint:
		return placeOpen
	default:
		return placeOld
	}
}

// findOOO returns the index of t in s.ooo and whether it is present.
func (s *memSeries) findOOO(t int64) (int, bool) {
	i := sort.Search(len(s.ooo), func(i int) bool { return s.ooo[i].t >= t })
	return i, i < len(s.ooo) && s.ooo[i].t == t
}

func (s *memSeries) insertOOO(smp sample) {
	i, found := s.findOOO(smp.t)
	if found {
		return
	}
	s.ooo = slices.Insert(s.ooo, i, smp)
}

// sameBits reports whether two values are identical bit for bit, the test
// for an exact duplicate (NaN payloads included).
func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// oooOrNil is s.ooo, nil for a nil series.
func (s *memSeries) oooOrNil() []sample {
	if s == nil {
		return nil
	}
	return s.ooo
}
