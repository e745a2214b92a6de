package fn

import (
	"testing"
	"time"
)

func TestCalendar(t *testing.T) {
	// Values are Unix seconds: leap days and years, month and year ends,
	// before 1970, fractions, and values no time holds.
	e := newInstEnv(t, `
load 1m
	ts{k="a"} 0 1136239445 1709164800 1709251199.9 951782400 4107542400 -1 -86400.5 253402300799 1e20 -1e20 NaN Inf -Inf 1583020800 1582934400
	ts{k="b"} _ _ 1735689599 1735689600 stale 1735603200
`)
	grids := []instGrid{
		instRange(0, 16*time.Minute, time.Minute),
		instAt(3 * time.Minute),
	}
	var queries []string
	for _, f := range []string{
		"days_in_month", "day_of_month", "day_of_week", "day_of_year",
		"hour", "minute", "month", "year",
	} {
		queries = append(queries, f+"(ts)", f+"()", f+"(vector(time() * 7))")
	}
	e.checkAll(t, queries, grids...)

	// Without an argument: the step times, across two years by odd steps.
	e.checkAll(t, []string{
		"days_in_month()", "day_of_month()", "day_of_week()", "day_of_year()",
		"hour()", "minute()", "month()", "year()",
	}, instRange(0, 2*366*24*time.Hour, 7*time.Hour+13*time.Minute+17*time.Second))
}
