package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// defaultCSVColumns are the columns of `almanac export --format csv`.
const defaultCSVColumns = "__name__,__value__,__timestamp__:unix_ms"

// exportConfig is what the export flags say.
type exportConfig struct {
	URL     string
	Matches []string
	Start   string
	End     string
	Format  string
	Columns string
}

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, " ") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

func parseExportFlags(args []string, stderr io.Writer) (exportConfig, error) {
	cfg := exportConfig{URL: defaultURL, Format: "jsonl", Columns: defaultCSVColumns}
	fs := flag.NewFlagSet("almanac export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", cfg.URL, "almanac's address")
	fs.Var((*stringsFlag)(&cfg.Matches), "match", "series selector, e.g. 'up{job=\"node\"}' (required, repeatable: the union is exported)")
	fs.StringVar(&cfg.Start, "start", "", "first sample time (default: all time): RFC 3339, Unix seconds, now, or -DURATION before now")
	fs.StringVar(&cfg.End, "end", "", "last sample time (default: all time); as --start")
	fs.StringVar(&cfg.Format, "format", cfg.Format, "output: jsonl (VictoriaMetrics export JSON lines) or csv")
	fs.StringVar(&cfg.Columns, "columns", cfg.Columns, "CSV columns: label names, __value__, __timestamp__:unix_s|unix_ms|unix_ns|rfc3339")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: almanac export --match SELECTOR [flags]

Streams the raw samples of the matching series to stdout, in
VictoriaMetrics's export format (one JSON line per series) or as CSV.

flags:
`)
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return cfg, err
	}
	if len(rest) > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s (give selectors with --match)", strings.Join(rest, " "))
	}
	if len(cfg.Matches) == 0 {
		return cfg, errors.New("no --match given: say which series to export, e.g. --match '{__name__=~\".+\"}' for all")
	}
	switch cfg.Format {
	case "jsonl", "csv":
	default:
		return cfg, fmt.Errorf("unknown --format %q: use jsonl or csv", cfg.Format)
	}
	return cfg, nil
}

// runExport runs `almanac export` and returns the exit code.
func runExport(ctx context.Context, args []string, now time.Time, stdout, stderr io.Writer) int {
	cfg, err := parseExportFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return usageError(stderr, "export", err)
	}
	params := url.Values{"match[]": cfg.Matches}
	for _, p := range []struct{ name, value string }{{"start", cfg.Start}, {"end", cfg.End}} {
		if p.value == "" {
			continue
		}
		t, err := parseCLITime(p.value, now)
		if err != nil {
			return usageError(stderr, "export", fmt.Errorf("--%s: %w", p.name, err))
		}
		params.Set(p.name, formatSeconds(t))
	}
	path := "/api/v1/export"
	if cfg.Format == "csv" {
		path = "/api/v1/export/csv"
		params.Set("format", cfg.Columns)
	}
	if err := export(ctx, cfg.URL, path, params, stdout); err != nil {
		fmt.Fprintf(stderr, "almanac export: %v\n", err)
		return 1
	}
	return 0
}

// export streams the answer to w. A connection the server aborts midway
// (a storage failure after the first series) is an error, so a partial
// export never passes for a complete one.
func export(ctx context.Context, base, path string, params url.Values, w io.Writer) error {
	resp, err := send(ctx, base, path, params)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return answerError(resp, body)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("export interrupted, output is incomplete: %w", err)
	}
	return nil
}
