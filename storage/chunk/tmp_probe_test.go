package chunk_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"github.com/almanacdb/almanac/storage/chunk"
)

func TestTmpProbe(t *testing.T) {
	extreme := append(binary.LittleEndian.AppendUint64(nil, 1<<63), 0, 0, 1)
	ts, vs, sts := samplesFromBytes(append(binary.AppendUvarint(extreme, math.MaxUint64), 6, 0))
	t.Log(ts, vs, sts)
	r := rand.New(rand.NewPCG(1, 2))
	for _, st := range []bool{false, true} {
		for k := range byte(4) {
			ts, vs, sts := samplesFromBytes(seedBytes(r, 240, st, k))
			b, _ := chunk.Append(nil, ts, vs, sts)
			info, _ := chunk.ReadInfo(b)
			t.Log(len(ts), vs[:3], len(sts), len(b), info)
		}
	}
	for _, s := range shapes() {
		b, _ := chunk.Append(nil, s.ts, s.vs, nil)
		b0, _ := chunk.Append(nil, genTimestamps(r, 240, 0), s.vs, nil)
		info, _ := chunk.ReadInfo(b)
		t.Log(s.name, len(b), len(b0), info.Values)
	}
}
