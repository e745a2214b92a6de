package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/almanacdb/almanac"
	"github.com/almanacdb/almanac/server"
)

// shutdownTimeout bounds how long a stopping server waits for in-flight
// requests.
const shutdownTimeout = 30 * time.Second

// serve opens the data directory, serves it until ctx is done (a signal)
// or the listener fails, then stops accepting, drains in-flight requests
// and closes the database. stopSignals is called once shutdown starts, so
// a second signal kills the process the default way.
func serve(ctx context.Context, stopSignals func(), cfg serveConfig, stdout io.Writer, logger *slog.Logger) (err error) {
	if cfg.WebConfigFile != "" {
		if err := web.Validate(cfg.WebConfigFile); err != nil {
			return fmt.Errorf("web configuration %s: %w", cfg.WebConfigFile, err)
		}
	}
	var token string
	if cfg.BearerTokenFile != "" {
		b, err := os.ReadFile(cfg.BearerTokenFile)
		if err != nil {
			return fmt.Errorf("bearer token: %w", err)
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return fmt.Errorf("bearer token file %s is empty", cfg.BearerTokenFile)
		}
	}
	reg := prometheus.NewRegistry()
	db, err := almanac.Open(cfg.Data, &almanac.Options{
		Retention:        cfg.Retention,
		OutOfOrderWindow: cfg.OOOWindow,
		MaxFutureSkew:    cfg.MaxFuture,
		NoSync:           cfg.NoSync,
		Logger:           logger,
		Registerer:       reg,
	})
	if err != nil {
		return fmt.Errorf("opening %s: %w", cfg.Data, err)
	}
	defer func() {
		if cerr := db.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing %s: %w", cfg.Data, cerr))
		}
	}()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := server.New(db, server.Config{
		Registry: reg, Logger: logger, BearerToken: token,
		EnableAdminAPI: cfg.EnableAdminAPI, Engine: cfg.Engine, Retention: cfg.Retention, Flags: cfg.Flags,
		QueryTimeout: cfg.QueryTimeout, LookbackDelta: cfg.LookbackDelta,
		MaxConcurrentQueries: cfg.MaxConcurrentQueries, MaxSamples: cfg.MaxSamples,
		MaxConcurrentWrites: cfg.MaxConcurrentWrites,
	})
	httpSrv := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	printBanner(stdout, cfg, ln.Addr())

	served := make(chan error, 1)
	// exporter-toolkit serves TLS and basic auth as the web configuration
	// file says (plain HTTP without one), re-reading it on every connection.
	go func() { served <- web.Serve(ln, httpSrv, &web.FlagConfig{WebConfigFile: &cfg.WebConfigFile}, logger) }()
	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	}
	stopSignals()
	logger.Info("shutting down: draining requests")
	srv.SetReady(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("requests still running at shutdown timeout", "err", err)
		httpSrv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("server stopped", "err", err)
	}
	logger.Info("stopped; closing the database")
	return nil
}

// printBanner says where almanac listens and how to point Prometheus and
// Grafana at it.
func printBanner(w io.Writer, cfg serveConfig, addr net.Addr) {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		host, port = addr.String(), ""
	}
	// Show the host the user asked for (a name such as localhost) when it
	// is specific; for a wildcard address, show this machine's name.
	if h, _, err := net.SplitHostPort(cfg.Listen); err == nil && h != "" {
		host = h
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if name, err := os.Hostname(); err == nil {
			host = name
		} else {
			host = "localhost"
		}
	}
	scheme := "http"
	if cfg.WebConfigFile != "" {
		scheme = "https" // the usual reason for a web configuration; it may only set basic auth
	}
	url := scheme + "://" + net.JoinHostPort(host, port)
	fmt.Fprintf(w, `almanac %s serving %s
listening on %s

Point Prometheus at it (prometheus.yml):

  remote_write:
    - url: %s/api/v1/write

Point Grafana at it: add a data source of type Prometheus with URL %s

`, version(), cfg.Data, url, url, url)
}
