package chunk_test

import (
	"fmt"
	"math"

	"github.com/almanacdb/almanac/storage/chunk"
)

// Four 15 s scrapes of a gauge with two decimals, the last a stale marker:
// the values are stored as the integers 1250, 1275, 1300 at exponent 2 and
// the stale marker as an exception, the timestamps not at all.
func Example() {
	ts := []int64{1_700_000_000_000, 1_700_000_015_000, 1_700_000_030_000, 1_700_000_045_000}
	vs := []float64{12.5, 12.75, 13, math.Float64frombits(0x7ff0000000000002)}
	b, err := chunk.Append(nil, ts, vs, nil)
	if err != nil {
		panic(err)
	}
	info, err := chunk.ReadInfo(b)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d bytes, %d samples, %s values\n", len(b), info.Count, info.Values)

	gts, gvs, _, err := chunk.Decode(b, nil, nil, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(gts[1]-gts[0], gvs[:3], math.Float64bits(gvs[3]) == 0x7ff0000000000002)
	// Output:
	// 21 bytes, 4 samples, decimal values
	// 15000 [12.5 12.75 13] true
}
