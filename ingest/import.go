package ingest

import (
	"bytes"
	"iter"

	"github.com/prometheus/prometheus/model/labels"
)

// MaxListedLines bounds Request.Invalid: an import body of garbage costs
// a count, not a list as long as the body.
const MaxListedLines = 100

// lines yields each line of data with its 1-based number, without the
// line ending ("\n" or "\r\n"). A final line without a newline is yielded;
// an empty body yields nothing.
func lines(data []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		for n := 1; len(data) > 0; n++ {
			line := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				line, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			line = bytes.TrimSuffix(line, []byte{'\r'})
			if !yield(n, line) {
				return
			}
		}
	}
}

// builder collects an import body's samples: one slab for every sample,
// series cut from it at the end, so a line costs no allocation of its own
// beyond its labels.
type builder struct {
	req    Request
	lsets  []labels.Labels
	starts []int // index in slab of each series' first sample
	slab   []Sample
}

// add starts a series of lset with one sample.
func (b *builder) add(lset labels.Labels, t int64, v float64) {
	b.lsets = append(b.lsets, lset)
	b.starts = append(b.starts, len(b.slab))
	b.slab = append(b.slab, Sample{T: t, V: v})
}

// addSamples starts a series of lset with the samples of ts and vs, which
// have the same length.
func (b *builder) addSamples(lset labels.Labels, ts []int64, vs []float64) {
	b.lsets = append(b.lsets, lset)
	b.starts = append(b.starts, len(b.slab))
	for i := range ts {
		b.slab = append(b.slab, Sample{T: ts[i], V: vs[i]})
	}
}

// invalid records a line that could not be parsed.
func (b *builder) invalid(line, column int, err error) {
	b.req.InvalidLines++
	if len(b.req.Invalid) < MaxListedLines {
		b.req.Invalid = append(b.req.Invalid, &LineError{Line: line, Column: column, Err: err})
	}
}

// ignore counts n values of a kind almanac does not store.
func (b *builder) ignore(what string, n int) {
	if n == 0 {
		return
	}
	if b.req.Ignored == nil {
		b.req.Ignored = map[string]int{}
	}
	b.req.Ignored[what] += n
}

// mark and rollback drop what a line added when a later part of the line
// turns out to be invalid, so a line is stored whole or not at all.
func (b *builder) mark() (series, samples int) { return len(b.lsets), len(b.slab) }

func (b *builder) rollback(series, samples int) {
	b.lsets, b.starts, b.slab = b.lsets[:series], b.starts[:series], b.slab[:samples]
}

// finish returns the request; b must not be used afterwards.
func (b *builder) finish() *Request {
	req := &b.req
	req.Series = make([]Series, 0, len(b.lsets))
	for i, lset := range b.lsets {
		end := len(b.slab)
		if i+1 < len(b.starts) {
			end = b.starts[i+1]
		}
		if end == b.starts[i] {
			continue
		}
		req.Series = append(req.Series, Series{Labels: lset, Samples: b.slab[b.starts[i]:end:end]})
		req.Samples += end - b.starts[i]
	}
	return req
}
