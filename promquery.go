package almanac

import (
	"context"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	promstorage "github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// promQuerier is a Prometheus storage.Querier on an almanac Querier.
type promQuerier struct{ q *Querier }

func (p *promQuerier) Select(ctx context.Context, _ bool, hints *promstorage.SelectHints, ms ...*labels.Matcher) promstorage.SeriesSet {
	mint, maxt := p.q.mint, p.q.maxt
	if hints != nil {
		mint, maxt = max(mint, hints.Start), min(maxt, hints.End)
	}
	ss, err := p.q.db.st.Select(ctx, mint, maxt, ms...)
	if err != nil {
		return promstorage.ErrSeriesSet(err)
	}
	// Prometheus's engine may keep series across Next calls, so each series
	// gets its own copy of the columns.
	var out []promstorage.Series
	for ss.Next() {
		out = append(out, newPromSeries(ss.At()))
	}
	err = ss.Err()
	if cerr := ss.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return promstorage.ErrSeriesSet(err)
	}
	return &promSeriesSet{series: out, pos: -1}
}

func (p *promQuerier) LabelValues(ctx context.Context, name string, hints *promstorage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	vs, err := p.q.LabelValues(ctx, name, ms...)
	return limitStrings(vs, hints), nil, err
}

func (p *promQuerier) LabelNames(ctx context.Context, hints *promstorage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	ns, err := p.q.LabelNames(ctx, ms...)
	return limitStrings(ns, hints), nil, err
}

func (p *promQuerier) Close() error { return nil }

func limitStrings(s []string, hints *promstorage.LabelHints) []string {
	if hints != nil && hints.Limit > 0 && len(s) > hints.Limit {
		return s[:hints.Limit]
	}
	return s
}

// promChunkQuerier encodes selected series as Prometheus chunks, for
// remote read's streamed responses.
type promChunkQuerier struct{ promQuerier }

func (p *promChunkQuerier) Select(ctx context.Context, sortSeries bool, hints *promstorage.SelectHints, ms ...*labels.Matcher) promstorage.ChunkSeriesSet {
	return promstorage.NewSeriesSetToChunkSet(p.promQuerier.Select(ctx, sortSeries, hints, ms...))
}

type promSeriesSet struct {
	series []promstorage.Series
	pos    int
}

func (s *promSeriesSet) Next() bool {
	s.pos++
	return s.pos < len(s.series)
}
func (s *promSeriesSet) At() promstorage.Series            { return s.series[s.pos] }
func (s *promSeriesSet) Err() error                        { return nil }
func (s *promSeriesSet) Warnings() annotations.Annotations { return nil }

type promSeries struct {
	lset    labels.Labels
	samples floatSamples
}

func newPromSeries(s *Series) *promSeries {
	ps := &promSeries{lset: s.Labels, samples: make(floatSamples, len(s.T))}
	for i := range s.T {
		ps.samples[i] = floatSample{t: s.T[i], f: s.V[i]}
		if s.ST != nil {
			ps.samples[i].st = s.ST[i]
		}
	}
	return ps
}

func (s *promSeries) Labels() labels.Labels { return s.lset }

func (s *promSeries) Iterator(chunkenc.Iterator) chunkenc.Iterator {
	return promstorage.NewListSeriesIterator(s.samples)
}

// floatSamples adapts decoded samples to Prometheus's list iterator, which
// implements seeking; Get returns pointers so no sample is boxed.
type floatSamples []floatSample

func (s floatSamples) Get(i int) chunks.Sample { return &s[i] }
func (s floatSamples) Len() int                { return len(s) }

type floatSample struct {
	st, t int64
	f     float64
}

func (s *floatSample) T() int64                      { return s.t }
func (s *floatSample) ST() int64                     { return s.st }
func (s *floatSample) F() float64                    { return s.f }
func (s *floatSample) H() *histogram.Histogram       { return nil }
func (s *floatSample) FH() *histogram.FloatHistogram { return nil }
func (s *floatSample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s *floatSample) Copy() chunks.Sample           { c := *s; return &c }
