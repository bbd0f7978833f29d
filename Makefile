# hallq — the two commands a newcomer needs are `make run` and `make test`.
# Everything else is reached from them or documented in README.md.

GO        ?= go
DATA      ?= $(CURDIR)/.hallq-data
ADDR      ?= 127.0.0.1:8080
# One set of build flags everywhere, so the (slow, cgo) Fyne build is cached once.
GOFLAGS   := -buildvcs=false
export GOFLAGS

.PHONY: run test bench deps vet fuzz-seed demo chaos

## run: start the hall on this machine with the embedded sample hall, issuing around the clock.
run: deps
	$(GO) run ./queue-server -data $(DATA) -addr $(ADDR) -open-all-day -demo-central

## demo: the hall as in `make run` (in the background) plus a load generator
## playing a hall day through the API at 60x (one hall minute a second) for
## DEMO_TIME; open http://127.0.0.1:8080 meanwhile. Stops by itself.
DEMO_TIME ?= 4m
DEMO_BIN  ?= $(DATA)/bin
demo: deps
	@mkdir -p $(DEMO_BIN)
	$(GO) build -o $(DEMO_BIN)/queue-server ./queue-server
	$(GO) build -o $(DEMO_BIN)/loadgen ./queue-server/cmd/loadgen
	@$(DEMO_BIN)/queue-server -data $(DATA) -addr $(ADDR) -open-all-day -demo-central & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null' EXIT INT TERM; \
	$(DEMO_BIN)/loadgen -server http://$(ADDR) -token-file $(DATA)/bootstrap-token -wait 30s -speed 60 -duration $(DEMO_TIME)

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
