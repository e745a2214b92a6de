// Package fn holds PromQL's functions as almanac evaluates them: over
// columns of values for every step of a query at once, not one step at a
// time. The engine (package query) evaluates arguments, calls a function
// once per node, and owns everything about selection, matching and
// output; a function only turns input columns into output columns.
package fn

import (
	"math"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/parser/posrange"
	"github.com/prometheus/prometheus/util/annotations"
)

// AbsentBits marks a step where a series has no value. It is a quiet NaN
// payload that no arithmetic produces and that selection never lets
// through (an input sample with these exact bits is read as an ordinary
// NaN), so a series is one []float64: no presence bitmap to keep in step.
const AbsentBits = 0x7ffa_b5e7_0000_0001

// Absent is the value of a step without a sample.
var Absent = math.Float64frombits(AbsentBits)

// IsAbsent reports whether v marks a missing step.
func IsAbsent(v float64) bool { return math.Float64bits(v) == AbsentBits }

// NewValues returns n absent values.
func NewValues(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = Absent
	}
	return v
}

// Series is one series of an instant vector over every step of a query:
// V[i] is its value at step i, or Absent.
type Series struct {
	Labels labels.Labels
	V      []float64
	// DropName says the metric name is dropped when the result is returned
	// (Prometheus's delayed name removal): functions and operators that
	// change a value's meaning set it; label functions still see the name.
	DropName bool
}

// Samples is one series' raw samples, sorted by time, stale markers
// removed: the input of a range function.
type Samples struct {
	Labels labels.Labels
	T      []int64
	V      []float64
	ST     []int64 // start timestamps; nil when the series has none
}

// RangeCall is one range function call for one series over every step.
type RangeCall struct {
	// Ends[i] is the inclusive end of step i's window; the window is
	// (Ends[i]-Range, Ends[i]].
	Ends  []int64
	Range int64
	// Scalars are the function's scalar arguments, one value per step,
	// in argument order (the range argument excluded).
	Scalars [][]float64
	// Strings are the function's string arguments, in argument order.
	Strings []string
	In      Samples
	// Out has len(Ends) values, all Absent on entry.
	Out []float64
	// Anchored and Smoothed are the range modifiers of the selector.
	Anchored, Smoothed bool
	// UseStartTimestamps lets rate and increase use samples' start
	// timestamps (Prometheus's start-timestamp feature).
	UseStartTimestamps bool
	// Lookback is the query's lookback delta (smoothed/anchored ranges
	// look that far outside the window).
	Lookback int64
	// MetricName is In's __name__, for annotations.
	MetricName string
	// Annos collects warnings and infos; Pos is the argument's position.
	Annos *annotations.Annotations
	Pos   posrange.PositionRange
	// Steps[i] is the evaluation time of step i: Ends[i] plus the
	// selector's offset, or the step's own time under @ (where every
	// Ends[i] is the @ time). predict_linear predicts from it. Nil
	// means Steps equal Ends.
	Steps []int64
	// ScalarPos[j] is the position of the argument Scalars[j] came
	// from, for annotations about it (quantile_over_time's φ,
	// integral's strategy).
	ScalarPos []posrange.PositionRange
	// Err, set by Call, fails the query: a user error such as an
	// invalid argument (double_exponential_smoothing's factors).
	Err error
}

// RangeFunction is a function whose (first) argument is a range vector.
type RangeFunction struct {
	Call func(c *RangeCall)
	// KeepName: the result keeps the metric name (last_over_time,
	// first_over_time); every other range function drops it.
	KeepName bool
}

// Arg is one evaluated argument of an instant function.
type Arg struct {
	Type   parser.ValueType
	Series []Series  // ValueTypeVector
	Scalar []float64 // ValueTypeScalar: one per step
	String string    // ValueTypeString
}

// InstantCall is one call of a function over instant vectors and scalars,
// for every step at once.
type InstantCall struct {
	// Steps are the evaluation times (milliseconds), one per step.
	Steps []int64
	Args  []Arg
	Expr  *parser.Call
	Annos *annotations.Annotations
}

// InstantFunction returns the function's result: series for functions
// returning vectors, or one series with no labels whose V is the scalar
// for functions returning scalars. Errors are user errors (the query
// fails with them).
type InstantFunction func(c *InstantCall) ([]Series, error)

// Range holds the range functions, by name.
var Range = map[string]RangeFunction{}

// Instant holds the functions over instant vectors and scalars, by name.
var Instant = map[string]InstantFunction{}

// BandFunction is a range function whose result is two series per input
// series: a lower and an upper bound, labelled band="lower" and
// band="upper" by the engine (anomaly_band, forecast_band).
type BandFunction struct {
	// Call fills Lower and Upper (len(c.Ends) each, all Absent on entry)
	// for one series; c.Out is unused.
	Call func(c *RangeCall, lower, upper []float64)
}

// PairCall is one call of a function over two range vectors for one
// candidate series: Target is the single series the first argument
// selects, In (in the embedded RangeCall) is the candidate.
type PairCall struct {
	RangeCall
	Target Samples
}

// PairFunction is a function of two range vectors, a target that must
// select exactly one series and candidates (correlate, correlation_lag);
// the result has one series per candidate.
type PairFunction struct {
	Call func(c *PairCall)
}

// Bands holds the band functions, by name.
var Bands = map[string]BandFunction{}

// Pairs holds the functions of a target and candidates, by name.
var Pairs = map[string]PairFunction{}
