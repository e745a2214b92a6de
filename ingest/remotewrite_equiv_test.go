package ingest

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"google.golang.org/protobuf/encoding/protowire"
)

// The decoders read the protobuf wire format themselves. These tests hold
// them to the generated (gogo) decoders they replaced, kept below as the
// reference: on any input both must fail, or both return the same Request.

var (
	equivSeed  = flag.Uint64("equiv.seed", 0, "seed of TestDecodeWriteEquivalentRandom (0: from the clock)")
	equivCases = flag.Int("equiv.cases", 1000, "random messages TestDecodeWriteEquivalentRandom decodes per protocol")
)

// FuzzDecodeWriteV1Equivalent: DecodeWriteV1 and the gogo-based reference
// agree on every input.
func FuzzDecodeWriteV1Equivalent(f *testing.F) {
	for _, seed := range equivSeedsV1(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkEquivalent(t, data, DecodeWriteV1, refDecodeWriteV1)
	})
}

// FuzzDecodeWriteV2Equivalent: as FuzzDecodeWriteV1Equivalent for 2.0.
func FuzzDecodeWriteV2Equivalent(f *testing.F) {
	for _, seed := range equivSeedsV2(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkEquivalent(t, data, DecodeWriteV2, refDecodeWriteV2)
	})
}

// TestDecodeWriteEquivalentRandom decodes random valid messages, and
// mutations of them, with both decoders.
func TestDecodeWriteEquivalentRandom(t *testing.T) {
	seed := *equivSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -equiv.seed=%d)", seed, seed)
	for _, tc := range []struct {
		name     string
		gen      func(*rand.Rand) []byte
		dec, ref func([]byte) (*Request, error)
	}{
		{"v1", func(rng *rand.Rand) []byte { return marshal(t, randWriteRequestV1(rng)) }, DecodeWriteV1, refDecodeWriteV1},
		{"v2", func(rng *rand.Rand) []byte { return marshal(t, randRequestV2(rng)) }, DecodeWriteV2, refDecodeWriteV2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			for range *equivCases {
				msg := tc.gen(rng)
				checkEquivalent(t, msg, tc.dec, tc.ref)
				for range 4 {
					checkEquivalent(t, mutate(rng, msg), tc.dec, tc.ref)
				}
			}
		})
	}
}

// checkEquivalent decodes data with dec and with the reference ref and
// requires the same outcome. dec gets its own copy, scribbled over
// afterwards, so what it returns must not alias its input.
func checkEquivalent(t *testing.T, data []byte, dec, ref func([]byte) (*Request, error)) {
	t.Helper()
	want, wantErr := ref(slices.Clone(data))
	buf := slices.Clone(data)
	got, err := dec(buf)
	for i := range buf {
		buf[i] = 0xa5
	}
	switch {
	case wantErr != nil && err != nil:
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("input %x: error %v does not match ErrMalformed", data, err)
		}
		return
	case wantErr != nil:
		t.Fatalf("input %x: the reference fails (%v), the decoder does not", data, wantErr)
	case err != nil:
		t.Fatalf("input %x: the decoder fails (%v), the reference does not", data, err)
	}
	if diff := diffRequests(got, want); diff != "" {
		t.Fatalf("input %x: %s", data, diff)
	}
	for i := 1; i < len(got.Series); i++ {
		prev, next := got.Series[i-1].Samples, got.Series[i].Samples
		end := uintptr(unsafe.Pointer(&prev[0])) + uintptr(len(prev))*unsafe.Sizeof(Sample{})
		if cap(prev) != len(prev) || end != uintptr(unsafe.Pointer(&next[0])) {
			t.Fatalf("input %x: the samples of series %d do not follow those of series %d in one slab", data, i, i-1)
		}
	}
}

// diffRequests describes the first difference between two decoded
// requests, values compared by bits; "" means none.
func diffRequests(got, want *Request) string {
	if len(got.Series) != len(want.Series) {
		return fmt.Sprintf("%d series, want %d", len(got.Series), len(want.Series))
	}
	for i, w := range want.Series {
		g := got.Series[i]
		if !labels.Equal(g.Labels, w.Labels) {
			return fmt.Sprintf("series %d: labels %s, want %s", i, g.Labels, w.Labels)
		}
		if len(g.Samples) != len(w.Samples) {
			return fmt.Sprintf("series %d: %d samples, want %d", i, len(g.Samples), len(w.Samples))
		}
		for j, ws := range w.Samples {
			gs := g.Samples[j]
			if gs.T != ws.T || gs.ST != ws.ST || math.Float64bits(gs.V) != math.Float64bits(ws.V) {
				return fmt.Sprintf("series %d sample %d: %+v (bits %x), want %+v (bits %x)",
					i, j, gs, math.Float64bits(gs.V), ws, math.Float64bits(ws.V))
			}
		}
	}
	if got.Samples != want.Samples || got.Exemplars != want.Exemplars {
		return fmt.Sprintf("%d samples and %d exemplars, want %d and %d", got.Samples, got.Exemplars, want.Samples, want.Exemplars)
	}
	if len(got.Dropped) != len(want.Dropped) {
		return fmt.Sprintf("dropped %v, want %v", got.Dropped, want.Dropped)
	}
	for i, w := range want.Dropped {
		g := got.Dropped[i]
		if g.Index != w.Index || g.Samples != w.Samples || !labels.Equal(g.Labels, w.Labels) || g.Error() != w.Error() ||
			errors.Is(g, ErrLabelRef) != errors.Is(w, ErrLabelRef) || errors.Is(g, ErrNativeHistograms) != errors.Is(w, ErrNativeHistograms) {
			return fmt.Sprintf("dropped %d: %+v (%v), want %+v (%v)", i, *g, g, *w, w)
		}
	}
	if !slices.Equal(got.Metadata, want.Metadata) {
		return fmt.Sprintf("metadata %q, want %q", got.Metadata, want.Metadata)
	}
	if got.Invalid != nil || got.InvalidLines != 0 || got.Ignored != nil {
		return "import fields set"
	}
	return ""
}

func marshal(tb testing.TB, m interface{ Marshal() ([]byte, error) }) []byte {
	tb.Helper()
	data, err := m.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// mutate returns a copy of msg with one random edit: the changes a fuzzer
// makes, applied to messages it would take long to find.
func mutate(rng *rand.Rand, msg []byte) []byte {
	m := slices.Clone(msg)
	if len(m) == 0 {
		return append(m, byte(rng.IntN(256)))
	}
	at := rng.IntN(len(m))
	switch rng.IntN(7) {
	case 0:
		m[at] ^= 1 << rng.IntN(8)
	case 1:
		m[at] = []byte{0x00, 0x01, 0x7f, 0x80, 0xff, byte(rng.IntN(256))}[rng.IntN(6)]
	case 2:
		m = m[:at]
	case 3:
		m = slices.Delete(m, at, min(len(m), at+1+rng.IntN(8)))
	case 4:
		ins := make([]byte, 1+rng.IntN(11))
		for i := range ins {
			ins[i] = byte(rng.IntN(256))
		}
		m = slices.Insert(m, at, ins...)
	case 5:
		end := min(len(m), at+1+rng.IntN(32))
		m = slices.Insert(m, end, m[at:end]...)
	case 6:
		m = slices.Insert(m, at, unknownFields()...)
	}
	return m
}

// pb writes a protobuf message by hand, for what the generated encoders
// never write: unknown fields, unpacked repeated fields, odd varints.
type pb []byte

func (m pb) tag(num protowire.Number, typ protowire.Type) pb {
	return protowire.AppendTag(m, num, typ)
}
func (m pb) varint(num protowire.Number, v uint64) pb {
	return protowire.AppendVarint(m.tag(num, protowire.VarintType), v)
}
func (m pb) fixed64(num protowire.Number, v uint64) pb {
	return protowire.AppendFixed64(m.tag(num, protowire.Fixed64Type), v)
}
func (m pb) double(num protowire.Number, v float64) pb { return m.fixed64(num, math.Float64bits(v)) }
func (m pb) bytes(num protowire.Number, b []byte) pb {
	return protowire.AppendBytes(m.tag(num, protowire.BytesType), b)
}
func (m pb) str(num protowire.Number, s string) pb { return m.bytes(num, []byte(s)) }
func (m pb) raw(b ...byte) pb                      { return append(m, b...) }

// unknownFields is one unknown field of every wire type, groups nested.
func unknownFields() pb {
	return pb{}.varint(100, 1<<40).fixed64(101, 7).str(102, "x").
		raw(protowire.AppendTag(nil, 103, protowire.Fixed32Type)...).raw(1, 2, 3, 4).
		tag(104, protowire.StartGroupType).varint(1, 5).tag(105, protowire.StartGroupType).str(2, "in").
		tag(105, protowire.EndGroupType).tag(104, protowire.EndGroupType)
}

// overlong is v as a 10-byte varint whose last byte has bits past 64,
// which the generated decoders drop.
func overlong(v uint64) []byte {
	b := make([]byte, 10)
	for i := range 9 {
		b[i] = byte(v>>(7*i))&0x7f | 0x80
	}
	b[9] = 0x7e | byte(v>>63)
	return b
}

// hugeTag is the tag of field num, wire type typ, plus 1<<32 in the field
// number, which the generated decoders truncate away.
func hugeTag(num protowire.Number, typ protowire.Type) []byte {
	return protowire.AppendVarint(nil, (uint64(num)|1<<32)<<3|uint64(typ))
}

func equivSeedsV1(tb testing.TB) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	seeds := [][]byte{encodeV1(tb, testSeries()), marshal(tb, histogramRequestV1()), {}}
	for range 8 {
		seeds = append(seeds, marshal(tb, randWriteRequestV1(rng)))
	}
	label := func(n, v string) pb { return pb{}.str(1, n).str(2, v) }
	sample := pb{}.double(1, 1.5).varint(2, 1000)
	ts := pb{}.bytes(1, label("__name__", "up")).bytes(1, label("job", "a")).bytes(2, sample)
	hist := pb{}.varint(1, 3).double(3, 2).varint(4, protowire.EncodeZigZag(-2)).varint(15, 10)
	seeds = append(seeds,
		pb{}.bytes(1, ts),
		// Unknown fields everywhere, including the reserved field 2.
		pb{}.raw(unknownFields()...).str(2, "reserved").bytes(1, pb{}.raw(unknownFields()...).
			bytes(1, label("a", "b").raw(unknownFields()...)).bytes(2, sample.raw(unknownFields()...)).
			bytes(3, pb{}.raw(unknownFields()...)).bytes(4, hist.raw(unknownFields()...))).
			bytes(3, pb{}.varint(1, 2).str(2, "up").raw(unknownFields()...)),
		// Non-repeated fields given twice: the last wins.
		pb{}.bytes(1, pb{}.bytes(1, label("a", "b").str(1, "c").str(2, "d")).bytes(2, sample.double(1, -2).varint(2, 7))),
		// An empty label, duplicate names, no labels at all, invalid UTF-8.
		pb{}.bytes(1, pb{}.bytes(1, nil).bytes(1, label("a", "1")).bytes(1, label("a", "2")).bytes(2, sample)).
			bytes(1, pb{}.bytes(2, nil)).bytes(1, pb{}.bytes(1, label("\xff", "\xfe")).bytes(2, sample)),
		// Quirks of the generated decoders: an overlong varint, a field
		// number past 32 bits, a group closed by another field's end tag,
		// packed fields whose last element runs past their length.
		pb{}.bytes(1, pb{}.bytes(1, label("a", "b")).bytes(2, pb{}.tag(2, protowire.VarintType).raw(overlong(1<<62)...))),
		pb{}.raw(hugeTag(1, protowire.BytesType)...).raw(protowire.AppendBytes(nil, ts)...),
		pb{}.tag(7, protowire.StartGroupType).varint(9, 1).tag(8, protowire.EndGroupType).bytes(1, ts),
		pb{}.bytes(1, ts.bytes(4, hist.tag(9, protowire.BytesType).raw(1, 0x80, 0x01).varint(14, 1))),
		pb{}.bytes(1, ts.bytes(4, hist.tag(10, protowire.BytesType).raw(3, 1, 2, 3, 4, 5, 6, 7, 8))),
		// Repeated scalars unpacked, and field 17 (a 2.0 field) in a 1.0 histogram.
		pb{}.bytes(1, ts.bytes(4, hist.varint(9, 1).varint(9, 2).double(13, 1).double(16, 2).str(17, "unknown in 1.0"))),
		// Metadata of every type, and of types outside the enum.
		pb{}.bytes(3, pb{}.varint(1, 7).str(2, "m").str(4, "help").str(5, "seconds")).
			bytes(3, pb{}.varint(1, 99)).bytes(3, pb{}.varint(1, math.MaxUint64)).bytes(3, nil),
		// Errors: wrong wire types, field 0, an end group outside a group,
		// wire types 6 and 7, an 11-byte varint, truncations.
		pb{}.varint(1, 1),
		pb{}.bytes(1, pb{}.varint(2, 1)),
		pb{}.bytes(1, pb{}.bytes(2, pb{}.varint(1, 1))),
		pb{}.bytes(1, ts.bytes(4, pb{}.double(1, 1))),
		pb{}.bytes(1, ts.bytes(3, pb{}.bytes(1, pb{}.varint(1, 1)))),
		pb{}.varint(0, 1),
		pb{}.tag(5, protowire.EndGroupType),
		pb{}.raw(0x0e, 0),
		pb{}.bytes(1, pb{}.bytes(2, pb{}.tag(2, protowire.VarintType).raw(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))),
		pb{}.bytes(1, ts)[:len(ts)],
		pb{}.tag(7, protowire.StartGroupType).varint(9, 1),
	)
	return seeds
}

func equivSeedsV2(tb testing.TB) [][]byte {
	rng := rand.New(rand.NewPCG(3, 4))
	seeds := [][]byte{encodeV2(tb, testSeries()), marshal(tb, histogramRequestV2()), {}}
	for range 8 {
		seeds = append(seeds, marshal(tb, randRequestV2(rng)))
	}
	symbols := pb{}.str(4, "").str(4, "__name__").str(4, "up").str(4, "job").str(4, "help")
	sample := pb{}.double(1, 1).varint(2, 5).varint(3, 4)
	seeds = append(seeds,
		symbols.bytes(5, pb{}.refs(1, 2, 3, 2).bytes(2, sample)),
		// Symbols after the series, unknown fields everywhere, reserved fields 1 to 3 and 6.
		pb{}.raw(unknownFields()...).str(1, "r").bytes(5, pb{}.refs(1, 2).raw(unknownFields()...).
			bytes(2, sample.raw(unknownFields()...)).bytes(3, pb{}.raw(unknownFields()...)).
			bytes(4, pb{}.raw(unknownFields()...)).bytes(5, pb{}.varint(1, 1).raw(unknownFields()...)).str(6, "r")).
			raw(symbols...),
		// Label references unpacked, mixed, and past 32 bits.
		symbols.bytes(5, pb{}.varint(1, 1).varint(1, 2).bytes(2, sample)),
		symbols.bytes(5, pb{}.refs(1).varint(1, 2).refs(3, 4).bytes(2, sample)),
		symbols.bytes(5, pb{}.varint(1, 1<<32|1).varint(1, 1<<33|2).bytes(2, sample)),
		// Bad references: outside the table, odd, with histograms.
		symbols.bytes(5, pb{}.refs(1, 9).bytes(2, sample).bytes(3, nil)).bytes(5, pb{}.refs(1).bytes(2, sample)).
			bytes(5, pb{}.refs(1, 2).bytes(2, sample)),
		// Metadata given twice (merged), with references outside the table,
		// of types outside the enum, on a series without a name.
		symbols.bytes(5, pb{}.refs(1, 2).bytes(5, pb{}.varint(1, 2)).bytes(5, pb{}.varint(3, 4))).
			bytes(5, pb{}.refs(1, 2).bytes(5, pb{}.varint(1, 1).varint(4, 50))).
			bytes(5, pb{}.refs(1, 2).bytes(5, pb{}.varint(1, 42))).
			bytes(5, pb{}.refs(1, 2).bytes(5, pb{}.varint(1, math.MaxUint64))).
			bytes(5, pb{}.refs(3, 2).bytes(5, pb{}.varint(1, 1))),
		// Quirks: an overlong varint, a field number past 32 bits, a
		// mismatched group end, packed fields running past their length.
		symbols.bytes(5, pb{}.refs(1, 2).bytes(2, pb{}.tag(3, protowire.VarintType).raw(overlong(5)...))),
		symbols.raw(hugeTag(5, protowire.BytesType)...).raw(protowire.AppendBytes(nil, pb{}.refs(1, 2).bytes(2, sample))...),
		symbols.tag(7, protowire.StartGroupType).tag(8, protowire.EndGroupType).bytes(5, pb{}.refs(1, 2)),
		symbols.bytes(5, pb{}.tag(1, protowire.BytesType).raw(2, 1, 0x82, 0x00).bytes(2, sample)),
		symbols.bytes(5, pb{}.refs(1, 2).bytes(4, pb{}.tag(1, protowire.BytesType).raw(1, 0x80, 0x01))),
		symbols.bytes(5, pb{}.refs(1, 2).bytes(3, pb{}.varint(17, 5).tag(16, protowire.BytesType).raw(1, 1, 2, 3, 4, 5, 6, 7, 8))),
		// Errors.
		symbols.bytes(5, pb{}.refs(1, 2).tag(1, protowire.Fixed64Type).raw(1, 2, 3, 4, 5, 6, 7, 8)),
		symbols.bytes(5, pb{}.refs(1, 2).bytes(5, pb{}.str(3, "x"))),
		symbols.bytes(5, pb{}.refs(1, 2).bytes(3, pb{}.str(17, "x"))),
		symbols.bytes(5, pb{}.refs(1, 2).bytes(2, pb{}.varint(1, 1))),
		symbols.varint(4, 1),
		symbols.bytes(5, pb{}.tag(1, protowire.BytesType).raw(1, 0x80)),
	)
	return seeds
}

// refs appends 2.0 label references as a packed field.
func (m pb) refs(refs ...uint64) pb {
	var b []byte
	for _, r := range refs {
		b = protowire.AppendVarint(b, r)
	}
	return m.bytes(1, b)
}

func histogramRequestV1() *prompb.WriteRequest {
	return &prompb.WriteRequest{
		Timeseries: []prompb.TimeSeries{{
			Labels:  []prompb.Label{{Name: "__name__", Value: "rpc_duration_seconds"}, {Name: "job", Value: "api"}},
			Samples: []prompb.Sample{{Value: 1, Timestamp: 1}},
			Exemplars: []prompb.Exemplar{{Labels: []prompb.Label{{Name: "trace_id", Value: "abc"}}, Value: 0.5, Timestamp: 1},
				{Value: 1}},
			Histograms: []prompb.Histogram{
				{Count: &prompb.Histogram_CountInt{CountInt: 10}, Sum: 5, Schema: -2, ZeroThreshold: 1e-9,
					ZeroCount: &prompb.Histogram_ZeroCountInt{ZeroCountInt: 1}, NegativeSpans: []prompb.BucketSpan{{Offset: -3, Length: 2}},
					NegativeDeltas: []int64{1, -1}, PositiveSpans: []prompb.BucketSpan{{Offset: 1, Length: 1}, {Offset: 2, Length: 1}},
					PositiveDeltas: []int64{4, -2}, ResetHint: prompb.Histogram_YES, Timestamp: 1},
				{Count: &prompb.Histogram_CountFloat{CountFloat: 2.5}, ZeroCount: &prompb.Histogram_ZeroCountFloat{ZeroCountFloat: 0.5},
					NegativeCounts: []float64{1, 2}, PositiveCounts: []float64{math.NaN()}, CustomValues: []float64{0.1, 1}, Schema: -53},
			},
		}, {
			Labels:     []prompb.Label{{Name: "__name__", Value: "only_histograms"}},
			Histograms: []prompb.Histogram{{Timestamp: 5}},
		}, {
			Labels:    []prompb.Label{{Name: "__name__", Value: "only_exemplars"}},
			Exemplars: []prompb.Exemplar{{Timestamp: 5}},
		}},
		Metadata: []prompb.MetricMetadata{
			{Type: prompb.MetricMetadata_HISTOGRAM, MetricFamilyName: "rpc_duration_seconds", Help: "RPC latency.", Unit: "seconds"},
			{Type: prompb.MetricMetadata_UNKNOWN, MetricFamilyName: "x"},
		},
	}
}

func histogramRequestV2() *writev2.Request {
	return &writev2.Request{
		Symbols: []string{"", "__name__", "rpc_duration_seconds", "job", "api", "trace_id", "abc", "RPC latency.", "seconds"},
		Timeseries: []writev2.TimeSeries{{
			LabelsRefs: []uint32{1, 2, 3, 4},
			Samples:    []writev2.Sample{{Value: 1, Timestamp: 2, StartTimestamp: 1}},
			Exemplars:  []writev2.Exemplar{{LabelsRefs: []uint32{5, 6}, Value: 0.5, Timestamp: 1}},
			Histograms: []writev2.Histogram{
				{Count: &writev2.Histogram_CountInt{CountInt: 10}, Sum: 5, Schema: 3, ZeroThreshold: 1e-9,
					ZeroCount: &writev2.Histogram_ZeroCountInt{ZeroCountInt: 1}, NegativeSpans: []writev2.BucketSpan{{Offset: -3, Length: 2}},
					NegativeDeltas: []int64{1, -1}, PositiveSpans: []writev2.BucketSpan{{Offset: 1, Length: 1}},
					PositiveDeltas: []int64{4}, ResetHint: writev2.Histogram_RESET_HINT_GAUGE, Timestamp: 1, StartTimestamp: 1},
				{Count: &writev2.Histogram_CountFloat{CountFloat: 2.5}, PositiveCounts: []float64{1}, CustomValues: []float64{1}},
			},
			Metadata: writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_HISTOGRAM, HelpRef: 7, UnitRef: 8},
		}, {
			LabelsRefs: []uint32{1, 2, 3, 99},
			Samples:    []writev2.Sample{{Value: 1, Timestamp: 2}},
			Histograms: []writev2.Histogram{{Timestamp: 3}},
		}, {
			LabelsRefs: []uint32{3, 4},
			Metadata:   writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_GAUGE},
		}},
	}
}

// The random messages below draw from small pools, so that names repeat
// and collide, and from values that are easy to get wrong.

var equivNames = []string{"__name__", "job", "instance", "le", "a", "", "é", "\xff", "mode", "cpu"}

func randString(rng *rand.Rand) string {
	if rng.IntN(3) == 0 {
		return equivNames[rng.IntN(len(equivNames))]
	}
	b := make([]byte, rng.IntN(20))
	for i := range b {
		b[i] = byte(' ' + rng.IntN(95))
	}
	return string(b)
}

func randFloat(rng *rand.Rand) float64 {
	switch rng.IntN(8) {
	case 0:
		return math.Float64frombits(value.StaleNaN)
	case 1:
		return math.Float64frombits(rng.Uint64() | 0x7ff0000000000001) // a NaN with a payload
	case 2:
		return math.Inf(1 - 2*rng.IntN(2))
	case 3:
		return math.Copysign(0, -1)
	case 4:
		return math.Float64frombits(rng.Uint64())
	case 5:
		return float64(rng.IntN(1000))
	}
	return math.Round(rng.Float64()*1e6) / 100
}

func randInt64(rng *rand.Rand) int64 {
	switch rng.IntN(6) {
	case 0:
		return math.MinInt64
	case 1:
		return math.MaxInt64
	case 2:
		return -rng.Int64N(1 << 40)
	case 3:
		return 0
	}
	return 1_700_000_000_000 + rng.Int64N(1<<30)
}

func randWriteRequestV1(rng *rand.Rand) *prompb.WriteRequest {
	var wr prompb.WriteRequest
	for range rng.IntN(8) {
		var ts prompb.TimeSeries
		for range rng.IntN(7) {
			ts.Labels = append(ts.Labels, prompb.Label{Name: randString(rng), Value: randString(rng)})
		}
		for range rng.IntN(5) {
			ts.Samples = append(ts.Samples, prompb.Sample{Value: randFloat(rng), Timestamp: randInt64(rng)})
		}
		for range rng.IntN(3) / 2 {
			ex := prompb.Exemplar{Value: randFloat(rng), Timestamp: randInt64(rng)}
			for range rng.IntN(3) {
				ex.Labels = append(ex.Labels, prompb.Label{Name: randString(rng), Value: randString(rng)})
			}
			ts.Exemplars = append(ts.Exemplars, ex)
		}
		for range rng.IntN(3) / 2 {
			ts.Histograms = append(ts.Histograms, randHistogramV1(rng))
		}
		wr.Timeseries = append(wr.Timeseries, ts)
	}
	for range rng.IntN(4) / 2 {
		wr.Metadata = append(wr.Metadata, prompb.MetricMetadata{
			Type:             prompb.MetricMetadata_MetricType(rng.IntN(10) - 1),
			MetricFamilyName: randString(rng), Help: randString(rng), Unit: randString(rng),
		})
	}
	return &wr
}

func randHistogramV1(rng *rand.Rand) prompb.Histogram {
	h := prompb.Histogram{Sum: randFloat(rng), Schema: int32(rng.IntN(20) - 10), ZeroThreshold: randFloat(rng),
		ResetHint: prompb.Histogram_ResetHint(rng.IntN(4)), Timestamp: randInt64(rng)}
	spans := []prompb.BucketSpan{{Offset: int32(rng.IntN(10) - 5), Length: uint32(rng.IntN(3))}}
	if rng.IntN(2) == 0 {
		h.Count = &prompb.Histogram_CountInt{CountInt: rng.Uint64N(1000)}
		h.ZeroCount = &prompb.Histogram_ZeroCountInt{ZeroCountInt: rng.Uint64N(10)}
		h.PositiveSpans, h.PositiveDeltas = spans, []int64{rng.Int64N(10) - 5, -3}
	} else {
		h.Count = &prompb.Histogram_CountFloat{CountFloat: randFloat(rng)}
		h.ZeroCount = &prompb.Histogram_ZeroCountFloat{ZeroCountFloat: randFloat(rng)}
		h.NegativeSpans, h.NegativeCounts = spans, []float64{randFloat(rng)}
		h.CustomValues = []float64{randFloat(rng)}
	}
	return h
}

func randRequestV2(rng *rand.Rand) *writev2.Request {
	wr := writev2.Request{Symbols: []string{""}}
	for range rng.IntN(10) {
		wr.Symbols = append(wr.Symbols, randString(rng))
	}
	ref := func() uint32 {
		switch rng.IntN(40) {
		case 0:
			return uint32(len(wr.Symbols)) // just outside the table
		case 1:
			return math.MaxUint32
		}
		return uint32(rng.IntN(len(wr.Symbols)))
	}
	for range rng.IntN(8) {
		var ts writev2.TimeSeries
		for range rng.IntN(7) {
			ts.LabelsRefs = append(ts.LabelsRefs, ref(), ref())
		}
		if rng.IntN(30) == 0 {
			ts.LabelsRefs = append(ts.LabelsRefs, ref())
		}
		for range rng.IntN(5) {
			ts.Samples = append(ts.Samples, writev2.Sample{Value: randFloat(rng), Timestamp: randInt64(rng), StartTimestamp: randInt64(rng)})
		}
		for range rng.IntN(3) / 2 {
			ts.Exemplars = append(ts.Exemplars, writev2.Exemplar{LabelsRefs: []uint32{ref(), ref()}, Value: randFloat(rng), Timestamp: randInt64(rng)})
		}
		for range rng.IntN(3) / 2 {
			ts.Histograms = append(ts.Histograms, writev2.Histogram{
				Count: &writev2.Histogram_CountInt{CountInt: rng.Uint64N(100)}, Sum: randFloat(rng), Schema: int32(rng.IntN(9)),
				PositiveSpans: []writev2.BucketSpan{{Offset: 1, Length: 1}}, PositiveDeltas: []int64{rng.Int64N(5)},
				CustomValues: []float64{randFloat(rng)}, Timestamp: randInt64(rng), StartTimestamp: randInt64(rng),
			})
		}
		if rng.IntN(3) == 0 {
			ts.Metadata = writev2.Metadata{Type: writev2.Metadata_MetricType(rng.IntN(10) - 1), HelpRef: ref(), UnitRef: ref()}
		}
		wr.Timeseries = append(wr.Timeseries, ts)
	}
	return &wr
}

// nodeExporterSeries is n series of a node_exporter-like target set, in
// targets of 100 series, each with two samples 15 s apart: labels
// __name__, instance, job and the metric's own.
func nodeExporterSeries(rng *rand.Rand, n int) []Series {
	metrics := []func(i int) []string{
		func(i int) []string {
			return []string{"__name__", "node_cpu_seconds_total", "cpu", fmt.Sprint(i % 8),
				"mode", []string{"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"}[i/8%8]}
		},
		func(i int) []string {
			return []string{"__name__", "node_filesystem_avail_bytes", "device", fmt.Sprintf("/dev/sda%d", i%4),
				"fstype", "ext4", "mountpoint", []string{"/", "/boot", "/home", "/var"}[i%4]}
		},
		func(i int) []string {
			return []string{"__name__", "node_network_receive_bytes_total", "device", []string{"eth0", "eth1", "lo", "docker0"}[i%4]}
		},
		func(i int) []string {
			return []string{"__name__", []string{"node_load1", "node_load5", "node_memory_MemFree_bytes", "node_memory_Cached_bytes"}[i%4]}
		},
		func(i int) []string {
			return []string{"__name__", "node_hwmon_temp_celsius", "chip", "platform_coretemp_0", "sensor", fmt.Sprintf("temp%d", i%6+1)}
		},
	}
	series := make([]Series, 0, n)
	t0 := int64(1_764_000_000_000)
	for i := range n {
		target, j := i/100, i%100
		kv := append(metrics[j%len(metrics)](j/len(metrics)),
			"instance", fmt.Sprintf("10.1.%d.%d:9100", target/250, target%250), "job", "node")
		v := math.Round(rng.Float64()*1e8) / 100
		series = append(series, Series{Labels: labels.FromStrings(kv...), Samples: []Sample{
			{T: t0 + int64(rng.IntN(7)) - 3, V: v}, {T: t0 + 15_000 + int64(rng.IntN(7)) - 3, V: v + float64(rng.IntN(100))},
		}})
	}
	return series
}

// BenchmarkDecodeWriteV1 decodes a request of 1,000 node_exporter-like
// series of 2 samples with the reference (gogo) decoder and ours.
func BenchmarkDecodeWriteV1(b *testing.B) {
	benchmarkDecode(b, encodeV1(b, nodeExporterSeries(rand.New(rand.NewPCG(1, 2)), 1000)), refDecodeWriteV1, DecodeWriteV1)
}

// BenchmarkDecodeWriteV2: as BenchmarkDecodeWriteV1, in 2.0.
func BenchmarkDecodeWriteV2(b *testing.B) {
	benchmarkDecode(b, encodeV2(b, nodeExporterSeries(rand.New(rand.NewPCG(1, 2)), 1000)), refDecodeWriteV2, DecodeWriteV2)
}

func benchmarkDecode(b *testing.B, data []byte, ref, dec func([]byte) (*Request, error)) {
	for _, bc := range []struct {
		name   string
		decode func([]byte) (*Request, error)
	}{{"gogo", ref}, {"wire", dec}} {
		b.Run(bc.name, func(b *testing.B) {
			samples := 0
			b.ReportAllocs()
			for b.Loop() {
				req, err := bc.decode(data)
				if err != nil {
					b.Fatal(err)
				}
				samples = req.Samples
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*samples), "ns/sample")
			b.ReportMetric(float64(len(data))/float64(samples), "bytes/sample")
		})
	}
}

// refDecodeWriteV1 is DecodeWriteV1 as it was before it read the wire
// format itself: through Prometheus's generated (gogo) structs. It is the
// reference the equivalence tests hold the decoder to; keep it unchanged.
func refDecodeWriteV1(data []byte) (*Request, error) {
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

// refDecodeWriteV2 is DecodeWriteV2 as it was before, through gogo's
// writev2.Request: the reference of the equivalence tests.
func refDecodeWriteV2(data []byte) (*Request, error) {
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
		lset, err := refSymbolize(&b, ts.LabelsRefs, wr.Symbols)
		if err != nil {
			req.Dropped = append(req.Dropped, &SeriesError{Index: i, Samples: len(ts.Samples) + len(ts.Histograms), Err: err})
			continue
		}
		if len(ts.Histograms) > 0 {
			req.Dropped = append(req.Dropped, &SeriesError{Index: i, Labels: lset, Samples: len(ts.Histograms),
				Err: fmt.Errorf("%w, %d histogram samples dropped", ErrNativeHistograms, len(ts.Histograms))})
		}
		if md, ok := refMetadataV2(ts.Metadata, lset, wr.Symbols); ok {
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

// refMetadataV2 is the metadata a 2.0 series carries, named after the
// series' metric; ok is false when it says nothing or a reference is
// outside the symbols table (the samples are kept either way).
func refMetadataV2(m writev2.Metadata, lset labels.Labels, symbols []string) (Metadata, bool) {
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

// refSymbolize builds a series' labels from its references into symbols,
// checking every reference.
func refSymbolize(b *labels.ScratchBuilder, refs []uint32, symbols []string) (labels.Labels, error) {
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
