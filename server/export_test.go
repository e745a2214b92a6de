package server

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/almanacdb/almanac"
)

const exportBase = int64(1735689600000) // 2025-01-01T00:00:00Z

// exportData is written by remote write before each export test: NaN,
// ±Inf, a staleness marker, tiny and huge values, and label values that
// need JSON and CSV escaping.
func exportData() []series {
	var ss []series
	add := func(lset labels.Labels, vs ...float64) {
		s := series{lset: lset}
		for i, v := range vs {
			s.samples = append(s.samples, almanac.Sample{T: exportBase + int64(i)*15000, V: v})
		}
		ss = append(ss, s)
	}
	add(labels.FromStrings("__name__", "up", "job", "node", "instance", "a"), 1, 1, 0, 1)
	add(labels.FromStrings("__name__", "up", "job", "api", "instance", "b"), 1, 1)
	add(labels.FromStrings("__name__", "node_load1", "instance", "a"), 0.5, math.NaN(), math.Inf(1), math.Inf(-1), 1e-7, 1e22, -3, math.Float64frombits(value.StaleNaN))
	add(labels.FromStrings("__name__", "weird", "path", `/a,"b"`+"\n<&>", "utf8", "żółw"), 42)
	return ss
}

func newExportEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, almanac.Options{Retention: -1, OutOfOrderWindow: -1}, Config{})
	if resp, body := e.writeV1(exportData()...); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %d %s", resp.StatusCode, body)
	}
	return e
}

// exportedSeries is one line of /api/v1/export, read back.
type exportedSeries struct {
	Metric     map[string]string `json:"metric"`
	Values     []exportValue     `json:"values"`
	Timestamps []int64           `json:"timestamps"`
}

// exportValue reads a value as VictoriaMetrics's import does: a number,
// null for NaN, or a string ("Infinity", "-Infinity").
type exportValue float64

func (v *exportValue) UnmarshalJSON(b []byte) error {
	switch s := string(b); {
	case s == "null":
		*v = exportValue(math.NaN())
	case strings.HasPrefix(s, `"`):
		u, err := strconv.Unquote(s)
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(u, 64)
		if err != nil {
			return err
		}
		*v = exportValue(f)
	default:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		*v = exportValue(f)
	}
	return nil
}

// parseExport reads JSON lines strictly: one object per line, each line
// ending in a newline.
func parseExport(t *testing.T, body string) []exportedSeries {
	t.Helper()
	if body == "" {
		return nil
	}
	if !strings.HasSuffix(body, "\n") {
		t.Fatalf("export does not end in a newline: %q", body)
	}
	var out []exportedSeries
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s exportedSeries
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if len(s.Values) != len(s.Timestamps) {
			t.Fatalf("line %q: %d values, %d timestamps", sc.Text(), len(s.Values), len(s.Timestamps))
		}
		out = append(out, s)
	}
	return out
}

// sameValue is float equality with every NaN equal: the format has one NaN.
func sameValue(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

// checkExport compares an export with what the database stores for the
// series matching ms in [mint, maxt].
func checkExport(t *testing.T, e *env, got []exportedSeries, mint, maxt int64, ms ...*labels.Matcher) {
	t.Helper()
	ss, err := e.db.Querier(mint, maxt).Select(t.Context(), ms...)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	i := 0
	for ; ss.Next(); i++ {
		want := ss.At()
		if i >= len(got) {
			t.Fatalf("export has %d series; missing %s", len(got), want.Labels)
		}
		if g := labels.FromMap(got[i].Metric); !labels.Equal(g, want.Labels) {
			t.Fatalf("series %d: got %s, want %s", i, g, want.Labels)
		}
		if !slices.Equal(got[i].Timestamps, want.T) {
			t.Fatalf("%s: timestamps %v, want %v", want.Labels, got[i].Timestamps, want.T)
		}
		for j, v := range got[i].Values {
			if !sameValue(float64(v), want.V[j]) {
				t.Fatalf("%s: value %d is %v, want %v", want.Labels, j, float64(v), want.V[j])
			}
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(got) {
		t.Fatalf("export has %d series, want %d", len(got), i)
	}
}

func TestExportJSON(t *testing.T) {
	e := newExportEnv(t)
	all := labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")

	t.Run("all series", func(t *testing.T) {
		code, body := e.get("/api/v1/export", url.Values{"match[]": {`{__name__=~".+"}`}})
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
		got := parseExport(t, body)
		if len(got) != 4 {
			t.Fatalf("got %d series:\n%s", len(got), body)
		}
		checkExport(t, e, got, math.MinInt64, math.MaxInt64, all)
	})

	t.Run("spelling", func(t *testing.T) {
		_, body := e.get("/api/v1/export", url.Values{"match[]": {"node_load1"}})
		// A NaN value is "NaN"; the staleness marker at the end is null.
		want := `{"metric":{"__name__":"node_load1","instance":"a"},"values":[0.5,"NaN","Infinity","-Infinity",1e-07,1e+22,-3,null],` +
			`"timestamps":[1735689600000,1735689615000,1735689630000,1735689645000,1735689660000,1735689675000,1735689690000,1735689705000]}` + "\n"
		if body != want {
			t.Fatalf("got  %s\nwant %s", body, want)
		}
	})

	t.Run("range", func(t *testing.T) {
		// [t1, t2] as float seconds (inclusive) and as RFC 3339.
		for _, p := range []url.Values{
			{"match[]": {`{__name__=~".+"}`}, "start": {"1735689615"}, "end": {"1735689630"}},
			{"match[]": {`{__name__=~".+"}`}, "start": {"2025-01-01T00:00:15Z"}, "end": {"2025-01-01T00:00:30Z"}},
		} {
			code, body := e.get("/api/v1/export", p)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			got := parseExport(t, body)
			checkExport(t, e, got, exportBase+15000, exportBase+30000, all)
			for _, s := range got {
				for _, ts := range s.Timestamps {
					if ts < exportBase+15000 || ts > exportBase+30000 {
						t.Fatalf("%v: sample at %d out of range", s.Metric, ts)
					}
				}
			}
			if len(got) != 3 { // weird has one sample, at exportBase
				t.Fatalf("got %d series, want 3:\n%s", len(got), body)
			}
		}
	})

	t.Run("several match[] overlap", func(t *testing.T) {
		// POST form, as a client with a long selector list would send.
		code, body := e.postForm("/api/v1/export", url.Values{"match[]": {`up{job="node"}`, `{instance="a"}`, "up"}})
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
		got := parseExport(t, body)
		var names []string
		for _, s := range got {
			names = append(names, labels.FromMap(s.Metric).String())
		}
		want := []string{`{__name__="node_load1", instance="a"}`, `{__name__="up", instance="a", job="node"}`, `{__name__="up", instance="b", job="api"}`}
		if !slices.Equal(names, want) {
			t.Fatalf("got %q\nwant %q", names, want)
		}
	})

	t.Run("no match", func(t *testing.T) {
		code, body := e.get("/api/v1/export", url.Values{"match[]": {"nothing_here"}})
		if code != http.StatusOK || body != "" {
			t.Fatalf("status %d, body %q; want 200 and empty", code, body)
		}
	})
}

func TestExportCSV(t *testing.T) {
	e := newExportEnv(t)
	f := func(format, match string, want ...string) {
		t.Helper()
		code, body := e.get("/api/v1/export/csv", url.Values{"format": {format}, "match[]": {match}})
		if code != http.StatusOK {
			t.Fatalf("format %s: status %d: %s", format, code, body)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("format %s: %v\n%s", format, err, body)
		}
		var got []string
		for _, r := range rows {
			got = append(got, strings.Join(r, "|"))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("format %s, match %s:\ngot  %q\nwant %q", format, match, got, want)
		}
	}
	f("__name__,job,__value__,__timestamp__:unix_ms", "up",
		"up|node|1|1735689600000", "up|node|1|1735689615000", "up|node|0|1735689630000", "up|node|1|1735689645000",
		"up|api|1|1735689600000", "up|api|1|1735689615000") // series in label order: instance a before b
	f("instance,__value__,__timestamp__:unix_s", "node_load1",
		"a|0.5|1735689600", "a|NaN|1735689615", "a|+Inf|1735689630", "a|-Inf|1735689645",
		"a|1e-07|1735689660", "a|1e+22|1735689675", "a|-3|1735689690", "a|NaN|1735689705")
	f("path,utf8,missing,__timestamp__:rfc3339,__timestamp__:unix_ns,__timestamp__:custom:2006-01-02", "weird",
		`/a,"b"`+"\n<&>|żółw||2025-01-01T00:00:00Z|1735689600000000000|2025-01-01")
	f("__value__,__timestamp__", "nothing_here")
}

func TestExportErrors(t *testing.T) {
	e := newExportEnv(t)
	for _, tc := range []struct {
		path   string
		params url.Values
		want   string
	}{
		{"/api/v1/export", nil, "no match[] parameter provided"},
		{"/api/v1/export", url.Values{"match[]": {"up{"}}, `invalid parameter "match[]"`},
		{"/api/v1/export", url.Values{"match[]": {`{job=~".*"}`}}, "at least one non-empty matcher"},
		{"/api/v1/export", url.Values{"match[]": {"up"}, "start": {"yesterday"}}, `invalid parameter "start"`},
		{"/api/v1/export", url.Values{"match[]": {"up"}, "start": {"2000"}, "end": {"1000"}}, "end timestamp must not be before start time"},
		{"/api/v1/export/csv", url.Values{"match[]": {"up"}}, "missing format"},
		{"/api/v1/export/csv", url.Values{"match[]": {"up"}, "format": {"__value__,,job"}}, "column 2 is empty"},
		{"/api/v1/export/csv", url.Values{"match[]": {"up"}, "format": {"__timestamp__:unix_h"}}, `unknown timestamp format "unix_h"`},
		{"/api/v1/export/csv", url.Values{"format": {"__value__"}}, "no match[] parameter provided"},
	} {
		t.Run(fmt.Sprintf("%s?%s", tc.path, tc.params.Encode()), func(t *testing.T) {
			r := e.api(tc.path, tc.params, http.StatusBadRequest)
			if r.Status != "error" || r.ErrorType != "bad_data" || !strings.Contains(r.Error, tc.want) {
				t.Fatalf("got %+v, want bad_data %q", r, tc.want)
			}
		})
	}
	e.mustReady()
}

// TestExportStreams exports more series than fit the write buffer and
// checks the response is streamed (chunked), not sized up front.
func TestExportStreams(t *testing.T) {
	e := newEnv(t, almanac.Options{Retention: -1, OutOfOrderWindow: -1}, Config{})
	var ss []series
	for i := range 2000 {
		s := series{lset: labels.FromStrings("__name__", "many", "i", strconv.Itoa(i))}
		for j := range 10 {
			s.samples = append(s.samples, almanac.Sample{T: exportBase + int64(j)*1000, V: float64(i*j) / 7})
		}
		ss = append(ss, s)
	}
	if resp, body := e.writeV1(ss...); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %d %s", resp.StatusCode, body)
	}
	req, err := http.NewRequest("GET", e.hs.URL+"/api/v1/export?"+url.Values{"match[]": {"many"}}.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.do(req)
	if resp.StatusCode != http.StatusOK || resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 {
		t.Fatalf("status %d, content length %d, transfer encoding %v; want a chunked 200", resp.StatusCode, resp.ContentLength, resp.TransferEncoding)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/stream+json; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	got := parseExport(t, body)
	checkExport(t, e, got, math.MinInt64, math.MaxInt64, eq("__name__", "many"))
}
