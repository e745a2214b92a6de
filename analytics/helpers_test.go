package analytics

import (
	"flag"
	"math"
	"math/rand/v2"
	"testing"
)

var seedFlag = flag.Uint64("seed", 0, "seed for randomised tests (0: each test's fixed default)")

// newRand returns a generator seeded with -seed, or def when the flag is
// unset, and logs the seed so a failure can be replayed.
func newRand(t testing.TB, def uint64) *rand.Rand {
	t.Helper()
	seed := def
	if *seedFlag != 0 {
		seed = *seedFlag
	}
	t.Logf("seed %d (replay with -seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, 0x5eed))
}

func near(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol
}

func noise(r *rand.Rand, n int, sigma float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = sigma * r.NormFloat64()
	}
	return x
}

// seasonal returns level + slope·i + amp·sin(2πi/period) + noise.
func seasonal(r *rand.Rand, n, period int, level, slope, amp, sigma float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = level + slope*float64(i) + amp*math.Sin(2*math.Pi*float64(i)/float64(period))
		if sigma > 0 {
			x[i] += sigma * r.NormFloat64()
		}
	}
	return x
}

// timestamps returns n timestamps from t0 at step ms.
func timestamps(t0, step int64, n int) []int64 {
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = t0 + int64(i)*step
	}
	return ts
}
