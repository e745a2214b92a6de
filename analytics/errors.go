package analytics

import "errors"

// Errors are grouped by what the caller did. Each is returned wrapped with
// detail (counts, names, values); match them with errors.Is.
var (
	// ErrTooFewSamples is returned when, after dropping NaN, ±Inf and stale
	// markers, the input holds fewer usable samples than the method needs:
	// an empty or all-missing series, a single sample where a step must be
	// inferred, fewer than two full cycles for a seasonal method, or fewer
	// than three overlapping pairs for a correlation.
	ErrTooFewSamples = errors.New("analytics: too few samples")

	// ErrInvalidArgument is returned for arguments no data can fix: slices of
	// different lengths, timestamps out of order, a negative step, a
	// prediction level outside (0, 1), a non-positive horizon, a negative k
	// or lag bound, or a grid of more than 4Mi points (few samples far
	// apart, or a tiny step over a long range).
	ErrInvalidArgument = errors.New("analytics: invalid argument")

	// ErrUnknownMethod is returned when a method name is not one of the
	// documented constants.
	ErrUnknownMethod = errors.New("analytics: unknown method")

	// ErrNotPositive is returned by multiplicative Holt-Winters when the
	// series has a value <= 0, for which multiplicative seasonality is not
	// defined.
	ErrNotPositive = errors.New("analytics: multiplicative model needs positive values")
)

// ErrNoSeasonality is returned when a seasonal forecast method
// (holt_winters, seasonal_naive) is asked for explicitly but no period was
// given and DetectPeriod finds none.
var ErrNoSeasonality = errors.New("analytics: no seasonality detected")
