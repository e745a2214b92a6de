package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// serveConfig is what the serve flags say.
type serveConfig struct {
	Data      string
	Listen    string
	Retention time.Duration
	OOOWindow time.Duration
	MaxFuture time.Duration
	NoSync    bool
	// WebConfigFile is a Prometheus web configuration file (TLS and basic
	// auth, the format of Prometheus's --web.config.file); empty: plain HTTP.
	WebConfigFile string
	// BearerTokenFile holds a token every request but health checks must
	// present as "Authorization: Bearer <token>"; empty: none.
	BearerTokenFile string
	// EnableAdminAPI serves the admin endpoints (delete_series).
	EnableAdminAPI bool
	// Query limits; zero means the server's default.
	QueryTimeout         time.Duration
	LookbackDelta        time.Duration
	MaxConcurrentQueries int
	MaxSamples           int
	MaxConcurrentWrites  int
	// Engine is server.Config.Engine.
	Engine string
	// Flags holds every flag's effective value, for /api/v1/status/flags.
	Flags map[string]string
}

// parseServeFlags reads the serve flags from args, and, for each flag not
// on the command line, from its ALMANAC_* environment variable.
func parseServeFlags(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	cfg := serveConfig{
		Engine:    "almanac",
		Data:      "./data",
		Listen:    "localhost:9494",
		Retention: 30 * 24 * time.Hour,
		OOOWindow: time.Hour,
		MaxFuture: time.Hour,
	}
	fs := flag.NewFlagSet("almanac serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Data, "data", cfg.Data, "data directory (created if missing)")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "HTTP listen address, host:port")
	fs.Var((*durationFlag)(&cfg.Retention), "retention", "how long samples are kept; units ms, s, m, h, d, w, y; negative keeps everything")
	fs.Var((*durationFlag)(&cfg.OOOWindow), "ooo-window", "how far behind its series' newest sample a sample may arrive; negative: any age inside retention")
	fs.Var((*durationFlag)(&cfg.MaxFuture), "max-future", "samples further ahead of the clock are refused")
	fs.BoolVar(&cfg.NoSync, "no-sync", cfg.NoSync, "acknowledge writes before fsync (faster; a power loss may lose the last writes)")
	fs.StringVar(&cfg.WebConfigFile, "web-config-file", "", "TLS and basic auth configuration, in Prometheus's web configuration format")
	fs.StringVar(&cfg.BearerTokenFile, "bearer-token-file", "", "file holding a bearer token every request but /-/healthy and /-/ready must present")
	fs.BoolVar(&cfg.EnableAdminAPI, "enable-admin-api", false, "serve the admin APIs (delete_series); off by default, as in Prometheus")
	fs.Var((*durationFlag)(&cfg.QueryTimeout), "query-timeout", "longest a query may run (default 2m)")
	fs.Var((*durationFlag)(&cfg.LookbackDelta), "lookback-delta", "how far back an instant selector looks for a sample (default 5m)")
	fs.IntVar(&cfg.MaxConcurrentQueries, "max-concurrent-queries", 0, "queries evaluated at once; more wait (default 20)")
	fs.IntVar(&cfg.MaxSamples, "max-samples", 0, "samples one query may hold in memory (default 50000000)")
	fs.IntVar(&cfg.MaxConcurrentWrites, "max-concurrent-writes", 0, "write requests handled at once; more wait up to 10s, then get 429 (default 4 x GOMAXPROCS)")
	fs.StringVar(&cfg.Engine, "engine", "almanac", "PromQL engine: almanac; prometheus (Prometheus's engine, standard PromQL only); auto (Prometheus's for standard PromQL, almanac's for its analytics functions and MetricsQL)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: almanac serve [flags]\n\nEvery flag can also be set by an environment variable, e.g. ALMANAC_DATA, ALMANAC_NO_SYNC.\n\nflags:\n")
		fs.PrintDefaults()
	}

	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		if v := getenv(env); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("environment variable %s=%q: %w", env, v, err))
			}
		}
	})
	if len(errs) > 0 {
		return cfg, errors.Join(errs...)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, printedError{err} // the flag set printed it, with the usage
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if cfg.Data == "" {
		return cfg, errors.New("--data must not be empty")
	}
	switch cfg.Engine {
	case "auto", "almanac", "prometheus":
	default:
		return cfg, fmt.Errorf("unknown --engine %q: use auto, almanac or prometheus", cfg.Engine)
	}
	if cfg.MaxConcurrentQueries < 0 || cfg.MaxSamples < 0 || cfg.MaxConcurrentWrites < 0 || cfg.QueryTimeout < 0 || cfg.LookbackDelta < 0 {
		return cfg, errors.New("query limits must not be negative")
	}
	cfg.Flags = map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "bearer-token-file" || f.Value.String() == "" {
			cfg.Flags[f.Name] = f.Value.String()
		} else {
			cfg.Flags[f.Name] = "<set>"
		}
	})
	if cfg.Listen == "" {
		return cfg, errors.New("--listen must not be empty")
	}
	return cfg, nil
}

// printedError is a usage error already shown to the user.
type printedError struct{ error }

func (e printedError) Unwrap() error { return e.error }

// envName is the environment variable of a flag: ALMANAC_OOO_WINDOW for ooo-window.
func envName(flagName string) string {
	return "ALMANAC_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// durationFlag is a time.Duration in Prometheus's units (ms, s, m, h, d,
// w, y, combined as in 1d12h), optionally negative, or a Go duration.
type durationFlag time.Duration

func (d *durationFlag) String() string {
	v := time.Duration(*d)
	if v < 0 {
		return "-" + model.Duration(-v).String()
	}
	return model.Duration(v).String()
}

func (d *durationFlag) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = durationFlag(v)
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	if body == "0" {
		return 0, nil
	}
	md, err := model.ParseDuration(body)
	if err != nil {
		if gd, gerr := time.ParseDuration(body); gerr == nil {
			md, err = model.Duration(gd), nil
		}
	}
	if err != nil {
		if _, ferr := strconv.ParseFloat(body, 64); ferr == nil {
			return 0, fmt.Errorf("duration %q needs a unit, e.g. 30d, 12h, 1w, 1y", s)
		}
		return 0, fmt.Errorf("invalid duration %q: use a number and a unit (ms, s, m, h, d, w, y), e.g. 30d", s)
	}
	if neg {
		return -time.Duration(md), nil
	}
	return time.Duration(md), nil
}
