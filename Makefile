# The two commands of the README:
#   make demo   runs the demo application on http://127.0.0.1:8080
#   make test   runs every test with the race detector, then each fuzz target briefly

GO        ?= go
FUZZTIME  ?= 10s

# Every module of the workspace (go.work): the root and each store with a
# driver of its own, so a memory-store user never downloads a driver.
PKGS = ./... ./store/sqlite/... ./store/redis/... ./store/postgres/... ./store/mysql/... ./store/memcached/... ./token/... ./cmd/keycard/... ./reliability/... ./attack/... ./e2e/... ./contrib/prometheus/... ./contrib/gin/... ./contrib/echo/...

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

.PHONY: test unit vet fuzz demo bench

test: vet unit fuzz

vet:
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet $(PKGS)

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
