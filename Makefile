# shiftflow — the two commands are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
NRP_DIR ?= ../shared/benchmarks/nrp/instances
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BUILD_TIME ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -X github.com/shiftflow/shiftflow/internal/version.Version=$(VERSION) \
           -X github.com/shiftflow/shiftflow/internal/version.Commit=$(COMMIT) \
           -X github.com/shiftflow/shiftflow/internal/version.BuildTime=$(BUILD_TIME)
TEST_TIMEOUT ?= 20m

.PHONY: run test build generate check-generated vet fmt-check ci migrate-up migrate-down migrate-status \
        bench bench-solver bench-cbc postgres-binaries clean

## run: start everything locally (private Postgres under .data/pg when needed, embedded NATS)
run: postgres-binaries build
	./bin/shiftflow dev

## test: the whole test suite with the race detector (needs nothing running)
test: postgres-binaries
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...

build:
	@mkdir -p bin
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/shiftflow ./cmd/shiftflow

postgres-binaries:
	@scripts/ensure-postgres.sh

## generate: regenerate sqlc code from queries/ and db/migrations/
generate:
	$(GO) tool sqlc generate

## check-generated: fail when the committed sqlc code is stale
check-generated:
	$(GO) tool sqlc diff

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## ci: what .ci/run does on a clean clone
ci: check-generated fmt-check vet test

## migrate-*: the seed manual's commands (DATABASE_URL or DB_* select the database)
migrate-up:
	$(GO) run ./cmd/shiftflow migrate up
migrate-down:
	$(GO) run ./cmd/shiftflow migrate down
migrate-status:
	$(GO) run ./cmd/shiftflow migrate status

## bench: Go benchmarks of the publish path and the worker loop
bench: postgres-binaries
	$(GO) test -run '^$$' -bench . -benchtime 3s ./events ./workers

## bench-solver: the Curtois & Qu benchmark (skipped when the instances are absent)
bench-solver:
	$(GO) run ./cmd/shiftflow bench solver --dir $(NRP_DIR) --out docs/benchmarks

## bench-cbc: CBC (coinor-cbc) on a direct IP model of the same instances, added to the solver table
bench-cbc:
	$(GO) run ./cmd/shiftflow bench cbc --dir $(NRP_DIR) --out docs/benchmarks

clean:
	rm -rf bin
