package chunk

import "errors"

// Errors are grouped by when they occur. Both are wrapped with detail
// (index and values for bad input, byte offset for corruption); match them
// with errors.Is.
var (
	// ErrInvalidInput is returned by Append when its arguments break its
	// preconditions: no samples, more than MaxSamples, columns of different
	// lengths, or timestamps that do not strictly increase. Nothing is
	// appended.
	ErrInvalidInput = errors.New("chunk: invalid input")

	// ErrCorrupt is returned by Decode and ReadInfo when src is not a chunk
	// this version wrote: an unknown version or flag, a count outside
	// [1, MaxSamples], a truncated column, a field out of range, trailing
	// bytes, or decoded timestamps that do not strictly increase from the
	// header's mint to its maxt.
	ErrCorrupt = errors.New("chunk: corrupt")
)
