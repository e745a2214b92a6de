package benchmarks

import (
	"math"
	"testing"
	"time"
)

func TestGenerate(t *testing.T) {
	const nSeries, dur = 2050, 2 * time.Hour
	d := generate(1, nSeries, dur)
	again := generate(1, nSeries, dur)
	if d.samples() != again.samples() || d.stale != again.stale {
		t.Fatalf("same seed, different data: %d/%d samples, %d/%d stale", d.samples(), again.samples(), d.stale, again.stale)
	}
	for i := range d.t {
		if d.t[i] != again.t[i] || math.Float64bits(d.v[i]) != math.Float64bits(again.v[i]) || d.ref[i] != again.ref[i] {
			t.Fatalf("same seed, different sample %d", i)
		}
	}
	if len(d.series) != nSeries {
		t.Fatalf("%d series, want %d", len(d.series), nSeries)
	}
	if want := int(dur / scrapeInterval); d.scrapes() != want {
		t.Fatalf("%d scrapes, want %d", d.scrapes(), want)
	}
	if n := d.samples(); n < nSeries*d.scrapes()*97/100 || n > nSeries*d.scrapes() {
		t.Errorf("%d samples, want about %d", n, nSeries*d.scrapes())
	}
	if d.stale == 0 {
		t.Error("no stale markers")
	}

	last := make([]int64, nSeries)
	for i := range last {
		last[i] = math.MinInt64
	}
	perJob := map[string]int{}
	for _, j := range d.job {
		perJob[j]++
	}
	if perJob["node-dc00"] != seriesPerInstance*instancesPerJob {
		t.Errorf("job node-dc00 has %d series, want %d", perJob["node-dc00"], seriesPerInstance*instancesPerJob)
	}
	distinctT := map[int64]bool{}
	for i := range d.scrapes() {
		lo, hi := d.scrape(i)
		seen := map[int32]bool{}
		for j := lo; j < hi; j++ {
			s := d.ref[j]
			if seen[s] {
				t.Fatalf("scrape %d has series %d twice", i, s)
			}
			seen[s] = true
			if d.t[j] <= last[s] {
				t.Fatalf("series %d: t=%d after t=%d", s, d.t[j], last[s])
			}
			if last[s] != math.MinInt64 {
				if gap := d.t[j] - last[s]; gap < scrapeInterval.Milliseconds()-2*timestampJitterMax || gap > scrapeInterval.Milliseconds()+2*timestampJitterMax {
					t.Fatalf("series %d: %d ms between samples", s, gap)
				}
			}
			last[s] = d.t[j]
			distinctT[d.t[j]%scrapeInterval.Milliseconds()] = true
		}
	}
	if len(distinctT) < 100 {
		t.Errorf("only %d distinct scrape phases: no jitter?", len(distinctT))
	}
}
