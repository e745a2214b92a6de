# almanac — the two commands a new machine needs are `make run` and `make test`.
GO       ?= go
DATA     ?= ./data
LISTEN   ?= localhost:9494
FUZZTIME ?= 10s

.PHONY: all build run test check unit fuzz e2e e2e-deps bench bench-codec conformance clean

all: build

build:
	$(GO) build -o almanac ./cmd/almanac

## run: serve on ./data (override with DATA=... LISTEN=...)
run: build
	./almanac serve --data $(DATA) --listen $(LISTEN)

## test: formatting, vet, the race-enabled test suite and short fuzz runs
test: check unit fuzz

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

fuzz:
	$(call fuzz1,FuzzRoundTrip,./storage/chunk/)
	$(call fuzz1,FuzzDecode,./storage/chunk/)
	$(call fuzz1,FuzzLogRecord,./storage/)
	$(call fuzz1,FuzzLabels,./storage/)
	$(call fuzz1,FuzzEntryPoints,./analytics/)
	$(call fuzz1,FuzzDecodeWriteV1,./ingest/)
	$(call fuzz1,FuzzDecodeWriteV2,./ingest/)
	$(call fuzz1,FuzzDecodeWriteV1Equivalent,./ingest/)
	$(call fuzz1,FuzzDecodeWriteV2Equivalent,./ingest/)
	$(call fuzz1,FuzzReadRemoteWrite,./ingest/)
	$(call fuzz1,FuzzDecodePrometheus,./ingest/)
	$(call fuzz1,FuzzDecodeInflux,./ingest/)
	$(call fuzz1,FuzzDecodeVMJSON,./ingest/)
	$(call fuzz1,FuzzDecodeCSV,./ingest/)
	$(call fuzz1,FuzzAppendString,./server/)
	$(call fuzz1,FuzzReadBody,./ingest/)
	$(call fuzz1,FuzzOTLPTranslate,./server/)
	$(call fuzz1,FuzzMetricsQLParse,./query/)

# fuzz1 fuzzes one target for FUZZTIME. Go 1.26's fuzzing coordinator can
# end a run that found nothing with "context deadline exceeded" when
# -fuzztime expires mid-execution (go.dev/issue/75804, fixed in Go 1.27);
# such a run, which wrote no failing input, is run once more. Any other
# failure fails at once.
define fuzz1
	@echo 'fuzz $(1) $(2)'; \
	out=$$($(GO) test -run='^$$' -fuzz='^$(1)$$' -fuzztime=$(FUZZTIME) $(2) 2>&1); rc=$$?; \
	if [ $$rc -eq 0 ]; then echo "$$out" | tail -2; \
	elif echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
		echo "$$out" | tail -3; echo 'retrying $(1): the fuzzing coordinator deadline race (go.dev/issue/75804), no failing input'; \
		$(GO) test -run='^$$' -fuzz='^$(1)$$' -fuzztime=$(FUZZTIME) $(2) || exit 1; \
	else echo "$$out"; exit 1; fi
endef

## e2e: a real Prometheus scraping a real node_exporter, remote-writing to
## and remote-reading from almanac; answers compared with Prometheus's own
e2e: e2e-deps
	$(GO) test -tags e2e -count=1 -timeout 5m -run E2E -v ./cmd/almanac/

## e2e-deps: the Debian packages the e2e test runs, installed when missing
e2e-deps:
	@if ! command -v prometheus >/dev/null || ! command -v prometheus-node-exporter >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y prometheus prometheus-node-exporter; \
	fi

## diff-long: the differential test of almanac's engine against
## Prometheus's with 50,000 random queries instead of make test's 300
.PHONY: diff-long
diff-long:
	$(GO) test -count=1 -timeout 60m -run '^TestDifferential$$' ./query/ -diff.cases=50000

## bench: storage benchmarks side by side with Prometheus's TSDB (a few minutes)
bench:
	$(GO) test -run='^$$' -bench=. -benchtime=1x -timeout=30m ./benchmarks/

## bench-query: dashboard-like PromQL range queries, almanac's engine on
## almanac against Prometheus's engine on its TSDB, same data (under a
## minute; go test ... -query-long-days=0 skips the 30-day dataset)
.PHONY: bench-query
bench-query:
	$(GO) test -run='^$$' -bench='^BenchmarkQuery$$' -benchtime=3x -count=3 -timeout=30m ./benchmarks/

## bench-quality: how good the analytics functions are (docs/analytics.md,
## "Quality, measured"): anomaly_score on all 58 NAB files with NAB's
## scoring, forecast backtests, correlate recall (a few minutes);
## QUALITY_OUT=file also writes the tables there as markdown
.PHONY: bench-quality
bench-quality:
	$(GO) test -count=1 -v -run='^Test(NABScoring|NAB|Forecast|Correlate)$$' -timeout=30m ./benchmarks/quality/ -quality -quality.out='$(QUALITY_OUT)'
	$(GO) test -count=1 -run='^$$' -bench='^BenchmarkAnalyticsSpeed$$' -benchtime=1x -timeout=60m ./benchmarks/quality/ -quality

## bench-codec: chunk codec against Prometheus's XOR chunks
bench-codec:
	$(GO) test -run='^$$' -bench=Codec -benchmem ./storage/chunk/

## bench-remote-write: remote-write load (100k series × 60 scrapes, 3 rounds)
## sent to almanac, VictoriaMetrics and Prometheus, each a separate process;
## installs the Debian packages victoria-metrics and prometheus when missing.
## Knobs (environment): LOADBENCH_SERIES, _SCRAPES, _SENDERS,
## _SAMPLES_PER_SEND, _ROUNDS, _PEERS, _OUT, _LOGS, _CPUPROFILE; see docs/benchmarks.md.
.PHONY: bench-remote-write
bench-remote-write:
	@if ! command -v victoria-metrics >/dev/null || ! command -v prometheus >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y victoria-metrics prometheus; \
	fi
	$(GO) test -tags loadbench -count=1 -timeout 60m -run '^TestRemoteWriteLoad$$' -v ./benchmarks/remotewrite/

clean:
	rm -f almanac

## conformance: regenerate the tables in docs/conformance.md
conformance:
	$(GO) test -count=1 -run '^TestPromQLSuiteOnAlmanacStorage$$' . -conformance-report=$(CURDIR)/docs/conformance-storage.md
	$(GO) test -count=1 -run '^TestPromQLSuite$$' ./query/ -conformance-report=$(CURDIR)/docs/conformance-engine.md
	for t in storage engine; do \
		awk -v f=docs/conformance-$$t.md -v tag=$$t '$$0 == "<!-- table " tag " -->" {print; while ((getline line < f) > 0) print line; skip=1; next} $$0 == "<!-- end table " tag " -->" {skip=0} !skip' docs/conformance.md > docs/conformance.md.new && \
		mv docs/conformance.md.new docs/conformance.md; \
	done
	rm -f docs/conformance-storage.md docs/conformance-engine.md
