#!/usr/bin/env bash
# Stops the store started by start.sh (same Z4AI_S3_STATE) and removes its state directory. Safe to run when
# nothing is running; it touches only the processes whose pids start.sh recorded.
set -uo pipefail

STATE="${Z4AI_S3_STATE:-${TMPDIR:-/tmp}/z4ai-s3}"
say() { echo "s3-server: $*" >&2; }

[ -d "$STATE" ] || exit 0
if [ ! -e "$STATE/.z4ai-s3-state" ]; then
  say "$STATE is not a state directory written by start.sh; leaving it alone"
  exit 1
fi

pids=()
for f in "$STATE"/pids/*.pid; do
  [ -f "$f" ] || continue
  pid="$(cat "$f")"
  case "$pid" in ''|*[!0-9]*) continue ;; esac
  # Only a process still running one of our binaries with our configuration is ours (the pid may have been reused).
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE 'ceph-mon|ceph-osd|radosgw'; then
    pids+=("$pid")
  fi
done
# Gateway first, then the OSD, then the monitor, so that none logs a storm of reconnects.
for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
for _ in $(seq 1 50); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ "$alive" -eq 0 ] && break
  sleep 0.2
done
for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done

rm -rf -- "$STATE"
say "stopped; removed $STATE"
