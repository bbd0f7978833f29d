# hallq — the two commands a newcomer needs are `make run` and `make test`.
# Everything else is reached from them or documented in README.md.

GO        ?= go
DATA      ?= $(CURDIR)/.hallq-data
ADDR      ?= 127.0.0.1:8080
# One set of build flags everywhere, so the (slow, cgo) Fyne build is cached once.
GOFLAGS   := -buildvcs=false
export GOFLAGS

.PHONY: run test bench deps vet fuzz-seed

## run: start the hall on this machine with the embedded sample hall, issuing around the clock.
run: deps
	$(GO) run ./queue-server -data $(DATA) -addr $(ADDR) -open-all-day -demo-central

## test: vet, then every test with the race detector (fuzz seed corpora included).
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

## bench: benchmarks that print figures and ratios to this machine's own limits.
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./... 

## deps: install missing Debian packages and Go modules (idempotent, quick).
deps:
	@./scripts/deps.sh
