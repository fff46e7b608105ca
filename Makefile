# The two commands of the README:
#   make demo   runs the demo application on http://127.0.0.1:8080
#   make test   checks formatting, vet, staticcheck and the static
#               security checks (internal/cmd/seccheck, the dependency
#               denylist among them), runs govulncheck, each fuzz target
#               for a bounded number of executions (FUZZTIME; a count, not
#               a duration, since a duration can end a run mid-execution
#               with "context deadline exceeded"), then every test with
#               the race detector, ending with "N passed, N failed, N
#               skipped"
#
# Nothing but Go and make is needed on PATH: the tools (staticcheck,
# govulncheck, gotestsum, benchstat) are pinned in tools/go.mod and built
# into .tools/ by the go command from the Go module proxy.

GO        ?= go
FUZZTIME  ?= 200000x
TOOLS     := $(CURDIR)/.tools

# Every module of the workspace (go.work): the root and each store with a
# driver of its own, so a memory-store user never downloads a driver.
PKGS = ./... ./store/sqlite/... ./store/redis/... ./store/postgres/... ./store/mysql/... ./store/memcached/... ./store/mongodb/... ./token/... ./oidc/... ./tests/oidc/... ./cmd/keycard/... ./tests/attack/... ./tests/reliability/... ./tests/e2e/... ./contrib/prometheus/... ./contrib/otel/... ./contrib/gin/... ./contrib/echo/... ./bench/... ./examples/...

# package:FuzzTarget pairs run by `make fuzz`.
FUZZ_TARGETS = \
	.:FuzzCookie \
	.:FuzzValues \
	.:FuzzCodecFastPaths \
	.:FuzzKeyFile \
	.:FuzzLocalPath \
	./store:FuzzDecodeRecord \
	./internal/sealed:FuzzOpen \
	./csrf:FuzzVerify \
	./csrf:FuzzHandlerToken \
	./csrf:FuzzVisitorToken \
	./store/memcached:FuzzDecodeEntry \
	./token:FuzzVerify \
	./token:FuzzRefreshToken \
	./token:FuzzReadRefreshRequest \
	./oidc:FuzzReturnPath

.PHONY: test tools tidy unit vet lint vulncheck fuzz demo bench soak

# The order puts the test summary last, where CI reads it; -k runs the
# tests, and so prints their "N passed, N failed, N skipped" line, even
# when a check before them failed (make still fails).
test:
	@$(MAKE) --no-print-directory -k vet lint vulncheck fuzz unit

# The pinned tools, built from tools/go.mod (outside the workspace, so
# their dependencies never touch the library's). The go command's cache
# makes this a second's work after the first time.
tools:
	@cd tools && GOWORK=off $(GO) build -o $(TOOLS)/ tool

vet:
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet $(PKGS)

# staticcheck with the doc-comment checks (staticcheck.conf), every module
# tidy, and the repository's static security checks (internal/cmd/seccheck:
# math/rand, constant-time comparisons, unverified JWTs, the banned modules
# and version floors over every module's files and graph, the toolchain).
lint: tools tidy
	$(TOOLS)/staticcheck $(PKGS)
	$(GO) run ./internal/cmd/seccheck -go='$(GO)' .

# Every module's go.mod and go.sum are what "go mod tidy" makes them.
tidy:
	@for d in $$($(GO) work edit -json | sed -n 's/.*"DiskPath": "\(.*\)".*/\1/p') tools; do \
		(cd $$d && GOWORK=off $(GO) mod tidy -diff >/dev/null 2>&1) || { echo "tidy: $$d needs go mod tidy:"; (cd $$d && GOWORK=off $(GO) mod tidy -diff); exit 1; }; \
	done; echo "tidy: every module is tidy"

# govulncheck needs the Go vulnerability database (vuln.go.dev). Where the
# network does not reach it, say so rather than pass silently or fail.
vulncheck: tools
	@if $(TOOLS)/govulncheck -mode=source -show=version $(PKGS) >govulncheck.out 2>&1; then \
		tail -n 3 govulncheck.out; \
	elif grep -q "fetching vulnerabilities" govulncheck.out 2>/dev/null; then \
		echo "vulncheck: SKIPPED: the vulnerability database is unreachable from this machine"; \
	else cat govulncheck.out; exit 1; fi

# Every test, with the race detector, through gotestsum: a line per
# package, the output of failed and skipped tests at the end, and last
# "N passed, N failed, N skipped" (tools/summary).
unit: tools
	$(TOOLS)/gotestsum --format pkgname --format-hide-empty-pkg --post-run-command ./tools/summary -- -race -count=1 $(PKGS)

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done

demo:
	$(GO) run ./cmd/keycard demo

# In-process benchmarks, 10 runs, summarised by benchstat.
bench: tools
	$(GO) test -run='^$$' -bench=. -benchmem -count=10 . | tee bench.txt
	$(TOOLS)/benchstat bench.txt

# A bounded soak (about 2 minutes): steady load with expiry churn, heap and
# goroutine counts sampled and required to stay flat. Not part of `test`.
soak:
	KEYCARD_SOAK=1 $(GO) test -race -count=1 -run TestSoak -v ./tests/attack/... ./tests/reliability/...
