package analytics

import (
	"math"
	"slices"
)

// nelderMead minimises f from x0 with the Nelder-Mead simplex method
// (reflection 1, expansion 2, contraction ½, shrink ½; Lagarias et al.
// 1998), starting from a simplex with edges of length step, until the
// function values across the simplex agree to within relTol or maxEval
// evaluations are spent. It returns the best point and its value.
//
// gonum/optimize has the same algorithm, but importing that package pulls
// gonum/stat/distmv and with it golang.org/x/tools into the module graph;
// this 70-line version keeps almanac's dependencies to gonum alone. It is
// small enough for the 1-3 parameters of exponential smoothing.
func nelderMead(f func([]float64) float64, x0 []float64, step, relTol float64, maxEval int) ([]float64, float64) {
	d := len(x0)
	type vertex struct {
		x []float64
		f float64
	}
	simplex := make([]vertex, d+1)
	for i := range simplex {
		x := slices.Clone(x0)
		if i > 0 {
			x[i-1] += step
		}
		simplex[i] = vertex{x, f(x)}
	}
	evals := d + 1
	centroid := make([]float64, d)
	// at returns centroid + t·(centroid - worst).
	at := func(t float64, worst []float64) vertex {
		x := make([]float64, d)
		for k := range x {
			x[k] = centroid[k] + t*(centroid[k]-worst[k])
		}
		evals++
		return vertex{x, f(x)}
	}
	for {
		slices.SortFunc(simplex, func(a, b vertex) int { return cmpNaNLast(a.f, b.f) })
		best, worst := simplex[0], simplex[d]
		if evals >= maxEval || math.Abs(worst.f-best.f) <= relTol*(math.Abs(best.f)+1e-300) {
			return best.x, best.f
		}
		for k := range centroid {
			centroid[k] = 0
			for _, v := range simplex[:d] {
				centroid[k] += v.x[k] / float64(d)
			}
		}
		r := at(1, worst.x)
		switch {
		case r.f < best.f:
			if e := at(2, worst.x); e.f < r.f {
				simplex[d] = e
			} else {
				simplex[d] = r
			}
		case r.f < simplex[d-1].f:
			simplex[d] = r
		default:
			t := 0.5 // outside contraction
			if !(r.f < worst.f) {
				t = -0.5 // inside contraction
			}
			if c := at(t, worst.x); c.f < math.Min(r.f, worst.f) {
				simplex[d] = c
				continue
			}
			for i := 1; i <= d; i++ { // shrink towards the best
				for k := range simplex[i].x {
					simplex[i].x[k] = best.x[k] + 0.5*(simplex[i].x[k]-best.x[k])
				}
				simplex[i].f = f(simplex[i].x)
				evals++
			}
		}
	}
}

// cmpNaNLast orders floats ascending with NaN after everything.
func cmpNaNLast(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	case math.IsNaN(a) && !math.IsNaN(b):
		return 1
	case !math.IsNaN(a) && math.IsNaN(b):
		return -1
	}
	return 0
}
