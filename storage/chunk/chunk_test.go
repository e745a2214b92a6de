package chunk_test

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/almanacdb/almanac/storage/chunk"
)

var seed = flag.Uint64("seed", 0, "seed for randomised tests (0: pick one and log it)")

// newRand returns a generator for a randomised test, logging its seed so a
// failure can be replayed with -seed.
func newRand(t testing.TB) *rand.Rand {
	s := *seed
	if s == 0 {
		s = rand.Uint64()
	}
	t.Logf("seed %d (replay with -seed=%d)", s, s)
	return rand.New(rand.NewPCG(s, 0))
}

// Adversarial float64 bit patterns.
var specials = []float64{
	math.Float64frombits(staleNaN),
	math.NaN(),
	math.Float64frombits(0x7ff8000000000001), // quiet NaN with a payload
	math.Float64frombits(0xfff0000000000001), // negative signalling NaN
	math.Float64frombits(0x7fffffffffffffff),
	math.Inf(1),
	math.Inf(-1),
	math.Copysign(0, -1),
	0,
	math.SmallestNonzeroFloat64,
	-math.SmallestNonzeroFloat64,
	math.Float64frombits(0x000fffffffffffff), // largest denormal
	math.MaxFloat64,
	-math.MaxFloat64,
	1 << 53,
	1<<53 + 2,
	-(1 << 53),
	0.1,
	1e-18,
	1e300,
}

// requireSameBits fails unless got and want hold the same float64 bits.
func requireSameBits(t testing.TB, want, got []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("value %d: got %v (%#x), want %v (%#x)",
				i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
		}
	}
}

// requireSameInts fails unless got equals want.
func requireSameInts(t testing.TB, what string, want, got []int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s %d: got %d, want %d", what, i, got[i], want[i])
		}
	}
}

// roundTrip encodes and decodes and checks that the columns come back
// bit-exactly and that ReadInfo agrees. It returns the chunk. It compares
// without reflection, since the fuzz targets call it on every input.
func roundTrip(t testing.TB, ts []int64, vs []float64, sts []int64) []byte {
	t.Helper()
	const prefix = "prefix"
	b, err := chunk.Append([]byte(prefix), ts, vs, sts)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if string(b[:len(prefix)]) != prefix {
		t.Fatalf("Append changed dst's existing bytes to %q", b[:len(prefix)])
	}
	b = b[len(prefix):]

	// Decode appends after existing elements.
	gts, gvs, gsts, err := chunk.Decode(b, []int64{7}, []float64{8}, []int64{9})
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if gts[0] != 7 || gvs[0] != 8 || gsts[0] != 9 {
		t.Fatalf("Decode changed existing elements: %d %v %d", gts[0], gvs[0], gsts[0])
	}
	requireSameInts(t, "timestamp", ts, gts[1:])
	requireSameBits(t, vs, gvs[1:])
	if sts == nil && len(gsts) != 1 {
		t.Fatalf("%d start timestamps decoded from a chunk without them", len(gsts)-1)
	}
	if sts != nil {
		requireSameInts(t, "start timestamp", sts, gsts[1:])
	}

	info, err := chunk.ReadInfo(b)
	if err != nil {
		t.Fatalf("ReadInfo: %v", err)
	}
	want := chunk.Info{Count: len(ts), MinT: ts[0], MaxT: ts[len(ts)-1], Values: info.Values, HasStartTimestamps: sts != nil}
	if info != want {
		t.Fatalf("ReadInfo: got %+v, want %+v", info, want)
	}
	if info.Values < chunk.ValuesConst || info.Values > chunk.ValuesXOR {
		t.Fatalf("ReadInfo: unknown codec %v", info.Values)
	}
	return b
}

// startTimestampVariants returns start-timestamp columns for ts: none,
// constant, unknown, previous t, and a mix with resets.
func startTimestampVariants(r *rand.Rand, ts []int64) map[string][]int64 {
	n := len(ts)
	constant := make([]int64, n)
	zero := make([]int64, n)
	prevT := make([]int64, n)
	mixed := make([]int64, n)
	for i := range ts {
		constant[i] = ts[0] - 3_600_000
		prevT[i] = ts[0] - 15_000
		if i > 0 {
			prevT[i] = ts[i-1]
		}
		switch k := r.IntN(10); {
		case i == 0:
			mixed[i] = math.MinInt64
		case k < 5:
			mixed[i] = mixed[i-1]
		case k < 6:
			mixed[i] = ts[i-1]
		case k < 7:
			mixed[i] = 0
		case k < 8:
			mixed[i] = math.MaxInt64
		default:
			mixed[i] = ts[i] - int64(r.IntN(1000))
		}
	}
	return map[string][]int64{"none": nil, "constant": constant, "zero": zero, "prevT": prevT, "mixed": mixed}
}

func TestRoundTrip(t *testing.T) {
	r := newRand(t)
	f := func(name string, ts []int64, vs []float64) {
		t.Helper()
		for stName, sts := range startTimestampVariants(r, ts) {
			t.Run(name+"/st="+stName, func(t *testing.T) {
				roundTrip(t, ts, vs, sts)
			})
		}
	}
	regular := func(n int) []int64 { return genTimestamps(r, n, 0) }
	jittered := func(n int) []int64 { return genTimestamps(r, n, 5) }

	f("single", []int64{1}, []float64{1})
	f("single-stale", []int64{math.MinInt64}, []float64{math.Float64frombits(staleNaN)})
	f("two", []int64{-5, 5}, []float64{1.5, math.NaN()})
	f("two-extreme-ts", []int64{math.MinInt64, math.MaxInt64}, []float64{0, 1})
	f("huge-deltas", []int64{math.MinInt64 + 1, -1, 0, math.MaxInt64 - 1, math.MaxInt64}, []float64{1, 2, 3, 4, 5})
	f("irregular", []int64{0, 1, 1000, 1001, 90_000, 90_002, 1 << 40, 1<<40 + 15_000}, []float64{1, 2, 3, 4, 5, 6, 7, 8})
	f("specials", regular(len(specials)), specials)
	rev := slices.Clone(specials)
	slices.Reverse(rev)
	f("specials-reversed", jittered(len(rev)), rev)
	f("const", regular(240), genConst(240, 1))
	f("const-zero", jittered(240), genConst(240, 0))
	f("const-stale", regular(240), genConst(240, math.Float64frombits(staleNaN)))
	f("const-negzero", regular(240), genConst(240, math.Copysign(0, -1)))
	f("counter-resets", jittered(240), genCounter(r, 240))
	f("gauge2-stale", jittered(240), withStale(genGauge2(r, 240)))
	f("gauge1", regular(240), func() []float64 {
		vs := make([]float64, 240)
		for i := range vs {
			vs[i] = float64(r.IntN(1000)) / 10
		}
		return vs
	}())
	f("noisy", jittered(240), genNoisy(r, 240))
	f("random-bits", jittered(240), func() []float64 {
		vs := make([]float64, 240)
		for i := range vs {
			vs[i] = math.Float64frombits(r.Uint64())
		}
		return vs
	}())
	f("decimals-with-specials", jittered(240), func() []float64 {
		vs := genGauge2(r, 240)
		for i := 0; i < len(vs); i += 7 {
			vs[i] = specials[r.IntN(len(specials))]
		}
		return vs
	}())
	f("mixed-exponents", regular(100), func() []float64 {
		vs := make([]float64, 100)
		for i := range vs {
			vs[i] = float64(r.IntN(1_000_000)) / math.Pow10(r.IntN(19))
		}
		return vs
	}())
	f("large-decimals", regular(50), func() []float64 {
		vs := make([]float64, 50)
		for i := range vs {
			vs[i] = float64(1<<53-1-r.IntN(100)) * float64(1-2*(i%2))
		}
		return vs
	}())
	f("max-samples", jittered(chunk.MaxSamples), genGauge2(r, chunk.MaxSamples))
	f("max-samples-noisy", regular(chunk.MaxSamples), genNoisy(r, chunk.MaxSamples))
}

// TestValueCodecChoice checks that Append picks the codec that suits the
// data, stale markers notwithstanding.
func TestValueCodecChoice(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	f := func(name string, vs []float64, want chunk.ValueCodec) {
		t.Helper()
		b, err := chunk.Append(nil, genTimestamps(r, len(vs), 0), vs, nil)
		require.NoError(t, err)
		info, err := chunk.ReadInfo(b)
		require.NoError(t, err)
		require.Equal(t, want, info.Values, "%s: codec", name)
	}
	f("const", genConst(240, 42.5), chunk.ValuesConst)
	f("const-nan", genConst(240, math.NaN()), chunk.ValuesConst)
	f("counter", genCounter(r, 240), chunk.ValuesDecimal)
	f("gauge2", genGauge2(r, 240), chunk.ValuesDecimal)
	f("gauge2-stale", withStale(genGauge2(r, 240)), chunk.ValuesDecimal)
	f("counter-stale", withStale(genCounter(r, 240)), chunk.ValuesDecimal)
	f("noisy", genNoisy(r, 240), chunk.ValuesXOR)
	f("mostly-nan", append(genConst(200, math.NaN()), genGauge2(r, 40)...), chunk.ValuesXOR)
}

// TestSize pins how compact the realistic shapes are, so a change that
// makes the format bigger fails here rather than only in a benchmark.
func TestSize(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 240
	size := func(ts []int64, vs []float64, sts []int64) int {
		b, err := chunk.Append(nil, ts, vs, sts)
		require.NoError(t, err)
		return len(b)
	}
	regular, ones := genTimestamps(r, n, 0), genConst(n, 1)
	// Header (version, flags, count 2, mint 6, span 4 bytes) and a 3-byte
	// constant: regular timestamps cost nothing.
	require.LessOrEqual(t, size(regular, ones, nil), 17)
	base := size(regular, ones, nil)

	// tsBits checks what a timestamp column costs in bits per sample beyond
	// the regular one, with constant values.
	tsBits := func(name string, ts []int64, maxBits float64) {
		t.Helper()
		got := float64(size(ts, ones[:len(ts)], nil)-base) * 8 / n
		t.Logf("%s: %.2f bits/sample", name, got)
		require.LessOrEqual(t, got, maxBits, "%s: timestamp bits/sample", name)
	}
	without := func(ts []int64, i, k int) []int64 { return slices.Delete(slices.Clone(ts), i, i+k) }
	jittered := genTimestamps(r, n, 5)
	tsBits("one-missed-scrape", without(regular, 100, 1), 0.4) // 10 bytes
	tsBits("jitter-5ms", jittered, 4.2)                        // 11 offsets from the grid: 4 bits
	tsBits("jitter-5ms-missed-scrapes", without(without(jittered, 100, 1), 150, 5), 4.4)
	tsBits("jitter-1ms", genTimestamps(r, n, 1), 2.2)
	for i := range uint64(20) { // the grid's step and centre are estimated, not sampled by luck
		tsBits(fmt.Sprintf("jitter-5ms-seed-%d", i), genTimestamps(rand.New(rand.NewPCG(i, 7)), n, 5), 4.2)
	}
	drifting := slices.Clone(jittered)
	for i := range drifting {
		drifting[i] += int64(i) // a 15.001 s interval
	}
	tsBits("jitter-5ms-drifting", drifting, 4.2)
	accumulating := slices.Clone(regular)
	for i := 1; i < n; i++ {
		accumulating[i] = accumulating[i-1] + 15_000 + int64(r.IntN(11)-5)
	}
	tsBits("jitter-5ms-accumulating", accumulating, 4.2)

	// A constant start timestamp costs its varint and a mode byte.
	require.LessOrEqual(t, size(regular, ones, genConst64(n, regular[0]-1000))-base, 8)

	f := func(name string, vs []float64, maxBytesPerSample float64) {
		t.Helper()
		got := float64(size(regular, vs, nil)) / n
		t.Logf("%s: %.3f bytes/sample", name, got)
		require.LessOrEqual(t, got, maxBytesPerSample, "%s: bytes/sample", name)
	}
	counter := genCounter(r, n)
	f("counter", counter, 0.8) // increments of 90..110: 5 bits
	for i, drop := n/2, counter[n/2]-7; i < n; i++ {
		counter[i] -= drop // a reset to 7
	}
	f("counter-reset", counter, 0.8)
	f("gauge2", genGauge2(r, n), 0.6)
	f("gauge2-stale", withStale(genGauge2(r, n)), 0.6) // a stale marker costs 3 bytes
	f("noisy", genNoisy(r, n), 7.8)
}

func genConst64(n int, v int64) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestAppendInvalidInput(t *testing.T) {
	f := func(name string, ts []int64, vs []float64, sts []int64) {
		t.Helper()
		dst := []byte("keep")
		got, err := chunk.Append(dst, ts, vs, sts)
		require.ErrorIs(t, err, chunk.ErrInvalidInput, name)
		require.Equal(t, []byte("keep"), got, name)
		t.Logf("%s: %v", name, err)
	}
	f("empty", nil, nil, nil)
	f("empty-nonnil", []int64{}, []float64{}, []int64{})
	f("too-many", make([]int64, chunk.MaxSamples+1), make([]float64, chunk.MaxSamples+1), nil)
	f("fewer-values", []int64{1, 2}, []float64{1}, nil)
	f("more-values", []int64{1, 2}, []float64{1, 2, 3}, nil)
	f("fewer-sts", []int64{1, 2}, []float64{1, 2}, []int64{0})
	f("empty-sts", []int64{1, 2}, []float64{1, 2}, []int64{})
	f("duplicate", []int64{1, 2, 2, 3}, []float64{1, 2, 3, 4}, nil)
	f("unsorted", []int64{1, 3, 2}, []float64{1, 2, 3}, nil)
	f("descending-extremes", []int64{math.MaxInt64, math.MinInt64}, []float64{1, 2}, nil)
}

// validChunks returns chunks of every codec and column kind for the
// corruption tests.
func validChunks(t testing.TB) map[string][]byte {
	r := rand.New(rand.NewPCG(3, 4))
	ts := genTimestamps(r, 60, 5)
	sts := startTimestampVariants(r, ts)["mixed"]
	gauge := withStale(genGauge2(r, 60))
	chunks := map[string][]byte{}
	add := func(name string, ts []int64, vs []float64, sts []int64) {
		b, err := chunk.Append(nil, ts, vs, sts)
		require.NoError(t, err)
		chunks[name] = b
	}
	add("single", ts[:1], gauge[:1], nil)
	add("const-regular", genTimestamps(r, 60, 0), genConst(60, 1), nil)
	add("decimal-jitter-stale", ts, gauge, nil)
	add("decimal-st-mixed", ts, gauge, sts)
	add("decimal-st-const", ts, gauge, genConst64(60, 5))
	add("counter", ts, genCounter(r, 60), nil)
	add("xor", ts, genNoisy(r, 60), nil)
	add("specials-st", ts[:len(specials)], specials, sts[:len(specials)])
	return chunks
}

func TestDecodeTruncated(t *testing.T) {
	for name, b := range validChunks(t) {
		t.Run(name, func(t *testing.T) {
			for i := range len(b) {
				ts, vs, sts, err := chunk.Decode(b[:i], []int64{1}, []float64{1}, nil)
				require.ErrorIs(t, err, chunk.ErrCorrupt, "prefix of %d of %d bytes", i, len(b))
				require.Len(t, ts, 1)
				require.Len(t, vs, 1)
				require.Nil(t, sts)
			}
			_, _, _, err := chunk.Decode(append(slices.Clone(b), 0), nil, nil, nil)
			require.ErrorIs(t, err, chunk.ErrCorrupt, "trailing byte")
		})
	}
}

// requireDecodeConsistent checks the contract for arbitrary input: Decode
// either fails with ErrCorrupt or returns columns that Append accepts and
// that round-trip again unchanged, with ReadInfo agreeing.
func requireDecodeConsistent(t testing.TB, b []byte) {
	t.Helper()
	ts, vs, sts, err := chunk.Decode(b, nil, nil, nil)
	info, infoErr := chunk.ReadInfo(b)
	if infoErr != nil && !errors.Is(infoErr, chunk.ErrCorrupt) {
		t.Fatalf("ReadInfo: error %v does not wrap ErrCorrupt", infoErr)
	}
	if err != nil {
		if !errors.Is(err, chunk.ErrCorrupt) {
			t.Fatalf("Decode: error %v does not wrap ErrCorrupt", err)
		}
		return
	}
	if infoErr != nil {
		t.Fatalf("Decode succeeded, ReadInfo failed: %v", infoErr)
	}
	want := chunk.Info{Count: len(ts), MinT: ts[0], MaxT: ts[len(ts)-1], Values: info.Values, HasStartTimestamps: sts != nil}
	if info != want {
		t.Fatalf("ReadInfo: got %+v, decoded %+v", info, want)
	}
	roundTrip(t, ts, vs, sts)
}

func TestDecodeMutated(t *testing.T) {
	r := newRand(t)
	for name, b := range validChunks(t) {
		t.Run(name, func(t *testing.T) {
			requireDecodeConsistent(t, b)
			for range 2000 {
				m := slices.Clone(b)
				for range 1 + r.IntN(3) {
					m[r.IntN(len(m))] ^= byte(1 << r.IntN(8))
				}
				requireDecodeConsistent(t, m)
			}
		})
	}
}

func TestDecodeRandomBytes(t *testing.T) {
	r := newRand(t)
	for range 20000 {
		b := make([]byte, r.IntN(64))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if len(b) > 1 && r.IntN(2) == 0 {
			b[0], b[1] = 1, byte(r.IntN(64)) // a valid version and plausible flags
		}
		requireDecodeConsistent(t, b)
	}
}

func TestValueCodecString(t *testing.T) {
	f := func(c chunk.ValueCodec, want string) {
		t.Helper()
		require.Equal(t, want, c.String())
	}
	f(chunk.ValuesConst, "const")
	f(chunk.ValuesDecimal, "decimal")
	f(chunk.ValuesXOR, "xor")
	f(0, "ValueCodec(0)")
	f(9, "ValueCodec(9)")
}

func TestErrorsMatchSentinels(t *testing.T) {
	_, _, _, err := chunk.Decode([]byte{2}, nil, nil, nil)
	require.True(t, errors.Is(err, chunk.ErrCorrupt))
	require.False(t, errors.Is(err, chunk.ErrInvalidInput))
	require.Contains(t, err.Error(), "version 2")
	_, err = chunk.ReadInfo(nil)
	require.ErrorIs(t, err, chunk.ErrCorrupt)
}

// TestDecimalNegativeZero checks that -0 inside decimal data is an
// exception rather than the integer 0, which would decode as +0.
func TestDecimalNegativeZero(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	vs := genGauge2(r, 240)
	vs[0], vs[100] = math.Copysign(0, -1), 0
	b := roundTrip(t, genTimestamps(r, 240, 0), vs, nil)
	info, err := chunk.ReadInfo(b)
	require.NoError(t, err)
	require.Equal(t, chunk.ValuesDecimal, info.Values)
}

// TestDecodeRejects feeds hand-built chunks that are well-formed byte by
// byte but break an invariant of the format.
func TestDecodeRejects(t *testing.T) {
	f := func(name string, b []byte, want string) {
		t.Helper()
		_, _, _, err := chunk.Decode(b, nil, nil, nil)
		require.ErrorIs(t, err, chunk.ErrCorrupt, name)
		require.ErrorContains(t, err, want, name)
	}
	const constZero = 0 // a const value column holding 0.0: uvarint 0
	// Header: version 1, flags, count, mint (varint), maxt-mint (uvarint).
	// flags 0x05: delta timestamps (1), const values (1<<2).
	f("duplicate-timestamp", []byte{1, 0x05, 3, 0, 2, 0, 1, 3, 0x20, constZero}, "not after")
	f("last-timestamp-not-maxt", []byte{1, 0x05, 3, 0, 4, 2, 1, 0, constZero}, "maxt")
	f("regular-span-indivisible", []byte{1, 0x04, 3, 0, 3, constZero}, "not divisible")
	f("span-too-short", []byte{1, 0x04, 3, 0, 1, constZero}, "too short")
	f("single-with-span", []byte{1, 0x04, 1, 0, 1, constZero}, "single sample")
	f("zero-count", []byte{1, 0x04, 0, 0, 0, constZero}, "sample count")
	f("too-many", []byte{1, 0x04, 0x80, 0x80, 0x04, 0, 0x80, 0x80, 0x04, constZero}, "sample count")
	f("maxt-overflow", append([]byte{1, 0x04, 2, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 2, constZero), "time span")
	f("reserved-flag", []byte{1, 0x84, 1, 0, 0, constZero}, "flags")
	f("unknown-value-codec", []byte{1, 0x10, 1, 0, 0, constZero}, "flags")
	f("grid-step-huge", []byte{1, 0x07, 3, 0, 2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 1, 0, constZero}, "grid step")
	f("grid-step-zero", []byte{1, 0x07, 3, 0, 2, 0, 0, 1, 0, constZero}, "grid step")
	f("version", []byte{0, 0x04, 1, 0, 0, constZero}, "version 0")
	f("trailing", []byte{1, 0x04, 1, 0, 0, constZero, 0}, "trailing")
	// flags 0x08: regular timestamps, decimal values.
	f("decimal-exponent", []byte{1, 0x08, 1, 0, 0, 19, 0, 0}, "decimal header")
	f("decimal-too-many-exceptions", []byte{1, 0x08, 1, 0, 0, 0, 2, 0, 0}, "exceptions")
	f("decimal-out-of-range", []byte{1, 0x08, 1, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20}, "out of range")
	f("exception-position", []byte{1, 0x08, 2, 0, 1, 0, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0}, "exception position")
	f("exception-position-n", []byte{1, 0x08, 2, 0, 1, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}, "exception position")
	f("exception-positions-after-last", []byte{1, 0x08, 3, 0, 2, 0, 2, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "exception position")
	// flags 0x2c: regular timestamps, xor values, start timestamps.
	xorOne := []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f} // 1.0 as 64 raw bits
	f("st-mode", append(append([]byte{1, 0x2c, 1, 0, 0}, xorOne...), 3), "start-timestamp mode")
	f("st-prev-t-first", append(append([]byte{1, 0x2c, 1, 0, 0}, xorOne...), 2, 1, 1, 0x01), "first sample")
	f("st-tag", append(append([]byte{1, 0x2c, 1, 0, 0}, xorOne...), 2, 1, 3, 0x04), "tag 4")
	f("packed-levels", append(append([]byte{1, 0x2c, 1, 0, 0}, xorOne...), 2, 5, 0, 0, 0, 0), "levels")
	f("patch-position", append(append([]byte{1, 0x2c, 1, 0, 0}, xorOne...), 2, 4, 0, 1, 1, 3), "patch position")
	f("patch-count", append(append([]byte{1, 0x2c, 1, 0, 0}, xorOne...), 2, 4, 0, 2, 0, 3, 0, 3), "patches")
	f("patch-high", append(append([]byte{1, 0x2c, 1, 0, 0}, xorOne...), 2, 4, 63, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4), "does not fit")
	f("packed-widths", append(append([]byte{1, 0x2c, 1, 0, 0}, xorOne...), 2, 2, 3, 3, 0), "width")
	f("packed-width-65", append(append([]byte{1, 0x2c, 1, 0, 0}, xorOne...), 2, 1, 65, 0), "width")
}

// TestReadInfoHeaderOnly checks that ReadInfo reads only the header: it
// reports a chunk whose columns are cut off, which Decode rejects.
func TestReadInfoHeaderOnly(t *testing.T) {
	b, err := chunk.Append(nil, []int64{10, 20, 35}, []float64{1, 2, math.NaN()}, []int64{0, 0, 5})
	require.NoError(t, err)
	info, err := chunk.ReadInfo(b[:5])
	require.NoError(t, err)
	require.Equal(t, chunk.Info{Count: 3, MinT: 10, MaxT: 35, Values: info.Values, HasStartTimestamps: true}, info)
	_, _, _, err = chunk.Decode(b[:5], nil, nil, nil)
	require.ErrorIs(t, err, chunk.ErrCorrupt)
}
