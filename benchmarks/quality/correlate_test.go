package quality

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
)

// The root-cause benchmark: generated groups, each a cause and
// corrTrue lagged, noisy copies of it among corrDistractors distractors,
// queried at the end of the data with
//
//	topk(5, abs(correlate(cause{group="g"}[W], cand{group="g"}[W], method)))
//	correlation_lag(cause{group="g"}[W], cand{group="g", role="copy"}[W], max_lag)
//
// The cause is a load-like signal — a random walk whose steps are AR(1)
// (φ 0.9) — plus a slow trend and a daily cycle that dominate it. A copy is the cause
// shifted by d scrapes (|d| ≤ corrMaxShift, either direction), scaled by a
// random factor of either sign, plus a walk of its own (0.3 to 1 times the
// scale of the cause's) and white noise (0.5 to 1.5 times the standard
// deviation of a walk's steps): a related metric responds to the cause but
// also wanders for reasons of its own. The distractors share the
// cause's trend (12, each plus a walk of its own), its daily cycle (12,
// likewise), both (6), or nothing (12 walks and 5 white noises).
const (
	corrGroups      = 50
	corrTrue        = 3
	corrMaxShift    = 10 // scrapes
	corrMaxLag      = 15 // scrapes, correlation_lag's max_lag
	corrDistractors = 47
)

// corrScenario is a sampling interval and a window.
type corrScenario struct {
	name   string
	step   int64 // ms
	window int64 // ms, the range W
}

var corrScenarios = []corrScenario{
	{name: "1 min scrapes, 6h window", step: 60_000, window: 6 * 3_600_000},
	{name: "5 min scrapes, 3d window", step: 300_000, window: 3 * day},
}

// corrGroup is one generated group; shift[i] is copy i's shift d in
// scrapes: copy(t) = a·cause(t - d).
type corrGroup struct {
	series []almanac.SeriesSamples
	shift  map[string]int // copy id -> d
}

func generateGroup(r *rand.Rand, sc corrScenario, g int, end int64) corrGroup {
	n := int(sc.window/sc.step) + 1
	pad := corrMaxShift
	total := n + 2*pad
	walk := func() []float64 {
		out := make([]float64, total)
		var level, change float64
		for i := range out {
			change = 0.9*change + r.NormFloat64()
			level += change
			out[i] = level
		}
		return out
	}
	// The shared components dominate: each moves 2 to 4 times as far over
	// the window as a walk of AR(1) steps typically wanders (about
	// 10·sqrt(n) in n steps), as a daily traffic cycle dominates most
	// operations metrics.
	scale := 10 * math.Sqrt(float64(n))
	trendSlope := scale * (2 + 2*r.Float64()) / float64(total) * float64(1-2*r.IntN(2))
	cycleAmp := scale * (2 + 2*r.Float64())
	phase := r.Float64()
	trend := func(i int) float64 { return trendSlope * float64(i) }
	cycle := func(i int) float64 {
		t := end - int64(total-1-i)*sc.step
		return cycleAmp * math.Sin(2*math.Pi*(float64(t%day)/float64(day)+phase))
	}
	cause := walk()
	for i := range cause {
		cause[i] += trend(i) + cycle(i)
	}
	stepSD := 1 / math.Sqrt(1-0.81) // sd of the AR(1) steps
	grp := corrGroup{shift: map[string]int{}}
	group := strconv.Itoa(g)
	add := func(name, id, role string, vs []float64) {
		s := almanac.SeriesSamples{Labels: labels.FromStrings("__name__", name, "group", group, "id", id, "role", role)}
		for i := pad; i < pad+n; i++ {
			s.Samples = append(s.Samples, almanac.Sample{T: end - int64(pad+n-1-i)*sc.step, V: vs[i]})
		}
		grp.series = append(grp.series, s)
	}
	add("cause", "cause", "cause", cause)
	id := 0
	next := func() string { id++; return fmt.Sprintf("c%02d", id) }
	for range corrTrue {
		d := r.IntN(2*corrMaxShift+1) - corrMaxShift
		a := (0.5 + 2*r.Float64()) * float64(1-2*r.IntN(2))
		b := 0.3 + 0.7*r.Float64()
		noise := (0.5 + r.Float64()) * stepSD
		own := walk()
		vs := make([]float64, total)
		for i := range vs {
			j := min(max(i-d, 0), total-1)
			vs[i] = a*cause[j] + b*own[i] + noise*r.NormFloat64()
		}
		name := next()
		grp.shift[name] = d
		add("cand", name, "copy", vs)
	}
	plus := func(f func(int) float64) []float64 {
		vs := walk()
		for i := range vs {
			vs[i] += f(i)
		}
		return vs
	}
	kinds := []struct {
		role  string
		count int
		f     func(int) float64
	}{
		{"trend", 12, trend},
		{"cycle", 12, cycle},
		{"trend+cycle", 6, func(i int) float64 { return trend(i) + cycle(i) }},
		{"walk", 12, func(int) float64 { return 0 }},
	}
	for _, k := range kinds {
		for range k.count {
			add("cand", next(), k.role, plus(k.f))
		}
	}
	for range corrDistractors - 42 {
		vs := make([]float64, total)
		for i := range vs {
			vs[i] = 10 * r.NormFloat64()
		}
		add("cand", next(), "noise", vs)
	}
	return grp
}

// TestCorrelate measures correlate's root-cause ranking and
// correlation_lag's lag.
func TestCorrelate(t *testing.T) {
	needQuality(t)
	t.Logf("seed %d (replay with -quality.seed=%d)", *seedFlag, *seedFlag)
	r := rand.New(rand.NewPCG(*seedFlag, 0xc0))
	recall := &table{
		title: fmt.Sprintf("#### Root-cause recall: share of the %d true copies in topk(5, abs(correlate(...))), %d groups of %d candidates",
			corrTrue, corrGroups, corrTrue+corrDistractors),
		header: []string{"scenario", "method", "recall", "copies with 0 shift", "1–3 scrapes", "4–10 scrapes", "distractors in top 5: trend / cycle / both / walk / noise"},
	}
	lags := &table{
		title:  fmt.Sprintf("#### correlation_lag of the true copies (max_lag %d scrapes)", corrMaxLag),
		header: []string{"scenario", "copies", "exact", "within 1 scrape", "mean abs error (scrapes)", "worst (scrapes)"},
	}
	for si, sc := range corrScenarios {
		e := newEnv(t)
		end := genT0 + 10*day
		var groups []corrGroup
		for g := range corrGroups {
			grp := generateGroup(r, sc, si*1000+g, end)
			appendAll(t, e.db, grp.series)
			groups = append(groups, grp)
		}
		start := time.Now()
		rng := promDuration(sc.window)
		for _, method := range []string{"auto", "pearson", "spearman"} {
			var found, total int
			var bucketFound, bucketTotal [3]int
			roles := map[string]int{}
			for g, grp := range groups {
				gs := strconv.Itoa(si*1000 + g)
				q := fmt.Sprintf(`topk(5, abs(correlate(cause{group=%q}[%s], cand{group=%q}[%s], %q)))`, gs, rng, gs, rng, method)
				top := map[string]bool{}
				for _, s := range e.instant(q, end) {
					top[s.Metric.Get("id")] = true
					if role := s.Metric.Get("role"); role != "copy" {
						roles[role]++
					}
				}
				for id, d := range grp.shift {
					b := 0
					switch a := abs(d); {
					case a >= 4:
						b = 2
					case a >= 1:
						b = 1
					}
					total++
					bucketTotal[b]++
					if top[id] {
						found++
						bucketFound[b]++
					}
				}
			}
			share := func(f, n int) string {
				if n == 0 {
					return "–"
				}
				return fmt.Sprintf("%.0f%% (%d/%d)", 100*float64(f)/float64(n), f, n)
			}
			recall.add(sc.name, method, share(found, total), share(bucketFound[0], bucketTotal[0]),
				share(bucketFound[1], bucketTotal[1]), share(bucketFound[2], bucketTotal[2]),
				fmt.Sprintf("%d / %d / %d / %d / %d", roles["trend"], roles["cycle"], roles["trend+cycle"], roles["walk"], roles["noise"]))
		}
		var errs []int
		for g, grp := range groups {
			gs := strconv.Itoa(si*1000 + g)
			q := fmt.Sprintf(`correlation_lag(cause{group=%q}[%s], cand{group=%q, role="copy"}[%s], %d)`, gs, rng, gs, rng, corrMaxLag*sc.step/1000)
			v := e.instant(q, end)
			if len(v) != corrTrue {
				t.Fatalf("%s: %d results, want %d", q, len(v), corrTrue)
			}
			for _, s := range v {
				// copy(t) = a·cause(t - d), so the cause now matches the
				// copy d scrapes later: the lag is -d (positive when the
				// copy moves first).
				want := -grp.shift[s.Metric.Get("id")]
				got := int(math.Round(s.F * 1000 / float64(sc.step)))
				errs = append(errs, abs(got-want))
			}
		}
		exact, within := 0, 0
		var sum float64
		for _, d := range errs {
			if d == 0 {
				exact++
			}
			if d <= 1 {
				within++
			}
			sum += float64(d)
		}
		n := len(errs)
		lags.add(sc.name, fmt.Sprint(n), fmt.Sprintf("%.0f%%", 100*float64(exact)/float64(n)),
			fmt.Sprintf("%.0f%%", 100*float64(within)/float64(n)), f2(sum/float64(n)), fmt.Sprint(slices.Max(errs)))
		t.Logf("%s: %v", sc.name, time.Since(start).Round(time.Millisecond))
	}
	report(t, recall, lags)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
