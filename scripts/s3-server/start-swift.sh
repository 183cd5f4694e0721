#!/usr/bin/env bash
# Starts a throwaway OpenStack Swift with its S3 API (the s3api middleware) for the Z4Ai tests of servers without
# conditional PUT: one proxy, one account, one container and one object server from Debian's archive, plus the
# memcached that tempauth needs for its S3 signature checks, storing in a
# directory (no loopback device), all bound to 127.0.0.1, without systemd. Every file lives under one state
# directory, so stop-swift.sh removes it all.
#
# Environment:
#   Z4AI_SWIFT_STATE          state directory (default $TMPDIR/z4ai-swift, TMPDIR defaulting to the system temp folder)
#   Z4AI_SWIFT_START_TIMEOUT  seconds allowed until the S3 API answers (default 60)
#
# On success it prints, and writes to $Z4AI_SWIFT_STATE/env.sh, the lines to source:
#   export Z4AI_SWIFT_ENDPOINT=http://127.0.0.1:PORT Z4AI_SWIFT_ACCESS_KEY=... Z4AI_SWIFT_SECRET_KEY=...
# (separate names from the Ceph server's, so that both can be used by one test run). It exits non-zero with the
# servers' last log lines when Swift cannot be started. Run as root. Running it again while Swift answers does nothing.
set -euo pipefail

STATE="${Z4AI_SWIFT_STATE:-${TMPDIR:-/tmp}/z4ai-swift}"
TIMEOUT="${Z4AI_SWIFT_START_TIMEOUT:-60}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
say() { echo "swift-server: $*" >&2; }

case "$STATE" in
  /|"") say "refusing state directory '$STATE'"; exit 2 ;;
esac

endpoint_answers() {  # the proxy's healthcheck middleware answers "OK" once the pipeline (s3api included) loaded
  [ "$(curl -s -m 2 "$1/healthcheck" 2>/dev/null || true)" = "OK" ]
}

if [ -f "$STATE/env.sh" ]; then
  existing="$(sed -n 's/.*Z4AI_SWIFT_ENDPOINT=\([^ ]*\).*/\1/p' "$STATE/env.sh" | head -1)"
  if [ -n "$existing" ] && endpoint_answers "$existing"; then
    say "already running at $existing"
    cat "$STATE/env.sh"
    exit 0
  fi
fi
if [ -e "$STATE" ]; then
  Z4AI_SWIFT_STATE="$STATE" "$HERE/stop-swift.sh" >/dev/null 2>&1 || true
  if [ -e "$STATE" ]; then
    say "$STATE exists and is not a state directory of this script; choose another Z4AI_SWIFT_STATE"
    exit 2
  fi
fi

# --- install (idempotent) -------------------------------------------------------------------------------------
need=()
for tool in swift-proxy-server:swift-proxy swift-account-server:swift-account swift-container-server:swift-container \
            swift-object-server:swift-object swift-ring-builder:swift memcached:memcached curl:curl; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  say "installing ${need[*]} from the Debian archive"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${need[@]}" python3-swift >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${need[@]}" python3-swift >/dev/null || {
      say "could not install ${need[*]} (apt-get failed; run as root with the Debian archive reachable)"; exit 1; }
  fi
fi

# --- layout and configuration ---------------------------------------------------------------------------------
started_ms=$(date +%s%3N)
ETC="$STATE/etc"
mkdir -p "$ETC" "$STATE"/{node/d1,run,log,pids,cache}
touch "$STATE/.z4ai-swift-state"   # stop-swift.sh removes only directories carrying this marker

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
taken=" "
pick_port() {
  local p tries=0
  while [ $tries -lt 200 ]; do
    p=$((20000 + RANDOM % 20000)); tries=$((tries + 1))
    case "$taken" in *" $p "*) continue ;; esac
    if port_free "$p" && ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
  done
  say "no free loopback port found"; return 1
}
PROXY_PORT=$(pick_port); taken+="$PROXY_PORT "
ACCOUNT_PORT=$(pick_port); taken+="$ACCOUNT_PORT "
CONTAINER_PORT=$(pick_port); taken+="$CONTAINER_PORT "
OBJECT_PORT=$(pick_port); taken+="$OBJECT_PORT "
MEMCACHE_PORT=$(pick_port)

rand() { tr -dc "$1" </dev/urandom | head -c "$2" || true; }
SECRET_KEY="$(rand 'A-Za-z0-9' 40)"
ACCESS_KEY="z4ai:tester"

cat > "$ETC/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = $(rand 'a-z0-9' 16)
swift_hash_path_prefix = $(rand 'a-z0-9' 16)

[storage-policy:0]
name = z4ai
default = yes
EOF

common() {  # common PORT NAME
  cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 1
user = $(id -un)
swift_dir = $ETC
devices = $STATE/node
mount_check = false
disable_fallocate = true
log_name = $2
EOF
}
{ common "$ACCOUNT_PORT" account-server; printf '\n[pipeline:main]\npipeline = account-server\n\n[app:account-server]\nuse = egg:swift#account\n'; } > "$ETC/account-server.conf"
{ common "$CONTAINER_PORT" container-server; printf '\n[pipeline:main]\npipeline = container-server\n\n[app:container-server]\nuse = egg:swift#container\n'; } > "$ETC/container-server.conf"
{ common "$OBJECT_PORT" object-server; printf '\n[pipeline:main]\npipeline = object-server\n\n[app:object-server]\nuse = egg:swift#object\n'; } > "$ETC/object-server.conf"

# The S3 API: s3api before tempauth (tempauth checks the S3 signature s3api extracted); copy, slo and dlo carry
# s3api's copy and multipart upload; tempauth refuses to work without the cache middleware ("Memcache required").
cat > "$ETC/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $PROXY_PORT
workers = 1
user = $(id -un)
swift_dir = $ETC
log_name = proxy-server

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MEMCACHE_PORT

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
s3_acl = false

[filter:tempauth]
use = egg:swift#tempauth
user_z4ai_tester = $SECRET_KEY .admin

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
EOF

fail() {
  say "FAILED: $*"
  for f in "$STATE"/log/*.log; do
    [ -s "$f" ] || continue
    echo "---- last lines of $f" >&2
    tail -n 15 "$f" >&2
  done
  Z4AI_SWIFT_STATE="$STATE" "$HERE/stop-swift.sh" >/dev/null 2>&1 || true
  exit 1
}
trap 'fail "a setup command failed (line $LINENO)"' ERR

for kind in account container object; do
  case "$kind" in account) port=$ACCOUNT_PORT ;; container) port=$CONTAINER_PORT ;; object) port=$OBJECT_PORT ;; esac
  swift-ring-builder "$ETC/$kind.builder" create 6 1 1 >>"$STATE/log/rings.log" 2>&1
  swift-ring-builder "$ETC/$kind.builder" add --region 1 --zone 1 --ip 127.0.0.1 --port "$port" --device d1 --weight 100 >>"$STATE/log/rings.log" 2>&1
  swift-ring-builder "$ETC/$kind.builder" rebalance >>"$STATE/log/rings.log" 2>&1 || [ -f "$ETC/$kind.ring.gz" ]
done

# Servers run in the foreground (-v logs to the console) in their own session, detached from our stdio, with their
# pids recorded for stop-swift.sh. Python's caches go to the state directory.
spawn() {
  local name="$1"; shift
  PYTHONDONTWRITEBYTECODE=1 setsid "$@" </dev/null >>"$STATE/log/$name.log" 2>&1 &
  echo $! > "$STATE/pids/$name.pid"
}
alive() { kill -0 "$(cat "$STATE/pids/$1.pid")" 2>/dev/null; }
spawn memcached memcached -l 127.0.0.1 -p "$MEMCACHE_PORT" -U 0 -m 64 -u "$(id -un)"
spawn account swift-account-server "$ETC/account-server.conf" -v
spawn container swift-container-server "$ETC/container-server.conf" -v
spawn object swift-object-server "$ETC/object-server.conf" -v
spawn proxy swift-proxy-server "$ETC/proxy-server.conf" -v

ENDPOINT="http://127.0.0.1:$PROXY_PORT"
deadline=$(( $(date +%s) + TIMEOUT ))
until endpoint_answers "$ENDPOINT"; do
  for d in memcached account container object proxy; do alive "$d" || fail "$d exited"; done
  [ "$(date +%s)" -lt "$deadline" ] || fail "timed out after ${TIMEOUT}s waiting for the proxy at $ENDPOINT"
  sleep 0.2
done
trap - ERR

umask 077
cat > "$STATE/env.sh" <<ENVEOF
export Z4AI_SWIFT_ENDPOINT=$ENDPOINT
export Z4AI_SWIFT_ACCESS_KEY=$ACCESS_KEY
export Z4AI_SWIFT_SECRET_KEY=$SECRET_KEY
ENVEOF
elapsed_ms=$(( $(date +%s%3N) - started_ms ))
say "Swift (s3api) ready at $ENDPOINT in $((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000)))s; state in $STATE; source $STATE/env.sh"
cat "$STATE/env.sh"
