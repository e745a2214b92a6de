package quality

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/query"
)

var speedSeries = flag.Int("quality.speed-series", 1000, "series of BenchmarkAnalyticsSpeed")

// BenchmarkAnalyticsSpeed is issue 5's speed target: a range query of
// anomaly_score(x[1d]) and of forecast(x[1d], 3600) over 1000 series, 7
// days at a 1m step, side by side with the same query with avg_over_time,
// in one run. Each reports its time and its ratio to avg_over_time
// (target: at most 5). Run by make bench-quality.
func BenchmarkAnalyticsSpeed(b *testing.B) {
	if !*qualityFlag {
		b.Skip("minutes of work: run with make bench-quality (-quality), issue 5")
	}
	db, err := almanac.Open(b.TempDir(), &almanac.Options{Retention: -1, OutOfOrderWindow: -1, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	end := time.Now().Truncate(time.Minute)
	start := end.Add(-7 * 24 * time.Hour)
	first := start.Add(-24 * time.Hour) // the first step's window
	rng := rand.New(rand.NewPCG(*seedFlag, 5))
	for s := 0; s < *speedSeries; s += 100 {
		var batch []almanac.SeriesSamples
		for i := s; i < min(s+100, *speedSeries); i++ {
			ss := almanac.SeriesSamples{Labels: labels.FromStrings("__name__", "x", "i", fmt.Sprint(i))}
			phase, level := rng.Float64()*2*math.Pi, 50+50*rng.Float64()
			for t := first; !t.After(end); t = t.Add(time.Minute) {
				day := float64(t.Unix()%86400) / 86400
				v := level + 10*math.Sin(2*math.Pi*day+phase) + rng.NormFloat64()
				ss.Samples = append(ss.Samples, almanac.Sample{T: t.UnixMilli(), V: v})
			}
			batch = append(batch, ss)
		}
		if err := db.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Flush(); err != nil {
		b.Fatal(err)
	}
	e := query.NewEngine(query.Options{MaxSamples: 1 << 40, Timeout: time.Hour})
	run := func(b *testing.B, q string) time.Duration {
		began := time.Now()
		for b.Loop() {
			res, err := e.Range(ctx, db.QueryStorage(), q, start, end, time.Minute, nil)
			if err != nil {
				b.Fatal(err)
			}
			if m, ok := res.Value.(promql.Matrix); !ok || len(m) != *speedSeries {
				b.Fatalf("%s: %d series, want %d", q, len(m), *speedSeries)
			}
		}
		return time.Since(began) / time.Duration(b.N)
	}
	var base time.Duration
	for _, q := range []string{`avg_over_time(x[1d])`, `anomaly_score(x[1d])`, `forecast(x[1d], 3600)`} {
		b.Run(q, func(b *testing.B) {
			d := run(b, q)
			if base == 0 {
				base = d
			}
			b.ReportMetric(d.Seconds(), "s/query")
			b.ReportMetric(float64(d)/float64(base), "x_avg_over_time")
		})
	}
}
