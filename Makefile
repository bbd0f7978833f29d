# hallq — the two commands a newcomer needs are `make run` and `make test`.
# Everything else is reached from them or documented in README.md.

GO        ?= go
DATA      ?= $(CURDIR)/.hallq-data
ADDR      ?= 127.0.0.1:8080
# One set of build flags everywhere, so the (slow, cgo) Fyne build is cached once.
GOFLAGS   := -buildvcs=false
export GOFLAGS

.PHONY: run server demo test bench chaos deps dist

## run: the whole hall on this machine — queue-server with the sample hall (open
## around the clock) and its web pages, a stand-in central with bookings and a
## stand-in identity provider (seeded catalogue, calendar and today's bookings),
## the kiosk's devices simulated on pseudo-terminals and the kiosk window wired
## to them. The first
## build compiles Fyne's OpenGL driver (about 4 minutes); later ones take seconds.
run: deps
	$(GO) run ./kiosk/cmd/hall-demo -data $(DATA) -addr $(ADDR)

## server: the queue-server (sample hall, open around the clock) and, as a
## separate program, the stand-in central it forwards to (NATS on 127.0.0.1:4222,
## API on http://127.0.0.1:8090/api/v1/halls). The production server carries no central.
DEMO_BIN  ?= $(DATA)/bin
server: deps
	@mkdir -p $(DEMO_BIN)
	$(GO) build -o $(DEMO_BIN)/queue-server ./queue-server
	$(GO) build -o $(DEMO_BIN)/central ./central
	@$(DEMO_BIN)/central -data $(DATA)/central & cpid=$$!; \
	trap 'kill $$cpid 2>/dev/null; wait $$cpid 2>/dev/null' EXIT INT TERM; \
	$(DEMO_BIN)/queue-server -data $(DATA)/server -addr $(ADDR) -open-all-day -nats nats://127.0.0.1:4222

## demo: the hall server and the stand-in central as in `make server` (in the
## background) plus a load generator playing a hall day through the API at 60x
## (one hall minute a second) for DEMO_TIME; open http://127.0.0.1:8080
## meanwhile. Stops by itself.
DEMO_TIME ?= 4m
demo: deps
	@mkdir -p $(DEMO_BIN)
	$(GO) build -o $(DEMO_BIN)/queue-server ./queue-server
	$(GO) build -o $(DEMO_BIN)/central ./central
	$(GO) build -o $(DEMO_BIN)/loadgen ./tools/cmd/loadgen
	@$(DEMO_BIN)/central -data $(DATA)/central & cpid=$$!; \
	$(DEMO_BIN)/queue-server -data $(DATA)/server -addr $(ADDR) -open-all-day -demo-speed 60 -nats nats://127.0.0.1:4222 & pid=$$!; \
	trap 'kill $$pid $$cpid 2>/dev/null; wait $$pid $$cpid 2>/dev/null' EXIT INT TERM; \
	$(DEMO_BIN)/loadgen -server http://$(ADDR) -token-file $(DATA)/server/bootstrap-token -wait 30s -speed 60 -duration $(DEMO_TIME)

## test: vet (also without cgo: only the kiosk window needs OpenGL) and
## staticcheck, then every test with the race detector (fuzz seed corpora included).
test: deps
	@unformatted=$$(gofmt -l .); [ -z "$$unformatted" ] || { echo "gofmt needed:"; echo "$$unformatted"; exit 1; }
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	$(GO) test -race -count=1 -timeout 15m ./...

## chaos: the long reliability runs behind docs/reliability.md (about 5 minutes):
## 50 kill -9 rounds, 20 disk-full cycles, a 60 s hostile-client attack and the
## attack table (each attack alone, the kiosk's p99 during it), the kiosk
## partition (50 offline tickets, two kiosks, one restarted) and a central outage
## (10k events produced while the central is down).
chaos: deps
	@for run in "HALLQ_CRASH_ROUNDS=50 ./queue-server/server Crash" \
	            "HALLQ_DISKFULL_ROUNDS=20 ./queue-server/server DiskFull|ReadOnly" \
	            "HALLQ_HOSTILE_SECONDS=60 ./queue-server/api Hostile" \
	            "HALLQ_CHAOS=1 ./kiosk/app Partition" \
	            "HALLQ_CHAOS=1 ./queue-server/forward CentralDown|Killed|WhileHallDown"; do \
	  set -- $$run; echo "== $$1 go test -run '$$3' $$2"; \
	  env $$1 $(GO) test -count=1 -timeout 10m -v -run "$$3" $$2 > .chaos.log 2>&1; rc=$$?; \
	  grep -E '^(--- |\s+\w+_test.go|ok|FAIL)' .chaos.log; rm -f .chaos.log; \
	  [ $$rc -eq 0 ] || exit $$rc; \
	done

## bench: benchmarks that print figures and ratios to this machine's own limits.
bench: deps
	$(GO) test -p 1 -run '^$$' -bench . -benchtime 1x -timeout 30m ./...

## deps: install missing Debian packages and Go modules (idempotent, quick).
deps:
	@./scripts/deps.sh

## dist: release binaries in dist/ (static, stamped) and dist/SHA256SUMS.
# Override the stamp with e.g. `make dist VERSION=1.2.0`. Every target is built
# with the same flags (CGO_ENABLED=0, -trimpath), so the compile cache is
# shared between targets and with the deploy tests; only the link step sees
# the stamp. `go test ./deploy` runs linux/amd64 natively and linux/arm64 and
# linux/loong64 under qemu-user-static (README: Platforms); windows/amd64 is
# cross-built only.
DIST_PLATFORMS := linux/amd64 linux/arm64 linux/loong64 windows/amd64
DIST_COMMANDS  := queue-server:./queue-server central:./central
# The kiosk (Fyne, cgo + OpenGL) needs a C cross toolchain and the target's
# GL/X11 libraries: linux/amd64 natively, windows/amd64 with mingw-w64; for
# arm64 and loong64 kiosks build on the kiosk's own OS (see README: Platforms).
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT     ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
STAMP       = -X hallq/queue-server/server.Version=$(VERSION) -X hallq/queue-server/server.Commit=$(COMMIT) -X hallq/queue-server/server.BuildDate=$(BUILD_DATE)

dist:
	rm -rf dist && mkdir -p dist
	@set -e; ldflags='-s -w $(STAMP)'; \
	for p in $(DIST_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ "$$os" != windows ] || ext=.exe; \
		for c in $(DIST_COMMANDS); do \
			out=dist/$${c%%:*}-$$os-$$arch$$ext; echo "dist: $$out"; \
			CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$$ldflags" -o $$out $${c#*:}; \
		done; \
	done
	@# the kiosk needs cgo (Fyne/OpenGL): linux/amd64 natively, windows/amd64 with mingw-w64;
	@# no_emoji leaves out Fyne's emoji font, which the kiosk never draws (≈ 10 MB resident)
	$(GO) build -trimpath -tags no_emoji -ldflags "-s -w -X main.Version=$(VERSION)" -o dist/kiosk-linux-amd64 ./kiosk
	@./scripts/deps.sh dist
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
		$(GO) build -trimpath -tags no_emoji -ldflags "-s -w -H windowsgui -X main.Version=$(VERSION)" -o dist/kiosk-windows-amd64.exe ./kiosk
	cd dist && sha256sum -- * > SHA256SUMS
	@cat dist/SHA256SUMS
