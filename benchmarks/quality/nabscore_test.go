package quality

import (
	"cmp"
	"math"
	"slices"
	"testing"
)

// NAB's scoring (Lavin & Ahmad 2015; NAB v1.1, nab/sweeper.py), written
// from its description:
//
//   - Each labelled window is worth A_TP when its first detection is at its
//     left edge; a detection at relative position y in [-1, 0] (-1 the left
//     edge, 0 just past the right edge) earns A_TP·σ(y)/σ(-1), with the
//     scaled sigmoid σ(y) = 2/(1+e^{5y}) - 1. Only the earliest detection in
//     a window counts. A window without a detection costs A_FN.
//   - Every detection outside a window costs A_FP·σ(y), y the distance past
//     the end of the preceding window in units of that window's width less
//     one (so a detection just after a window costs little, one far away
//     A_FP), or A_FP when no window precedes it. σ(y) is -1 from y = 3 on.
//   - The first 15% of each file's rows, at most 750, are a probationary
//     period: detections there are not scored.
//   - A detector outputs a score in [0, 1] per row; a row is a detection
//     when its score is at least the threshold, and the threshold is the
//     one that maximises the total over the whole corpus, per profile.
//   - The total is normalised so that the null detector (no detections)
//     scores 0 and the perfect one (every window at its left edge, no false
//     positive) 100.

// nabProfile is one of NAB's application profiles (cost matrices).
type nabProfile struct {
	name       string
	tp, fp, fn float64 // A_TP, A_FP, A_FN
}

var nabProfiles = []nabProfile{
	{name: "standard", tp: 1, fp: 0.11, fn: 1},
	{name: "reward_low_FP_rate", tp: 1, fp: 0.22, fn: 1},
	{name: "reward_low_FN_rate", tp: 1, fp: 0.11, fn: 2},
}

// nabWindow is a labelled anomaly window: its first and last row, inclusive.
type nabWindow struct{ first, last int }

// nabProbation is the number of unscored rows at the start of a file of n
// rows: 15%, rounded down, at most 750.
func nabProbation(n int) int {
	return min(int(math.Floor(0.15*float64(n))), 750)
}

// scaledSigmoid is NAB's σ(y) = 2/(1+e^{5y}) - 1, and -1 from y = 3 on.
func scaledSigmoid(y float64) float64 {
	if y >= 3 {
		return -1
	}
	return 2/(1+math.Exp(5*y)) - 1
}

// nabPoint is one scorable row: the detector's score and what a detection
// there is worth before the profile's weights.
type nabPoint struct {
	score float64
	// sig is σ of the row's relative position: divided by σ(-1) inside a
	// window (weighted by A_TP), as is outside one (weighted by A_FP).
	sig    float64
	window int // corpus-wide window id, or -1 outside windows
}

// nabPoints returns the scorable rows of one file of n rows with the given
// windows (sorted, disjoint) and detector scores. Window ids are
// firstID+k for the file's k-th window.
func nabPoints(scores []float64, windows []nabWindow, firstID int) []nabPoint {
	n := len(scores)
	probation := nabProbation(n)
	maxTP := scaledSigmoid(-1)
	out := make([]nabPoint, 0, n-probation)
	next := 0        // the next window to enter
	in := -1         // the window the row is in, or -1
	prevLast := -1   // the last row of the preceding window, or -1
	prevWidth := 0.0 // its width in rows
	for i := range n {
		if in < 0 && next < len(windows) && i == windows[next].first {
			in, next = next, next+1
		}
		p := nabPoint{score: scores[i], window: -1}
		if in >= 0 {
			w := windows[in]
			width := float64(w.last - w.first + 1)
			p.sig = scaledSigmoid(-float64(w.last-i+1)/width) / maxTP
			p.window = firstID + in
		} else {
			y := 3.0
			if prevLast >= 0 {
				y = math.Abs(float64(i-prevLast)) / (prevWidth - 1)
			}
			p.sig = scaledSigmoid(y)
		}
		if i >= probation {
			out = append(out, p)
		}
		if in >= 0 && i == windows[in].last {
			prevLast, prevWidth = i, float64(windows[in].last-windows[in].first+1)
			in = -1
		}
	}
	return out
}

// nabSweep returns the threshold that maximises the profile's total over
// the points of the whole corpus, and that total (not normalised). A
// threshold above every score means no detection at all.
func nabSweep(points []nabPoint, p nabProfile) (threshold, total float64) {
	sorted := slices.Clone(points)
	slices.SortFunc(sorted, func(a, b nabPoint) int { return cmp.Compare(b.score, a.score) })
	// best[w] is the credit of window w's best (earliest) detection so far.
	best := map[int]float64{}
	for _, pt := range sorted {
		if pt.window >= 0 {
			best[pt.window] = -p.fn
		}
	}
	score := -p.fn * float64(len(best))
	threshold, total = math.Inf(1), score
	for i, pt := range sorted {
		if pt.window < 0 {
			score += p.fp * pt.sig
		} else if c := p.tp * pt.sig; c > best[pt.window] {
			score += c - best[pt.window]
			best[pt.window] = c
		}
		// A threshold takes every row scoring at least it: record the
		// total only after the last row of a run of equal scores.
		if i+1 < len(sorted) && sorted[i+1].score == pt.score {
			continue
		}
		if score > total {
			threshold, total = pt.score, score
		}
	}
	return threshold, total
}

// nabNormalize maps a corpus total to NAB's 0 (null detector) to 100
// (perfect detector) scale. windows counts every labelled window.
func nabNormalize(total, null float64, windows int, p nabProfile) float64 {
	perfect := p.tp * float64(windows)
	return 100 * (total - null) / (perfect - null)
}

// nabResult is a detector's score on one profile.
type nabResult struct {
	threshold  float64 // the optimal threshold, on the [0, 1] score
	raw        float64 // the corpus total at it
	normalized float64 // on NAB's 0-100 scale
	tp, fp     int     // windows detected, detections outside windows
}

// nabScore scores a detector's per-row scores over the corpus on each
// profile. scores[f] holds one value in [0, 1] per row of files[f].
func nabScore(files []nabFile, scores [][]float64) []nabResult {
	var points, null []nabPoint
	windows, id := 0, 0
	for f, file := range files {
		points = append(points, nabPoints(scores[f], file.windows, id)...)
		null = append(null, nabPoints(make([]float64, len(scores[f])), file.windows, id)...)
		id += len(file.windows)
		windows += len(file.windows)
	}
	out := make([]nabResult, len(nabProfiles))
	for k, p := range nabProfiles {
		_, nullTotal := nabSweep(null, p)
		th, total := nabSweep(points, p)
		r := nabResult{threshold: th, raw: total, normalized: nabNormalize(total, nullTotal, windows, p)}
		detected := map[int]bool{}
		for _, pt := range points {
			if pt.score < th {
				continue
			}
			if pt.window < 0 {
				r.fp++
			} else {
				detected[pt.window] = true
			}
		}
		r.tp = len(detected)
		out[k] = r
	}
	return out
}

// TestNABScoring checks the scorer on hand-worked cases.
func TestNABScoring(t *testing.T) {
	const n = 1000 // probation 150 rows
	windows := []nabWindow{{first: 400, last: 499}, {first: 800, last: 849}}
	files := []nabFile{{name: "a", rows: n, windows: windows}, {name: "b", rows: n}}
	at := func(rows ...int) []float64 {
		s := make([]float64, n)
		for _, r := range rows {
			s[r] = 1
		}
		return s
	}
	std := nabProfiles[0]
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }
	f := func(name string, a, b []float64, want float64) {
		t.Helper()
		if got := nabScore(files, [][]float64{a, b})[0]; !near(got.normalized, want) {
			t.Errorf("%s: standard score %v (raw %v, threshold %v), want %v", name, got.normalized, got.raw, got.threshold, want)
		}
	}
	f("null", at(), at(), 0)
	f("perfect", at(400, 800), at(), 100)
	f("perfect, and later detections in the windows", at(400, 420, 499, 800, 849), at(), 100)
	f("detections in probation are free", at(10, 149, 400, 800), at(149), 100)
	// One window at its left edge, the other missed: raw -1+1 = 0 of a
	// range from -2 to 2.
	f("one window", at(400), at(), 50)
	// The right edge of a window: σ(-1/100)/σ(-1).
	edge := scaledSigmoid(-0.01) / scaledSigmoid(-1)
	f("late detection", at(499, 800), at(), 100*(edge+1+2)/4)
	// A false positive far from any window, in the other file, costs
	// A_FP, and the threshold cannot avoid it: 0.11 of 4.
	f("false positive", at(400, 800), at(500), 100-100*0.11/4)
	// A false positive just after a window costs σ(1/99)·A_FP, little.
	after := scaledSigmoid(1.0/99) * std.fp
	f("false positive after a window", at(400, 500, 800), at(), 100+100*after/4)
	// When the false positives outweigh the window, the sweep keeps the
	// threshold above them: 20 scattered detections at 0.5 lose 2.2, more
	// than the second window, detected at 0.5, gains (1.98), so only the
	// detection at 1 counts.
	fps := make([]float64, n)
	fps[400] = 1
	fps[810] = 0.5
	b := make([]float64, n)
	for r := 200; r < 200+20*30; r += 30 {
		b[r] = 0.5
	}
	f("threshold sweep", fps, b, 50)
	if got := nabProbation(4032); got != 604 {
		t.Errorf("probation of 4032 rows: %d, want 604", got)
	}
	if got := nabProbation(22695); got != 750 {
		t.Errorf("probation of 22695 rows: %d, want 750", got)
	}
	// Profiles: the low-FN profile doubles the cost of a miss, so the null
	// detector's total is -4 and one window at its left edge is 100·3/6.
	if got := nabScore(files, [][]float64{at(400), at()})[2].normalized; !near(got, 50) {
		t.Errorf("reward_low_FN_rate, one window: %v, want 50", got)
	}
}
