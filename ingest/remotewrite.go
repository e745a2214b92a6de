package ingest

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// DefaultMaxBytes is the decompressed size limit of a remote-write body
// when the caller gives none: 32 MiB, as Prometheus's own receiver.
const DefaultMaxBytes = 32 << 20

// ReadRemoteWrite reads a snappy-compressed remote-write body of protocol p
// from r and decodes it. maxBytes bounds the decompressed message (0 means
// DefaultMaxBytes); the compressed body may be at most the snappy worst case
// for that size. Errors wrap ErrTooLarge, ErrCompression or ErrMalformed, or
// are r's read error.
func ReadRemoteWrite(r io.Reader, p Protocol, maxBytes int) (*Request, error) {
	data, err := readSnappy(r, maxBytes)
	if err != nil {
		return nil, err
	}
	switch p {
	case RemoteWriteV1:
		return DecodeWriteV1(data)
	case RemoteWriteV2:
		return DecodeWriteV2(data)
	}
	return nil, fmt.Errorf("%w: %v", ErrUnsupportedMediaType, p)
}

// readSnappy reads and decompresses a snappy block, refusing bodies that
// are, or would decompress to, more than maxBytes before allocating for
// them.
func readSnappy(r io.Reader, maxBytes int) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	maxCompressed := snappy.MaxEncodedLen(maxBytes)
	if maxCompressed < 0 { // maxBytes beyond what snappy can encode
		maxCompressed = math.MaxUint32
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(tagReader{r}, int64(maxCompressed)+1))
	if err != nil {
		return nil, err // a readError
	}
	if n > int64(maxCompressed) {
		return nil, fmt.Errorf("%w: compressed body exceeds %d bytes (limit %d bytes decompressed)", ErrTooLarge, maxCompressed, maxBytes)
	}
	size, err := snappy.DecodedLen(buf.Bytes())
	if err != nil {
		return nil, decompressError("snappy", err)
	}
	if size > maxBytes {
		return nil, fmt.Errorf("%w: body decompresses to %d bytes, limit %d", ErrTooLarge, size, maxBytes)
	}
	data, err := snappy.Decode(nil, buf.Bytes())
	if err != nil {
		return nil, decompressError("snappy", err)
	}
	return data, nil
}

// DecodeWriteV1 decodes an uncompressed remote write 1.0 message
// (prometheus.WriteRequest). Histograms are listed in Dropped; exemplars
// are counted, metadata collected.
func DecodeWriteV1(data []byte) (*Request, error) {
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(data); err != nil {
		return nil, fmt.Errorf("%w: decoding %s: %v", ErrMalformed, messageV1, err)
	}
	total := 0
	for i := range wr.Timeseries {
		total += len(wr.Timeseries[i].Samples)
	}
	req := &Request{Series: make([]Series, 0, len(wr.Timeseries)), Samples: total}
	slab := make([]Sample, 0, total) // one allocation holds every sample
	var b labels.ScratchBuilder
	for i := range wr.Timeseries {
		ts := &wr.Timeseries[i]
		b.Reset()
		for _, l := range ts.Labels {
			b.Add(l.Name, l.Value)
		}
		b.Sort()
		lset := b.Labels()
		req.Exemplars += len(ts.Exemplars)
		if len(ts.Histograms) > 0 {
			req.Dropped = append(req.Dropped, &SeriesError{Index: i, Labels: lset, Samples: len(ts.Histograms),
				Err: fmt.Errorf("%w, %d histogram samples dropped", ErrNativeHistograms, len(ts.Histograms))})
		}
		if len(ts.Samples) == 0 {
			continue
		}
		first := len(slab)
		for _, s := range ts.Samples {
			slab = append(slab, Sample{T: s.Timestamp, V: s.Value})
		}
		req.Series = append(req.Series, Series{Labels: lset, Samples: slab[first:len(slab):len(slab)]})
	}
	for _, m := range wr.Metadata {
		req.Metadata = append(req.Metadata, Metadata{
			Metric: m.MetricFamilyName, Type: strings.ToLower(m.Type.String()), Help: m.Help, Unit: m.Unit,
		})
	}
	return req, nil
}

// DecodeWriteV2 decodes an uncompressed remote write 2.0 message
// (io.prometheus.write.v2.Request): labels from the symbols table, samples
// with their start timestamps. A series with a label reference outside the
// table, and histogram samples, are listed in Dropped; exemplars are
// counted, metadata collected.
func DecodeWriteV2(data []byte) (*Request, error) {
	var wr writev2.Request
	if err := wr.Unmarshal(data); err != nil {
		return nil, fmt.Errorf("%w: decoding %s: %v", ErrMalformed, messageV2, err)
	}
	total := 0
	for i := range wr.Timeseries {
		total += len(wr.Timeseries[i].Samples)
	}
	req := &Request{Series: make([]Series, 0, len(wr.Timeseries))}
	slab := make([]Sample, 0, total)
	var b labels.ScratchBuilder
	for i := range wr.Timeseries {
		ts := &wr.Timeseries[i]
		req.Exemplars += len(ts.Exemplars)
		lset, err := symbolize(&b, ts.LabelsRefs, wr.Symbols)
		if err != nil {
			req.Dropped = append(req.Dropped, &SeriesError{Index: i, Samples: len(ts.Samples) + len(ts.Histograms), Err: err})
			continue
		}
		if len(ts.Histograms) > 0 {
			req.Dropped = append(req.Dropped, &SeriesError{Index: i, Labels: lset, Samples: len(ts.Histograms),
				Err: fmt.Errorf("%w, %d histogram samples dropped", ErrNativeHistograms, len(ts.Histograms))})
		}
		if md, ok := metadataV2(ts.Metadata, lset, wr.Symbols); ok {
			req.Metadata = append(req.Metadata, md)
		}
		if len(ts.Samples) == 0 {
			continue
		}
		first := len(slab)
		for _, s := range ts.Samples {
			slab = append(slab, Sample{T: s.Timestamp, V: s.Value, ST: s.StartTimestamp})
		}
		req.Samples += len(ts.Samples)
		req.Series = append(req.Series, Series{Labels: lset, Samples: slab[first:len(slab):len(slab)]})
	}
	return req, nil
}

// metadataV2 is the metadata a 2.0 series carries, named after the
// series' metric; ok is false when it says nothing or a reference is
// outside the symbols table (the samples are kept either way).
func metadataV2(m writev2.Metadata, lset labels.Labels, symbols []string) (Metadata, bool) {
	sym := func(ref uint32) (string, bool) {
		if uint64(ref) >= uint64(len(symbols)) {
			return "", false
		}
		return symbols[ref], true
	}
	help, ok1 := sym(m.HelpRef)
	unit, ok2 := sym(m.UnitRef)
	typ := ""
	if m.Type != writev2.Metadata_METRIC_TYPE_UNSPECIFIED {
		typ = strings.ToLower(strings.TrimPrefix(m.Type.String(), "METRIC_TYPE_"))
	}
	name := lset.Get(labels.MetricName)
	if !ok1 || !ok2 || name == "" || (typ == "" && help == "" && unit == "") {
		return Metadata{}, false
	}
	return Metadata{Metric: name, Type: typ, Help: help, Unit: unit}, true
}

// symbolize builds a series' labels from its references into symbols,
// checking every reference.
func symbolize(b *labels.ScratchBuilder, refs []uint32, symbols []string) (labels.Labels, error) {
	if len(refs)%2 != 0 {
		return labels.EmptyLabels(), fmt.Errorf("%w: %d label references, want name-value pairs", ErrLabelRef, len(refs))
	}
	b.Reset()
	for i := 0; i < len(refs); i += 2 {
		name, value := refs[i], refs[i+1]
		for _, ref := range [2]uint32{name, value} {
			if uint64(ref) >= uint64(len(symbols)) {
				return labels.EmptyLabels(), fmt.Errorf("%w: reference %d outside the symbols table of %d entries (label pair %d)",
					ErrLabelRef, ref, len(symbols), i/2)
			}
		}
		b.Add(symbols[name], symbols[value])
	}
	b.Sort()
	return b.Labels(), nil
}
