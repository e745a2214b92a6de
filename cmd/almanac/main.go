// Command almanac runs the almanac time-series database as a server, and
// queries, exports and imports into a running one.
//
//	almanac serve --data DIR --listen HOST:PORT [--retention 30d] [--ooo-window 1h] [--max-future 1h] [--no-sync]
//	almanac query [--url URL] [--time T | --start T --end T --step D] [--format table|json|csv] EXPR
//	almanac export [--url URL] --match SELECTOR... [--start T] [--end T] [--format jsonl|csv]
//	almanac import [--url URL | --data DIR] [--format auto|prometheus|openmetrics|influx|jsonl|csv] FILE...
//	almanac version
//
// Every serve flag can also be set by an environment variable: ALMANAC_
// and the flag's name in upper case with - as _ (ALMANAC_DATA,
// ALMANAC_NO_SYNC, ...). A flag on the command line wins over its variable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"
)

const usage = `usage: almanac <command> [flags]

commands:
  serve     serve a data directory over HTTP (Prometheus remote write and query API)
  query     run a PromQL query against a running almanac
  export    stream raw samples of matching series from a running almanac
  import    load files (Prometheus text, InfluxDB line protocol, JSON lines, CSV) into almanac
  version   print the version

Run 'almanac <command> -h' for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run runs one command and returns the process's exit code: 0 on success,
// 1 when the command failed, 2 for a usage error.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "almanac: no command given\n\n"+usage)
		return 2
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServeFlags(args[1:], getenv, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			if _, printed := errors.AsType[printedError](err); !printed {
				fmt.Fprintf(stderr, "almanac serve: %v\nRun 'almanac serve -h' for the flags.\n", err)
			}
			return 2
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
		if err := serve(ctx, stop, cfg, stdout, logger); err != nil {
			fmt.Fprintf(stderr, "almanac serve: %v\n", err)
			return 1
		}
		return 0
	case "query":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runQuery(ctx, args[1:], time.Now(), stdout, stderr)
	case "export":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runExport(ctx, args[1:], time.Now(), stdout, stderr)
	case "import":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runImport(ctx, args[1:], getenv, time.Now(), os.Stdin, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "almanac %s (%s)\n", version(), runtime.Version())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "almanac: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// version is the main module's version and VCS revision, or "dev".
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	for _, kv := range bi.Settings {
		if kv.Key == "vcs.revision" && len(kv.Value) >= 12 {
			v += " " + kv.Value[:12]
		}
	}
	return v
}
