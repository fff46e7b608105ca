#!/usr/bin/env bash
# Runs every comparison of Keycard with its peers and writes the results:
#
#   bench/results/results.md   the tables (in process, HTTP, round trips, scale, targets)
#   docs/bench.png             the chart of the main comparisons
#
#   bench/run.sh          everything (about 23 minutes on 2 CPUs)
#   bench/run.sh http     only the HTTP workloads (and the report and chart)
#
# Phases: in-process `go test -bench` (with benchstat), store round trips per
# request and Redis memory per session for every Redis-backed server, the
# HTTP workloads on loopback for every server (Go, and express-session on
# Node), and the scale measurements. Everything listens on 127.0.0.1 only;
# Redis is a private redis-server on a free port, started here and stopped
# by PID, so no other process's traffic enters the counts. Every load run
# is bounded.
#
# The HTTP workloads, each with CONNS connections:
#
#   read-spread   GET /read, every connection on a logged-in session of its own
#   read-hot      GET /read, every connection on one logged-in session
#   write-spread  GET /write (an increment), a session per connection
#   write-hot     GET /write, every connection on one session: the writes race
#   write-hot-2   write-hot over two instances of keycard-redis on one Redis
#                 (two benchserver processes, one key prefix): connections
#                 alternate between them, so their compare-and-sets conflict
#                 across processes. keycard-redis only (no row for the other
#                 servers); both instances on SERVER_CPU, CPU/request summed
#   login         GET /login with a session (a renewal), a session per connection
#
# Each reports requests/s, p50, p99 and the server's CPU time per request
# (from /proc, which a busy machine inflates less than it cuts a server's
# rate); the write workloads also count lost
# updates (the increments acknowledged with 200 that the session did not
# keep). With taskset and 2 or more CPUs, each server runs on CPU
# SERVER_CPU and the load generator and Redis on LOAD_CPU, so a server's
# rate is what one core gives it.
#
# Knobs:
#
#   SERVERS="bare keycard-redis …"   the servers (default: all; see servers= below)
#   WORKLOADS="write-hot …"          the HTTP workloads (default: all six)
#   ROUNDS=3          rounds over the workloads and servers (medians are reported)
#   DUR=3s            measured seconds per HTTP run, after WARMUP
#   WARMUP=500ms      warm-up per HTTP run
#   CONNS=32          connections per HTTP run
#   PIN=1             pin servers and load with taskset (0: don't)
#   SERVER_CPU=0 LOAD_CPU=1
#   COUNT=10          in-process passes over the suite (benchstat wants >= 10)
#   BENCHTIME=200ms   time per in-process run
#   SCALE_N=1000000   sessions loaded into the memory store and into Redis
#   SWEEP_MAX=1000000 the most live sessions of the memory store's sweep measurement
#   BENCH_SQL=0       1 also serves Keycard on PostgreSQL and MySQL, if reachable
#   OUT=results       where the raw files and results.md go
#   PNG=../docs/bench.png   the chart (run.sh http: OUT/bench.png unless set)
#
# The hot-session write alone, Keycard against scs on Redis (about 30 s):
#
#   WORKLOADS=write-hot SERVERS="keycard-redis scs-redis" bench/run.sh http
#
# The same on SQLite, each server on a database file of its own under a
# temporary directory, opened with the same driver and settings:
#
#   WORKLOADS=write-hot SERVERS="keycard-sqlite scs-sqlite" bench/run.sh http
#
# Keycard's hot-session write over two instances on one Redis, against one:
#
#   WORKLOADS="write-hot write-hot-2" SERVERS=keycard-redis bench/run.sh http
set -euo pipefail
cd "$(dirname "$0")"

MODE=${1:-all}
case $MODE in all|http) ;; *) echo "usage: run.sh [http]" >&2; exit 2 ;; esac
COUNT=${COUNT:-10}
BENCHTIME=${BENCHTIME:-200ms}
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-3s}
WARMUP=${WARMUP:-500ms}
CONNS=${CONNS:-32}
WORKLOADS=${WORKLOADS:-read-spread read-hot write-spread write-hot write-hot-2 login}
PIN=${PIN:-1}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
SCALE_N=${SCALE_N:-1000000}
BENCH_SQL=${BENCH_SQL:-0}
OUT=${OUT:-results}
# A partial run (http) leaves the published chart alone unless asked.
PNG_DEFAULT=../docs/bench.png
[ "${1:-all}" = http ] && PNG_DEFAULT=$OUT/bench.png
PNG=${PNG:-$PNG_DEFAULT}

started=$(date +%s)
phase() { echo "== $(( $(date +%s) - started ))s: $*"; }

# bare answers the routes with no session library (the ceiling);
# bare-headers is bare whose /read and /write answers carry Vary: Cookie and
# Cache-Control: no-store, as a session library's personal responses must
# (the ceiling for such a library); bare-context is bare-headers behind a
# middleware that puts 512 bytes of per-request state (a Session's size) in
# a copy of the request's context, as any context-passing middleware does;
# bare-redisget is bare plus one Redis GET per /read (the floor of a Redis
# read), and bare-context-redisget that behind bare-context's middleware,
# with the cache headers on /read (the floor of a Redis read by a session
# middleware).
all_servers=(bare bare-headers bare-context keycard-memory scs-memory gorilla-cookie express-memory keycard-sqlite scs-sqlite bare-redisget bare-context-redisget keycard-redis scs-redis gorilla-redis express-redis)
read -r -a servers <<<"${SERVERS:-${all_servers[*]}}"
node_needed=0
for name in "${servers[@]}"; do
  case " ${all_servers[*]} " in *" $name "*) ;; *) echo "run.sh: unknown server $name" >&2; exit 2 ;; esac
  case $name in express-*) node_needed=1 ;; esac
done
for w in $WORKLOADS; do
  case $w in read-spread|read-hot|write-spread|write-hot|write-hot-2|login) ;; *) echo "run.sh: unknown workload $w" >&2; exit 2 ;; esac
done
tools=(go redis-server redis-cli)
[ "$node_needed" = 1 ] && tools+=(node npm)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is required" >&2; exit 1; }
done

# on CPU CMD...: runs CMD on that CPU when pinning is on.
srvpin=() loadpin=()
if [ "$PIN" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  srvpin=(taskset -c "$SERVER_CPU") loadpin=(taskset -c "$LOAD_CPU")
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/*.jsonl "$OUT"/*.txt "$OUT"/*.md
BIN=$(mktemp -d)
TMP=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$BIN" "$TMP"
}
trap cleanup EXIT

# freeport prints a loopback TCP port that nothing listens on.
freeport() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}

# start NAME CMD...: runs a server in the background and remembers its PID.
declare -A spid # server name to PID
start() {
  local name=$1; shift
  "$@" >"$TMP/$name.log" 2>&1 &
  pids+=($!)
  spid[$name]=$!
}

# startredis VAR: starts a private redis-server and sets VAR to its address.
startredis() {
  local port dir
  port=$(freeport); dir=$(mktemp -d -p "$TMP")
  start "redis-$port" "${loadpin[@]}" redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --protected-mode yes --dir "$dir"
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  printf -v "$1" '127.0.0.1:%s' "$port"
}

phase "machine"
{
  echo "- CPU: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), shared with other work: load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
  echo "- Memory: $(free -g | awk '/Mem:/ {print $2}') GiB; kernel $(uname -r)"
  echo "- $(go version | cut -d' ' -f3-4); Node $(node --version); $(redis-server --version | cut -d' ' -f1-3)"
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); Keycard at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- .. 2>/dev/null || echo ', with uncommitted changes')"
  if [ ${#srvpin[@]} -gt 0 ]; then
    echo "- Servers pinned to CPU $SERVER_CPU, the load generator and Redis to CPU $LOAD_CPU (taskset); $CONNS connections per HTTP run, $WARMUP warm-up and $DUR measured, $ROUNDS rounds"
  else
    echo "- Nothing pinned; $CONNS connections per HTTP run, $WARMUP warm-up and $DUR measured, $ROUNDS rounds"
  fi
} >"$OUT/machine.txt"
cat "$OUT/machine.txt"

phase "build"
go build -o "$BIN/" ./cmd/benchserver ./cmd/peerserver ./cmd/loadgen ./cmd/scale ./cmd/report
if [ "$node_needed" = 1 ] && { [ ! -f node/node_modules/.package-lock.json ] || [ node/package-lock.json -nt node/node_modules/.package-lock.json ]; }; then
  (cd node && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "$MODE" = all ]; then
phase "in process: go test -bench ($COUNT passes, $BENCHTIME each)"
# COUNT passes over the whole suite rather than -count=COUNT, which would
# repeat each benchmark back to back: interleaved, every implementation
# sees the same phases of the machine's other load.
go test -c -o "$BIN/bench.test" .
for i in $(seq "$COUNT"); do
  "$BIN/bench.test" -test.run='^$' -test.bench=. -test.benchmem -test.benchtime="$BENCHTIME" 2>>"$OUT/inproc.log"
done | tee "$OUT/inproc.txt" | grep -E '^Benchmark(Read|Write)' | awk '{printf "    %-48s %10s ns/op %6s allocs/op\n", $1, $3, $(NF-1)}' || true
# Columns are libraries with Keycard as the base, rows are paths and
# backends; the bare handler is in results.md's own tables.
benchstat=(benchstat)
command -v benchstat >/dev/null || benchstat=(go run golang.org/x/perf/cmd/benchstat@latest)
"${benchstat[@]}" -col '/lib@(keycard scs gorilla bare+get)' \
  -filter '.unit:(sec/op OR B/op OR allocs/op)' "$OUT/inproc.txt" >"$OUT/benchstat.txt"
fi

phase "servers"
startredis REDIS
P="keycard-bench-$$:"
declare -A port
redis_servers=()
for name in "${servers[@]}"; do
  case $name in keycard-redis|scs-redis|gorilla-redis|express-redis) redis_servers+=("$name") ;; esac
done
# Servers listen on port 0 and print the address the kernel gave them.
addr=127.0.0.1:0
instances=("${servers[@]}")
# write-hot-2's second instance of keycard-redis: same Redis, same prefix.
if [[ " $WORKLOADS " == *" write-hot-2 "* && " ${servers[*]} " == *" keycard-redis "* ]]; then
  instances+=(keycard-redis-2)
fi
pg=${KEYCARD_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
if [ "$BENCH_SQL" = 1 ]; then
  table="keycard_bench_$$"
  if pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
    servers+=(keycard-postgres) instances+=(keycard-postgres)
  fi
  if (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; then
    servers+=(keycard-mysql) instances+=(keycard-mysql)
  fi
fi
# launch starts every server instance and waits until each answers.
launch() {
  local name
  for name in "${instances[@]}"; do
    rm -f "$TMP/$name.log"
    case $name in
      keycard-memory) start "$name" "${srvpin[@]}" "$BIN/benchserver" -addr "$addr" -store memory ;;
      keycard-sqlite) start "$name" "${srvpin[@]}" "$BIN/benchserver" -addr "$addr" -store "sqlite:$TMP/sessions.db" ;;
      scs-sqlite)     start "$name" "${srvpin[@]}" "$BIN/peerserver" -impl "$name" -addr "$addr" -sqlite "$TMP/scs-sessions.db" ;;
      keycard-redis|keycard-redis-2)
                      start "$name" "${srvpin[@]}" "$BIN/benchserver" -addr "$addr" -store "redis://$REDIS/0?prefix=${P}keycard:" ;;
      keycard-postgres) start "$name" "${srvpin[@]}" "$BIN/benchserver" -addr "$addr" -store "$pg" -table "$table" -drop ;;
      keycard-mysql)  start "$name" "${srvpin[@]}" "$BIN/benchserver" -addr "$addr" -store "mysql://root@127.0.0.1:3306/test" -table "$table" -drop ;;
      express-memory) start "$name" "${srvpin[@]}" node node/server.js --port 0 --store memory ;;
      express-redis)  start "$name" "${srvpin[@]}" node node/server.js --port 0 --store "redis://$REDIS" --prefix "${P}express:" ;;
      *)              start "$name" "${srvpin[@]}" "$BIN/peerserver" -impl "$name" -addr "$addr" -redis "$REDIS" -prefix "$P" ;;
    esac
  done
  for name in "${instances[@]}"; do
    port[$name]=
    for _ in $(seq 100); do
      port[$name]=$(sed -n 's|.* on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$TMP/$name.log" | head -n 1)
      [ -n "${port[$name]}" ] && break
      sleep 0.1
    done
    if [ -z "${port[$name]}" ] || ! "$BIN/loadgen" -wait -url "http://127.0.0.1:${port[$name]}"; then
      echo "$name did not start:"; cat "$TMP/$name.log"; exit 1
    fi
  done
}
# relaunch stops every server instance (not Redis) and starts them again,
# so that each round of the HTTP workloads starts from the same state: a
# fresh process, whatever sessions the round before left in its heap.
relaunch() {
  local name
  for name in "${instances[@]}"; do
    kill "${spid[$name]}" 2>/dev/null || true
    wait "${spid[$name]}" 2>/dev/null || true
  done
  rm -f "$TMP"/sessions.db* "$TMP"/scs-sessions.db*
  launch
}
launch

# The bare servers (bare, bare-headers, bare-context and the two bare + GET) set no cookie; they
# get one of the size of Keycard's, so every server parses the same request
# bytes and the ratios measure the session libraries alone.
barecookie="__Host-keycard=$(printf 'A%.0s' $(seq 92))"
# load NAME LABEL loadgen-flags...: a run of loadgen. A run whose requests
# got other statuses than 200 is kept (its errors are in the results); a
# run that failed outright stops the script.
load() {
  local name=$1 label=$2 extra=() rc=0; shift 2
  case $name in bare|bare-headers|bare-context|bare-redisget|bare-context-redisget) extra=(-cookie "$barecookie") ;; esac
  "${loadpin[@]}" "$BIN/loadgen" -url "http://127.0.0.1:${port[$name]}" -name "$name:$label" -pid "${spid[$name]}" "${extra[@]}" "$@" | sed 's/^/    /' || rc=$?
  [ "$rc" -le 1 ] || exit "$rc"
}
# load2 NAME LABEL loadgen-flags...: a run of loadgen over NAME and its
# second instance, NAME-2, which share its store.
load2() {
  local name=$1 label=$2 rc=0; shift 2
  "${loadpin[@]}" "$BIN/loadgen" -url "http://127.0.0.1:${port[$name]},http://127.0.0.1:${port[$name-2]}" \
    -name "$name:$label" -pid "${spid[$name]},${spid[$name-2]}" "$@" | sed 's/^/    /' || rc=$?
  [ "$rc" -le 1 ] || exit "$rc"
}

if [ "$MODE" = all ]; then
phase "round trips per request (MONITOR on the private Redis)"
for name in "${redis_servers[@]}"; do
  load "$name" warm -path /read -c 1 -n 50 >/dev/null
  load "$name" read  -path /read  -c 1 -n 200 -redis "$REDIS" -json "$OUT/rtt.jsonl"
  load "$name" write -path /write -c 1 -n 200 -redis "$REDIS" -json "$OUT/rtt.jsonl"
  load "$name" login -path /login -c 1 -n 200 -redis "$REDIS" -json "$OUT/rtt.jsonl"
  load "$name" new   -path /login -login=false -cookies=false -c 1 -n 200 -redis "$REDIS" -json "$OUT/rtt.jsonl"
done

phase "Redis memory per session"
usedmem() { redis-cli -h 127.0.0.1 -p "${REDIS#*:}" info memory | tr -d '\r' | awk -F: '/^used_memory:/ {print $2}'; }
declare -A keypat=([keycard-redis]="${P}keycard:s:*" [scs-redis]="${P}scs:*" [gorilla-redis]="${P}gorilla:*" [express-redis]="${P}express:*")
n=10000
for name in "${redis_servers[@]}"; do
  m0=$(usedmem)
  load "$name" mem -path /login -login=false -cookies=false -c 4 -n $n -warmup 0 >/dev/null
  m1=$(usedmem)
  key=$( (redis-cli -h 127.0.0.1 -p "${REDIS#*:}" --scan --pattern "${keypat[$name]}" || true) | head -n 1)
  usage=$(redis-cli -h 127.0.0.1 -p "${REDIS#*:}" memory usage "$key")
  echo "{\"name\":\"$name\",\"sessions\":$n,\"bytes_per_session\":$(( (m1 - m0) / n )),\"key_bytes\":${usage:-0}}" | tee -a "$OUT/mem.jsonl" | sed 's/^/    /'
done

fi

phase "HTTP workloads: $ROUNDS rounds of $WORKLOADS ($CONNS connections, $WARMUP + $DUR each)"
# Every round visits every workload and, within it, every server in turn,
# so a slow phase of the machine hits all the servers of a workload. Each
# round starts the servers afresh, so the rounds repeat one measurement:
# without it, the sessions a round's login workload created would sit in
# the memory stores' heaps through the next rounds' reads.
for round in $(seq "$ROUNDS"); do
  relaunch
  for w in $WORKLOADS; do
    flags=(-c "$CONNS" -d "$DUR" -warmup "$WARMUP" -json "$OUT/http.jsonl")
    case $w in
      read-spread)  flags+=(-path /read) ;;
      read-hot)     flags+=(-path /read -session hot) ;;
      write-spread) flags+=(-path /write -lost) ;;
      write-hot)    flags+=(-path /write -session hot -lost) ;;
      write-hot-2)  flags+=(-path /write -session hot -lost) ;;
      login)        flags+=(-path /login) ;;
    esac
    for name in "${servers[@]}"; do
      if [ "$w" = write-hot-2 ]; then
        # Two instances of keycard-redis; the others have no second one.
        [ -n "${port[$name-2]:-}" ] && load2 "$name" "$w" "${flags[@]}"
        continue
      fi
      # bare + GET is the floor of a read; its other routes are bare's.
      case $name in bare-redisget|bare-context-redisget) [ "${w%-*}" != read ] && continue ;; esac
      load "$name" "$w" "${flags[@]}"
    done
  done
done

phase "stopping the servers"
for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()

if [ "$MODE" = all ]; then
  phase "scale ($SCALE_N sessions)"
  startredis SCALE_REDIS
  "$BIN/scale" -n "$SCALE_N" -sweep-max "${SWEEP_MAX:-1000000}" -redis "$SCALE_REDIS" | tee "$OUT/scale.md"
fi

phase "report"
echo "- Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); total run time $(( $(date +%s) - started )) s" >>"$OUT/machine.txt"
report=()
for f in inproc:inproc.txt http:http.jsonl rtt:rtt.jsonl mem:mem.jsonl scale:scale.md benchstat:benchstat.txt machine:machine.txt; do
  if [ -f "$OUT/${f#*:}" ]; then report+=(-"${f%%:*}" "$OUT/${f#*:}"); fi
done
"$BIN/report" "${report[@]}" -out "$OUT/results.md" -png "$PNG"
phase "done: $OUT/results.md and $PNG"
