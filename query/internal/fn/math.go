package fn

import (
	"math"
)

// The arithmetic functions: each maps every float sample to a new value
// and drops the metric name. Each kernel is a plain loop over one column
// (no call per sample) and skips Absent steps; it must compute exactly
// what Prometheus computes, down to the bits, so formulas (round's
// inverse, rad's and deg's constants) follow Prometheus's.

func init() {
	for name, k := range map[string]func(v []float64){
		"abs": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Abs(x)
				}
			}
		},
		"ceil": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Ceil(x)
				}
			}
		},
		"floor": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Floor(x)
				}
			}
		},
		"exp": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Exp(x)
				}
			}
		},
		"sqrt": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Sqrt(x)
				}
			}
		},
		"ln": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Log(x)
				}
			}
		},
		"log2": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Log2(x)
				}
			}
		},
		"log10": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Log10(x)
				}
			}
		},
		"sin": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Sin(x)
				}
			}
		},
		"cos": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Cos(x)
				}
			}
		},
		"tan": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Tan(x)
				}
			}
		},
		"asin": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Asin(x)
				}
			}
		},
		"acos": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Acos(x)
				}
			}
		},
		"atan": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Atan(x)
				}
			}
		},
		"sinh": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Sinh(x)
				}
			}
		},
		"cosh": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Cosh(x)
				}
			}
		},
		"tanh": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Tanh(x)
				}
			}
		},
		"asinh": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Asinh(x)
				}
			}
		},
		"acosh": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Acosh(x)
				}
			}
		},
		"atanh": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = math.Atanh(x)
				}
			}
		},
		"rad": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = x * (math.Pi / 180)
				}
			}
		},
		"deg": func(v []float64) {
			for i, x := range v {
				if !IsAbsent(x) {
					v[i] = x * (180 / math.Pi)
				}
			}
		},
		"sgn": func(v []float64) {
			// NaN and ±0 are their own sign.
			for i, x := range v {
				switch {
				case IsAbsent(x):
				case x < 0:
					v[i] = -1
				case x > 0:
					v[i] = 1
				}
			}
		},
	} {
		Instant[name] = func(c *InstantCall) ([]Series, error) {
			return mapSeries(c.Args[0].Series, k), nil
		}
	}

	Instant["round"] = funcRound
	Instant["clamp"] = func(c *InstantCall) ([]Series, error) {
		return clamp(c.Args[0].Series, c.Args[1].Scalar, c.Args[2].Scalar), nil
	}
	Instant["clamp_min"] = func(c *InstantCall) ([]Series, error) {
		return clamp(c.Args[0].Series, c.Args[1].Scalar, nil), nil
	}
	Instant["clamp_max"] = func(c *InstantCall) ([]Series, error) {
		return clamp(c.Args[0].Series, nil, c.Args[1].Scalar), nil
	}

	// The functions returning a scalar.
	Instant["pi"] = func(c *InstantCall) ([]Series, error) {
		v := make([]float64, len(c.Steps))
		for i := range v {
			v[i] = math.Pi
		}
		return unlabelled(v), nil
	}
	Instant["max_of"] = func(c *InstantCall) ([]Series, error) {
		a, b := c.Args[0].Scalar, c.Args[1].Scalar
		v := make([]float64, len(c.Steps))
		for i := range v {
			v[i] = math.Max(a[i], b[i])
		}
		return unlabelled(v), nil
	}
	Instant["min_of"] = func(c *InstantCall) ([]Series, error) {
		a, b := c.Args[0].Scalar, c.Args[1].Scalar
		v := make([]float64, len(c.Steps))
		for i := range v {
			v[i] = math.Min(a[i], b[i])
		}
		return unlabelled(v), nil
	}
}

// funcRound is round(v, to_nearest=1): v rounded to the nearest multiple
// of to_nearest, ties rounded up. Like Prometheus it divides by the
// inverse of to_nearest, which loses less precision for the usual
// to_nearest below one (0.1 has no exact float; 10 does).
func funcRound(c *InstantCall) ([]Series, error) {
	var toNearest []float64
	if len(c.Args) > 1 {
		toNearest = c.Args[1].Scalar
	}
	return mapSeries(c.Args[0].Series, func(v []float64) {
		for i, x := range v {
			if IsAbsent(x) {
				continue
			}
			inv := 1.0
			if toNearest != nil {
				inv = 1.0 / toNearest[i]
			}
			v[i] = math.Floor(x*inv+0.5) / inv
		}
	}), nil
}

// clamp limits every sample to [lo, hi] (a nil bound is no bound). At a
// step where hi < lo the result is empty, as in Prometheus; a NaN bound
// makes every sample NaN.
func clamp(in []Series, lo, hi []float64) []Series {
	return mapSeries(in, func(v []float64) {
		for i, x := range v {
			if IsAbsent(x) {
				continue
			}
			l, h := math.Inf(-1), math.Inf(+1)
			if lo != nil {
				l = lo[i]
			}
			if hi != nil {
				h = hi[i]
			}
			if h < l {
				v[i] = Absent
				continue
			}
			v[i] = math.Max(l, math.Min(h, x))
		}
	})
}
