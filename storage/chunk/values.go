package chunk

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
)

// ValueCodec names the encoding of a chunk's value column. Append chooses
// it per chunk by looking at the values.
type ValueCodec uint8

const (
	// ValuesConst stores one value for a chunk whose values are all
	// bit-identical.
	ValuesConst ValueCodec = 1
	// ValuesDecimal stores integers and short decimals as scaled integers,
	// delta or delta-of-delta coded; values that are not decimal (stale
	// markers, NaN, ±Inf, -0) are kept apart as exceptions.
	ValuesDecimal ValueCodec = 2
	// ValuesXOR stores each value XORed with the previous one, for
	// everything else.
	ValuesXOR ValueCodec = 3
)

// String returns the codec's lower-case name.
func (c ValueCodec) String() string {
	switch c {
	case ValuesConst:
		return "const"
	case ValuesDecimal:
		return "decimal"
	case ValuesXOR:
		return "xor"
	}
	return "ValueCodec(" + strconv.Itoa(int(c)) + ")"
}

// valid reports whether c is a codec this version decodes.
func (c ValueCodec) valid() bool {
	return c >= ValuesConst && c <= ValuesXOR
}

// appendValues appends the value column of vs, len(vs) >= 1, in the
// smallest of the codecs, and returns the codec it used.
//
// A constant column always takes ValuesConst, cheapest to decode and never
// more than 10 bytes. Otherwise the sizes of the decimal and XOR codings
// are computed without writing either (exactly, but for a bound on the gap
// lengths of patched streams), and the smaller is written.
//
// scratch (len 0) is working memory for the transformed integers.
func appendValues(dst []byte, vs []float64, scratch []uint64) ([]byte, ValueCodec) {
	if isConstant(vs) {
		return appendConst(dst, vs[0]), ValuesConst
	}
	var stack [scratchLen]int64 // the decimal integers
	if dec, ok := planDecimal(vs, stack[:0]); ok && dec.bytes <= (xorBits(vs)+7)/8 {
		return dec.append(dst, vs, scratch), ValuesDecimal
	}
	return appendXOR(dst, vs), ValuesXOR
}

// isConstant reports whether all values of vs are bit-identical.
func isConstant(vs []float64) bool {
	b := math.Float64bits(vs[0])
	for _, v := range vs[1:] {
		if math.Float64bits(v) != b {
			return false
		}
	}
	return true
}

// appendConst appends a constant column: the value's bits, byte-reversed, as
// a uvarint. Round numbers have zero low mantissa bytes, which the reversal
// moves to the top where the uvarint drops them: 0 takes 1 byte, 1 and 100
// take 3, an arbitrary float 10.
func appendConst(dst []byte, v float64) []byte {
	return binary.AppendUvarint(dst, bits.ReverseBytes64(math.Float64bits(v)))
}

// decodeConst decodes a constant column into dst.
func decodeConst(r *reader, dst []float64) error {
	u, err := r.uvarint("constant value")
	if err != nil {
		return err
	}
	v := math.Float64frombits(bits.ReverseBytes64(u))
	for i := range dst {
		dst[i] = v
	}
	return nil
}

// decodeValues decodes the value column of codec c into dst, len(dst) =
// count.
func decodeValues(r *reader, c ValueCodec, dst []float64) error {
	switch c {
	case ValuesConst:
		return decodeConst(r, dst)
	case ValuesDecimal:
		return decodeDecimal(r, dst)
	default:
		return decodeXOR(r, dst)
	}
}
