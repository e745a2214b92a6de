package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/almanacdb/almanac"
)

// TestLoadWritersAndReaders is a bounded load test on loopback: writers
// send remote-write requests of their own series and timestamps while
// readers run range queries, series, label names and label values
// requests. It is bounded by size, not time, so it does the same work on
// any machine (about a second under -race on 2 cores).
//
// It checks that every reader request answers 200 with a success envelope,
// that a series acknowledged before a reader's request started is listed
// by it (read your writes), and afterwards that every acknowledged sample
// is stored with its exact value bits.
func TestLoadWritersAndReaders(t *testing.T) {
	const (
		writers         = 4
		requests        = 24 // per writer
		seriesPerWriter = 200
		seriesPerReq    = 50 // request r writes block r%4 of its writer's series
		samplesPerReq   = 3  // per series
		readers         = 3
		minReads        = 10 // per reader, even if the writers finish first
	)
	const blocks = seriesPerWriter / seriesPerReq
	e := newEnv(t, almanac.Options{}, Config{})
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Minute).UnixMilli()

	// Requests are encoded up front, on the test goroutine: what the writers
	// send, and the samples each one carries.
	type request struct {
		body    []byte
		series  []series
		samples int
	}
	lsets := make([][]labels.Labels, writers)
	reqs := make([][]request, writers)
	for w := range writers {
		for s := range seriesPerWriter {
			lsets[w] = append(lsets[w], labels.FromStrings(
				"__name__", "load_test_total", "writer", strconv.Itoa(w), "idx", strconv.Itoa(s),
				"instance", fmt.Sprintf("10.0.%d.%d:9100", w, s), "job", "load"))
		}
		for r := range requests {
			block, round := r%blocks, r/blocks
			var in []series
			for s := block * seriesPerReq; s < (block+1)*seriesPerReq; s++ {
				smp := make([]almanac.Sample, samplesPerReq)
				for k := range smp {
					i := round*samplesPerReq + k
					// Distinct values with fractional bits, and one NaN
					// payload per series so bits, not ==, are compared.
					v := float64(w*1_000_000+s*1_000+i) + 0.125
					if i == 1 {
						v = math.Float64frombits(0x7ff8000000000000 | uint64(w*seriesPerWriter+s+1))
					}
					smp[k] = almanac.Sample{T: base + int64(i)*15_000 + int64(w), V: v}
				}
				in = append(in, series{lsets[w][s], smp})
			}
			reqs[w] = append(reqs[w], request{body: encodeV1(t, in), series: in, samples: len(in) * samplesPerReq})
		}
	}

	client := e.hs.Client()
	// send posts one remote-write body; safe to call from any goroutine.
	send := func(body []byte) (int, string, error) {
		req, err := http.NewRequest("POST", e.hs.URL+"/api/v1/write", bytes.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		req.Header.Set("Content-Type", contentTypeV1)
		req.Header.Set("Content-Encoding", "snappy")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
		return doRequest(client, req)
	}

	var (
		seriesAcked atomic.Int64 // series whose first request was acknowledged
		samplesSent atomic.Int64
		writing     sync.WaitGroup
		reading     sync.WaitGroup
		writersDone = make(chan struct{})
		acked       = make([][]bool, writers) // [w][r]; each writer writes its own row
	)
	for w := range writers {
		acked[w] = make([]bool, requests)
		writing.Go(func() {
			for r, rq := range reqs[w] {
				code, body, err := send(rq.body)
				if err != nil || code != http.StatusNoContent {
					t.Errorf("writer %d request %d: status %d, err %v, body %q", w, r, code, err, body)
					return
				}
				acked[w][r] = true
				samplesSent.Add(int64(rq.samples))
				if r < blocks {
					seriesAcked.Add(seriesPerReq)
				}
			}
		})
	}

	var reads, readsDuringWrites atomic.Int64
	end := formatTime(base + int64(requests/blocks*samplesPerReq)*15_000)
	for rd := range readers {
		reading.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-writersDone:
					if i >= minReads {
						return
					}
				default:
				}
				before := seriesAcked.Load()
				w := strconv.Itoa((rd + i) % writers)
				var path string
				var params url.Values
				switch i % 4 {
				case 0:
					path, params = "/api/v1/query_range", url.Values{
						"query": {`sum by (writer) (rate(load_test_total[1m]))`},
						"start": {formatTime(base)}, "end": {end}, "step": {"15s"}}
				case 1:
					path, params = "/api/v1/series", url.Values{"match[]": {`{__name__="load_test_total"}`}}
				case 2:
					path, params = "/api/v1/labels", url.Values{"match[]": {`load_test_total{writer="` + w + `"}`}}
				case 3:
					path, params = "/api/v1/label/idx/values", url.Values{"match[]": {`load_test_total{writer="` + w + `"}`}}
				}
				req, err := http.NewRequest("GET", e.hs.URL+path+"?"+params.Encode(), nil)
				if err != nil {
					t.Error(err)
					return
				}
				code, body, err := doRequest(client, req)
				reads.Add(1)
				select {
				case <-writersDone:
				default:
					readsDuringWrites.Add(1)
				}
				if err != nil || code != http.StatusOK {
					t.Errorf("reader %d: GET %s: status %d, err %v, body %.300s", rd, path, code, err, body)
					return
				}
				var r apiResponse
				if err := json.Unmarshal([]byte(body), &r); err != nil || r.Status != "success" {
					t.Errorf("reader %d: GET %s: envelope %.300s (%v)", rd, path, body, err)
					return
				}
				if path == "/api/v1/series" {
					var sets []map[string]string
					if err := json.Unmarshal(r.Data, &sets); err != nil {
						t.Errorf("reader %d: series: %v", rd, err)
						return
					}
					if int64(len(sets)) < before {
						t.Errorf("reader %d: series lists %d series, but %d were acknowledged before the request", rd, len(sets), before)
						return
					}
				}
			}
		})
	}
	writing.Wait()
	close(writersDone)
	reading.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d writers stored %d samples; %d readers made %d requests, %d of them answered while writes ran",
		writers, samplesSent.Load(), readers, reads.Load(), readsDuringWrites.Load())

	// Every acknowledged sample is stored, bit for bit, and nothing else.
	want := map[string][]almanac.Sample{}
	for w := range writers {
		for r, rq := range reqs[w] {
			if !acked[w][r] {
				continue
			}
			for _, s := range rq.series {
				want[s.lset.String()] = append(want[s.lset.String()], s.samples...)
			}
		}
	}
	got := e.stored(eq("__name__", "load_test_total"))
	if len(got) != len(want) {
		t.Fatalf("stored %d series, want %d", len(got), len(want))
	}
	sameBits := func(a, b almanac.Sample) bool {
		return a.T == b.T && a.ST == b.ST && math.Float64bits(a.V) == math.Float64bits(b.V)
	}
	for name, ws := range want {
		slices.SortFunc(ws, func(a, b almanac.Sample) int { return int(a.T - b.T) })
		if gs := got[name]; !slices.EqualFunc(gs, ws, sameBits) {
			t.Fatalf("%s: stored %v, want %v", name, gs, ws)
		}
	}
}

// doRequest sends req and reads the whole answer. Unlike env.do it does not
// fail the test, so goroutines other than the test's may call it.
func doRequest(client *http.Client, req *http.Request) (int, string, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
