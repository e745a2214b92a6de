package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/prometheus/model/labels"
)

// postingsMerger unions roaring bitmaps. Appends add a series to a postings
// list with a pebble Merge of a one-element bitmap, so the hot path never
// reads a bitmap back to modify it; pebble folds the operands together in
// compactions and on read. Its name is stored by pebble: never change it.
var postingsMerger = &pebble.Merger{
	Name: "almanac.postings.union.v1",
	Merge: func(_, value []byte) (pebble.ValueMerger, error) {
		m := &unionMerger{bm: roaring.New()}
		return m, m.MergeNewer(value)
	},
}

type unionMerger struct{ bm *roaring.Bitmap }

func (m *unionMerger) MergeNewer(value []byte) error {
	var other roaring.Bitmap
	if err := other.UnmarshalBinary(value); err != nil {
		return fmt.Errorf("%w: postings operand: %v", ErrCorruption, err)
	}
	m.bm.Or(&other)
	return nil
}

func (m *unionMerger) MergeOlder(value []byte) error { return m.MergeNewer(value) }

func (m *unionMerger) Finish(bool) ([]byte, io.Closer, error) {
	m.bm.RunOptimize()
	b, err := m.bm.ToBytes()
	return b, nil, err
}

// singletonBitmap encodes a bitmap holding only sid, the operand appends merge.
func singletonBitmap(sid uint32) []byte {
	bm := roaring.BitmapOf(sid)
	b, _ := bm.ToBytes() // writing to memory cannot fail
	return b
}

// indexReader answers postings questions on one pebble snapshot, either from
// the all-time postings (days == nil) or as the union of per-day postings.
type indexReader struct {
	r    pebble.Reader
	days []int32
}

// readBitmap decodes a postings value; a missing key is an empty bitmap.
func readBitmap(r pebble.Reader, key []byte, into *roaring.Bitmap) error {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	defer closer.Close()
	var bm roaring.Bitmap
	if err := bm.UnmarshalBinary(v); err != nil {
		return fmt.Errorf("%w: postings %q: %v", ErrCorruption, key, err)
	}
	into.Or(&bm)
	return nil
}

// postings returns the series with label name=value.
func (ix *indexReader) postings(name, value string) (*roaring.Bitmap, error) {
	bm := roaring.New()
	if ix.days == nil {
		return bm, readBitmap(ix.r, postingsKey(nil, name, value), bm)
	}
	var key []byte
	for _, d := range ix.days {
		key = dayPostingsKey(key[:0], d, name, value)
		if err := readBitmap(ix.r, key, bm); err != nil {
			return nil, err
		}
	}
	return bm, nil
}

// all returns every series in the reader's time scope.
func (ix *indexReader) all() (*roaring.Bitmap, error) { return ix.postings(allPostingsName, "") }

// forEachValue calls fn with every value of label name and its postings, in
// the order keys are stored. For several days a value may be reported once
// per day; callers union or deduplicate.
func (ix *indexReader) forEachValue(name string, fn func(value string, bm *roaring.Bitmap) error) error {
	prefixes := [][]byte{postingsNamePrefix(nil, name)}
	if ix.days != nil {
		prefixes = prefixes[:0]
		for _, d := range ix.days {
			prefixes = append(prefixes, dayPostingsNamePrefix(nil, d, name))
		}
	}
	for _, p := range prefixes {
		it, err := ix.r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: append(slices.Clip(p), 0xff)})
		if err != nil {
			return err
		}
		for valid := it.First(); valid; valid = it.Next() {
			v, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				return err
			}
			var bm roaring.Bitmap
			if err := bm.UnmarshalBinary(v); err != nil {
				it.Close()
				return fmt.Errorf("%w: postings %q: %v", ErrCorruption, it.Key(), err)
			}
			if err := fn(string(it.Key()[len(p):]), &bm); err != nil {
				it.Close()
				return err
			}
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	return nil
}

// unionWhere returns the union of the postings of every value of name for
// which keep returns true.
func (ix *indexReader) unionWhere(name string, keep func(string) bool) (*roaring.Bitmap, error) {
	out := roaring.New()
	err := ix.forEachValue(name, func(value string, bm *roaring.Bitmap) error {
		if keep(value) {
			out.Or(bm)
		}
		return nil
	})
	return out, err
}

// selectSeries returns the series matching every matcher, with Prometheus's
// semantics: a matcher that matches the empty string also selects series
// that lack the label (`{a=""}`, `{a!="x"}`, `{a=~"x|"}`).
func (ix *indexReader) selectSeries(ms []*labels.Matcher) (*roaring.Bitmap, error) {
	var result *roaring.Bitmap
	var subtract []*roaring.Bitmap
	for _, m := range ms {
		if m.Matches("") {
			// Series lacking the label match; exclude those whose value does not.
			if m.Type == labels.MatchRegexp && m.Value == ".*" {
				continue
			}
			bad, err := ix.unionWhere(m.Name, func(v string) bool { return !m.Matches(v) })
			if err != nil {
				return nil, err
			}
			subtract = append(subtract, bad)
			continue
		}
		var bm *roaring.Bitmap
		var err error
		switch {
		case m.Type == labels.MatchEqual:
			bm, err = ix.postings(m.Name, m.Value)
		case len(m.SetMatches()) > 0:
			bm = roaring.New()
			for _, v := range m.SetMatches() {
				var one *roaring.Bitmap
				if one, err = ix.postings(m.Name, v); err != nil {
					break
				}
				bm.Or(one)
			}
		default:
			bm, err = ix.unionWhere(m.Name, m.Matches)
		}
		if err != nil {
			return nil, err
		}
		if result == nil {
			result = bm
		} else {
			result.And(bm)
		}
		if result.IsEmpty() {
			return result, nil
		}
	}
	if result == nil {
		var err error
		if result, err = ix.all(); err != nil {
			return nil, err
		}
	}
	for _, s := range subtract {
		result.AndNot(s)
	}
	return result, nil
}

// labelNames returns the sorted label names present in the reader's scope.
func (ix *indexReader) labelNames() ([]string, error) {
	seen := map[string]struct{}{}
	prefixes := [][]byte{{prefixPostings}}
	if ix.days != nil {
		prefixes = prefixes[:0]
		for _, d := range ix.days {
			prefixes = append(prefixes, appendDay([]byte{prefixDayPosting}, d))
		}
	}
	for _, p := range prefixes {
		it, err := ix.r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
		if err != nil {
			return nil, err
		}
		for valid := it.First(); valid; {
			name, _, err := splitPostingsKey(it.Key()[len(p):])
			if err != nil {
				it.Close()
				return nil, err
			}
			if name != allPostingsName {
				seen[name] = struct{}{}
			}
			// Skip the name's remaining values: values never contain 0xff.
			_, w := binary.Uvarint(it.Key()[len(p):])
			next := append(bytes.Clone(it.Key()[:len(p)+w+len(name)]), 0xff)
			valid = it.SeekGE(next)
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}
