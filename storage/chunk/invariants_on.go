//go:build invariants || race

package chunk

// invariants turns on expensive self-checks: Append decodes every chunk it
// writes and panics unless the chunk holds exactly its input.
const invariants = true
