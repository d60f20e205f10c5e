# Difronte: one binary, one node per coop. `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/difronte
DEVBIN := bin/difronte-dev
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: help build run test test-go test-e2e e2e-deps screenshots bench mutate mutate-gremlins testnet lint fmt clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-10s %s\n", $$1, $$2}'

build: ## build bin/difronte and the dev command bin/difronte-dev (testnet with the demo call; never shipped)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/difronte
	$(GO) build -trimpath -ldflags '-s -w' -o $(DEVBIN) ./testnet/cmd/difronte-dev

# ARGS are passed to the command of `make run` and `make testnet`:
# make run ARGS="--demo --coop-name 'Cooperativa Aurora'". Environment
# variables work too: DIFRONTE_HTTP=127.0.0.1:8081 make run.
ARGS ?=

run: build ## build and run a node on embedded defaults (data in ./data, web on 127.0.0.1:8080); options: make run ARGS="--demo", or DIFRONTE_HTTP=127.0.0.1:8081 make run
	./$(BIN) serve $(ARGS)

test: test-go test-e2e ## install what the tests need and run every test

test-go: ## run the Go tests (unit, multi-node, fuzz seed corpora)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

BENCHOUT ?= bench/out

bench: build ## run every benchmark with its same-run baseline; output in bench/out/ (about an hour and a half)
	mkdir -p $(BENCHOUT)
	$(GO) run ./bench/nodebench -bin $(BIN) | tee $(BENCHOUT)/node.txt
	GO=$(GO) BIN=$(BIN) BENCHOUT=$(BENCHOUT) BENCH_TIMEOUT=40m bench/catalogue.sh quiet | tee $(BENCHOUT)/catalogue.txt
	GO=$(GO) BIN=$(BIN) BENCHOUT=$(BENCHOUT) BENCH_TIMEOUT=40m bench/catalogue.sh loaded | tee $(BENCHOUT)/catalogue-loaded.txt
	GO=$(GO) BENCHOUT=$(BENCHOUT) BENCH_TIMEOUT=30m bench/gossip.sh quiet | tee $(BENCHOUT)/gossip.txt
	GO=$(GO) BENCHOUT=$(BENCHOUT) BENCH_TIMEOUT=30m bench/gossip.sh loaded | tee $(BENCHOUT)/gossip-loaded.txt
	for f in gossip gossip-loaded; do awk -f bench/gossip-medians.awk $(BENCHOUT)/$$f.txt; awk -f bench/gossip-pairs.awk $(BENCHOUT)/$$f.txt; done | tee $(BENCHOUT)/gossip-tables.txt
	$(GO) test -run '^$$' -bench Catchup1000of100k -benchtime 3x -timeout 10m ./federation/catchup/ | tee $(BENCHOUT)/catchup.txt
	$(GO) test -run '^$$' -bench FailureDetection -benchtime 1x -timeout 10m ./federation/members/ | tee $(BENCHOUT)/members.txt
	$(GO) test -run '^$$' -bench Qualified -benchtime 3000x -timeout 10m ./node/qualify/ | tee $(BENCHOUT)/qualify.txt
	$(GO) test -run '^$$' -bench 'CatalogueSearch|QualifiedFilter' -benchtime 2000x -timeout 20m ./node/search/ | tee $(BENCHOUT)/search.txt
	$(GO) test -run '^$$' -bench 'CallSetup|SignalLoad' -benchtime 1x -timeout 15m ./node/calls/ | tee $(BENCHOUT)/calls.txt
	$(GO) test -run '^$$' -bench RunDueIdle -benchtime 200x -timeout 5m ./node/escalation/ | tee $(BENCHOUT)/escalation.txt
	$(GO) test -run '^$$' -bench BenchmarkMatch -benchtime 4000x -count 3 -timeout 10m ./node/workers/ | tee $(BENCHOUT)/workers.txt
	$(GO) test -run '^$$' -bench BenchmarkRequestDelivery -benchtime 1x -count 3 -timeout 15m ./testnet/ | tee $(BENCHOUT)/requests.txt
	DIFRONTE_BENCH_POSTGRES=1 $(GO) test -run '^$$' -bench 'CatalogueSearchVsPostgres' -benchtime 400x -timeout 30m ./node/search/ | tee $(BENCHOUT)/search-postgres.txt

MUTATE_TIMEOUT ?= 10m

mutate: ## break the safety-critical checks on purpose (bench/mutate) and check the tests notice; table into docs/TESTING.md (about 30 minutes)
	$(GO) run ./bench/mutate -timeout $(MUTATE_TIMEOUT) -write docs/TESTING.md

GREMLINS    := github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
MUTATE_PKG  ?= schema
MUTATE_TIME ?= 30m

mutate-gremlins: ## operator-level mutations with gremlins (pinned) on one package, MUTATE_PKG=schema, stopped after MUTATE_TIME
	cd $(MUTATE_PKG) && timeout $(MUTATE_TIME) $(GO) run $(GREMLINS) unleash --workers 1 --test-cpu 1 .

e2e-deps: ## install the browser tests' needs: Debian's chromium (as root, if missing) and web/e2e's pinned npm packages
	@if [ ! -x /usr/bin/chromium ]; then \
		DEBIAN_FRONTEND=noninteractive apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	fi
	npm ci --prefix web/e2e

test-e2e: build e2e-deps ## run the browser tests (real node, headless Chromium, axe-core)
	cd web/e2e && node --test --test-concurrency=1

SCREENSHOTS_DIR ?= $(CURDIR)/bench/out/screenshots

screenshots: build e2e-deps ## a PNG of every page of each role (desktop 1366x768, phone 390x844) and of the terminal (1024x600) into SCREENSHOTS_DIR (bench/out/screenshots); not part of make test
	cd web/e2e && SCREENSHOTS_DIR=$(SCREENSHOTS_DIR) node screenshots.js

test-e2e-calls-netns: build e2e-deps ## the browser call test inside a network namespace with only loopback (root)
	ip netns add difronte-calls && ip netns exec difronte-calls ip link set lo up && \
	  (cd web/e2e && ip netns exec difronte-calls node --test --test-concurrency=1 calls.test.js); \
	  rc=$$?; ip netns del difronte-calls; exit $$rc

lint: ## vet and check formatting
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

clean: ## remove build output
	rm -rf bin

testnet: build ## run a local federation with the demo call: web UIs of the authority on 127.0.0.1:8090 and of 3 demo coops on 8091..8093 (clear of make run's 8080); bin/difronte-dev testnet runs bin/difronte's nodes and answers the demo terminal
	./$(DEVBIN) testnet --nodes 3 $(ARGS)
