package storage

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests: Close must stop
// the background loop and every decoder a SeriesSet started.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
