package query

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metricsql"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// The MetricsQL dialect (docs/metricsql.md). Input that Prometheus's
// parser rejects is parsed with VictoriaMetrics's metricsql package (which
// expands WITH templates) and lowered to the engine's AST: Prometheus's
// nodes where PromQL has the construct, with Prometheus's semantics, and
// almanac's own nodes (metricsql_nodes.go) for the constructs PromQL has
// not. Anything else fails with an error wrapping ErrMetricsQLUnsupported:
// never an answer computed with other semantics than documented.

// ErrMetricsQLUnsupported is wrapped by the error Parse returns for
// MetricsQL input that uses a construct almanac does not evaluate. Its
// message names the construct: "MetricsQL: X is not supported".
var ErrMetricsQLUnsupported = errors.New("MetricsQL construct not supported")

// errNotMetricsQL: the input is not MetricsQL either; Parse then returns
// Prometheus's parse error.
var errNotMetricsQL = errors.New("not MetricsQL")

// mqlUnsupportedError names an unsupported MetricsQL construct.
type mqlUnsupportedError struct{ what string }

func (e *mqlUnsupportedError) Error() string { return "MetricsQL: " + e.what + " is not supported" }

func (e *mqlUnsupportedError) Is(target error) bool { return target == ErrMetricsQLUnsupported }

func mqlUnsupported(format string, args ...any) error {
	return &mqlUnsupportedError{what: fmt.Sprintf(format, args...)}
}

// metricsqlFunctions are the parser signatures of the MetricsQL functions
// almanac evaluates (query/internal/fn/metricsql_*.go). They join
// Prometheus's function table, so they work in PromQL queries too.
// increase_pure is not among them: it reads the sample before each
// window, which only its MetricsQL lowering provides.
var metricsqlFunctions = []*parser.Function{
	mqlRangeFunc("median_over_time"),
	mqlRangeFunc("mode_over_time"),
	mqlRangeFunc("range_over_time"),
	mqlRangeFunc("zscore_over_time"),
	mqlRangeFunc("rate_over_sum"),
	mqlVectorFunc("range_first"),
	mqlVectorFunc("range_last"),
	mqlVectorFunc("running_sum"),
	mqlVectorFunc("keep_last_value"),
	mqlVectorFunc("interpolate"),
	{Name: "union", ArgTypes: []parser.ValueType{parser.ValueTypeVector}, Variadic: -1, ReturnType: parser.ValueTypeVector},
	mqlLabelFunc("label_set", 2),
	mqlLabelFunc("label_del", 1),
	mqlLabelFunc("label_keep", 1),
	mqlLabelFunc("label_copy", 2),
	mqlLabelFunc("label_move", 2),
}

func mqlRangeFunc(name string) *parser.Function {
	return &parser.Function{Name: name, ArgTypes: []parser.ValueType{parser.ValueTypeMatrix}, ReturnType: parser.ValueTypeVector}
}

func mqlVectorFunc(name string) *parser.Function {
	return &parser.Function{Name: name, ArgTypes: []parser.ValueType{parser.ValueTypeVector}, ReturnType: parser.ValueTypeVector}
}

// mqlLabelFunc is a function of a vector and at least minStrings-1 strings.
func mqlLabelFunc(name string, minStrings int) *parser.Function {
	args := []parser.ValueType{parser.ValueTypeVector}
	for range minStrings {
		args = append(args, parser.ValueTypeString)
	}
	return &parser.Function{Name: name, ArgTypes: args, Variadic: -1, ReturnType: parser.ValueTypeVector}
}

// mqlIncreasePure is increase_pure's signature, used only by the lowering.
var mqlIncreasePure = mqlRangeFunc("increase_pure")

func init() {
	for _, f := range metricsqlFunctions {
		extraFunctions[f.Name] = f
	}
}

// parseMetricsQL parses q as MetricsQL and lowers it for evaluation over
// [start, end] at step (0 for an instant query). It returns an error
// wrapping errNotMetricsQL when q is not MetricsQL.
func (e *Engine) parseMetricsQL(q string, start, end time.Time, step time.Duration) (expr parser.Expr, err error) {
	me, err := parseMetricsQLSafely(q)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotMetricsQL, err)
	}
	defer func() {
		// The metricsql package panics on what it considers its own bugs
		// (durations it did not parse, say): fail the query instead.
		if r := recover(); r != nil {
			expr, err = nil, fmt.Errorf("MetricsQL: cannot lower %q: %v", q, r)
		}
	}()
	l := &mqlLowerer{start: start, end: end, funcs: Functions()}
	// `1i` is one step; an instant query's step is the lookback delta,
	// as VictoriaMetrics's instant queries default their step to 5m.
	l.stepMs = step.Milliseconds()
	if step <= 0 {
		l.stepMs = e.opts.LookbackDelta.Milliseconds()
	}
	expr, err = l.expr(me)
	if err != nil {
		return nil, err
	}
	if step > 0 && expr.Type() != parser.ValueTypeVector && expr.Type() != parser.ValueTypeScalar {
		return nil, fmt.Errorf("invalid expression type %q for range query, must be Scalar or instant Vector", parser.DocumentedType(expr.Type()))
	}
	return mqlPrepare(expr, start, end, step)
}

// parseMetricsQLSafely is metricsql.Parse with its panics made errors.
func parseMetricsQLSafely(q string) (e metricsql.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("metricsql: %v", r)
		}
	}()
	return metricsql.Parse(q)
}

// mqlLowerer turns a metricsql AST into the engine's.
type mqlLowerer struct {
	start, end time.Time
	stepMs     int64 // what `1i` stands for, in milliseconds
	funcs      map[string]*parser.Function
}

func (l *mqlLowerer) expr(e metricsql.Expr) (parser.Expr, error) {
	switch e := e.(type) {
	case *metricsql.NumberExpr:
		return &parser.NumberLiteral{Val: e.N}, nil
	case *metricsql.StringExpr:
		return &parser.StringLiteral{Val: e.S}, nil
	case *metricsql.DurationExpr:
		// A duration outside brackets is its number of seconds.
		return &parser.NumberLiteral{Val: float64(e.Duration(l.stepMs)) / 1000}, nil
	case *metricsql.MetricExpr:
		return l.selector(e, 0, nil)
	case *metricsql.RollupExpr:
		return l.rollup(e)
	case *metricsql.FuncExpr:
		return l.call(e)
	case *metricsql.AggrFuncExpr:
		return l.aggregate(e)
	case *metricsql.BinaryOpExpr:
		return l.binary(e)
	}
	return nil, mqlUnsupported("the expression %s", e.AppendString(nil))
}

// selector lowers a series selector read at offset and @ at (nil: none).
// MetricsQL's "or" filters ({a="1" or b="2"}) become the union of one
// selector per filter list.
func (l *mqlLowerer) selector(me *metricsql.MetricExpr, offset time.Duration, at *int64) (parser.Expr, error) {
	if len(me.LabelFilterss) == 0 {
		return nil, mqlUnsupported("the empty series selector {}")
	}
	var sels []parser.Expr
	for _, lfs := range me.LabelFilterss {
		vs := &parser.VectorSelector{OriginalOffset: offset, Timestamp: at}
		nonEmpty := false
		for _, lf := range lfs {
			if lf.Label == "__graphite__" {
				return nil, mqlUnsupported("the Graphite filter __graphite__")
			}
			typ := labels.MatchEqual
			switch {
			case lf.IsRegexp && lf.IsNegative:
				typ = labels.MatchNotRegexp
			case lf.IsRegexp:
				typ = labels.MatchRegexp
			case lf.IsNegative:
				typ = labels.MatchNotEqual
			}
			m, err := labels.NewMatcher(typ, lf.Label, lf.Value)
			if err != nil {
				return nil, fmt.Errorf("MetricsQL: invalid filter %s: %w", lf.AppendString(nil), err)
			}
			if lf.Label == labels.MetricName && typ == labels.MatchEqual {
				vs.Name = lf.Value
			}
			nonEmpty = nonEmpty || !m.Matches("")
			vs.LabelMatchers = append(vs.LabelMatchers, m)
		}
		if !nonEmpty {
			return nil, fmt.Errorf("MetricsQL: vector selector must contain at least one non-empty matcher: %s", me.AppendString(nil))
		}
		sels = append(sels, vs)
	}
	if len(sels) == 1 {
		return sels[0], nil
	}
	return &metricsqlOrSelector{Selectors: sels}, nil
}

// duration returns d in milliseconds, `i` standing for the step.
func (l *mqlLowerer) duration(d *metricsql.DurationExpr) time.Duration {
	if d == nil {
		return 0
	}
	return time.Duration(d.Duration(l.stepMs)) * time.Millisecond
}

// rollup lowers a range [d], a subquery [d:step], an offset or an @.
func (l *mqlLowerer) rollup(re *metricsql.RollupExpr) (parser.Expr, error) {
	offset := l.duration(re.Offset)
	var at *int64
	if re.At != nil {
		secs, ok := l.constant(re.At)
		if !ok || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return nil, mqlUnsupported("@ %s (only a finite number, start(), end() or arithmetic of them)", re.At.AppendString(nil))
		}
		ms := int64(math.Round(secs * 1000))
		at = &ms
	}
	rng := l.duration(re.Window)
	me, isSelector := re.Expr.(*metricsql.MetricExpr)
	if re.ForSubquery() || (re.Window != nil && !isSelector) {
		// A window on an expression is a subquery; without a step the
		// step is 1i, as in VictoriaMetrics.
		if re.Window == nil {
			return nil, mqlUnsupported("a subquery without a range (%s)", re.AppendString(nil))
		}
		if rng <= 0 {
			return nil, fmt.Errorf("MetricsQL: the range of %s must be positive", re.AppendString(nil))
		}
		inner, err := l.expr(re.Expr)
		if err != nil {
			return nil, err
		}
		if inner.Type() != parser.ValueTypeVector {
			return nil, mqlUnsupported("a subquery of a %s", parser.DocumentedType(inner.Type()))
		}
		step := l.duration(re.Step)
		if re.Step == nil {
			step = time.Duration(l.stepMs) * time.Millisecond
		}
		if step <= 0 {
			return nil, fmt.Errorf("MetricsQL: the step of %s must be positive", re.AppendString(nil))
		}
		return &parser.SubqueryExpr{Expr: inner, Range: rng, Step: step, OriginalOffset: offset, Timestamp: at}, nil
	}
	if !isSelector {
		return nil, mqlUnsupported("offset or @ on an expression other than a series selector or a subquery (%s)", re.AppendString(nil))
	}
	sel, err := l.selector(me, offset, at)
	if err != nil {
		return nil, err
	}
	if re.Window == nil {
		return sel, nil
	}
	vs, ok := sel.(*parser.VectorSelector)
	if !ok {
		return nil, mqlUnsupported("a range [d] over a series selector with or filters")
	}
	if rng <= 0 {
		return nil, fmt.Errorf("MetricsQL: the range of %s must be positive", re.AppendString(nil))
	}
	return &parser.MatrixSelector{VectorSelector: vs, Range: rng}, nil
}

// constant evaluates an @ argument: a number of seconds, start(), end(),
// a duration, and arithmetic of them.
func (l *mqlLowerer) constant(e metricsql.Expr) (float64, bool) {
	switch e := e.(type) {
	case *metricsql.NumberExpr:
		return e.N, true
	case *metricsql.DurationExpr:
		return float64(e.Duration(l.stepMs)) / 1000, true
	case *metricsql.FuncExpr:
		if len(e.Args) != 0 {
			return 0, false
		}
		switch strings.ToLower(e.Name) {
		case "start":
			return float64(l.start.UnixMilli()) / 1000, true
		case "end":
			return float64(l.end.UnixMilli()) / 1000, true
		}
	case *metricsql.BinaryOpExpr:
		a, ok1 := l.constant(e.Left)
		b, ok2 := l.constant(e.Right)
		if !ok1 || !ok2 {
			return 0, false
		}
		switch e.Op {
		case "+":
			return a + b, true
		case "-":
			return a - b, true
		case "*":
			return a * b, true
		case "/":
			return a / b, true
		}
	}
	return 0, false
}

// call lowers a function call.
func (l *mqlLowerer) call(fe *metricsql.FuncExpr) (parser.Expr, error) {
	name := strings.ToLower(fe.Name)
	var out parser.Expr
	var err error
	switch name {
	case "", "union":
		out, err = l.union(fe)
	case mqlIncreasePure.Name:
		out, err = l.increasePure(fe)
	default:
		f, ok := l.funcs[name]
		if !ok {
			return nil, mqlUnsupported("the function %s()", name)
		}
		out, err = l.promCall(f, fe)
	}
	if err != nil || !fe.KeepMetricNames || out.Type() != parser.ValueTypeVector {
		return out, err
	}
	return &metricsqlKeepNames{Expr: out}, nil
}

// args lowers function arguments.
func (l *mqlLowerer) args(es []metricsql.Expr) ([]parser.Expr, error) {
	out := make([]parser.Expr, len(es))
	for i, a := range es {
		x, err := l.expr(a)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

// promCall lowers a call of a function of the engine's table, checking
// its arguments as Prometheus's parser does.
func (l *mqlLowerer) promCall(f *parser.Function, fe *metricsql.FuncExpr) (parser.Expr, error) {
	args, err := l.args(fe.Args)
	if err != nil {
		return nil, err
	}
	if err := mqlCheckArgs(f, args, fe.Args); err != nil {
		return nil, err
	}
	return &parser.Call{Func: f, Args: args}, nil
}

// mqlCheckArgs checks the number and types of a call's arguments.
func mqlCheckArgs(f *parser.Function, args []parser.Expr, src []metricsql.Expr) error {
	n := len(f.ArgTypes)
	switch {
	case f.Variadic == 0 && len(args) != n:
		return mqlUnsupported("%s() with %d argument(s) (it takes %d)", f.Name, len(args), n)
	case f.Variadic != 0 && len(args) < n-1:
		return mqlUnsupported("%s() with %d argument(s) (it takes at least %d)", f.Name, len(args), n-1)
	case f.Variadic > 0 && len(args) > n-1+f.Variadic:
		return mqlUnsupported("%s() with %d argument(s) (it takes at most %d)", f.Name, len(args), n-1+f.Variadic)
	}
	for i, a := range args {
		want := f.ArgTypes[min(i, n-1)]
		got := a.Type()
		if got == want {
			continue
		}
		if want == parser.ValueTypeMatrix && got == parser.ValueTypeVector {
			if mqlIsSelector(src[i]) {
				return mqlUnsupported("%s() without a lookbehind window [d]", f.Name)
			}
			return mqlUnsupported("%s() over an expression without a subquery (write (expr)[d:step])", f.Name)
		}
		return mqlUnsupported("%s() with a %s as argument %d (it takes a %s)", f.Name,
			parser.DocumentedType(got), i+1, parser.DocumentedType(want))
	}
	return nil
}

// mqlIsSelector reports a selector, possibly with offset or @ but no
// window: what VictoriaMetrics gives an implicit window.
func mqlIsSelector(e metricsql.Expr) bool {
	switch e := e.(type) {
	case *metricsql.MetricExpr:
		return true
	case *metricsql.RollupExpr:
		_, ok := e.Expr.(*metricsql.MetricExpr)
		return ok && e.Window == nil
	}
	return false
}

// union lowers union(q1, ..., qN) and (q1, ..., qN); numbers are series
// without labels, as in VictoriaMetrics.
func (l *mqlLowerer) union(fe *metricsql.FuncExpr) (parser.Expr, error) {
	args, err := l.args(fe.Args)
	if err != nil {
		return nil, err
	}
	vectors := 0
	for i, a := range args {
		switch a.Type() {
		case parser.ValueTypeVector:
			vectors++
		case parser.ValueTypeScalar:
			args[i] = &parser.Call{Func: l.funcs["vector"], Args: []parser.Expr{a}}
		default:
			return nil, mqlUnsupported("union() of a %s", parser.DocumentedType(a.Type()))
		}
	}
	if vectors == 0 {
		return nil, mqlUnsupported("a list of numbers (%s)", fe.AppendString(nil))
	}
	return &parser.Call{Func: l.funcs["union"], Args: args}, nil
}

// increasePure lowers increase_pure(x[d]), whose windows need the sample
// before them.
func (l *mqlLowerer) increasePure(fe *metricsql.FuncExpr) (parser.Expr, error) {
	args, err := l.args(fe.Args)
	if err != nil {
		return nil, err
	}
	if err := mqlCheckArgs(mqlIncreasePure, args, fe.Args); err != nil {
		return nil, err
	}
	return &metricsqlRollup{Func: mqlIncreasePure, Arg: args[0]}, nil
}

// mqlAggregations maps MetricsQL's aggregate functions that PromQL has.
var mqlAggregations = map[string]parser.ItemType{
	"sum": parser.SUM, "avg": parser.AVG, "min": parser.MIN, "max": parser.MAX,
	"count": parser.COUNT, "group": parser.GROUP, "stddev": parser.STDDEV,
	"stdvar": parser.STDVAR, "topk": parser.TOPK, "bottomk": parser.BOTTOMK,
	"quantile": parser.QUANTILE, "count_values": parser.COUNT_VALUES,
	"limitk": parser.LIMITK,
}

// aggregate lowers an aggregate function.
func (l *mqlLowerer) aggregate(ae *metricsql.AggrFuncExpr) (parser.Expr, error) {
	if ae.Limit > 0 {
		return nil, mqlUnsupported("the limit clause of %s()", ae.Name)
	}
	for _, a := range ae.Modifier.Args {
		if a == "*" {
			return nil, mqlUnsupported("%s by (*)", ae.Name)
		}
	}
	without := ae.Modifier.Op == "without"
	grouping := slices.Clone(ae.Modifier.Args)
	args, err := l.args(ae.Args)
	if err != nil {
		return nil, err
	}
	op, isProm := mqlAggregations[ae.Name]
	var paramType parser.ValueType
	switch {
	case ae.Name == "median":
		op, isProm = parser.QUANTILE, true
		args = append([]parser.Expr{&parser.NumberLiteral{Val: 0.5}}, args...)
		paramType = parser.ValueTypeScalar
	case isProm && op.IsAggregatorWithParam():
		paramType = parser.ValueTypeScalar
		if op == parser.COUNT_VALUES {
			paramType = parser.ValueTypeString
		}
	case ae.Name == "outliers_mad" || ae.Name == "outliersk":
		paramType = parser.ValueTypeScalar
	case !isProm && ae.Name != "sum2" && ae.Name != "geomean" && ae.Name != "zscore":
		return nil, mqlUnsupported("the aggregate function %s()", ae.Name)
	}
	want := 1
	if paramType != "" {
		want = 2
	}
	if len(args) != want {
		if want == 1 && len(args) > 1 {
			return nil, mqlUnsupported("%s() over several arguments", ae.Name)
		}
		return nil, mqlUnsupported("%s() with %d argument(s) (it takes %d)", ae.Name, len(args), want)
	}
	var param parser.Expr
	if want == 2 {
		param = args[0]
		if param.Type() != paramType {
			return nil, mqlUnsupported("%s() with a %s as parameter (it takes a %s)", ae.Name,
				parser.DocumentedType(param.Type()), parser.DocumentedType(paramType))
		}
	}
	expr := args[want-1]
	if expr.Type() != parser.ValueTypeVector {
		return nil, mqlUnsupported("%s() over a %s", ae.Name, parser.DocumentedType(expr.Type()))
	}
	if isProm {
		return &parser.AggregateExpr{Op: op, Expr: expr, Param: param, Grouping: grouping, Without: without}, nil
	}
	return &metricsqlAggregate{Op: ae.Name, Param: param, Expr: expr, Grouping: grouping, Without: without}, nil
}

// mqlBinaryOps maps MetricsQL's binary operators that PromQL has.
var mqlBinaryOps = map[string]parser.ItemType{
	"+": parser.ADD, "-": parser.SUB, "*": parser.MUL, "/": parser.DIV,
	"%": parser.MOD, "^": parser.POW, "atan2": parser.ATAN2,
	"==": parser.EQLC, "!=": parser.NEQ, ">": parser.GTR, "<": parser.LSS,
	">=": parser.GTE, "<=": parser.LTE,
	"and": parser.LAND, "or": parser.LOR, "unless": parser.LUNLESS,
}

// binary lowers a binary operation.
func (l *mqlLowerer) binary(be *metricsql.BinaryOpExpr) (parser.Expr, error) {
	if be.JoinModifierPrefix != nil {
		return nil, mqlUnsupported("%s(...) prefix", be.JoinModifier.Op)
	}
	if slices.Contains(be.JoinModifier.Args, "*") {
		return nil, mqlUnsupported("%s(*)", be.JoinModifier.Op)
	}
	if (be.Op == "==" || be.Op == "!=") && (mqlIsUnion(be.Left) || mqlIsUnion(be.Right)) {
		return nil, mqlUnsupported("comparing with a list (q %s (C1, ..., CN))", be.Op)
	}
	lhs, err := l.expr(be.Left)
	if err != nil {
		return nil, err
	}
	rhs, err := l.expr(be.Right)
	if err != nil {
		return nil, err
	}
	lt, rt := lhs.Type(), rhs.Type()
	for _, t := range []parser.ValueType{lt, rt} {
		if t != parser.ValueTypeScalar && t != parser.ValueTypeVector {
			return nil, mqlUnsupported("the operator %s on a %s", be.Op, parser.DocumentedType(t))
		}
	}
	bothVectors := lt == parser.ValueTypeVector && rt == parser.ValueTypeVector
	if !bothVectors && (be.GroupModifier.Op != "" || be.JoinModifier.Op != "" || be.FillLeft != nil || be.FillRight != nil) {
		return nil, mqlUnsupported("vector matching modifiers on an operation with a scalar (%s)", be.AppendString(nil))
	}
	switch be.Op {
	case "default", "if", "ifnot":
		if be.JoinModifier.Op != "" || be.FillLeft != nil || be.FillRight != nil {
			return nil, mqlUnsupported("%s with group_left, group_right or fill modifiers", be.Op)
		}
		return &metricsqlCondOp{
			Op: be.Op, LHS: lhs, RHS: rhs, On: be.GroupModifier.Op == "on",
			Matching: slices.Clone(be.GroupModifier.Args), KeepNames: be.KeepMetricNames,
		}, nil
	}
	op, ok := mqlBinaryOps[be.Op]
	if !ok {
		return nil, mqlUnsupported("the operator %s", be.Op)
	}
	if op.IsSetOperator() && !bothVectors {
		return nil, mqlUnsupported("%s with a scalar operand", be.Op)
	}
	if op.IsComparisonOperator() && !be.Bool && lt == parser.ValueTypeScalar && rt == parser.ValueTypeScalar {
		return nil, mqlUnsupported("comparing two scalars without bool")
	}
	out := &parser.BinaryExpr{Op: op, LHS: lhs, RHS: rhs, ReturnBool: be.Bool}
	if bothVectors {
		vm := &parser.VectorMatching{Card: parser.CardOneToOne}
		if op.IsSetOperator() {
			vm.Card = parser.CardManyToMany
		}
		switch be.GroupModifier.Op {
		case "on":
			vm.On = true
			vm.MatchingLabels = slices.Clone(be.GroupModifier.Args)
		case "ignoring":
			vm.MatchingLabels = slices.Clone(be.GroupModifier.Args)
		}
		switch be.JoinModifier.Op {
		case "group_left":
			vm.Card = parser.CardManyToOne
			vm.Include = slices.Clone(be.JoinModifier.Args)
		case "group_right":
			vm.Card = parser.CardOneToMany
			vm.Include = slices.Clone(be.JoinModifier.Args)
		}
		if vm.On {
			for _, name := range vm.Include {
				if slices.Contains(vm.MatchingLabels, name) {
					return nil, fmt.Errorf("MetricsQL: label %q must not occur in ON and GROUP clause at once", name)
				}
			}
		}
		if be.FillLeft != nil {
			v := be.FillLeft.N
			vm.FillValues.LHS = &v
		}
		if be.FillRight != nil {
			v := be.FillRight.N
			vm.FillValues.RHS = &v
		}
		out.VectorMatching = vm
	}
	if !be.KeepMetricNames || (op.IsComparisonOperator() && !be.Bool) {
		return out, nil
	}
	if bothVectors {
		return nil, mqlUnsupported("keep_metric_names on an operation between two vectors")
	}
	return &metricsqlKeepNames{Expr: out}, nil
}

// mqlIsUnion reports union(...) or (q1, ..., qN).
func mqlIsUnion(e metricsql.Expr) bool {
	fe, ok := e.(*metricsql.FuncExpr)
	return ok && (fe.Name == "" || strings.EqualFold(fe.Name, "union"))
}
