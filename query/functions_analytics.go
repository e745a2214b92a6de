package query

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/almanacdb/almanac/query/internal/fn"
)

// analyticsFunction describes one of almanac's analytics functions
// (docs/analytics.md): its signature for the parser and what its scalar
// arguments must be. The methods its string argument accepts come from
// fn.AnalyticsMethods.
type analyticsFunction struct {
	fn      *parser.Function
	scalars []analyticsArg // the scalar arguments, in order
}

// analyticsArg is a scalar argument and the values it accepts.
type analyticsArg struct {
	name  string
	bound analyticsBound
}

// analyticsBound is a set of values a scalar argument accepts.
type analyticsBound int

const (
	analyticsPositive    analyticsBound = iota // k, horizon
	analyticsOpenUnit                          // level
	analyticsNonNegative                       // max_lag
)

// accepts reports whether f is in the bound, and says what the bound is.
func (b analyticsBound) accepts(f float64) (ok bool, want string) {
	switch b {
	case analyticsPositive:
		return f > 0 && !math.IsInf(f, 0), "a positive finite number"
	case analyticsOpenUnit:
		return f > 0 && f < 1, "between 0 and 1 (exclusive)"
	default:
		return f >= 0 && !math.IsInf(f, 0), "a finite number >= 0"
	}
}

// analyticsFunctions are the analytics functions by name.
var analyticsFunctions = map[string]analyticsFunction{
	"anomaly_score": {
		fn: &parser.Function{ArgTypes: []parser.ValueType{parser.ValueTypeMatrix, parser.ValueTypeString}, Variadic: 1},
	},
	"anomaly_band": {
		fn:      &parser.Function{ArgTypes: []parser.ValueType{parser.ValueTypeMatrix, parser.ValueTypeScalar, parser.ValueTypeString}, Variadic: 1},
		scalars: []analyticsArg{{"k", analyticsPositive}},
	},
	"forecast": {
		fn:      &parser.Function{ArgTypes: []parser.ValueType{parser.ValueTypeMatrix, parser.ValueTypeScalar, parser.ValueTypeString}, Variadic: 1},
		scalars: []analyticsArg{{"horizon", analyticsPositive}},
	},
	"forecast_band": {
		fn:      &parser.Function{ArgTypes: []parser.ValueType{parser.ValueTypeMatrix, parser.ValueTypeScalar, parser.ValueTypeScalar, parser.ValueTypeString}, Variadic: 1},
		scalars: []analyticsArg{{"horizon", analyticsPositive}, {"level", analyticsOpenUnit}},
	},
	"correlate": {
		fn: &parser.Function{ArgTypes: []parser.ValueType{parser.ValueTypeMatrix, parser.ValueTypeMatrix, parser.ValueTypeString}, Variadic: 1},
	},
	"correlation_lag": {
		fn:      &parser.Function{ArgTypes: []parser.ValueType{parser.ValueTypeMatrix, parser.ValueTypeMatrix, parser.ValueTypeScalar}},
		scalars: []analyticsArg{{"max_lag", analyticsNonNegative}},
	},
	"seasonality": {
		fn: &parser.Function{ArgTypes: []parser.ValueType{parser.ValueTypeMatrix}},
	},
}

func init() {
	for name, f := range analyticsFunctions {
		f.fn.Name = name
		f.fn.ReturnType = parser.ValueTypeVector
		extraFunctions[name] = f.fn
	}
}

// CheckAnalytics returns the error of the first invalid literal argument
// of an analytics function in expr (see checkAnalyticsArgs), or nil, so
// that a rule loader can reject a typo in a method name when it loads a
// rule rather than get no result from it.
func CheckAnalytics(expr parser.Expr) error {
	var err error
	mqlWalk(expr, func(node parser.Node) bool {
		if c, ok := node.(*parser.Call); ok {
			err = checkAnalyticsArgs(c)
		}
		return err == nil
	})
	return err
}

// checkAnalyticsArgs checks the literal arguments of a call of an
// analytics function: the method must be one the function knows, and
// k > 0, horizon > 0 and finite, level in (0, 1), max_lag >= 0 and
// finite. A computed scalar argument is checked at each step instead (a
// step where it is invalid has no value). Other functions pass.
func checkAnalyticsArgs(e *parser.Call) error {
	f, ok := analyticsFunctions[e.Func.Name]
	if !ok {
		return nil
	}
	name := e.Func.Name
	nScalar := 0
	for i, arg := range e.Args {
		switch f.fn.ArgTypes[min(i, len(f.fn.ArgTypes)-1)] {
		case parser.ValueTypeString:
			lit, ok := analyticsLiteral(arg).(*parser.StringLiteral)
			if !ok {
				continue
			}
			if methods := fn.AnalyticsMethods(name); !slices.Contains(methods, lit.Val) {
				return fmt.Errorf("%s: unknown method %q; want one of %s", name, lit.Val, quoteMethods(methods))
			}
		case parser.ValueTypeScalar:
			a := f.scalars[nScalar]
			nScalar++
			lit, ok := analyticsLiteral(arg).(*parser.NumberLiteral)
			if !ok {
				continue
			}
			if ok, want := a.bound.accepts(lit.Val); !ok {
				return fmt.Errorf("%s: %s must be %s, got %v", name, a.name, want, lit.Val)
			}
		}
	}
	return nil
}

// analyticsLiteral returns e without parentheses and step-invariance
// wrappers, and a negated number literal as the negative number.
func analyticsLiteral(e parser.Expr) parser.Expr {
	for {
		switch x := e.(type) {
		case *parser.ParenExpr:
			e = x.Expr
		case *parser.StepInvariantExpr:
			e = x.Expr
		case *parser.UnaryExpr:
			n, ok := analyticsLiteral(x.Expr).(*parser.NumberLiteral)
			if !ok {
				return e
			}
			if x.Op == parser.SUB {
				return &parser.NumberLiteral{Val: -n.Val, PosRange: x.PositionRange()}
			}
			return n
		default:
			return e
		}
	}
}

// quoteMethods lists method names for an error: "auto", "mad".
func quoteMethods(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
