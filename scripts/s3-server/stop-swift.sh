#!/usr/bin/env bash
# Stops the Swift servers started by start-swift.sh (same Z4AI_SWIFT_STATE) and removes the state directory. Safe to
# run when nothing is running; it touches only the processes whose pids start-swift.sh recorded.
set -uo pipefail

STATE="${Z4AI_SWIFT_STATE:-${TMPDIR:-/tmp}/z4ai-swift}"
say() { echo "swift-server: $*" >&2; }

[ -d "$STATE" ] || exit 0
if [ ! -e "$STATE/.z4ai-swift-state" ]; then
  say "$STATE is not a state directory written by start-swift.sh; leaving it alone"
  exit 1
fi

pids=()
for name in proxy object container account memcached; do
  f="$STATE/pids/$name.pid"
  [ -f "$f" ] || continue
  pid="$(cat "$f")"
  case "$pid" in ''|*[!0-9]*) continue ;; esac
  # Only a process still running a Swift server on our configuration (or our memcached) is ours (pids are reused).
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE "swift-$name-server $STATE/|^memcached -l 127.0.0.1"; then
    pids+=("$pid")
  fi
done
# Each server's workers run in its session; TERM the session leader, which stops its workers.
for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for _ in $(seq 1 50); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ "$alive" -eq 0 ] && break
  sleep 0.2
done
for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done

rm -rf -- "$STATE"
say "stopped; removed $STATE"
