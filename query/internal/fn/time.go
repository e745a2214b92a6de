package fn

import (
	"time"
)

// The calendar functions: day_of_week(v) and friends read each sample as
// Unix seconds (truncated to a whole second) and return a part of that
// time in UTC, dropping the metric name. Without an argument they return
// that part of each step's time as one series without labels.

// datePart is the part of a time a calendar function returns.
type datePart int

const (
	daysInMonth datePart = iota
	dayOfMonth
	dayOfWeek
	dayOfYear
	hourOfDay
	minuteOfHour
	monthOfYear
	yearPart
)

func init() {
	for name, p := range map[string]datePart{
		"days_in_month": daysInMonth,
		"day_of_month":  dayOfMonth,
		"day_of_week":   dayOfWeek,
		"day_of_year":   dayOfYear,
		"hour":          hourOfDay,
		"minute":        minuteOfHour,
		"month":         monthOfYear,
		"year":          yearPart,
	} {
		Instant[name] = func(c *InstantCall) ([]Series, error) { return p.call(c), nil }
	}
}

func (p datePart) call(c *InstantCall) []Series {
	if len(c.Args) == 0 {
		v := make([]float64, len(c.Steps))
		for i, t := range c.Steps {
			// A negative step time truncates towards zero, as in Prometheus.
			v[i] = p.of(time.Unix(t/1000, 0).UTC())
		}
		return unlabelled(v)
	}
	return mapSeries(c.Args[0].Series, func(v []float64) {
		for i, x := range v {
			if !IsAbsent(x) {
				// int64(x) of NaN, ±Inf or a value out of int64's range is
				// what the platform makes of it, as in Prometheus.
				v[i] = p.of(time.Unix(int64(x), 0).UTC())
			}
		}
	})
}

// of returns part p of t.
func (p datePart) of(t time.Time) float64 {
	switch p {
	case daysInMonth:
		// Day 0 of the next month is the last day of this one.
		return float64(time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day())
	case dayOfMonth:
		return float64(t.Day())
	case dayOfWeek:
		return float64(t.Weekday())
	case dayOfYear:
		return float64(t.YearDay())
	case hourOfDay:
		return float64(t.Hour())
	case minuteOfHour:
		return float64(t.Minute())
	case monthOfYear:
		return float64(t.Month())
	default:
		return float64(t.Year())
	}
}
