package server

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
)

func TestHealthReadyAndStatus(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{Version: "1.2.3"})
	if code, body := e.get("/-/healthy", nil); code != 200 || body != "almanac is Healthy.\n" {
		t.Fatalf("healthy: %d %q", code, body)
	}
	e.mustReady()
	e.srv.SetReady(false)
	if code, _ := e.get("/-/ready", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("ready while draining: %d, want 503", code)
	}
	e.srv.SetReady(true)

	r := e.api("/api/v1/status/buildinfo", nil, 200)
	var bi map[string]string
	if err := json.Unmarshal(r.Data, &bi); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "revision", "branch", "buildUser", "buildDate", "goVersion"} {
		if _, ok := bi[k]; !ok {
			t.Fatalf("buildinfo lacks %q: %v", k, bi)
		}
	}
	if bi["version"] != "1.2.3" || !strings.HasPrefix(bi["goVersion"], "go") {
		t.Fatalf("buildinfo %v", bi)
	}
	if code, body := e.get("/api/v1/metadata", nil); code != 200 || body != `{"status":"success","data":{}}` {
		t.Fatalf("metadata: %d %s", code, body)
	}
	if code, body := e.get("/api/v1/query_exemplars", url.Values{"query": {"up"}}); code != 200 || body != `{"status":"success","data":[]}` {
		t.Fatalf("exemplars: %d %s", code, body)
	}
	if code, _ := e.get("/api/v1/nothing", nil); code != http.StatusNotFound {
		t.Fatalf("unknown path: %d, want 404", code)
	}
	req, _ := http.NewRequest("DELETE", e.hs.URL+"/api/v1/query", nil)
	if resp, _ := e.do(req); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("DELETE query: %d, want 405", resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", e.hs.URL+"/api/v1/write", nil)
	if resp, _ := e.do(req); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET write: %d, want 405", resp.StatusCode)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})
	e.writeV1(series{labels.FromStrings("__name__", "up"), scrapes(time.Now().UnixMilli(), 3, 1, 0)})
	e.writeV1(series{labels.FromStrings("__name__", "up", "bad", "\xff"), scrapes(time.Now().UnixMilli(), 2, 1, 0)})
	e.api("/api/v1/query", url.Values{"query": {"up"}}, 200)
	e.get("/api/v1/nothing", nil)
	code, body := e.get("/metrics", nil)
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`almanac_http_requests_total{code="204",handler="/api/v1/write"} 1`,
		`almanac_http_requests_total{code="400",handler="/api/v1/write"} 1`,
		`almanac_http_requests_total{code="200",handler="/api/v1/query"} 1`,
		`almanac_http_requests_total{code="404",handler="other"} 1`,
		`almanac_http_request_duration_seconds_count{handler="/api/v1/query"} 1`,
		`almanac_remote_write_samples_stored_total 3`,
		`almanac_remote_write_samples_dropped_total{reason="invalid_labels"} 2`,
		`almanac_storage_samples_appended_total 3`, // the storage's metrics, same registry
		"go_goroutines ",
		"process_cpu_seconds_total ",
		"prometheus_engine_queries ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// A second server on the same registry shares the metrics instead of
	// panicking on their registration.
	New(e.db, Config{Registry: e.reg})
}

func TestGzip(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})
	var in []series
	for i := range 200 {
		in = append(in, series{labels.FromStrings("__name__", "many", "i", strconv.Itoa(i)), scrapes(time.Now().UnixMilli(), 1, 1, 0)})
	}
	e.writeV1(in...)
	req, _ := http.NewRequest("GET", e.hs.URL+"/api/v1/series?match[]=many", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var r apiResponse
	var sets []map[string]string
	if err := json.Unmarshal(b, &r); err != nil || json.Unmarshal(r.Data, &sets) != nil || len(sets) != 200 {
		t.Fatalf("gzipped series: %v, %d series", err, len(sets))
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{MaxRequestBytes: 1024})
	code, body := e.postForm("/api/v1/query", url.Values{"query": {strings.Repeat("1+", 1000) + "1"}})
	if code != 400 || !strings.Contains(body, "request body too large") {
		t.Fatalf("large form: %d %s", code, body)
	}
	var in []series
	for i := range 100 {
		in = append(in, series{labels.FromStrings("__name__", "x", "pad", strings.Repeat("p", 50), "i", strconv.Itoa(i)), scrapes(time.Now().UnixMilli(), 1, float64(i), 0)})
	}
	if resp, body := e.writeV1(in...); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("large write: %d %s", resp.StatusCode, body)
	}
	e.mustReady()
}

func TestPanicRecovered(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})
	h := e.srv.instrument(e.srv.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	})))
	hs := httptest.NewServer(h)
	defer hs.Close()
	resp, err := hs.Client().Get(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || string(body) != `{"status":"error","errorType":"internal","error":"internal error: boom"}` {
		t.Fatalf("panic: %d %s", resp.StatusCode, body)
	}
	e.mustReady()
}

// TestConcurrentWritesAndReads: writers and readers on loopback at once
// for a bounded time; afterwards every acknowledged sample is queryable.
func TestConcurrentWritesAndReads(t *testing.T) {
	e := newEnv(t, almanac.Options{}, Config{})
	const writers, seriesPerWriter = 3, 20
	base := time.Now().Add(-30 * time.Minute).UnixMilli()
	deadline := time.Now().Add(2 * time.Second)
	acked := make([]int, writers) // batches acknowledged per writer
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := 0; b < 1000 && time.Now().Before(deadline); b++ {
				var in []series
				for s := range seriesPerWriter {
					in = append(in, series{
						labels.FromStrings("__name__", "conc", "writer", strconv.Itoa(w), "s", strconv.Itoa(s)),
						[]almanac.Sample{{T: base + int64(b)*1000, V: float64(b)}},
					})
				}
				write := e.writeV1
				if w%2 == 1 {
					write = e.writeV2
				}
				resp, body := write(in...)
				if resp.StatusCode != 204 {
					t.Errorf("writer %d batch %d: %d %s", w, b, resp.StatusCode, body)
					return
				}
				acked[w] = b + 1
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				code, body := e.get("/api/v1/query", url.Values{"query": {`sum by (writer) (count_over_time(conc[1h]))`}})
				if code != 200 {
					t.Errorf("query during writes: %d %s", code, body)
					return
				}
				if code, body := e.get("/api/v1/series", url.Values{"match[]": {`conc`}}); code != 200 {
					t.Errorf("series during writes: %d %s", code, body)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("batches acknowledged per writer: %v", acked)
	r := e.api("/api/v1/query", url.Values{"query": {`count_over_time(conc[1h])`}}, 200)
	var vec []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	mustData(t, r, "vector", &vec)
	if len(vec) != writers*seriesPerWriter {
		t.Fatalf("%d series queryable, want %d", len(vec), writers*seriesPerWriter)
	}
	for _, v := range vec {
		w, _ := strconv.Atoi(v.Metric["writer"])
		if v.Value[1] != strconv.Itoa(acked[w]) {
			t.Fatalf("%v: %v samples queryable, %d acknowledged", v.Metric, v.Value[1], acked[w])
		}
	}
	got := e.stored(eq("__name__", "conc"))
	for k, samples := range got {
		var w int
		fmt.Sscanf(k[strings.Index(k, `writer="`)+8:], "%d", &w)
		for i, s := range samples {
			if s.T != base+int64(i)*1000 || s.V != float64(i) || math.IsNaN(s.V) {
				t.Fatalf("%s sample %d: %+v", k, i, s)
			}
		}
		if len(samples) != acked[w] {
			t.Fatalf("%s: %d samples stored, %d acknowledged", k, len(samples), acked[w])
		}
	}
}
