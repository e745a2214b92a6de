package analytics

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// FuzzEntryPoints feeds arbitrary samples to every entry point that takes
// raw samples or a grid. Any error is fine; a panic, a negative or NaN
// score, or an interval that does not contain its forecast is not.
func FuzzEntryPoints(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add(encodeSamples([]int64{0, 15000, 30000, 45000, 60000}, []float64{1, 2, 3, 4, 100}), uint8(1))
	f.Add(encodeSamples([]int64{0, 0, 1, math.MaxInt64}, []float64{math.NaN(), math.Inf(1), -0, 1e308}), uint8(2))
	f.Add(encodeSamples(timestamps(0, 1000, 40), seasonal(nil, 40, 4, 5, 0.1, 2, 0)), uint8(3))
	f.Add(encodeSamples([]int64{math.MinInt64, -1, 0, math.MaxInt64}, []float64{1, 2, 3, 4}), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		ts, vs := decodeSamples(data)
		// Timestamps must be sorted for most calls to get past validation.
		for i := 1; i < len(ts); i++ {
			ts[i] = max(ts[i], ts[i-1])
		}
		// Grids near maxGridPoints are valid but take seconds each; keep
		// the fuzzer fast by exercising only the alignment on them.
		if g, err := Regularize(ts, vs, 0); err == nil && g.Len() > 1<<14 {
			return
		}
		if _, b, err := Align(ts[:len(ts)/2], vs[:len(ts)/2], ts[len(ts)/2:], vs[len(ts)/2:], 0); err == nil && b.Len() > 1<<14 {
			return
		}
		am := []AnomalyMethod{AnomalyAuto, AnomalyZScore, AnomalyMAD, AnomalySeasonal}[sel%4]
		fm := []ForecastMethod{ForecastAuto, ForecastLinear, ForecastHolt, ForecastHoltWinters,
			ForecastHoltWintersMultiplicative, ForecastSeasonalNaive, ForecastTheta}[sel%7]
		cm := []CorrelationMethod{CorrelationAuto, CorrelationPearson, CorrelationSpearman}[sel%3]

		_, _ = Seasonality(ts, vs)
		if a, err := Assess(ts, vs, am); err == nil && !(a.Score >= 0) {
			t.Fatalf("score %v for %v %v", a.Score, ts, vs)
		}
		if p, err := Forecast(ts, vs, time.Duration(sel)*time.Hour+time.Second, 0.9, fm); err == nil &&
			!(p.Lower <= p.Value && p.Value <= p.Upper) && !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) {
			t.Fatalf("interval [%v, %v] excludes %v", p.Lower, p.Upper, p.Value)
		}
		half := len(ts) / 2
		_, _ = Correlate(ts[:half], vs[:half], ts[half:], vs[half:], cm)
		_, _ = CorrelationLag(ts, vs, ts, vs, time.Duration(sel)*time.Minute)

		_ = DetectPeriod(vs)
		_, _ = Decompose(vs, int(sel%16))
		_, _ = AssessLast(vs, am)
		_, _ = ForecastSteps(vs, int(sel)+1, 0.8, fm, int(sel%8)-1)
		_, _, _ = BestLag(vs, vs, int(sel))
		_ = Prewhiten(vs, int(sel%8)-1)
		_, _ = Spearman(vs, vs)
		_, _ = SMAPE(vs, vs)
		_, _ = MASE(vs, vs, vs, int(sel%8))
		_ = Quantile(vs, float64(sel)/255)
		s := NewSlidingMedian(int(sel % 9))
		for _, v := range vs {
			s.Push(v)
			_, _ = s.Median(), s.MAD()
		}
	})
}

// encodeSamples writes (timestamp, value bits) pairs as 16 bytes each.
func encodeSamples(ts []int64, vs []float64) []byte {
	var b []byte
	for i := range ts {
		b = binary.LittleEndian.AppendUint64(b, uint64(ts[i]))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(vs[i]))
	}
	return b
}

func decodeSamples(b []byte) ([]int64, []float64) {
	var ts []int64
	var vs []float64
	for ; len(b) >= 16; b = b[16:] {
		ts = append(ts, int64(binary.LittleEndian.Uint64(b)))
		vs = append(vs, math.Float64frombits(binary.LittleEndian.Uint64(b[8:])))
	}
	return ts, vs
}
