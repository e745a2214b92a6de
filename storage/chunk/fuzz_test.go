package chunk_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/almanacdb/almanac/storage/chunk"
)

// samplesFromBytes derives a valid series from fuzz input. The first 8
// bytes are t_0; then each sample takes a control byte c and the bytes its
// fields need:
//
//	c&1:      0: delta = 15000 + int8(next byte); 1: delta = uvarint
//	c>>1&3:   value 0: previous + int8(next)/100 as a two-decimal number,
//	          1: 8 raw bytes, 2: the previous value, 3: specials[next byte]
//	c>>3&3:   start timestamp 0: previous, 1: previous t, 2: 0, 3: varint
//	c>>5&1:   with start timestamps (read from the first control byte only)
//
// Generation stops at the end of the input, at MaxSamples, or before a
// timestamp would overflow.
func samplesFromBytes(data []byte) (ts []int64, vs []float64, sts []int64) {
	if len(data) < 9 {
		return nil, nil, nil
	}
	t := int64(binary.LittleEndian.Uint64(data))
	data = data[8:]
	withST := data[0]>>5&1 == 1
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	var dec int64 // the two-decimal value, in hundredths
	prevV, prevST := 0.0, int64(0)
	for len(data) > 0 && len(ts) < chunk.MaxSamples {
		c := next()
		if len(ts) > 0 {
			var delta uint64
			if c&1 == 0 {
				delta = uint64(15000 + int64(int8(next())))
			} else {
				d, n := binary.Uvarint(data)
				if n <= 0 {
					break
				}
				data = data[n:]
				delta = max(d, 1)
			}
			if delta > uint64(math.MaxInt64-t) {
				break
			}
			t += int64(delta)
		}
		var v float64
		switch c >> 1 & 3 {
		case 0:
			dec += int64(int8(next()))
			v = float64(dec) / 100
		case 1:
			var raw [8]byte
			for i := range raw {
				raw[i] = next()
			}
			v = math.Float64frombits(binary.LittleEndian.Uint64(raw[:]))
		case 2:
			v = prevV
		case 3:
			v = specials[int(next())%len(specials)]
		}
		st := prevST
		switch c >> 3 & 3 {
		case 1:
			if len(ts) > 0 {
				st = ts[len(ts)-1]
			}
		case 2:
			st = 0
		case 3:
			d, n := binary.Varint(data)
			if n > 0 {
				data = data[n:]
			}
			st = d
		}
		ts, vs, sts = append(ts, t), append(vs, v), append(sts, st)
		prevV, prevST = v, st
	}
	if !withST {
		sts = nil
	}
	return ts, vs, sts
}

// seedBytes builds fuzz input for samplesFromBytes: n regular scrapes with
// jitter, values of the given kind (see samplesFromBytes), and a constant
// start timestamp if withST.
func seedBytes(r *rand.Rand, n int, withST bool, valueKind byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, 1_700_000_000_000)
	prevJitter := 0
	for i := range n {
		c := valueKind << 1
		if withST && i == 0 {
			c |= 1<<5 | 3<<3 // start timestamps, the first one explicit
		}
		b = append(b, c)
		if j := r.IntN(11) - 5; i > 0 { // ±5 ms of jitter around a 15 s grid
			b = append(b, byte(int8(j-prevJitter)))
			prevJitter = j
		}
		switch valueKind {
		case 0:
			b = append(b, byte(int8(r.IntN(21)-10)))
		case 1:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(0.5+r.NormFloat64()))
		case 3:
			b = append(b, byte(i))
		}
		if withST && i == 0 {
			b = binary.AppendVarint(b, 1_700_000_000_000-3_600_000)
		}
	}
	return b
}

func FuzzRoundTrip(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, withST := range []bool{false, true} {
		for kind := range byte(4) {
			// 60 samples rather than a chunk's usual 240 keep minimising
			// new inputs quick, which leaves more of a short run to fuzzing.
			f.Add(seedBytes(r, 60, withST, kind))
		}
		f.Add(seedBytes(r, 1, withST, 0))
		f.Add(seedBytes(r, 2, withST, 3))
	}
	// Extreme timestamps: MinInt64, then a delta to MaxInt64.
	extreme := append(binary.LittleEndian.AppendUint64(nil, 1<<63), 0, 0, 1)
	f.Add(append(binary.AppendUvarint(extreme, math.MaxUint64), 6, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, vs, sts := samplesFromBytes(data)
		if len(ts) == 0 {
			return
		}
		roundTrip(t, ts, vs, sts)
	})
}

func FuzzDecode(f *testing.F) {
	for _, b := range validChunks(f) {
		f.Add(b)
	}
	for _, s := range shapes() {
		b, err := chunk.Append(nil, s.ts, s.vs, nil)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1, 0x24, 1, 0, 0})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0x03})
	f.Fuzz(func(t *testing.T, data []byte) {
		requireDecodeConsistent(t, data)
	})
}
