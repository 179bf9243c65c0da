# Arbiter's build. `make run` starts the server, `make test` runs every test.
# Tools are pinned: protoc-gen-go by go.mod's tool directive, buf and
# protoc-gen-es by client-web/package-lock.json (installed with npm ci).

GO       ?= go
NPM      ?= npm
WEB      := client-web
BUF      := $(WEB)/node_modules/.bin/buf
NODE_OK  := $(WEB)/node_modules/.install-stamp
GOFILES   = $(shell git ls-files --cached --others --exclude-standard '*.go')
WEBSRC    = $(shell find $(WEB)/src -type f) $(WEB)/index.html $(WEB)/dashboard.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json
WEBDIST  := $(WEB)/dist/index.html

.PHONY: all run run-cluster test bench proto proto-check lint fmt-check vet gotest tools clean web chromium web-test e2e web-bench bench-go bench-load bench-cluster

all: test

## run: build the web client, then start the server (http://localhost:8080)
run: web
	$(GO) run ./cmd/arbiter

## run-cluster: three nodes on this machine over the first one's embedded NATS: play at http://localhost:8080 (8081, 8082); dashboards on 9090-9092; Ctrl-C stops all
run-cluster: web
	$(GO) build -o bench-out/arbiter ./cmd/arbiter
	@trap 'kill -INT $$(jobs -p) 2>/dev/null; wait' INT TERM; \
	s=run-cluster-dev-secret-not-for-production; \
	bench-out/arbiter -addr 127.0.0.1:8080 -admin-addr 127.0.0.1:9090 -public-url http://localhost:8080 -node-id n1 -secret $$s -nats-embed 127.0.0.1:4222 & \
	sleep 1; \
	bench-out/arbiter -addr 127.0.0.1:8081 -admin-addr 127.0.0.1:9091 -public-url http://localhost:8081 -node-id n2 -secret $$s -nats nats://127.0.0.1:4222 & \
	bench-out/arbiter -addr 127.0.0.1:8082 -admin-addr 127.0.0.1:9092 -public-url http://localhost:8082 -node-id n3 -secret $$s -nats nats://127.0.0.1:4222 & \
	wait

## test: every check CI runs
test: lint proto-check gotest web-test e2e

## tools: install the pinned npm tools (buf, protoc-gen-es)
tools: $(NODE_OK)

$(NODE_OK): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && $(NPM) ci --no-audit --no-fund
	touch $@

## proto: regenerate Go and TypeScript from proto/
proto: $(NODE_OK)
	$(BUF) generate

## proto-check: regenerated code must match what is committed
proto-check: proto
	@git diff --exit-code -- proto $(WEB)/src/gen || { echo "generated code is stale: run make proto and commit"; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- proto $(WEB)/src/gen); \
	if [ -n "$$untracked" ]; then echo "untracked generated files: $$untracked"; exit 1; fi

## lint: gofmt, go vet, buf lint, buf format
lint: fmt-check vet $(NODE_OK)
	$(BUF) lint
	$(BUF) format --diff --exit-code

fmt-check:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## gotest: Go tests with the race detector
gotest:
	$(GO) test -race -count=1 ./...

## bench: micro-benchmarks, then the standard load scenario (figures go to docs/BENCHMARKS.md)
bench: bench-go bench-load

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-load: server and bots as separate processes: floor vs Arbiter at 400 and 800 bots, then capacity (about 10 min)
bench-load:
	bash loadtest/bench.sh

## bench-cluster: match time on one node vs a three-node cluster (embedded NATS), allocation round trip (about 2 min)
bench-cluster:
	bash loadtest/bench-cluster.sh

## web: build the browser client and the dashboard into client-web/dist (served at / and at /dashboard/ on the admin address)
web: $(WEBDIST)

$(WEBDIST): $(NODE_OK) $(WEBSRC)
	cd $(WEB) && ./node_modules/.bin/vite build

## chromium: install Debian's chromium for the browser tests (never a downloaded browser)
chromium:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

## web-test: typecheck the client and run its unit tests
web-test: $(NODE_OK)
	cd $(WEB) && ./node_modules/.bin/tsc --noEmit -p tsconfig.json
	cd $(WEB) && ./node_modules/.bin/tsc --noEmit -p tsconfig.node.json
	cd $(WEB) && ./node_modules/.bin/vitest run

## e2e: the browser client in headless Chromium against the real server
e2e: web chromium
	cd $(WEB) && ./node_modules/.bin/vitest run --config vitest.e2e.config.ts

## web-bench: browser client figures for docs/BENCHMARKS.md
web-bench: web chromium
	cd $(WEB) && ./node_modules/.bin/vitest run --config vitest.bench.config.ts

clean:
	rm -rf $(WEB)/node_modules $(WEB)/dist
