package benchmarks

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// requestBuckets are the upper bounds of request_duration_seconds (the Go
// client's DefBuckets); the +Inf bucket makes 12.
var requestBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, math.Inf(1)}

// histogramSeriesPerInstance is what generateHistogram writes per target:
// one series per bucket, _sum and _count.
var histogramSeriesPerInstance = len(requestBuckets) + 2

// generateHistogram builds a dataset of a classic histogram,
// request_duration_seconds (12 `le` buckets, _sum, _count), for nInst
// application targets scraped every 15 s for dur, from a fixed seed of its
// own (so generate's data stays as it is). Each target has its own request
// rate, latency (log-normal, its median drifting slowly) and scrape phase,
// ±3 ms of jitter, and the scrape failures (stale markers) and restarts
// (every counter back to 0) of generate. Bucket counters are cumulative in
// `le` and monotonic in time between restarts; the +Inf bucket equals
// _count. Targets are "10.16.x.y:8080", the hosts of generate's instances,
// in jobs of instancesPerJob targets ("api-dcNN").
func generateHistogram(seed uint64, nInst int, dur time.Duration) *dataset {
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	nScrapes := int(dur / scrapeInterval)
	start := dataStart.UnixMilli()
	nb := len(requestBuckets)

	type target struct {
		phase  int64
		perScr float64 // mean requests per scrape
		lnMed  float64 // log of the median latency in seconds
		sigma  float64
		counts []float64 // per bucket (cumulative), then _sum, then _count
	}
	d := &dataset{off: make([]int, 1, nScrapes+1), mint: math.MaxInt64, maxt: math.MinInt64}
	targets := make([]target, nInst)
	for i := range targets {
		job := fmt.Sprintf("api-dc%02d", i/instancesPerJob)
		inst := fmt.Sprintf("10.%d.%d.%d:8080", 16+i/65536, i/256%256, i%256)
		tg := &targets[i]
		tg.phase = rng.Int64N(scrapeInterval.Milliseconds())
		tg.perScr = (20 + 180*rng.Float64()) * scrapeInterval.Seconds()
		tg.lnMed = math.Log(0.03 + 0.09*rng.Float64())
		tg.sigma = 0.6 + 0.5*rng.Float64()
		tg.counts = make([]float64, nb+2)
		// Counters as if the process had been up for 1 to 31 days.
		up := 5760 * (1 + 30*rng.Float64()) * tg.perScr
		for k, le := range requestBuckets {
			tg.counts[k] = math.Round(up * lognormalCDF(le, tg.lnMed, tg.sigma))
		}
		tg.counts[nb] = math.Round(up*math.Exp(tg.lnMed+tg.sigma*tg.sigma/2)*1000) / 1000
		tg.counts[nb+1] = tg.counts[nb-1]
		add := func(name string, kv ...string) {
			b := labels.NewScratchBuilder(4)
			b.Add("__name__", name)
			b.Add("instance", inst)
			b.Add("job", job)
			for k := 0; k < len(kv); k += 2 {
				b.Add(kv[k], kv[k+1])
			}
			b.Sort()
			d.series = append(d.series, b.Labels())
			d.job = append(d.job, job)
		}
		for _, le := range requestBuckets {
			add("request_duration_seconds_bucket", "le", strconv.FormatFloat(le, 'g', -1, 64))
		}
		add("request_duration_seconds_sum")
		add("request_duration_seconds_count")
	}

	n := len(d.series) * nScrapes
	d.ref, d.t, d.v = make([]int32, 0, n), make([]int64, 0, n), make([]float64, 0, n)
	emit := func(s int, t int64, v float64) {
		d.ref = append(d.ref, int32(s))
		d.t = append(d.t, t)
		d.v = append(d.v, v)
		if math.Float64bits(v) == math.Float64bits(staleNaN) {
			d.stale++
		}
		d.mint, d.maxt = min(d.mint, t), max(d.maxt, t)
	}
	for i := range nScrapes {
		for k := range targets {
			tg := &targets[k]
			first := k * histogramSeriesPerInstance
			t := start + int64(i)*scrapeInterval.Milliseconds() + tg.phase + rng.Int64N(2*timestampJitterMax+1) - timestampJitterMax
			failed := rng.IntN(scrapeFailureOdds) == 0
			if rng.IntN(rebootOdds) == 0 {
				clear(tg.counts)
			}
			tg.lnMed += 0.01 * rng.NormFloat64()
			reqs := math.Max(0, math.Round(tg.perScr*(1+0.2*rng.NormFloat64())))
			prev, total := 0.0, 0.0 // total: requests up to the current bucket
			for b, le := range requestBuckets {
				cdf := lognormalCDF(le, tg.lnMed, tg.sigma)
				total += math.Max(0, math.Round(reqs*(cdf-prev)*(1+0.1*rng.NormFloat64())))
				prev = cdf
				tg.counts[b] += total
			}
			tg.counts[nb] = math.Round((tg.counts[nb]+total*math.Exp(tg.lnMed+tg.sigma*tg.sigma/2)*(1+0.05*rng.NormFloat64()))*1000) / 1000
			tg.counts[nb+1] = tg.counts[nb-1]
			for s := range histogramSeriesPerInstance {
				if failed {
					emit(first+s, t, staleNaN)
				} else {
					emit(first+s, t, tg.counts[s])
				}
			}
		}
		d.off = append(d.off, len(d.t))
	}
	return d
}

// lognormalCDF is P(X ≤ x) for ln X ~ N(mu, sigma²).
func lognormalCDF(x, mu, sigma float64) float64 {
	if math.IsInf(x, 1) {
		return 1
	}
	return 0.5 * math.Erfc(-(math.Log(x)-mu)/(sigma*math.Sqrt2))
}

// mergeScrapes returns one dataset holding a's and b's series, scrape i of
// the result being scrape i of a then of b (they must have as many
// scrapes), so that both are appended in time order, as one scraper
// scraping every target would. b's series come after a's.
func mergeScrapes(a, b *dataset) *dataset {
	if a.scrapes() != b.scrapes() {
		panic(fmt.Sprintf("mergeScrapes: %d and %d scrapes", a.scrapes(), b.scrapes()))
	}
	n := a.samples() + b.samples()
	d := &dataset{
		series: append(append(make([]labels.Labels, 0, len(a.series)+len(b.series)), a.series...), b.series...),
		job:    append(append(make([]string, 0, len(a.job)+len(b.job)), a.job...), b.job...),
		off:    make([]int, 1, a.scrapes()+1),
		ref:    make([]int32, 0, n),
		t:      make([]int64, 0, n),
		v:      make([]float64, 0, n),
		mint:   min(a.mint, b.mint),
		maxt:   max(a.maxt, b.maxt),
		stale:  a.stale + b.stale,
	}
	shift := int32(len(a.series))
	for i := range a.scrapes() {
		lo, hi := a.scrape(i)
		d.ref = append(d.ref, a.ref[lo:hi]...)
		d.t = append(d.t, a.t[lo:hi]...)
		d.v = append(d.v, a.v[lo:hi]...)
		lo, hi = b.scrape(i)
		for _, r := range b.ref[lo:hi] {
			d.ref = append(d.ref, r+shift)
		}
		d.t = append(d.t, b.t[lo:hi]...)
		d.v = append(d.v, b.v[lo:hi]...)
		d.off = append(d.off, len(d.t))
	}
	return d
}

// stretch returns d with its time axis stretched by factor around
// dataStart and then moved to begin at start: generate's 15 s scrapes
// become factor×15 s scrapes (phase and jitter stretch too).
func stretch(d *dataset, factor int64, start int64) *dataset {
	out := *d
	out.t = make([]int64, len(d.t))
	base := dataStart.UnixMilli()
	out.mint, out.maxt = math.MaxInt64, math.MinInt64
	for i, t := range d.t {
		out.t[i] = start + (t-base)*factor
		out.mint, out.maxt = min(out.mint, out.t[i]), max(out.maxt, out.t[i])
	}
	return &out
}
