package server

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
)

// TestWritesThrottled fills every write slot and checks that one more
// remote-write request is answered 429 with Retry-After after WriteWait,
// stores nothing, and that writes pass again once a slot is free.
func TestWritesThrottled(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{MaxConcurrentWrites: 2, WriteWait: 50 * time.Millisecond})
	e.srv.writes <- struct{}{}
	e.srv.writes <- struct{}{}
	now := time.Now().UnixMilli()
	s := series{lset: labels.FromStrings("__name__", "throttled"), samples: []almanac.Sample{{T: now, V: 1}}}
	resp, body := e.writeV1(s)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("busy: %d %q Retry-After=%q; want 429 with Retry-After", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	if got := e.stored(eq("__name__", "throttled")); len(got) != 0 {
		t.Fatalf("a throttled request stored %v", got)
	}
	<-e.srv.writes
	if resp, body := e.writeV1(s); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("after a slot freed: %d %s", resp.StatusCode, body)
	}
	if got := e.stored(eq("__name__", "throttled")); len(got) != 1 {
		t.Fatalf("stored %v, want the sample", got)
	}
	e.mustReady()
}
