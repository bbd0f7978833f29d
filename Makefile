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

## chaos: the long reliability runs behind docs/reliability.md (about 5 minutes):
## 50 kill -9 rounds, 20 disk-full cycles, a 60 s hostile-client attack.
chaos: deps
	@for run in "HALLQ_CRASH_ROUNDS=50 ./queue-server/server Crash" \
	            "HALLQ_DISKFULL_ROUNDS=20 ./queue-server/server DiskFull|ReadOnly" \
	            "HALLQ_HOSTILE_SECONDS=60 ./queue-server/api Hostile"; do \
	  set -- $$run; echo "== $$1 go test -run '$$3' $$2"; \
	  env $$1 $(GO) test -count=1 -timeout 10m -v -run "$$3" $$2 > .chaos.log 2>&1; rc=$$?; \
	  grep -E '^(--- |\s+\w+_test.go|ok|FAIL)' .chaos.log; rm -f .chaos.log; \
	  [ $$rc -eq 0 ] || exit $$rc; \
	done

## bench: benchmarks that print figures and ratios to this machine's own limits.
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./... 

## deps: install missing Debian packages and Go modules (idempotent, quick).
deps:
	@./scripts/deps.sh
