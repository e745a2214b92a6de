package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// defaultURL is where the query and export commands find almanac.
const defaultURL = "http://localhost:9494"

// queryConfig is what the query flags say.
type queryConfig struct {
	URL    string
	Time   string
	Start  string
	End    string
	Step   string
	Format string
	Expr   string
}

// isRange reports whether the flags ask for a range query.
func (c queryConfig) isRange() bool { return c.Start != "" || c.End != "" || c.Step != "" }

// parseQueryFlags reads the query flags; flags may come before or after
// the expression.
func parseQueryFlags(args []string, stderr io.Writer) (queryConfig, error) {
	cfg := queryConfig{URL: defaultURL, Format: "table"}
	fs := flag.NewFlagSet("almanac query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", cfg.URL, "almanac's address")
	fs.StringVar(&cfg.Time, "time", "", "evaluation time of an instant query (default now): RFC 3339, Unix seconds, now, or -DURATION before now")
	fs.StringVar(&cfg.Start, "start", "", "start of a range query (default 1h before --end); as --time")
	fs.StringVar(&cfg.End, "end", "", "end of a range query (default now); as --time")
	fs.StringVar(&cfg.Step, "step", "", "step of a range query (default (end-start)/250, at least 1s): 15s, 1m, or seconds")
	fs.StringVar(&cfg.Format, "format", cfg.Format, "output: table, json (the server's answer) or csv")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: almanac query [flags] EXPR

Runs a PromQL query: an instant query, or a range query when --start,
--end or --step is given.

flags:
`)
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return cfg, err
	}
	switch len(rest) {
	case 0:
		return cfg, errors.New("no query expression given")
	case 1:
		cfg.Expr = rest[0]
	default:
		return cfg, fmt.Errorf("unexpected arguments: %s (quote the expression)", strings.Join(rest[1:], " "))
	}
	switch cfg.Format {
	case "table", "json", "csv":
	default:
		return cfg, fmt.Errorf("unknown --format %q: use table, json or csv", cfg.Format)
	}
	if cfg.Time != "" && cfg.isRange() {
		return cfg, errors.New("--time is for instant queries; give --start, --end and --step for a range query")
	}
	return cfg, nil
}

// parseInterspersed parses flags that may follow positional arguments
// (almanac query 'up' --time now) and returns the positional arguments.
// After --, the next argument is positional even if it starts with -.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, printedError{err} // the flag set printed it, with the usage
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// runQuery runs `almanac query` and returns the exit code.
func runQuery(ctx context.Context, args []string, now time.Time, stdout, stderr io.Writer) int {
	cfg, err := parseQueryFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return usageError(stderr, "query", err)
	}
	params := url.Values{"query": {cfg.Expr}}
	path := "/api/v1/query"
	if cfg.isRange() {
		start, end, step, err := rangeParams(cfg, now)
		if err != nil {
			return usageError(stderr, "query", err)
		}
		path = "/api/v1/query_range"
		params.Set("start", formatSeconds(start))
		params.Set("end", formatSeconds(end))
		params.Set("step", strconv.FormatFloat(step.Seconds(), 'f', -1, 64))
	} else {
		t := now // this machine's clock, as for --start and --end
		if cfg.Time != "" {
			if t, err = parseCLITime(cfg.Time, now); err != nil {
				return usageError(stderr, "query", fmt.Errorf("--time: %w", err))
			}
		}
		params.Set("time", formatSeconds(t))
	}
	body, err := postForm(ctx, cfg.URL, path, params)
	if err != nil {
		fmt.Fprintf(stderr, "almanac query: %v\n", err)
		return 1
	}
	if cfg.Format == "json" {
		stdout.Write(body)
		if !bytes.HasSuffix(body, []byte("\n")) {
			io.WriteString(stdout, "\n")
		}
		return 0
	}
	var resp queryResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		fmt.Fprintf(stderr, "almanac query: reading the answer: %v\n", err)
		return 1
	}
	for _, w := range resp.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	for _, i := range resp.Infos {
		fmt.Fprintf(stderr, "info: %s\n", i)
	}
	rows, err := resp.Data.rows()
	if err != nil {
		fmt.Fprintf(stderr, "almanac query: reading the answer: %v\n", err)
		return 1
	}
	if cfg.Format == "csv" {
		err = writeCSV(stdout, rows)
	} else {
		err = writeTable(stdout, rows)
	}
	if err != nil {
		fmt.Fprintf(stderr, "almanac query: %v\n", err)
		return 1
	}
	return 0
}

func usageError(stderr io.Writer, cmd string, err error) int {
	if _, printed := errors.AsType[printedError](err); !printed {
		fmt.Fprintf(stderr, "almanac %s: %v\nRun 'almanac %s -h' for the flags.\n", cmd, err, cmd)
	}
	return 2
}

// rangeParams resolves a range query's start, end and step.
func rangeParams(cfg queryConfig, now time.Time) (start, end time.Time, step time.Duration, err error) {
	end = now
	if cfg.End != "" {
		if end, err = parseCLITime(cfg.End, now); err != nil {
			return start, end, step, fmt.Errorf("--end: %w", err)
		}
	}
	start = end.Add(-time.Hour)
	if cfg.Start != "" {
		if start, err = parseCLITime(cfg.Start, now); err != nil {
			return start, end, step, fmt.Errorf("--start: %w", err)
		}
	}
	if end.Before(start) {
		return start, end, step, errors.New("--end is before --start")
	}
	if cfg.Step != "" {
		if step, err = parseStep(cfg.Step); err != nil {
			return start, end, step, fmt.Errorf("--step: %w", err)
		}
		return start, end, step, nil
	}
	step = max(end.Sub(start)/250, time.Second).Truncate(time.Second)
	return start, end, step, nil
}

// parseCLITime reads a time: now, -DURATION (before now), Unix seconds
// or RFC 3339.
func parseCLITime(s string, now time.Time) (time.Time, error) {
	if s == "now" {
		return now, nil
	}
	if rel, ok := strings.CutPrefix(s, "-"); ok {
		if _, err := strconv.ParseFloat(rel, 64); err != nil {
			d, err := parseDuration(rel)
			if err != nil {
				return time.Time{}, fmt.Errorf("invalid time %q: %w", s, err)
			}
			return now.Add(-d), nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return time.UnixMilli(int64(math.Round(f * 1000))), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q: use RFC 3339 (2025-01-01T00:00:00Z), Unix seconds, now, or -1h", s)
}

// parseStep reads a step: a duration with a unit or float seconds.
func parseStep(s string) (time.Duration, error) {
	var d time.Duration
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		d = time.Duration(f * float64(time.Second))
	} else if d, err = parseDuration(s); err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("step %q must be positive", s)
	}
	return d, nil
}

func formatSeconds(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)
}

// apiError is the error envelope of almanac's (Prometheus's) API.
type apiError struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}

// postForm posts params to base+path and returns the body of a 200
// answer; any other answer is an error, spelled from its error envelope
// when it has one.
func postForm(ctx context.Context, base, path string, params url.Values) ([]byte, error) {
	resp, err := send(ctx, base, path, params)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", resp.Request.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, answerError(resp, body)
	}
	return body, nil
}

// send posts params as a form to base+path.
func send(ctx context.Context, base, path string, params url.Values) (*http.Response, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("invalid --url %q: want http://host:port", base)
	}
	u = u.JoinPath(path)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(params.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "almanac-cli/"+version())
	return http.DefaultClient.Do(req)
}

// answerError describes a failed answer: "error (bad_data): ..." from an
// error envelope, else the status and the start of the body.
func answerError(resp *http.Response, body []byte) error {
	var e apiError
	if json.Unmarshal(body, &e) == nil && e.Status == "error" {
		return fmt.Errorf("error (%s): %s", e.ErrorType, e.Error)
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	return fmt.Errorf("%s answered %s: %s", resp.Request.URL.Redacted(), resp.Status, text)
}

// queryResponse is a query answer.
type queryResponse struct {
	Status   string    `json:"status"`
	Data     queryData `json:"data"`
	Warnings []string  `json:"warnings"`
	Infos    []string  `json:"infos"`
}

type queryData struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

// point is [seconds, "value"].
type point struct {
	t float64
	v string
}

func (p *point) UnmarshalJSON(b []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	if len(pair) != 2 {
		return fmt.Errorf("point %s is not [time, value]", b)
	}
	if err := json.Unmarshal(pair[0], &p.t); err != nil {
		return fmt.Errorf("point %s: %w", b, err)
	}
	if err := json.Unmarshal(pair[1], &p.v); err != nil {
		return fmt.Errorf("point %s: %w", b, err)
	}
	return nil
}

// row is one line of output: a series (empty for a scalar or string), a
// value and its time.
type row struct {
	series string
	value  string
	t      float64
}

// rows flattens a result: one row per sample of a vector, per point of a
// matrix, and one for a scalar or string.
func (d queryData) rows() ([]row, error) {
	var out []row
	switch d.ResultType {
	case "vector":
		var v []struct {
			Metric map[string]string `json:"metric"`
			Value  *point            `json:"value"`
		}
		if err := json.Unmarshal(d.Result, &v); err != nil {
			return nil, err
		}
		for _, s := range v {
			if s.Value == nil {
				return nil, errors.New("histogram samples are not supported")
			}
			out = append(out, row{labels.FromMap(s.Metric).String(), s.Value.v, s.Value.t})
		}
	case "matrix":
		var m []struct {
			Metric map[string]string `json:"metric"`
			Values []point           `json:"values"`
		}
		if err := json.Unmarshal(d.Result, &m); err != nil {
			return nil, err
		}
		for _, s := range m {
			name := labels.FromMap(s.Metric).String()
			for _, p := range s.Values {
				out = append(out, row{name, p.v, p.t})
			}
		}
	case "scalar", "string":
		var p point
		if err := json.Unmarshal(d.Result, &p); err != nil {
			return nil, err
		}
		out = append(out, row{"", p.v, p.t})
	default:
		return nil, fmt.Errorf("unknown result type %q", d.ResultType)
	}
	return out, nil
}

// formatTime prints seconds since the epoch as RFC 3339 in UTC, with
// milliseconds when there are any.
func formatTime(sec float64) string {
	return time.UnixMilli(int64(math.Round(sec * 1000))).UTC().Format("2006-01-02T15:04:05.999Z07:00")
}

func writeTable(w io.Writer, rows []row) error {
	if len(rows) == 0 {
		_, err := io.WriteString(w, "no data\n")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIES\tVALUE\tTIME")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.series, r.value, formatTime(r.t))
	}
	return tw.Flush()
}

func writeCSV(w io.Writer, rows []row) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"series", "value", "timestamp"})
	for _, r := range rows {
		cw.Write([]string{r.series, r.value, strconv.FormatFloat(r.t, 'f', -1, 64)})
	}
	cw.Flush()
	return cw.Error()
}
