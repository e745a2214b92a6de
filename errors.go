package almanac

import "github.com/almanacdb/almanac/storage"

// Errors returned by DB.Append. errors.Is matches them inside the
// *BatchError that Append returns; a batch that returns one stored nothing.
var (
	// ErrInvalidLabels: an empty label set, an empty label name, a name or
	// value that is not valid UTF-8, or a name given twice.
	ErrInvalidLabels = storage.ErrInvalidLabels
	// ErrLabelLimit: more labels, or longer names or values, than Options allow.
	ErrLabelLimit = storage.ErrLabelLimit
	// ErrOutOfRetention: a sample older than the retention period.
	ErrOutOfRetention = storage.ErrOutOfRetention
	// ErrTooFarInFuture: a sample further ahead of the clock than
	// Options.MaxFutureSkew.
	ErrTooFarInFuture = storage.ErrTooFarInFuture
	// ErrTooOldSample: an out-of-order sample older than its series' newest
	// sample by more than Options.OutOfOrderWindow.
	ErrTooOldSample = storage.ErrTooOldSample
	// ErrDuplicateSample: a timestamp already stored with a different value.
	// (The same value again is an exact duplicate and is silently dropped.)
	ErrDuplicateSample = storage.ErrDuplicateSample
)

// Errors returned by any method.
var (
	// ErrClosed is returned after Close.
	ErrClosed = storage.ErrClosed
	// ErrCorruption is returned when stored data cannot be decoded.
	ErrCorruption = storage.ErrCorruption
	// ErrFailed is returned after a disk write failed; reopen the DB.
	ErrFailed = storage.ErrFailed
	// ErrNativeHistograms is returned when a native histogram sample is
	// appended through the Prometheus adapters: almanac stores floats.
	ErrNativeHistograms = errNativeHistograms
)

// SampleError describes one rejected sample or series; errors.Is matches its
// reason (one of the errors above).
type SampleError = storage.SampleError

// BatchError is what Append returns for a rejected batch: the first problems
// found, each a *SampleError, and a count of the rest.
type BatchError = storage.BatchError
