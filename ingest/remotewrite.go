package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/protobuf/encoding/protowire"
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

// The remote-write messages are decoded straight from the protobuf wire
// format rather than through Prometheus's generated (gogo) structs, which
// allocate a string per label name and value. Label names and values are
// handed to a labels.ScratchBuilder as strings that alias the message, and
// its Labels copies them out: one allocation per series in Prometheus's
// default stringlabels build. Samples of a request share one slab, sized by
// a first pass over the message.
//
// A message is accepted or refused exactly as the generated decoders of
// the pinned Prometheus module do (FuzzDecodeWriteV1Equivalent and
// FuzzDecodeWriteV2Equivalent check it against them), so a sender sees no
// difference, including where those decoders are more lenient than the
// protobuf specification (and than protowire's Consume functions, which
// is why those are not used):
//   - a varint may take 10 bytes whatever the bits of the last one, which
//     are dropped;
//   - a field number is the tag shifted right by 3 and truncated to int32;
//   - an unknown field may be a group, which ends at the first end-group
//     tag of its depth, whatever that tag's field number;
//   - the last element of a packed repeated field may run past the field's
//     length, up to the end of the enclosing message.
// A known field with the wrong wire type, a truncated varint or fixed
// field, a length past the end of its message, an end-group tag outside a
// group and field number 0 are errors. Unknown fields are skipped, and
// known non-repeated fields may repeat (the last one wins).

// DecodeWriteV1 decodes an uncompressed remote write 1.0 message
// (prometheus.WriteRequest). Histograms are listed in Dropped; exemplars
// are counted, metadata collected. The Request does not alias data.
func DecodeWriteV1(data []byte) (*Request, error) {
	n, err := writeRequestV1.scan(data)
	if err != nil {
		return nil, err
	}
	req := &Request{Series: make([]Series, 0, n.series)}
	d := newSeriesDecoder(n.samples)
	index := 0
	for i := 0; i < len(data); {
		num, msg, next, err := writeRequestV1.field(data, i)
		if err == nil {
			switch num {
			case writeRequestV1.series:
				err = d.seriesV1(req, index, msg)
				index++
			case writeRequestV1.other:
				err = appendMetadataV1(req, msg)
			}
		}
		if err != nil {
			return nil, writeRequestV1.malformed(data, err)
		}
		i = next
	}
	req.Samples = len(d.slab)
	return req, nil
}

// DecodeWriteV2 decodes an uncompressed remote write 2.0 message
// (io.prometheus.write.v2.Request): labels from the symbols table, samples
// with their start timestamps. A series with a label reference outside the
// table, and histogram samples, are listed in Dropped; exemplars are
// counted, metadata collected. The Request does not alias data.
func DecodeWriteV2(data []byte) (*Request, error) {
	n, err := requestV2.scan(data)
	if err != nil {
		return nil, err
	}
	// The symbols may follow the series that refer to them: they are
	// gathered first, in one more pass over the top level.
	symbols := make([]string, 0, n.other)
	for i := 0; i < len(data); {
		num, msg, next, err := requestV2.field(data, i)
		if err != nil {
			return nil, requestV2.malformed(data, err)
		}
		if num == requestV2.other {
			symbols = append(symbols, yoloString(msg))
		}
		i = next
	}
	req := &Request{Series: make([]Series, 0, n.series)}
	d := newSeriesDecoder(n.samples)
	index := 0
	for i := 0; i < len(data); {
		num, msg, next, err := requestV2.field(data, i)
		if err == nil && num == requestV2.series {
			err = d.seriesV2(req, index, msg, symbols)
			index++
		}
		if err != nil {
			return nil, requestV2.malformed(data, err)
		}
		i = next
	}
	return req, nil
}

// topMessage is the top level of a remote-write message: its two known
// fields, both repeated and length-delimited, are the series and another
// (metadata in 1.0, symbols in 2.0).
type topMessage struct {
	message, name string // full and short protobuf names
	series, other int32  // field numbers
}

var (
	writeRequestV1 = topMessage{message: messageV1, name: "WriteRequest", series: 1, other: 3}
	requestV2      = topMessage{message: messageV2, name: "Request", series: 5, other: 4}
)

// topCounts counts the fields of a remote-write message, to size what
// its decoder fills: series, the other field, and samples in the series.
type topCounts struct{ series, other, samples int }

// scan checks the top level of the message data and counts its fields.
// The contents of the series are checked as they are decoded.
func (m topMessage) scan(data []byte) (topCounts, error) {
	var n topCounts
	for i := 0; i < len(data); {
		num, msg, next, err := m.field(data, i)
		if err != nil {
			return topCounts{}, m.malformed(data, err)
		}
		switch num {
		case m.series:
			n.series++
			n.samples += countSamples(msg)
		case m.other:
			n.other++
		}
		i = next
	}
	return n, nil
}

// field reads the field at data[i:]: its number and bytes, and the index
// after it. An unknown field is skipped; its number is returned, with no
// bytes.
func (m topMessage) field(data []byte, i int) (num int32, msg []byte, next int, err error) {
	num, start, end, ok := shortField(data, i)
	if !ok {
		num, start, end, err = bytesField(data, i, m.name, 1<<m.series|1<<m.other)
	}
	return num, data[start:end], end, err
}

// malformed wraps err, from decoding data, with ErrMalformed. A
// *wireError's position is turned into an offset in data.
func (m topMessage) malformed(data []byte, err error) error {
	var we *wireError
	if errors.As(err, &we) {
		return fmt.Errorf("%w: decoding %s: %s at byte %d", ErrMalformed, m.message, we.what, cap(data)-we.rest)
	}
	return fmt.Errorf("%w: decoding %s: %v", ErrMalformed, m.message, err)
}

// countSamples counts the samples (field 2 in both protocols) of an
// encoded TimeSeries. It only sizes a buffer, so it stops at the first
// malformed field; the decoder reports it.
func countSamples(ts []byte) int {
	n := 0
	for i := 0; i < len(ts); {
		num, _, end, ok := shortField(ts, i)
		if !ok {
			var err error
			if num, _, end, err = bytesField(ts, i, "TimeSeries", 1<<2); err != nil {
				return n
			}
		}
		if num == 2 {
			n++
		}
		i = end
	}
	return n
}

// seriesDecoder holds what the series of one request share: the builder
// of their labels, the slab of their samples and, for 2.0, the label
// references of the series being decoded.
type seriesDecoder struct {
	b    labels.ScratchBuilder
	slab []Sample
	refs []uint32
}

// unsafeAdder is the optional method of a labels.ScratchBuilder whose
// Labels keeps the strings given to Add (Prometheus's slicelabels build):
// SetUnsafeAdd(true) makes Add copy them, since ours alias the message. The
// default stringlabels build has no such method: its Labels copies every
// name and value into one new string; dedupelabels copies new names into
// its symbol table.
type unsafeAdder interface{ SetUnsafeAdd(bool) }

func newSeriesDecoder(nSamples int) *seriesDecoder {
	d := &seriesDecoder{b: labels.NewScratchBuilder(16), slab: make([]Sample, 0, nSamples)}
	if u, ok := any(&d.b).(unsafeAdder); ok {
		u.SetUnsafeAdd(true)
	}
	return d
}

// seriesV1 decodes the prometheus.TimeSeries ts, the index-th of the
// request, into req.
func (d *seriesDecoder) seriesV1(req *Request, index int, ts []byte) error {
	d.b.Reset()
	first := len(d.slab)
	histograms := 0
	for i := 0; i < len(ts); {
		num, start, end, ok := shortField(ts, i)
		if !ok {
			var err error
			if num, start, end, err = bytesField(ts, i, "TimeSeries", 1<<1|1<<2|1<<3|1<<4); err != nil {
				return err
			}
		}
		var err error
		switch msg := ts[start:end]; num {
		case 1:
			err = d.labelV1(msg)
		case 2:
			err = d.sample(msg, false)
		case 3:
			req.Exemplars++
			err = checkMessage(msg, "Exemplar", exemplarV1Fields)
		case 4:
			histograms++
			err = checkMessage(msg, "Histogram", histogramV1Fields)
		}
		if err != nil {
			return err
		}
		i = end
	}
	n := len(d.slab) - first
	if n == 0 && histograms == 0 {
		return nil
	}
	d.b.Sort()
	lset := d.b.Labels()
	if histograms > 0 {
		req.Dropped = append(req.Dropped, &SeriesError{Index: index, Labels: lset, Samples: histograms,
			Err: fmt.Errorf("%w, %d histogram samples dropped", ErrNativeHistograms, histograms)})
	}
	if n > 0 {
		req.Series = append(req.Series, Series{Labels: lset, Samples: d.slab[first:len(d.slab):len(d.slab)]})
	}
	return nil
}

// labelV1 adds the prometheus.Label l to the builder.
func (d *seriesDecoder) labelV1(l []byte) error {
	// The usual encoding first: the name then the value, both shorter than
	// 128 bytes.
	if len(l) >= 4 && l[0] == 1<<3|byte(protowire.BytesType) {
		if n := int(l[1]); n < 0x80 && n+4 <= len(l) && l[n+2] == 2<<3|byte(protowire.BytesType) {
			if m := int(l[n+3]); m < 0x80 && n+4+m == len(l) {
				d.b.Add(yoloString(l[2:n+2]), yoloString(l[n+4:]))
				return nil
			}
		}
	}
	var name, value []byte
	for i := 0; i < len(l); {
		num, start, end, err := bytesField(l, i, "Label", 1<<1|1<<2)
		if err != nil {
			return err
		}
		switch num {
		case 1:
			name = l[start:end]
		case 2:
			value = l[start:end]
		}
		i = end
	}
	d.b.Add(yoloString(name), yoloString(value))
	return nil
}

// sample appends the Sample s to the slab: value (1), timestamp (2) and,
// in 2.0 (withST), start timestamp (3).
func (d *seriesDecoder) sample(s []byte, withST bool) error {
	// The usual encoding first: the value, then the timestamp.
	if len(s) > 10 && s[0] == 1<<3|byte(protowire.Fixed64Type) && s[9] == 2<<3|byte(protowire.VarintType) {
		if t, end, err := varint(s, 10); err == nil && end == len(s) {
			d.slab = append(d.slab, Sample{T: int64(t), V: math.Float64frombits(binary.LittleEndian.Uint64(s[1:]))})
			return nil
		}
	}
	var smp Sample
	for i := 0; i < len(s); {
		num, typ, j, err := tag(s, i)
		if err != nil {
			return err
		}
		switch {
		case num == 1:
			if typ != protowire.Fixed64Type {
				return wrongType(s, i, "Sample", num, typ)
			}
			var bits uint64
			bits, i, err = fixed64(s, j)
			smp.V = math.Float64frombits(bits)
		case num == 2 || (num == 3 && withST):
			if typ != protowire.VarintType {
				return wrongType(s, i, "Sample", num, typ)
			}
			var v uint64
			v, i, err = varint(s, j)
			if num == 2 {
				smp.T = int64(v)
			} else {
				smp.ST = int64(v)
			}
		default:
			i, err = skipField(s, i)
		}
		if err != nil {
			return err
		}
	}
	d.slab = append(d.slab, smp)
	return nil
}

// appendMetadataV1 appends the prometheus.MetricMetadata m to req.
func appendMetadataV1(req *Request, m []byte) error {
	var typ int32
	var name, help, unit []byte
	for i := 0; i < len(m); {
		num, wt, j, err := tag(m, i)
		if err != nil {
			return err
		}
		switch num {
		case 1:
			if wt != protowire.VarintType {
				return wrongType(m, i, "MetricMetadata", num, wt)
			}
			var v uint64
			v, i, err = varint(m, j)
			typ = int32(v)
		case 2, 4, 5:
			if wt != protowire.BytesType {
				return wrongType(m, i, "MetricMetadata", num, wt)
			}
			var start, end int
			start, end, err = lengthDelimited(m, j)
			switch num {
			case 2:
				name = m[start:end]
			case 4:
				help = m[start:end]
			case 5:
				unit = m[start:end]
			}
			i = end
		default:
			i, err = skipField(m, i)
		}
		if err != nil {
			return err
		}
	}
	req.Metadata = append(req.Metadata, Metadata{Metric: string(name), Type: metricType(typ), Help: string(help), Unit: string(unit)})
	return nil
}

// seriesV2 decodes the io.prometheus.write.v2.TimeSeries ts, the index-th
// of the request, into req, with its labels from symbols.
func (d *seriesDecoder) seriesV2(req *Request, index int, ts []byte, symbols []string) error {
	d.refs = d.refs[:0]
	first := len(d.slab)
	histograms := 0
	var md metadataRefs
	for i := 0; i < len(ts); {
		num, start, end, ok := shortField(ts, i)
		if !ok {
			next, isRef, err := d.unpackedRef(ts, i)
			if err != nil {
				return err
			}
			if isRef {
				i = next
				continue
			}
			if num, start, end, err = bytesField(ts, i, "TimeSeries", 1<<1|1<<2|1<<3|1<<4|1<<5); err != nil {
				return err
			}
		}
		var err error
		switch msg := ts[start:end]; num {
		case 1:
			d.refs, end, err = appendPackedRefs(d.refs, ts, start, end)
		case 2:
			err = d.sample(msg, true)
		case 3:
			histograms++
			err = checkMessage(msg, "Histogram", histogramV2Fields)
		case 4:
			req.Exemplars++
			err = checkMessage(msg, "Exemplar", exemplarV2Fields)
		case 5:
			err = md.merge(msg)
		}
		if err != nil {
			return err
		}
		i = end
	}
	n := len(d.slab) - first
	lset, err := symbolize(&d.b, d.refs, symbols)
	if err != nil {
		d.slab = d.slab[:first]
		req.Dropped = append(req.Dropped, &SeriesError{Index: index, Samples: n + histograms, Err: err})
		return nil
	}
	if histograms > 0 {
		req.Dropped = append(req.Dropped, &SeriesError{Index: index, Labels: lset, Samples: histograms,
			Err: fmt.Errorf("%w, %d histogram samples dropped", ErrNativeHistograms, histograms)})
	}
	if m, ok := md.metadata(lset, symbols); ok {
		req.Metadata = append(req.Metadata, m)
	}
	if n == 0 {
		return nil
	}
	req.Samples += n
	req.Series = append(req.Series, Series{Labels: lset, Samples: d.slab[first:len(d.slab):len(d.slab)]})
	return nil
}

// unpackedRef reads the field at ts[i:] if it is one label reference as
// a varint (field 1 may be packed or not), and returns the index after it.
func (d *seriesDecoder) unpackedRef(ts []byte, i int) (next int, ok bool, err error) {
	num, typ, j, err := tag(ts, i)
	if err != nil || num != 1 || typ != protowire.VarintType {
		return 0, false, err
	}
	ref, next, err := varint(ts, j)
	d.refs = append(d.refs, uint32(ref))
	return next, true, err
}

// appendPackedRefs appends the label references packed in ts[start:end]
// to refs and returns the index after them. As in the generated decoders,
// the last one may end past end.
func appendPackedRefs(refs []uint32, ts []byte, start, end int) ([]uint32, int, error) {
	i := start
	for i < end {
		var ref uint64
		var err error
		if ref, i, err = varint(ts, i); err != nil {
			return refs, 0, err
		}
		refs = append(refs, uint32(ref))
	}
	return refs, i, nil
}

// metadataRefs is the io.prometheus.write.v2.Metadata of a series; a
// series may carry the field more than once, each setting what it holds.
type metadataRefs struct {
	typ              int32
	helpRef, unitRef uint32
}

func (md *metadataRefs) merge(m []byte) error {
	for i := 0; i < len(m); {
		num, typ, j, err := tag(m, i)
		if err != nil {
			return err
		}
		if num != 1 && num != 3 && num != 4 {
			if i, err = skipField(m, i); err != nil {
				return err
			}
			continue
		}
		if typ != protowire.VarintType {
			return wrongType(m, i, "Metadata", num, typ)
		}
		var v uint64
		if v, i, err = varint(m, j); err != nil {
			return err
		}
		switch num {
		case 1:
			md.typ = int32(v)
		case 3:
			md.helpRef = uint32(v)
		case 4:
			md.unitRef = uint32(v)
		}
	}
	return nil
}

// metadata is the metadata a 2.0 series carries, named after the series'
// metric; ok is false when it says nothing or a reference is outside the
// symbols table (the samples are kept either way).
func (md *metadataRefs) metadata(lset labels.Labels, symbols []string) (Metadata, bool) {
	if uint64(md.helpRef) >= uint64(len(symbols)) || uint64(md.unitRef) >= uint64(len(symbols)) {
		return Metadata{}, false
	}
	help, unit := symbols[md.helpRef], symbols[md.unitRef]
	typ := ""
	if md.typ != 0 { // METRIC_TYPE_UNSPECIFIED
		typ = metricType(md.typ)
	}
	name := lset.Get(labels.MetricName)
	if name == "" || (typ == "" && help == "" && unit == "") {
		return Metadata{}, false
	}
	// The symbols alias the message; the Request must not.
	return Metadata{Metric: name, Type: typ, Help: strings.Clone(help), Unit: strings.Clone(unit)}, true
}

// metricTypes are the metric types of both protocols' metadata, by their
// number in the enums, as Prometheus names them in lower case.
var metricTypes = [...]string{"unknown", "counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset"}

// metricType names a metadata type; a number outside the enum is named by
// its decimal value, as the generated String methods do.
func metricType(t int32) string {
	if t >= 0 && int(t) < len(metricTypes) {
		return metricTypes[t]
	}
	return strconv.Itoa(int(t))
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

// fieldKind is how the decoders check a field of a message whose content
// they do not use (exemplars, histograms): the wire types the generated
// decoder accepts for it.
type fieldKind uint8

const (
	unknownField    fieldKind = iota // skipped, whatever its wire type
	varintField                      // an integer or enum: wire type 0
	fixed64Field                     // a double: wire type 1
	stringField                      // a string: wire type 2
	repeatedVarint                   // one element (wire type 0) or packed (2)
	repeatedFixed64                  // one element (wire type 1) or packed (2)
	labelField                       // a prometheus.Label message
	bucketSpanField                  // a BucketSpan message
)

// The fields of the messages checkMessage checks, by field number; a
// number past the end is an unknown field.
var (
	labelV1Fields    = []fieldKind{1: stringField, 2: stringField}
	exemplarV1Fields = []fieldKind{1: labelField, 2: fixed64Field, 3: varintField}
	exemplarV2Fields = []fieldKind{1: repeatedVarint, 2: fixed64Field, 3: varintField}
	bucketSpanFields = []fieldKind{1: varintField, 2: varintField}
	// histogramV1Fields: count_int, count_float, sum, schema,
	// zero_threshold, zero_count_int, zero_count_float, negative_spans,
	// negative_deltas, negative_counts, positive_spans, positive_deltas,
	// positive_counts, reset_hint, timestamp, custom_values.
	histogramV1Fields = []fieldKind{
		1: varintField, 2: fixed64Field, 3: fixed64Field, 4: varintField, 5: fixed64Field, 6: varintField,
		7: fixed64Field, 8: bucketSpanField, 9: repeatedVarint, 10: repeatedFixed64, 11: bucketSpanField,
		12: repeatedVarint, 13: repeatedFixed64, 14: varintField, 15: varintField, 16: repeatedFixed64,
	}
	// histogramV2Fields adds start_timestamp.
	histogramV2Fields = append(histogramV1Fields[:17:17], varintField)
)

// checkMessage checks the message m (name is its protobuf name) as the
// generated decoder would decode it, fields holds its fields' kinds.
func checkMessage(m []byte, name string, fields []fieldKind) error {
	for i := 0; i < len(m); {
		num, typ, j, err := tag(m, i)
		if err != nil {
			return err
		}
		kind := unknownField
		if int64(num) < int64(len(fields)) {
			kind = fields[num]
		}
		switch kind {
		case unknownField:
			i, err = skipField(m, i)
		case varintField, repeatedVarint:
			switch {
			case typ == protowire.VarintType:
				_, i, err = varint(m, j)
			case kind == repeatedVarint && typ == protowire.BytesType:
				i, err = skipPacked(m, j, false)
			default:
				return wrongType(m, i, name, num, typ)
			}
		case fixed64Field, repeatedFixed64:
			switch {
			case typ == protowire.Fixed64Type:
				_, i, err = fixed64(m, j)
			case kind == repeatedFixed64 && typ == protowire.BytesType:
				i, err = skipPacked(m, j, true)
			default:
				return wrongType(m, i, name, num, typ)
			}
		default: // stringField, labelField, bucketSpanField
			if typ != protowire.BytesType {
				return wrongType(m, i, name, num, typ)
			}
			var start, end int
			if start, end, err = lengthDelimited(m, j); err != nil {
				return err
			}
			switch kind {
			case labelField:
				err = checkMessage(m[start:end], "Label", labelV1Fields)
			case bucketSpanField:
				err = checkMessage(m[start:end], "BucketSpan", bucketSpanFields)
			}
			i = end
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// skipPacked skips the packed varints, or fixed64 values, whose length is
// at m[j:], and returns the index after them. As in the generated
// decoders, the last one may end past that length.
func skipPacked(m []byte, j int, fixed bool) (int, error) {
	i, end, err := lengthDelimited(m, j)
	for err == nil && i < end {
		if fixed {
			_, i, err = fixed64(m, i)
		} else {
			_, i, err = varint(m, i)
		}
	}
	return i, err
}

// The wire format primitives below take a message b and the index i of
// what they read, and return the index after it. Their errors are
// *wireError.

// wireError is a malformed protobuf message: what is wrong, and where as
// the number of bytes from there to the end of the decoded buffer's
// capacity. Every message a decoder reads is a b[start:end] slice of the
// buffer it was given, so this counts from the same end for all of them;
// malformed turns it into an offset.
type wireError struct {
	what string
	rest int
}

func (e *wireError) Error() string { return e.what }

func wireErrAt(b []byte, i int, what string) error {
	return &wireError{what: what, rest: cap(b) - i}
}

func wrongType(b []byte, i int, name string, num int32, typ protowire.Type) error {
	return wireErrAt(b, i, fmt.Sprintf("field %d of %s has wire type %d", num, name, typ))
}

// shortField reads the field at b[i:] if, as most, it is length-delimited
// with a tag and a length of one byte each: its number and the bounds of
// its bytes. ok is false for any other field, which bytesField reads.
// (It is small enough to be inlined, where bytesField is not.)
func shortField(b []byte, i int) (num int32, start, end int, ok bool) {
	if i+1 < len(b) {
		if c, n := b[i], int(b[i+1]); c&7 == byte(protowire.BytesType) && c >= 8 && c < 0x80 && n < 0x80 && n <= len(b)-i-2 {
			return int32(c >> 3), i + 2, i + 2 + n, true
		}
	}
	return 0, 0, 0, false
}

// bytesField reads the field at b[i:] of the message name, whose known
// fields (a bit per field number in known) are all length-delimited: its
// number and the bounds of its bytes. An unknown field is skipped: its
// bytes are empty, and end is the index after it.
func bytesField(b []byte, i int, name string, known uint64) (num int32, start, end int, err error) {
	num, typ, j, err := tag(b, i)
	if err != nil {
		return 0, 0, 0, err
	}
	if num >= 64 || known&(1<<num) == 0 {
		end, err = skipField(b, i)
		return num, end, end, err
	}
	if typ != protowire.BytesType {
		return 0, 0, 0, wrongType(b, i, name, num, typ)
	}
	start, end, err = lengthDelimited(b, j)
	return num, start, end, err
}

// varint reads the varint at b[i:]. Like the generated decoders, it reads
// up to 10 bytes and drops the bits past 64.
func varint(b []byte, i int) (uint64, int, error) {
	if i < len(b) && b[i] < 0x80 {
		return uint64(b[i]), i + 1, nil
	}
	return varintSlow(b, i)
}

func varintSlow(b []byte, i int) (uint64, int, error) {
	var v uint64
	for shift, start := uint(0), i; shift < 64; shift += 7 {
		if i >= len(b) {
			return 0, 0, wireErrAt(b, start, "truncated varint")
		}
		c := b[i]
		i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, i, nil
		}
	}
	return 0, 0, wireErrAt(b, i-10, "varint longer than 10 bytes")
}

// tag reads the tag of the field at b[i:]: its number (the generated
// decoders truncate it to int32) and wire type. Field numbers below 1 and
// end-group tags (outside skipField) are errors.
func tag(b []byte, i int) (int32, protowire.Type, int, error) {
	if i < len(b) {
		if c := b[i]; c < 0x80 && c >= 8 && c&7 != byte(protowire.EndGroupType) {
			return int32(c >> 3), protowire.Type(c & 7), i + 1, nil
		}
	}
	return tagSlow(b, i)
}

func tagSlow(b []byte, i int) (int32, protowire.Type, int, error) {
	v, j, err := varintSlow(b, i)
	if err != nil {
		return 0, 0, 0, err
	}
	num, typ := int32(v>>3), protowire.Type(v&7)
	if typ == protowire.EndGroupType {
		return 0, 0, 0, wireErrAt(b, i, "end-group tag outside a group")
	}
	if num <= 0 {
		return 0, 0, 0, wireErrAt(b, i, fmt.Sprintf("illegal field number %d", num))
	}
	return num, typ, j, nil
}

// lengthDelimited reads the length at b[i:] and returns the bounds of the
// bytes it counts.
func lengthDelimited(b []byte, i int) (start, end int, err error) {
	if i < len(b) {
		if n := int(b[i]); n < 0x80 && n < len(b)-i {
			return i + 1, i + 1 + n, nil
		}
	}
	return lengthSlow(b, i)
}

func lengthSlow(b []byte, i int) (start, end int, err error) {
	n, j, err := varintSlow(b, i)
	if err != nil {
		return 0, 0, err
	}
	if n > uint64(len(b)-j) {
		return 0, 0, wireErrAt(b, i, "length past the end of the message")
	}
	return j, j + int(n), nil
}

// fixed64 reads the 8 little-endian bytes at b[i:].
func fixed64(b []byte, i int) (uint64, int, error) {
	if len(b)-i < 8 {
		return 0, 0, wireErrAt(b, i, "truncated fixed64")
	}
	return binary.LittleEndian.Uint64(b[i:]), i + 8, nil
}

// skipField skips the unknown field at b[i:], tag included, as the
// generated decoders do: a group (wire type 3) ends at the first end-group
// tag of its depth, whatever that tag's field number, and the fields in it
// are not otherwise checked.
func skipField(b []byte, i int) (int, error) {
	start := i
	for depth := 0; i < len(b); {
		v, j, err := varint(b, i)
		if err != nil {
			return 0, err
		}
		var n uint64
		switch protowire.Type(v & 7) {
		case protowire.VarintType:
			if _, j, err = varint(b, j); err != nil {
				return 0, err
			}
		case protowire.Fixed64Type:
			n = 8
		case protowire.BytesType:
			if n, j, err = varint(b, j); err != nil {
				return 0, err
			}
		case protowire.StartGroupType:
			depth++
		case protowire.EndGroupType:
			if depth == 0 {
				return 0, wireErrAt(b, i, "end-group tag outside a group")
			}
			depth--
		case protowire.Fixed32Type:
			n = 4
		default:
			return 0, wireErrAt(b, i, fmt.Sprintf("illegal wire type %d", v&7))
		}
		if n > uint64(len(b)-j) {
			return 0, wireErrAt(b, i, "field past the end of the message")
		}
		i = j + int(n)
		if depth == 0 {
			return i, nil
		}
	}
	return 0, wireErrAt(b, start, "unterminated group")
}

// yoloString is b as a string without a copy: b must not change while the
// string is in use.
func yoloString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
