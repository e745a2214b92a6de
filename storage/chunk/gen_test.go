package chunk_test

import (
	"math"
	"math/rand/v2"
)

// Realistic data shared by tests, fuzz seeds and benchmarks. Every
// generator takes its *rand.Rand so callers fix the seed.

// scrapeInterval is the interval of the generated scrapes, in milliseconds.
const scrapeInterval = 15_000

// staleNaN is Prometheus's stale marker (model/value.StaleNaN).
const staleNaN = 0x7ff0000000000002

// genTimestamps returns n scrape timestamps 15 s apart with up to ±jitter
// ms of independent jitter each.
func genTimestamps(r *rand.Rand, n int, jitter int) []int64 {
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = 1_700_000_000_000 + int64(i)*scrapeInterval
		if jitter > 0 {
			ts[i] += int64(r.IntN(2*jitter+1) - jitter)
		}
	}
	return ts
}

// genCounter returns a counter growing by a noisy amount per scrape that
// resets to a small value about once every 200 scrapes.
func genCounter(r *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	x := 1_000_000 + r.IntN(1000)
	for i := range vs {
		if r.IntN(200) == 0 {
			x = r.IntN(10)
		}
		x += 90 + r.IntN(21)
		vs[i] = float64(x)
	}
	return vs
}

// genGauge2 returns a gauge with two decimals (like 23.45) in a random walk.
func genGauge2(r *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	x := 2000 + r.IntN(1000)
	for i := range vs {
		x += r.IntN(11) - 5
		vs[i] = float64(x) / 100
	}
	return vs
}

// genConst returns n equal values.
func genConst(n int, v float64) []float64 {
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = v
	}
	return vs
}

// genNoisy returns full-precision floats around 0.5, like a CPU usage rate.
func genNoisy(r *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = 0.5 + 0.1*r.NormFloat64()
	}
	return vs
}

// withStale returns vs with its last value replaced by a stale marker.
func withStale(vs []float64) []float64 {
	vs = append([]float64(nil), vs...)
	vs[len(vs)-1] = math.Float64frombits(staleNaN)
	return vs
}

// shape is a named realistic series.
type shape struct {
	name string
	ts   []int64
	vs   []float64
}

// shapes returns the realistic series the benchmarks and size tests use:
// 240 samples (one hour of 15 s scrapes) with ±5 ms jitter.
func shapes() []shape {
	r := rand.New(rand.NewPCG(1, 2))
	const n, jitter = 240, 5
	return []shape{
		{"counter", genTimestamps(r, n, jitter), genCounter(r, n)},
		{"gauge2", genTimestamps(r, n, jitter), genGauge2(r, n)},
		{"const", genTimestamps(r, n, jitter), genConst(n, 1)},
		{"noisy", genTimestamps(r, n, jitter), genNoisy(r, n)},
	}
}
