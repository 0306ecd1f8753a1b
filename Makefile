# The README's test command is `go test ./...`; these targets wrap the rest.
GO       ?= go
PKGS     ?= ./...
BENCH    ?= .
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -X github.com/prometheus/common/version.Version=$(VERSION) \
            -X github.com/prometheus/common/version.Revision=$(REVISION)

.PHONY: all build test race lint fmt bench fuzz ci e2e alerts-check

all: lint test build

build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o support_sla_exporter ./cmd/support_sla_exporter

test:
	$(GO) test $(PKGS)

race:
	$(GO) test -race $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

# Benchmarks: run with `make bench`, compare runs with `go tool benchstat old.txt new.txt`.
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count 6 $(PKGS) | tee bench.txt
	$(GO) tool benchstat bench.txt

# Short fuzzing of every fuzz target (FUZZTIME each).
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./policy
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./sources/file
	$(GO) test -run '^$$' -fuzz '^FuzzClock$$' -fuzztime $(FUZZTIME) ./sla

# The end-to-end suite against real servers (root: it installs Debian
# packages and starts them on loopback).
e2e:
	bash scripts/e2e/run.sh

# The alert rules, their unit tests and the Alertmanager example, checked by
# the tools of the Prometheus and Alertmanager they run on (make e2e
# installs them).
alerts-check:
	promtool check rules alerts/support_sla.rules.yml
	promtool test rules alerts/tests/*_test.yml
	amtool check-config alerts/alertmanager.yml

ci:
	bash .ci/run
