package query

import (
	"context"
	"errors"

	"github.com/prometheus/prometheus/model/labels"
	promstorage "github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"
)

// Storage is what the engine reads: the series matching a selector, with
// their samples in a time range, as columns. almanac's DB implements it
// without copying; FromQueryable adapts any Prometheus storage.
type Storage interface {
	Select(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) (SeriesSet, error)
}

// SeriesSet iterates selected series. The engine calls Close once.
type SeriesSet interface {
	Next() bool
	// At returns the current series: its labels and its samples in
	// [mint, maxt], sorted by time; st is nil when no sample has a start
	// timestamp. The slices are valid until the next call to Next.
	At() (lset labels.Labels, t []int64, v []float64, st []int64)
	Err() error
	Close() error
}

// FromQueryable adapts a Prometheus storage.Queryable (the storage
// Prometheus's test suite loads) to Storage. Native histogram samples
// fail the query: almanac's engine evaluates floats only.
func FromQueryable(q promstorage.Queryable) Storage { return queryableStorage{q} }

type queryableStorage struct{ q promstorage.Queryable }

func (s queryableStorage) Select(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) (SeriesSet, error) {
	qr, err := s.q.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	hints := &promstorage.SelectHints{Start: mint, End: maxt}
	return &queryableSet{qr: qr, ss: qr.Select(ctx, false, hints, ms...), maxt: maxt, mint: mint}, nil
}

type queryableSet struct {
	qr         promstorage.Querier
	ss         promstorage.SeriesSet
	mint, maxt int64
	it         chunkenc.Iterator
	t          []int64
	v          []float64
	st         []int64
	err        error
}

func (s *queryableSet) Next() bool {
	if s.err != nil || !s.ss.Next() {
		return false
	}
	s.t, s.v, s.st = s.t[:0], s.v[:0], s.st[:0]
	hasST := false
	s.it = s.ss.At().Iterator(s.it)
	for {
		typ := s.it.Next()
		if typ == chunkenc.ValNone {
			break
		}
		if typ != chunkenc.ValFloat {
			s.err = errNativeHistogram
			return false
		}
		t, v := s.it.At()
		if t < s.mint || t > s.maxt {
			continue
		}
		st := s.it.AtST()
		hasST = hasST || st != 0
		s.t, s.v, s.st = append(s.t, t), append(s.v, v), append(s.st, st)
	}
	if err := s.it.Err(); err != nil {
		s.err = err
		return false
	}
	if !hasST {
		s.st = s.st[:0]
	}
	return true
}

func (s *queryableSet) At() (labels.Labels, []int64, []float64, []int64) {
	st := s.st
	if len(st) == 0 {
		st = nil
	}
	return s.ss.At().Labels(), s.t, s.v, st
}

func (s *queryableSet) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.ss.Err()
}

func (s *queryableSet) Warnings() annotations.Annotations { return s.ss.Warnings() }

func (s *queryableSet) Close() error { return s.qr.Close() }

// errNativeHistogram: almanac's engine evaluates float samples only.
var errNativeHistogram = errors.New("native histograms are not supported by almanac's engine")
