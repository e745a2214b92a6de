package fn

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"
	"github.com/stretchr/testify/require"
)

// histLoad holds classic histograms, one per job, each with a quirk.
const histLoad = `
load 5m
	h_bucket{job="ok", le="0.1"}  0+1x10
	h_bucket{job="ok", le="1"}    0+3x10
	h_bucket{job="ok", le="10"}   0+5x10
	h_bucket{job="ok", le="+Inf"} 0+6x10
	h_bucket{job="nonmono", le="0.1"}  0+2x10
	h_bucket{job="nonmono", le="1"}    0+1x10
	h_bucket{job="nonmono", le="10"}   0+5x10
	h_bucket{job="nonmono", le="100"}  0+4x10
	h_bucket{job="nonmono", le="+Inf"} 0+8x10
	h_bucket{job="noinf", le="1"} 1x10
	h_bucket{job="noinf", le="2"} 2x10
	h_bucket{job="nan", le="1"}    1 NaN 3 NaN 1 NaN
	h_bucket{job="nan", le="2"}    2 2 NaN NaN 4 5
	h_bucket{job="nan", le="+Inf"} 3 4 5 NaN NaN 6
	h_bucket{job="dup", le="1"}    1 2 3 4
	h_bucket{job="dup", le="1.0"}  1 1 1 1
	h_bucket{job="dup", le="2"}    3 3 5 9
	h_bucket{job="dup", le="+Inf"} 4 5 6 10
	h_bucket{job="bad", le="abc"}  1x5
	h_bucket{job="bad", le="NaN"}  1x5
	h_bucket{job="bad"}            1x5
	h_bucket{job="bad", le="+Inf"} 2x5
	h_bucket{job="neg", le="-10"}  1 1 1 0
	h_bucket{job="neg", le="-1"}   2 3 1 0
	h_bucket{job="neg", le="0"}    3 3 3 0
	h_bucket{job="neg", le="5"}    4 8 3 0
	h_bucket{job="neg", le="+Inf"} 5 10 4 0
	h_bucket{job="only_inf", le="+Inf"} 5x10
	h_bucket{job="zero", le="1"}    0x10
	h_bucket{job="zero", le="+Inf"} 0x10
	h_bucket{job="gappy", le="1"}    1 _ 1 _ 1 stale 1
	h_bucket{job="gappy", le="10"}   _ 2 2 stale _ 2 2
	h_bucket{job="gappy", le="+Inf"} 3 3 _ _ 3 3 3
	h_bucket{job="tiny", le="1"}    1e15 1e15
	h_bucket{job="tiny", le="2"}    1.0000000000000001e15 0.9999999999999999e15
	h_bucket{job="tiny", le="+Inf"} 2e15 2e15
	h_bucket{job="hex", le="0x1p-2"} 1x5
	h_bucket{job="hex", le="Inf"}    2x5
	other_bucket{job="ok", le="1"}    1x10
	other_bucket{job="ok", le="+Inf"} 2x10
`

func TestHistogramQuantile(t *testing.T) {
	e := newInstEnv(t, histLoad)
	grids := []instGrid{
		instRange(0, 50*time.Minute, 5*time.Minute),
		instRange(2*time.Minute, 40*time.Minute, 3*time.Minute),
		instAt(10 * time.Minute),
		instAt(25 * time.Minute),
	}
	var queries []string
	for _, q := range []string{"0", "0.01", "0.25", "0.5", "0.9", "0.99", "1", "-1", "2", "NaN", "time() / 3000"} {
		queries = append(queries,
			"histogram_quantile("+q+", h_bucket)",
			"histogram_quantiles(h_bucket, \"q\", "+q+")",
		)
	}
	e.checkAll(t, append(queries,
		`histogram_quantile(0.5, rate(h_bucket[10m]))`,
		`histogram_quantile(0.5, {__name__=~"h_bucket|other_bucket", job="ok"})`,
		`histogram_quantile(0.5, label_replace(h_bucket, "__name__", "renamed", "", ""))`,
		`histogram_quantile(0.5, sum by (le) (h_bucket{job=~"ok|nonmono"}))`,
		`histogram_quantile(0.5, h_bucket{job="bad"})`,
		`histogram_quantile(-2, nothing)`,

		`histogram_quantiles(h_bucket, "q", 0.1, 0.5, 0.99)`,
		`histogram_quantiles(h_bucket, "q", 0.99, -1, NaN, 0.5, 2)`,
		`histogram_quantiles(h_bucket{job="dup"}, "q", 0.9, 0.1)`,
		`histogram_quantiles(h_bucket, "le", 0.5)`,
		`histogram_quantiles(h_bucket, "job", 0.5)`,
		`histogram_quantiles(h_bucket{job="ok"}, "q", 0.5, 0.5)`,
		`histogram_quantiles(h_bucket{job="ok"}, "q", 0.5, 0.25 * 2)`,
		`histogram_quantiles(h_bucket{job="ok"}, "q", 0.5, time() / 3000)`,
		`histogram_quantiles(h_bucket{job="ok"}, "q", 1e-300, 0.3333333333333333, 1e6)`,
		`histogram_quantiles(nothing, "q", -1)`,

		`histogram_fraction(0, 1, h_bucket)`,
		`histogram_fraction(-Inf, +Inf, h_bucket)`,
		`histogram_fraction(0.5, 5, h_bucket)`,
		`histogram_fraction(-5, 0, h_bucket)`,
		`histogram_fraction(-20, -0.5, h_bucket)`,
		`histogram_fraction(1, 0, h_bucket)`,
		`histogram_fraction(NaN, 1, h_bucket)`,
		`histogram_fraction(0, NaN, h_bucket)`,
		`histogram_fraction(2, 2000, h_bucket)`,
		`histogram_fraction(0, time() / 300, h_bucket)`,
		`histogram_fraction(0, 1, {__name__=~"h_bucket|other_bucket", job="ok"})`,
	), grids...)
}

// TestBucketQuantileMonotonicity pins what Prometheus reports about the
// buckets it raised.
func TestBucketQuantileMonotonicity(t *testing.T) {
	f := func(in []bucket, q, want float64, wantFix monotonicityFix) {
		t.Helper()
		got, fix := bucketQuantile(q, in)
		if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("bucketQuantile(%v, %v) = %v, want %v", q, in, got, want)
		}
		if fix.forced != wantFix.forced || fix.forced && fix != wantFix {
			t.Fatalf("bucketQuantile(%v, %v) fix = %+v, want %+v", q, in, fix, wantFix)
		}
	}
	inf := math.Inf(+1)
	f([]bucket{{1, 1}, {2, 2}, {inf, 4}}, 0.5, 2, monotonicityFix{})
	f([]bucket{{inf, 4}, {2, 1}, {1, 3}}, 0.5, 2.0/3, monotonicityFix{forced: true, minUpper: 2, maxUpper: 2, maxDiff: 2})
	f([]bucket{{1, 5}, {2, 4}, {3, 1}, {inf, 6}}, 0.5, 0.6, monotonicityFix{forced: true, minUpper: 2, maxUpper: 3, maxDiff: 4})
	// Differences within the tolerance are float error: silently evened.
	f([]bucket{{1, 1e15}, {2, 1e15 - 0.1}, {inf, 2e15}}, 0.25, 0.5, monotonicityFix{})
	f([]bucket{{1, 1}, {2, 2}}, 0.5, math.NaN(), monotonicityFix{})
	f(nil, 0.5, math.NaN(), monotonicityFix{})
}

// BenchmarkHistogramQuantile measures histogram_quantile over 100
// histograms of 12 buckets for 1,000 steps, some steps missing.
func BenchmarkHistogramQuantile(b *testing.B) {
	const (
		hists, steps = 100, 1000
	)
	uppers := []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}
	rng := rand.New(rand.NewPCG(1, 2))
	var in []Series
	for h := range hists {
		counts := make([]float64, steps)
		for k, le := range uppers {
			v := NewValues(steps)
			for i := range v {
				counts[i] += float64(rng.IntN(10))
				if rng.IntN(50) != 0 || k == len(uppers)-1 {
					v[i] = counts[i]
				}
			}
			in = append(in, Series{
				Labels: labels.FromStrings("__name__", "req_bucket", "instance", strconv.Itoa(h), "le", le),
				V:      v,
			})
		}
	}
	q := make([]float64, steps)
	for i := range q {
		q[i] = 0.9
	}
	expr, err := parser.NewParser(parser.Options{}).ParseExpr("histogram_quantile(0.9, req_bucket)")
	require.NoError(b, err)
	c := &InstantCall{
		Steps: make([]int64, steps),
		Args: []Arg{
			{Type: parser.ValueTypeScalar, Scalar: q},
			{Type: parser.ValueTypeVector, Series: in},
		},
		Expr: expr.(*parser.Call),
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Annos = annotations.New()
		if _, err := funcHistogramQuantile(c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(in)*steps)/b.Elapsed().Seconds(), "samples/s")
}
