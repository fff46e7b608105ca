#!/usr/bin/env bash
# Counts the instructions each server runs per request over HTTP, under
# valgrind's callgrind, and prints them beside their ratios to bare:
#
#   bench/instr.sh                        the read workloads, the read servers
#   SERVERS="bare keycard-redis" bench/instr.sh
#
# A count moves far less with the machine's other work than a rate does;
# docs/BENCHMARKS.md says how repeatable it is, what it leaves out (the
# kernel's part of a request), and when to use GOGC=off. Run it alone.
#
# Each server runs under callgrind with GOMAXPROCS=1, as run.sh's pinned
# servers do, and with asynchronous preemption off, whose signals
# callgrind does not survive. For each workload, loadgen sends N1 and
# then N2 requests, each window counted on its own (callgrind_control);
# a request's count is the difference over N2 - N1, so the connections'
# setup and logins, the same in both windows, cancel out. A window whose
# requests did not all answer 200 stops the script.
#
# Knobs:
#
#   SERVERS="bare …"          default: the read servers below
#   WORKLOADS="read-spread …" read-spread, read-hot, write-spread, write-hot
#   CONNS=16  N1=1000  N2=4000
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(measure …) stops the script
cd "$(dirname "$0")"

read_servers=(bare bare-headers bare-context keycard-memory bare-redisget bare-context-redisget keycard-redis scs-redis)
read -r -a servers <<<"${SERVERS:-${read_servers[*]}}"
WORKLOADS=${WORKLOADS:-read-spread read-hot}
CONNS=${CONNS:-16}
N1=${N1:-1000}
N2=${N2:-4000}
read -r -a workloads <<<"$WORKLOADS"
[ "$N2" -gt "$N1" ] || { echo "instr.sh: N2 must be more than N1" >&2; exit 2; }
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
for _ in $(seq 50); do [ -s "$TMP/redis.pid" ] && redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
[ -s "$TMP/redis.pid" ] || { echo "instr.sh: redis-server did not start:" >&2; cat "$TMP/redis.log" >&2; exit 1; }
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
  # run N: N requests, all of which must answer 200 (loadgen exits 1
  # otherwise) within loadgen's time bound.
  run() {
    "$BIN/loadgen" -url "$url" -c "$CONNS" -warmup 0 -d 60s -n "$1" "${extra[@]}" "${flags[@]}" >"$dir/load-$1.txt"
    grep -q " $1 requests, 0 errors" "$dir/load-$1.txt" ||
      { echo "instr.sh: $name $w: a window of $1 requests did not complete:" >&2; cat "$dir/load-$1.txt" >&2; exit 1; }
  }
  # ctl ARGS…: a callgrind_control command to the server, whose chatter
  # is shown only if it fails.
  ctl() {
    callgrind_control "$@" "$vpid" >"$dir/ctl.log" 2>&1 ||
      { echo "instr.sh: callgrind_control $* failed:" >&2; cat "$dir/ctl.log" >&2; exit 1; }
  }
  run 500 # warm-up, not counted
  local n
  for n in "$N1" "$N2"; do
    ctl -z
    ctl -i on
    run "$n"
    ctl -i off
    ctl -d "n$n"
  done
  kill -9 "$vpid" 2>/dev/null || true
  wait "$vpid" 2>/dev/null || true
  trap - EXIT
  local a b
  a=$(total "$(ls "$dir"/cg.*.1)") b=$(total "$(ls "$dir"/cg.*.2)")
  [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ && $b -gt $a ]] ||
    { echo "instr.sh: $name $w: callgrind's dumps counted '$a' and '$b'" >&2; exit 1; }
  echo $(( (b - a) / (N2 - N1) ))
}

echo "Instructions per request (user space, callgrind; GOMAXPROCS=1; $CONNS connections; $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- .. 2>/dev/null || echo ', with uncommitted changes'))"
echo
printf '| server |'; for w in "${workloads[@]}"; do printf ' %s | bare ÷ server |' "$w"; done; echo
printf '|---|'; for _ in "${workloads[@]}"; do printf -- '---:|---:|'; done; echo
declare -A count
for name in "${servers[@]}"; do
  for w in "${workloads[@]}"; do count[$name:$w]=$(measure "$name" "$w"); done
done
for w in "${workloads[@]}"; do [ -n "${count[bare:$w]:-}" ] || count[bare:$w]=$(measure bare "$w"); done
for name in "${servers[@]}"; do
  printf '| %s |' "$name"
  for w in "${workloads[@]}"; do
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
  [ -n "${count[$a:${workloads[0]}]:-}" ] && [ -n "${count[$b:${workloads[0]}]:-}" ] || continue
  printf -- '- %s vs %s:' "$a" "$b"
  for w in "${workloads[@]}"; do
    awk -v n="${count[$a:$w]}" -v b="${count[$b:$w]}" -v w="$w" 'BEGIN { printf " %.2f (%s)", b / n, w }'
  done
  echo
done
