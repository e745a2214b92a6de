package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/almanacdb/almanac"
)

// TestBearerToken: with a token configured, requests without it (or with
// another) get 401, health checks stay open, and the right token passes.
func TestBearerToken(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{BearerToken: "s3cret"})
	get := func(path, auth string) int {
		t.Helper()
		req, err := http.NewRequest("GET", e.hs.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, _ := e.do(req)
		return resp.StatusCode
	}
	for _, c := range []struct {
		path, auth string
		want       int
	}{
		{"/api/v1/labels", "", http.StatusUnauthorized},
		{"/api/v1/labels", "Bearer wrong", http.StatusUnauthorized},
		{"/api/v1/labels", "Basic czNjcmV0", http.StatusUnauthorized},
		{"/metrics", "", http.StatusUnauthorized},
		{"/api/v1/labels", "Bearer s3cret", http.StatusOK},
		{"/-/healthy", "", http.StatusOK},
		{"/-/ready", "", http.StatusOK},
	} {
		if got := get(c.path, c.auth); got != c.want {
			t.Errorf("%s with %q: %d, want %d", c.path, c.auth, got, c.want)
		}
	}
}

// TestQuerySlots: when every query slot stays busy, a query waits at most
// QueryTimeout and then fails with 503 "timeout"; freed, queries run again.
func TestQuerySlots(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{MaxConcurrentQueries: 1, QueryTimeout: 200 * time.Millisecond})
	e.srv.queries <- struct{}{} // a query that does not finish
	code, body := e.postForm("/api/v1/query", url.Values{"query": {"1+1"}})
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"errorType":"timeout"`) || !strings.Contains(body, "query timed out waiting for one of 1 query slots") {
		t.Fatalf("busy: %d %s", code, body)
	}
	<-e.srv.queries
	if code, body := e.postForm("/api/v1/query", url.Values{"query": {"1+1"}}); code != http.StatusOK {
		t.Fatalf("free: %d %s", code, body)
	}
}
