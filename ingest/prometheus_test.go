package ingest

import (
	"errors"
	"testing"
)

func TestExpositionOf(t *testing.T) {
	f := func(ct string, want Exposition, wantErr error) {
		t.Helper()
		got, err := ExpositionOf(ct)
		if !errors.Is(err, wantErr) || got != want {
			t.Fatalf("ExpositionOf(%q) = %v, %v; want %v, %v", ct, got, err, want, wantErr)
		}
	}
	f("", PrometheusText, nil)
	f("text/plain; version=0.0.4; charset=utf-8", PrometheusText, nil)
	f("application/x-www-form-urlencoded", PrometheusText, nil)
	f("application/openmetrics-text; version=1.0.0; charset=utf-8", OpenMetrics, nil)
	f("Application/OpenMetrics-Text", OpenMetrics, nil)
	f("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited", 0, ErrUnsupportedMediaType)
}

func TestDecodePrometheus(t *testing.T) {
	const now = 1700000000000
	f := func(name string, format Exposition, in, want string) {
		t.Run(name, func(t *testing.T) {
			req := DecodePrometheus([]byte(in), format, now)
			checkImport(t, req)
			if got := render(req); got != want {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
	f("empty", PrometheusText, "", "")
	f("text", PrometheusText, `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{code="200",method="get"} 1027 1395066363000
http_requests_total{code="400",method="post"} 3 1395066363000

# a comment
node_load1 0.5
metric_without_timestamp_and_labels 12.47
something_weird{problem="division by zero"} +Inf 3982045
escaped{path="C:\\dir\\",quote="\"x\"",nl="a\nb"} -1e-3
nan NaN
`, `{__name__="http_requests_total", code="200", method="get"} 1395066363000 1027
{__name__="http_requests_total", code="400", method="post"} 1395066363000 3
{__name__="node_load1"} 1700000000000 0.5
{__name__="metric_without_timestamp_and_labels"} 1700000000000 12.47
{__name__="something_weird", problem="division by zero"} 3982045 +Inf
{__name__="escaped", nl="a\nb", path="C:\\dir\\", quote="\"x\""} 1700000000000 -0.001
{__name__="nan"} 1700000000000 NaN
`)
	f("text histogram and summary are float series", PrometheusText, `# TYPE rpc histogram
rpc_bucket{le="0.5"} 3
rpc_bucket{le="+Inf"} 5
rpc_sum 2.5
rpc_count 5
# TYPE lat summary
lat{quantile="0.99"} 0.2
`, `{__name__="rpc_bucket", le="0.5"} 1700000000000 3
{__name__="rpc_bucket", le="+Inf"} 1700000000000 5
{__name__="rpc_sum"} 1700000000000 2.5
{__name__="rpc_count"} 1700000000000 5
{__name__="lat", quantile="0.99"} 1700000000000 0.2
`)
	f("utf-8 names", PrometheusText, `{"my.metric","zone"="é"} 1 1000
`, `{__name__="my.metric", zone="é"} 1000 1
`)
	f("text bad lines kept apart", PrometheusText, `up{job="a"} 1
up{job="b" 2
up{job="c"} 3
not a metric line
up{job="d"} 4 not_a_timestamp
`, `{__name__="up", job="a"} 1700000000000 1
{__name__="up", job="c"} 1700000000000 3
! line 2: expected label name, got "2" ("INVALID") while parsing: "up{job=\"b\" 2"
! line 4: strconv.ParseFloat: parsing "a": invalid syntax while parsing: "not a"
! line 5: expected timestamp or new record, got "n" ("INVALID") while parsing: "up{job=\"d\"} 4 n"
`)
	f("openmetrics", OpenMetrics, `# TYPE foo_seconds counter
# HELP foo_seconds A counter.
# UNIT foo_seconds seconds
foo_seconds_total{a="b"} 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67 1520879602
foo_seconds_total{a="c"} 1
# TYPE g gauge
g 2.5 1.5
# EOF
`, `{__name__="foo_seconds_total", a="b"} 1520879607789 17
{__name__="foo_seconds_total", a="c"} 1700000000000 1
{__name__="g"} 1500 2.5
ignored 1 exemplars
`)
	f("openmetrics without EOF", OpenMetrics, "a 1\nb 2\n", `{__name__="a"} 1700000000000 1
{__name__="b"} 1700000000000 2
! line 3: data does not end with # EOF
`)
	f("openmetrics data after EOF", OpenMetrics, "a 1\n# EOF\nb 2\n", `{__name__="a"} 1700000000000 1
! line 3: unexpected data after # EOF
`)
	f("openmetrics bad line", OpenMetrics, "a 1\nb{ 2\nc 3\n# EOF\n", `{__name__="a"} 1700000000000 1
{__name__="c"} 1700000000000 3
! line 2: expected label name, got " " ("INVALID") while parsing: "b{ "
`)
	f("all garbage", PrometheusText, "{{{\n}}}\n", `! line 1: expected label name, got "{" ("INVALID") while parsing: "{{"
! line 2: expected a valid start token, got "}" ("INVALID") while parsing: "}"
`)
}
