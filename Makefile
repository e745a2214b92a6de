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
	$(GO) test -run='^$$' -fuzz='^FuzzRoundTrip$$' -fuzztime=$(FUZZTIME) ./storage/chunk/
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./storage/chunk/
	$(GO) test -run='^$$' -fuzz='^FuzzLogRecord$$' -fuzztime=$(FUZZTIME) ./storage/
	$(GO) test -run='^$$' -fuzz='^FuzzLabels$$' -fuzztime=$(FUZZTIME) ./storage/
	$(GO) test -run='^$$' -fuzz='^FuzzEntryPoints$$' -fuzztime=$(FUZZTIME) ./analytics/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeWriteV1$$' -fuzztime=$(FUZZTIME) ./ingest/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeWriteV2$$' -fuzztime=$(FUZZTIME) ./ingest/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeWriteV1Equivalent$$' -fuzztime=$(FUZZTIME) ./ingest/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeWriteV2Equivalent$$' -fuzztime=$(FUZZTIME) ./ingest/
	$(GO) test -run='^$$' -fuzz='^FuzzReadRemoteWrite$$' -fuzztime=$(FUZZTIME) ./ingest/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodePrometheus$$' -fuzztime=$(FUZZTIME) ./ingest/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeInflux$$' -fuzztime=$(FUZZTIME) ./ingest/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeVMJSON$$' -fuzztime=$(FUZZTIME) ./ingest/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeCSV$$' -fuzztime=$(FUZZTIME) ./ingest/
	$(GO) test -run='^$$' -fuzz='^FuzzAppendString$$' -fuzztime=$(FUZZTIME) ./server/
	$(GO) test -run='^$$' -fuzz='^FuzzReadBody$$' -fuzztime=$(FUZZTIME) ./ingest/
	$(GO) test -run='^$$' -fuzz='^FuzzOTLPTranslate$$' -fuzztime=$(FUZZTIME) ./server/
	$(GO) test -run='^$$' -fuzz='^FuzzMetricsQLParse$$' -fuzztime=$(FUZZTIME) ./query/

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
