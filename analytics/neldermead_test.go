package analytics

import (
	"math"
	"testing"
)

func TestNelderMeadFindsMinimum(t *testing.T) {
	f := func(name string, fn func([]float64) float64, x0, want []float64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			x, _ := nelderMead(fn, x0, 0.5, 1e-14, 5000)
			for i := range want {
				if math.Abs(x[i]-want[i]) > 1e-3 {
					t.Fatalf("minimum at %v, want %v", x, want)
				}
			}
		})
	}
	f("quadratic 1-D", func(x []float64) float64 { return (x[0] - 3) * (x[0] - 3) }, []float64{0}, []float64{3})
	f("rosenbrock", func(x []float64) float64 {
		return 100*math.Pow(x[1]-x[0]*x[0], 2) + math.Pow(1-x[0], 2)
	}, []float64{-1.2, 1}, []float64{1, 1})
	f("3-D bowl with infinite wall", func(x []float64) float64 {
		if x[2] < -5 {
			return math.Inf(1)
		}
		return math.Pow(x[0]+1, 2) + math.Pow(x[1]-2, 2) + math.Pow(x[2], 2)
	}, []float64{0, 0, 1}, []float64{-1, 2, 0})
}
