package storage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// Errors returned by Append. A batch that returns any of them stored nothing.
var (
	// ErrInvalidLabels is returned for an empty label set, an empty label
	// name, a name or value that is not valid UTF-8, or a name given twice.
	ErrInvalidLabels = errors.New("invalid labels")
	// ErrLabelLimit is returned when a label set has more labels, or a name or
	// value more bytes, than Options allow.
	ErrLabelLimit = errors.New("label limit exceeded")
	// ErrOutOfRetention is returned for a sample older than the retention period.
	ErrOutOfRetention = errors.New("sample is older than the retention period")
	// ErrTooFarInFuture is returned for a sample further ahead of the clock
	// than Options.MaxFutureSkew.
	ErrTooFarInFuture = errors.New("sample is too far in the future")
	// ErrTooOldSample is returned for an out-of-order sample older than its
	// series' newest sample by more than Options.OutOfOrderWindow.
	ErrTooOldSample = errors.New("sample is too old for the out-of-order window")
	// ErrDuplicateSample is returned for a sample whose timestamp already
	// holds a different value (bit for bit) in its series. An exact duplicate
	// is not an error: it is dropped.
	ErrDuplicateSample = errors.New("duplicate sample for timestamp with a different value")
)

// Errors returned by any method.
var (
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("database is closed")
	// ErrCorruption is returned when stored data cannot be decoded. It is
	// always surfaced, never skipped.
	ErrCorruption = errors.New("corruption")
	// ErrFailed is returned after a write to pebble failed: the in-memory
	// state may be ahead of the disk, so the database refuses further writes
	// until it is reopened (which recovers every acknowledged sample).
	ErrFailed = errors.New("database failed a write and must be reopened")
)

// SampleError reports one rejected sample or series: which series, which
// timestamp, and why. errors.Is matches its Reason sentinel.
type SampleError struct {
	Labels  labels.Labels
	T       int64 // the sample's timestamp; unset for label errors
	HasT    bool
	Reason  error  // one of the sentinels above
	Detail  string // extra detail, e.g. the offending label name
	Samples int    // samples refused for this problem (all of a series' for a label problem)
}

func (e *SampleError) Error() string {
	var b strings.Builder
	b.WriteString("series ")
	b.WriteString(e.Labels.String())
	if e.HasT {
		fmt.Fprintf(&b, " at t=%d", e.T)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason.Error())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Is reports whether target is e's reason.
func (e *SampleError) Is(target error) bool { return target == e.Reason }

func (e *SampleError) Unwrap() error { return e.Reason }

// BatchError is returned by Append when it rejected a batch, and by
// AppendValid to report what it refused: it lists the first few problems
// and counts the rest. errors.Is matches any listed reason.
type BatchError struct {
	Errors   []*SampleError
	Omitted  int // problems found but not listed
	Rejected int // samples refused, listed or not
	// Accepted is how many samples AppendValid stored besides (0 for Append,
	// which stores nothing of a batch it refuses).
	Accepted int
	// ByReason counts refused samples by reason sentinel, listed or not.
	ByReason map[error]int
}

// maxListedErrors bounds how many problems a BatchError keeps.
const maxListedErrors = 10

func (e *BatchError) add(se *SampleError) {
	e.Rejected += se.Samples
	if e.ByReason == nil {
		e.ByReason = map[error]int{}
	}
	e.ByReason[se.Reason] += se.Samples
	if len(e.Errors) < maxListedErrors {
		e.Errors = append(e.Errors, se)
		return
	}
	e.Omitted++
}

func (e *BatchError) Error() string {
	var b strings.Builder
	if e.Accepted > 0 {
		fmt.Fprintf(&b, "%d samples refused, %d stored: ", e.Rejected, e.Accepted)
	} else {
		b.WriteString("batch rejected, nothing stored: ")
	}
	for i, se := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(se.Error())
	}
	if e.Omitted > 0 {
		fmt.Fprintf(&b, "; and %d more", e.Omitted)
	}
	return b.String()
}

// Unwrap exposes the listed errors to errors.Is and errors.As.
func (e *BatchError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, se := range e.Errors {
		errs[i] = se
	}
	return errs
}
