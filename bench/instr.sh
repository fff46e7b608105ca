#!/usr/bin/env bash
# Counts the instructions each server runs per request over HTTP, under
# valgrind's callgrind, and prints them beside their ratios to bare:
#
#   bench/instr.sh                        the read workloads, the read servers
#   SERVERS="bare keycard-redis" bench/instr.sh
#
# A count of instructions is not a time, but a noisy machine moves it
# little: the same binary and requests give the same count within about
# 1 % (4 % at worst: the garbage collector's share is the part that
# moves), where req/s moves by a third from one round to the next on a
# shared VM. Run it alone: a load beside it moved counts by up to 3 %, as
# it changes how many requests one wake-up of the server serves.
# GOGC=off leaves the collector out of the counts, for comparing two
# versions of code that allocate alike. Use it to compare two
# versions of the code, or a server with its floor; use run.sh http for
# rates. Only user space is counted: the kernel's share of a request (its
# reads and writes on the sockets, about the same for every server) is
# not, so these ratios are lower than the ratios of rates. callgrind's
# virtual CPU has no SHA or AES instructions: crypto counts for more than
# it costs on a CPU that has them (a read does none; a login does).
#
# Each server runs under callgrind with GOMAXPROCS=1, as run.sh's pinned
# servers do, and with asynchronous preemption off, whose signals
# callgrind does not survive. For each workload, loadgen sends N1 and
# then N2 requests, each window counted on its own (callgrind_control);
# a request's count is the difference over N2 - N1, so the connections'
# setup and logins, the same in both windows, cancel out.
#
# Knobs:
#
#   SERVERS="bare …"          default: the read servers below
#   WORKLOADS="read-spread …" read-spread, read-hot, write-spread, write-hot
#   CONNS=16  N1=1000  N2=4000
set -euo pipefail
cd "$(dirname "$0")"

read_servers=(bare bare-headers bare-context keycard-memory bare-redisget bare-context-redisget keycard-redis scs-redis)
read -r -a servers <<<"${SERVERS:-${read_servers[*]}}"
WORKLOADS=${WORKLOADS:-read-spread read-hot}
CONNS=${CONNS:-16}
N1=${N1:-1000}
N2=${N2:-4000}
for tool in go valgrind callgrind_control callgrind_annotate redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "instr.sh: $tool is required" >&2; exit 1; }
done

BIN=$(mktemp -d)
TMP=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  sleep 0.5 # the daemonized Redis, not this shell's child, removes its pidfile
  rm -rf "$BIN" "$TMP"
}
trap cleanup EXIT

go build -o "$BIN/" ./cmd/benchserver ./cmd/peerserver ./cmd/loadgen

# A private Redis, daemonized so that stopping it is not reported as a
# job killed.
port=$((20000 + RANDOM % 30000))
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" \
  --daemonize yes --pidfile "$TMP/redis.pid" --logfile "$TMP/redis.log"
REDIS=127.0.0.1:$port
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
pids+=("$(cat "$TMP/redis.pid")")

# The bare servers get a cookie of the size of Keycard's, as in run.sh.
barecookie="__Host-keycard=$(printf 'A%.0s' $(seq 92))"

# total FILE: the instructions a callgrind dump counted.
total() { awk '/^totals:/ {print $2}' "$1"; }

# measure NAME WORKLOAD: prints the instructions per request.
measure() {
  local name=$1 w=$2 dir="$TMP/$1-$2" cmd extra=() flags=() vpid url
  mkdir -p "$dir"
  case $name in
    keycard-memory) cmd=("$BIN/benchserver" -addr 127.0.0.1:0 -store memory) ;;
    keycard-redis) cmd=("$BIN/benchserver" -addr 127.0.0.1:0 -store "redis://$REDIS/0?prefix=instr-$w:keycard:") ;;
    *) cmd=("$BIN/peerserver" -impl "$name" -addr 127.0.0.1:0 -redis "$REDIS" -prefix "instr-$w:") ;;
  esac
  case $name in bare|bare-headers|bare-context|bare-redisget|bare-context-redisget) extra=(-cookie "$barecookie") ;; esac
  case $w in
    read-spread) flags=(-path /read) ;;
    read-hot) flags=(-path /read -session hot) ;;
    write-spread) flags=(-path /write) ;;
    write-hot) flags=(-path /write -session hot) ;;
    *) echo "instr.sh: unknown workload $w" >&2; exit 2 ;;
  esac
  GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$dir/cg.%p" "${cmd[@]}" >"$dir/server.log" 2>&1 &
  vpid=$!
  # measure runs in a subshell: it stops its own server, even on an error.
  trap "kill -9 $vpid 2>/dev/null || true" EXIT
  url=
  for _ in $(seq 300); do
    url=$(sed -n 's|.* on \(http://127\.0\.0\.1:[0-9]*\).*|\1|p' "$dir/server.log" | head -n 1)
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "$url" ] || ! "$BIN/loadgen" -wait -url "$url" >/dev/null; then
    echo "$name did not start:" >&2; cat "$dir/server.log" >&2; exit 1
  fi
  run() { "$BIN/loadgen" -url "$url" -c "$CONNS" -warmup 0 -d 60s -n "$1" "${extra[@]}" "${flags[@]}" >"$dir/load-$1.txt"; }
  run 500 # warm-up, not counted
  local n
  for n in "$N1" "$N2"; do
    callgrind_control -z "$vpid" >/dev/null 2>&1
    callgrind_control -i on "$vpid" >/dev/null 2>&1
    run "$n"
    callgrind_control -i off "$vpid" >/dev/null 2>&1
    callgrind_control -d "n$n" "$vpid" >/dev/null 2>&1
  done
  kill -9 "$vpid" 2>/dev/null || true
  wait "$vpid" 2>/dev/null || true
  local a b
  a=$(total "$(ls "$dir"/cg.*.1)") b=$(total "$(ls "$dir"/cg.*.2)")
  echo $(( (b - a) / (N2 - N1) ))
}

echo "Instructions per request (user space, callgrind; GOMAXPROCS=1; $CONNS connections; $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- .. 2>/dev/null || echo ', with uncommitted changes'))"
echo
printf '| server |'; for w in $WORKLOADS; do printf ' %s | bare ÷ server |' "$w"; done; echo
printf '|---|'; for _ in $WORKLOADS; do printf -- '---:|---:|'; done; echo
declare -A count
for name in "${servers[@]}"; do
  for w in $WORKLOADS; do count[$name:$w]=$(measure "$name" "$w"); done
done
for w in $WORKLOADS; do [ -n "${count[bare:$w]:-}" ] || count[bare:$w]=$(measure bare "$w"); done
for name in "${servers[@]}"; do
  printf '| %s |' "$name"
  for w in $WORKLOADS; do
    awk -v n="${count[$name:$w]}" -v b="${count[bare:$w]}" 'BEGIN { printf " %d | %.2f |", n, b / n }'
  done
  echo
done

# The ratios the targets and floors are stated in, where both servers ran:
# the second's count over the first's, the analog of the first's rate over
# the second's.
echo
for pair in keycard-memory:bare keycard-memory:bare-context bare-context:bare keycard-redis:bare-redisget \
  keycard-redis:bare-context-redisget bare-context-redisget:bare-redisget keycard-redis:scs-redis; do
  a=${pair%%:*} b=${pair#*:}
  [ -n "${count[$a:${WORKLOADS%% *}]:-}" ] && [ -n "${count[$b:${WORKLOADS%% *}]:-}" ] || continue
  printf -- '- %s vs %s:' "$a" "$b"
  for w in $WORKLOADS; do
    awk -v n="${count[$a:$w]}" -v b="${count[$b:$w]}" -v w="$w" 'BEGIN { printf " %.2f (%s)", b / n, w }'
  done
  echo
done
