package chunk

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBits(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		type field struct {
			v uint64
			n uint
		}
		fields := make([]field, r.IntN(100))
		total := uint(0)
		w := bitWriter{dst: []byte("x")}
		for i := range fields {
			n := uint(r.IntN(65))
			fields[i] = field{r.Uint64() & lowBits(n), n}
			w.writeBits(r.Uint64()|fields[i].v, 0)  // writes nothing
			w.writeBits(fields[i].v|^lowBits(n), n) // bits above n are ignored
			total += n
		}
		b := w.finish()
		require.Equal(t, byte('x'), b[0])
		require.Len(t, b, 1+int(total+7)/8)

		br := newBitReader(append(b[1:], 0xff)) // a next section follows
		for i, f := range fields {
			v, ok := br.readBits(f.n)
			require.True(t, ok, "field %d", i)
			require.Equal(t, f.v, v, "field %d of %d bits", i, f.n)
		}
		require.Equal(t, int(total+7)/8, br.consumed())
		_, ok := br.readBits(16) // at most 7 padding bits and the 8 of 0xff remain
		require.False(t, ok, "read past the end")
	}
}

func TestZigzag(t *testing.T) {
	f := func(x int64, want uint64) {
		t.Helper()
		require.Equal(t, want, zigzag(x))
		require.Equal(t, uint64(x), unzigzag(want))
	}
	f(0, 0)
	f(-1, 1)
	f(1, 2)
	f(-2, 3)
	f(math.MaxInt64, math.MaxUint64-1)
	f(math.MinInt64, math.MaxUint64)
}

func TestPacked(t *testing.T) {
	// f packs vals, checks the plan's layout (levels 0: patched) and size,
	// and reads the values back in batches of three.
	f := func(name string, vals []uint64, wantLevels int, wantWidths ...uint8) {
		t.Helper()
		var h widthHist
		for _, v := range vals {
			h.add(v)
		}
		p, size := planPack(&h, len(vals))
		got := p.widths[:max(p.levels, 1)]
		require.Equal(t, wantLevels, p.levels, "%s: levels of %+v", name, p)
		require.Equal(t, wantWidths, got, "%s: widths", name)
		b := appendPacked([]byte("x"), &p, vals)[1:]
		if p.levels > 0 {
			require.Len(t, b, size, "%s: planned size", name)
		} else {
			require.LessOrEqual(t, len(b), size, "%s: planned size bound", name)
		}

		r := reader{src: append(b, 0xff)} // a next section follows
		var pr packReader
		require.NoError(t, pr.init(&r, len(vals)))
		dst := make([]int64, len(vals))
		for i := 0; i < len(dst); i += 3 {
			require.True(t, pr.read(dst[i:min(i+3, len(dst))]), name)
		}
		require.False(t, pr.read(dst[:1]), "%s: read past the end", name)
		require.NoError(t, pr.finish(&r))
		require.Equal(t, len(b), r.off, "%s: end of stream", name)
		for i, v := range vals {
			require.Equal(t, v, uint64(dst[i]), "%s: value %d", name, i)
		}
	}
	rep := func(v uint64, n int) []uint64 {
		s := make([]uint64, n)
		for i := range s {
			s[i] = v
		}
		return s
	}
	f("zeros", rep(0, 240), 1, 0)
	f("small", []uint64{1, 2, 3, 0, 1}, 1, 2)
	f("single-max", []uint64{math.MaxUint64}, 1, 64)
	f("outlier", append(rep(0, 239), 30_000), 0, 0)
	f("max-outlier", append(rep(1, 100), math.MaxUint64), 0, 1)
	f("outliers-everywhere", append(append(rep(1<<40, 3), rep(3, 300)...), rep(1<<40, 3)...), 0, 2)
	f("two-levels", append(rep(0, 100), rep(1<<20, 20)...), 2, 0, 21)
	f("three-levels", append(append(rep(0, 200), rep(5, 30)...), rep(1<<40, 30)...), 3, 0, 3, 41)
}

// TestPlannedSizes checks that the sizes the encoder plans with, without
// writing, are the sizes it then writes (an upper bound for patched
// streams); otherwise Append would pick a codec on wrong numbers.
func TestPlannedSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	genInts := func() []int64 {
		xs := make([]int64, 2+r.IntN(300))
		x := r.Int64() >> r.IntN(64)
		step := int64(r.IntN(20_000))
		for i := range xs {
			switch r.IntN(8) {
			case 0:
				x = r.Int64() - r.Int64()
			case 1, 2:
				x += step + int64(r.IntN(21)) - 10
			default:
				x += step
			}
			xs[i] = x
		}
		return xs
	}
	for range 500 {
		xs := genInts()
		p := planSeq(xs)
		b := appendSeq(nil, xs, &p, nil)
		require.LessOrEqual(t, len(b), p.bytes, "sequence of %d", len(xs))
		if p.pack.levels > 0 {
			require.Len(t, b, p.bytes, "sequence of %d", len(xs))
		}
	}
	genFloats := func() []float64 {
		vs := make([]float64, 1+r.IntN(300))
		e := r.IntN(maxDecimalExp + 1)
		for i := range vs {
			switch r.IntN(20) {
			case 0:
				vs[i] = math.Float64frombits(r.Uint64())
			case 1:
				vs[i] = math.Float64frombits(0x7ff0000000000002)
			default:
				vs[i] = float64(r.Int64N(1_000_000)) / pow10[e]
			}
		}
		return vs
	}
	for range 500 {
		vs := genFloats()
		require.Len(t, appendXOR(nil, vs), (xorBits(vs)+7)/8)
		if p, ok := planDecimal(vs, nil); ok {
			b := p.append(nil, vs, nil)
			require.LessOrEqual(t, len(b), p.bytes, "decimal plan with e=%d, %d exceptions", p.e, p.k)
			if p.seq.pack.levels > 0 {
				require.Len(t, b, p.bytes, "decimal plan with e=%d, %d exceptions", p.e, p.k)
			}
		}
	}
}

// TestDecimalAt pins which values are decimal at which exponent.
func TestDecimalAt(t *testing.T) {
	f := func(v float64, e int, want int64, wantOK bool) {
		t.Helper()
		got, ok := decimalAt(v, e)
		require.Equal(t, wantOK, ok, "%v at e=%d", v, e)
		if ok {
			require.Equal(t, want, got, "%v at e=%d", v, e)
		}
	}
	f(12.34, 2, 1234, true)
	f(12.34, 1, 0, false)
	f(12.34, 5, 1234000, true)
	f(-0.5, 1, -5, true)
	f(0, 0, 0, true)
	f(math.Copysign(0, -1), 3, 0, false)
	f(math.NaN(), 0, 0, false)
	f(math.Inf(1), 0, 0, false)
	f(1<<53-1, 0, 1<<53-1, true)
	f(1<<53, 0, 0, false)
	f(0.3, 1, 3, true)
	notPoint3 := math.Float64frombits(0x3fd3333333333334) // 0.1+0.2 in float64: 0.30000000000000004
	f(notPoint3, 1, 0, false)
	f(notPoint3, 17, 0, false)
	f(1e-18, 18, 1, true)
	f(math.SmallestNonzeroFloat64, 18, 0, false)
}
