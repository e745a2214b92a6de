package chunk_test

import (
	"testing"

	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/almanacdb/almanac/storage/chunk"
)

// BenchmarkCodec encodes and decodes the same realistic series (shapes(),
// fixed seed) with almanac's chunk codec and Prometheus's XOR chunk, side by
// side. It reports the encoded size per sample and the samples per second.
func BenchmarkCodec(b *testing.B) {
	for _, s := range shapes() {
		n := len(s.ts)
		report := func(b *testing.B, size int) {
			b.ReportMetric(float64(size)/float64(n), "bytes/sample")
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "samples/s")
		}
		b.Run(s.name+"/encode/almanac", func(b *testing.B) {
			var dst []byte
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = chunk.Append(dst[:0], s.ts, s.vs, nil)
			}
			report(b, len(dst))
		})
		b.Run(s.name+"/encode/prometheus", func(b *testing.B) {
			var size int
			b.ReportAllocs()
			for b.Loop() {
				c := chunkenc.NewXORChunk()
				app, _ := c.Appender()
				for i, t := range s.ts {
					app.Append(0, t, s.vs[i])
				}
				size = len(c.Bytes())
			}
			report(b, size)
		})
		b.Run(s.name+"/decode/almanac", func(b *testing.B) {
			src, _ := chunk.Append(nil, s.ts, s.vs, nil)
			var ts []int64
			var vs []float64
			b.ReportAllocs()
			for b.Loop() {
				ts, vs, _, _ = chunk.Decode(src, ts[:0], vs[:0], nil)
			}
			report(b, len(src))
		})
		b.Run(s.name+"/decode/prometheus", func(b *testing.B) {
			c := chunkenc.NewXORChunk()
			app, _ := c.Appender()
			for i, t := range s.ts {
				app.Append(0, t, s.vs[i])
			}
			var it chunkenc.Iterator
			ts := make([]int64, 0, n)
			vs := make([]float64, 0, n)
			b.ReportAllocs()
			for b.Loop() {
				ts, vs = ts[:0], vs[:0]
				it = c.Iterator(it)
				for it.Next() != chunkenc.ValNone {
					t, v := it.At()
					ts = append(ts, t)
					vs = append(vs, v)
				}
			}
			report(b, len(c.Bytes()))
		})
	}
}
