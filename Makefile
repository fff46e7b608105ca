# The two commands of the README:
#   make demo   runs the demo application on http://127.0.0.1:8080
#   make test   runs every test with the race detector, then each fuzz target
#               for a bounded number of executions (FUZZTIME; a count, not a
#               duration, since a duration can end a run mid-execution with
#               "context deadline exceeded")

GO        ?= go
FUZZTIME  ?= 200000x

# Every module of the workspace (go.work): the root and each store with a
# driver of its own, so a memory-store user never downloads a driver.
PKGS = ./... ./store/sqlite/... ./store/redis/... ./store/postgres/... ./store/mysql/... ./store/memcached/... ./token/... ./cmd/keycard/... ./reliability/... ./attack/... ./e2e/... ./contrib/prometheus/... ./contrib/gin/... ./contrib/echo/... ./contrib/chi/... ./bench/...

# package:FuzzTarget pairs run by `make fuzz`.
FUZZ_TARGETS = \
	.:FuzzCookie \
	.:FuzzValues \
	./store:FuzzDecodeRecord \
	./sealed:FuzzOpen \
	./csrf:FuzzVerify \
	./csrf:FuzzHandlerToken \
	./store/memcached:FuzzDecodeEntry \
	./token:FuzzVerify \
	./token:FuzzRefreshToken

STATICCHECK ?= staticcheck
GOVULNCHECK ?= govulncheck

.PHONY: test unit vet lint vulncheck fuzz demo bench soak

test: vet lint unit fuzz vulncheck

vet:
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet $(PKGS)

# staticcheck with the doc-comment checks (staticcheck.conf), and the
# dependency denylist.
lint:
	$(STATICCHECK) $(PKGS)
	./.ci/deps-check

# govulncheck needs the Go vulnerability database (vuln.go.dev). Where the
# network does not reach it, say so rather than pass silently or fail.
vulncheck:
	@if $(GOVULNCHECK) -version >/dev/null 2>&1 && $(GOVULNCHECK) -mode=source -show=version $(PKGS) >govulncheck.out 2>&1; then \
		tail -n 3 govulncheck.out; \
	elif grep -q "fetching vulnerabilities" govulncheck.out 2>/dev/null; then \
		echo "vulncheck: SKIPPED: the vulnerability database is unreachable from this machine"; \
	else cat govulncheck.out; exit 1; fi

unit:
	$(GO) test -race -count=1 $(PKGS)

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done

demo:
	$(GO) run ./cmd/keycard demo

bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=10 . | tee bench.txt

# A bounded soak (about 2 minutes): steady load with expiry churn, heap and
# goroutine counts sampled and required to stay flat. Not part of `test`.
soak:
	KEYCARD_SOAK=1 $(GO) test -race -count=1 -run TestSoak -v ./reliability/
