package fn

import "sort"

// ExtendWindow is what an anchored or smoothed range selector holds for
// the window (mint, maxt] when it is the query's result (an instant query
// of `x[5m] anchored`): the samples strictly inside the window framed by
// the values at both edges, as Prometheus's extendFloats gives them. t, v
// and st (nil: no start timestamps) are the samples in (mint-lookback,
// maxt] (anchored) or (mint-lookback, maxt+lookback] (smoothed). Series
// are treated as gauges, as Prometheus does here.
func ExtendWindow(t []int64, v []float64, st []int64, mint, maxt, lookback int64, smoothed bool) ([]int64, []float64) {
	lookbackStart := mint - lookback
	lo := sort.Search(len(t), func(i int) bool { return t[i] > lookbackStart })
	hi := len(t)
	if !smoothed {
		hi = sort.Search(len(t), func(i int) bool { return t[i] > maxt })
	}
	t, v = t[lo:hi], v[lo:hi]
	if st != nil {
		st = st[lo:hi]
	}
	if len(t) == 0 {
		return nil, nil
	}
	last := len(t) - 1
	first := max(0, sort.Search(last, func(i int) bool { return t[i] > mint })-1)
	if smoothed {
		last = sort.Search(last, func(i int) bool { return t[i] >= maxt })
	}
	if t[last] <= mint {
		return nil, nil
	}
	left, _ := rangeLeftValue(t, v, st, first, mint, lookbackStart, smoothed, false)
	right, _ := rangeRightValue(t, v, st, 0, last, maxt, lookbackStart, smoothed, false)
	if t[first] <= mint {
		first++
	}
	if t[last] >= maxt {
		last--
	}
	ts := []int64{mint}
	vs := []float64{left}
	if first <= last {
		ts = append(ts, t[first:last+1]...)
		vs = append(vs, v[first:last+1]...)
	}
	return append(ts, maxt), append(vs, right)
}
