# cpntrain — build, test, benchmark. See README.md.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
export CGO_ENABLED ?= 0
CPNTRAIN_DATA ?= $(abspath ../shared/datasets)
export CPNTRAIN_DATA
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# Fuzz runs are count-based: a timed run (-fuzztime=10s) can end in a
# spurious "context deadline exceeded" failure in Go 1.26 (golang/go#75804;
# seen in CI on FuzzUnpickle). Raise FUZZCOUNT for a longer local session.
FUZZCOUNT ?= 20000x

.PHONY: setup setup-onnx build test test-short test-long test-race oracle fuzz bench lint clean mutate defects

## setup: download modules and build bin/cpntrain
setup:
	go mod download
	$(MAKE) build

## setup-onnx: ONNX Runtime (npm onnxruntime-node, CPU only) for the
## export cross-check of make test; without it those checks skip
setup-onnx:
	cd scripts/onnx && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund

## build: the CLI binary, pure Go
build:
	go build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/cpntrain ./cmd/cpntrain

## test: unit, gradient, learning and determinism tests; the gorgonia
## cross-check (nested module); short fuzz runs of the parsers
test:
	go vet ./...
	go test -count=1 -timeout 30m ./...
	$(MAKE) oracle
	$(MAKE) fuzz

## test-short: the unit tests only
test-short:
	go test -short ./...

## test-long: the long learning bars (CPNTRAIN_LONG=1): DQN and PPO on
## CartPole (5 seeds each), every trainer on every known-answer environment
## (rl/smoke, 5 seeds); about 8 minutes on 2 cores (README, "Tests").
## .ci/run runs it when the time budget allows.
LONG_PKGS := ./rl/dqn ./rl/ppo ./rl/smoke
test-long:
	CPNTRAIN_LONG=1 go test -count=1 -timeout 40m -run 'CartPole|Smoke' $(LONG_PKGS)

## test-race: the race detector over the concurrent code paths (parallel
## environment stepping, sharded updates, threaded kernels, parallel data
## loading). Needs cgo and a C compiler.
# All verified race-clean on 2026-12-07 (README, "Tests").
RACE_PKGS := ./nn/kernel ./rl/ppo ./rl ./rl/actorcritic ./rl/pg ./rl/dqn ./train/rlmsrun ./models/rlms ./datasets/nasbench201 ./train/decimarun ./models/decima ./rl/envs/spark ./internal/serve ./train/serverun
test-race:
	CGO_ENABLED=1 go test -race -short -count=1 -timeout 40m $(RACE_PKGS)

oracle:
	cd internal/oracle && go test -count=1 ./...

fuzz:
	go test -run='^$$' -fuzz='^FuzzLoad$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./checkpoints
	go test -run='^$$' -fuzz='^FuzzReadEvents$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./train/runlog
	go test -run='^$$' -fuzz='^FuzzReadPT$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./datasets/nasbench201
	go test -run='^$$' -fuzz='^FuzzUnpickle$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./datasets/nasbench201
	go test -run='^$$' -fuzz='^FuzzParseArch$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./datasets/nasbench201
	go test -run='^$$' -fuzz='^FuzzRESTInfer$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./internal/serve
	go test -run='^$$' -fuzz='^FuzzRawContents$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./internal/serve
	go test -run='^$$' -fuzz='^FuzzObservation$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./train/serverun
	go test -run='^$$' -fuzz='^FuzzCFRRL$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./datasets/topology
	go test -run='^$$' -fuzz='^FuzzGML$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./datasets/topology
	go test -run='^$$' -fuzz='^FuzzTM$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./datasets/topology
	go test -run='^$$' -fuzz='^FuzzSolve$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./internal/lp
	go test -run='^$$' -fuzz='^FuzzParseConfig$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./rl/envs/cluster
	go test -run='^$$' -fuzz='^FuzzRestore$$' -fuzztime=$(FUZZCOUNT) -fuzzminimizetime=2s ./rl/envs/cluster

## bench: the engine table (with PyTorch side by side when available) and
## the kernel micro-benchmarks
bench: build
	./bin/cpntrain bench engine
	go test -run='^$$' -bench=. -benchmem ./nn/kernel

## mutate: mutation testing of one package, PKG=./rl/dqn (gremlins v0.5.0,
## installed on first use); prints the test efficacy and the surviving
## mutants. SHORT=1 runs the package's tests with -short; WORKERS=N.
PKG ?=
mutate:
	@test -n "$(PKG)" || { echo "usage: make mutate PKG=./rl/dqn"; exit 2; }
	./scripts/mutate.sh $(PKG)

## lint: formatting, vet, and the dependency rules of docs/design.md
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./...
	./scripts/lint-deps.sh

clean:
	rm -rf bin

## defects: re-plant the known defects of scripts/defects.txt one at a
## time (go test -overlay; the tree is untouched) and check that each
## makes its package's tests fail. ONLY=substring selects some.
ONLY ?=
defects:
	go run ./scripts/plantdefects -only "$(ONLY)"
