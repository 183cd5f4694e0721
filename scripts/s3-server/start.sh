#!/usr/bin/env bash
# Starts a throwaway S3-compatible object store for the Z4Ai tests: Ceph RGW from Debian's archive, with one
# monitor, one OSD (BlueStore on a sparse file) and the radosgw gateway, all bound to 127.0.0.1, without systemd or
# containers. Every file the cluster writes lives under one state directory, so stop.sh removes it all.
#
# Environment:
#   Z4AI_S3_STATE          state directory (default $TMPDIR/z4ai-s3, TMPDIR defaulting to the system temp folder); env.sh is written there
#   Z4AI_S3_START_TIMEOUT  seconds allowed from the first daemon to a ready gateway (default 120)
#   Z4AI_S3_OSD_BACKEND    bluestore (default: a sparse 10 GiB file) or memstore (RAM, for file systems
#                          without O_DIRECT such as tmpfs)
#   Z4AI_S3_OSD_SIZE_GB    size of the sparse BlueStore file or the memstore budget (default 10 / 2)
#
# On success it prints, and writes to $Z4AI_S3_STATE/env.sh, the lines to source:
#   export Z4AI_S3_ENDPOINT=http://127.0.0.1:PORT Z4AI_S3_REGION=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...
# It exits non-zero with the daemons' last log lines when the store cannot be started. Run as root (apt-get and the
# daemons' defaults assume it). Running it again while the store answers does nothing.
set -euo pipefail

STATE="${Z4AI_S3_STATE:-${TMPDIR:-/tmp}/z4ai-s3}"
TIMEOUT="${Z4AI_S3_START_TIMEOUT:-120}"
BACKEND="${Z4AI_S3_OSD_BACKEND:-bluestore}"
REGION="us-east-1"
RGW_NAME="client.rgw.z4ai"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

say() { echo "s3-server: $*" >&2; }

case "$STATE" in
  /|"") say "refusing state directory '$STATE'"; exit 2 ;;
esac
case "$BACKEND" in
  bluestore) SIZE_GB="${Z4AI_S3_OSD_SIZE_GB:-10}" ;;
  memstore) SIZE_GB="${Z4AI_S3_OSD_SIZE_GB:-2}" ;;
  *) say "Z4AI_S3_OSD_BACKEND must be bluestore or memstore, not '$BACKEND'"; exit 2 ;;
esac

endpoint_answers() {
  [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1/" 2>/dev/null || true)" = "200" ]
}

# Already running (a previous start in this state directory)? Then there is nothing to do.
if [ -f "$STATE/env.sh" ]; then
  existing="$(sed -n 's/.*Z4AI_S3_ENDPOINT=\([^ ]*\).*/\1/p' "$STATE/env.sh" | head -1)"
  if [ -n "$existing" ] && endpoint_answers "$existing"; then
    say "already running at $existing"
    cat "$STATE/env.sh"
    exit 0
  fi
fi
# Leftovers of a failed or killed run are cleared first.
if [ -e "$STATE" ]; then
  Z4AI_S3_STATE="$STATE" "$HERE/stop.sh" >/dev/null 2>&1 || true
  if [ -e "$STATE" ]; then
    say "$STATE exists and is not a state directory of this script; choose another Z4AI_S3_STATE"
    exit 2
  fi
fi

# --- install (idempotent) -------------------------------------------------------------------------------------
need=()
for tool in ceph-mon:ceph-mon ceph-osd:ceph-osd radosgw:radosgw ceph:ceph-common radosgw-admin:radosgw \
            monmaptool:ceph-common ceph-authtool:ceph-common curl:curl; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  say "installing ${need[*]} from the Debian archive"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || {
      say "could not install ${need[*]} (apt-get failed; run as root with the Debian archive reachable)"; exit 1; }
  fi
fi

# --- layout and configuration ---------------------------------------------------------------------------------
started_ms=$(date +%s%3N)
mkdir -p "$STATE"/{mon,osd,run,log,crash,rgw,pids}
touch "$STATE/.z4ai-s3-state"   # stop.sh removes only directories carrying this marker
CONF="$STATE/ceph.conf"
export CEPH_CONF="$CONF"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p tries=0
  while [ $tries -lt 200 ]; do
    p=$((20000 + RANDOM % 20000)); tries=$((tries + 1))
    if port_free "$p" && ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
  done
  say "no free loopback port found"; return 1
}
MON_PORT=$(pick_port)
RGW_PORT=$(pick_port)
while [ "$RGW_PORT" = "$MON_PORT" ]; do RGW_PORT=$(pick_port); done
FSID=$(cat /proc/sys/kernel/random/uuid)

cat > "$CONF" <<CONFEOF
[global]
fsid = $FSID
mon_host = [v2:127.0.0.1:$MON_PORT]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
public_network = 127.0.0.0/8
cluster_network = 127.0.0.0/8
ms_bind_ipv4 = true
ms_bind_ipv6 = false
ms_bind_msgr1 = false
ms_bind_msgr2 = true
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = $STATE/\$name.keyring
run_dir = $STATE/run
admin_socket = $STATE/run/\$name.asok
log_file = $STATE/log/\$name.log
mon_cluster_log_file = $STATE/log/cluster.log
crash_dir = $STATE/crash
log_to_stderr = false
err_to_stderr = false
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_max_pg_per_osd = 1000
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 2
mon_data_avail_crit = 1

[mon]
mon_data = $STATE/mon/\$name

[osd]
osd_data = $STATE/osd/\$name
osd_objectstore = $BACKEND
bluestore_block_create = true
bluestore_block_size = $((SIZE_GB * 1024 * 1024 * 1024))
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_mount = false
memstore_device_bytes = $((SIZE_GB * 1024 * 1024 * 1024))
osd_memory_target = 1073741824
osd_memory_target_autotune = false

[$RGW_NAME]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw_data = $STATE/rgw
rgw_enable_usage_log = false
rgw_thread_pool_size = 64
CONFEOF

deadline=$(( $(date +%s) + TIMEOUT ))

fail() {
  say "FAILED: $*"
  for f in "$STATE"/log/*.log "$STATE"/log/*.out; do
    [ -s "$f" ] || continue
    echo "---- last lines of $f" >&2
    tail -n 15 "$f" >&2
  done
  Z4AI_S3_STATE="$STATE" "$HERE/stop.sh" >/dev/null 2>&1 || true
  exit 1
}
trap 'fail "a setup command failed (line $LINENO)"' ERR

# Daemons run in the foreground of their own session, detached from our stdio (a test runner that started this
# script waits for its pipes to close), with their pids recorded for stop.sh.
spawn() {
  local name="$1"; shift
  setsid "$@" -f </dev/null >>"$STATE/log/$name.out" 2>&1 &
  echo $! > "$STATE/pids/$name.pid"
}
alive() { kill -0 "$(cat "$STATE/pids/$1.pid")" 2>/dev/null; }
wait_for() {  # wait_for DESCRIPTION DAEMON COMMAND...: polls COMMAND until it succeeds, the daemon dies or time runs out
  local what="$1" daemon="$2"; shift 2
  until "$@" >/dev/null 2>&1; do
    [ -z "$daemon" ] || alive "$daemon" || fail "$daemon exited while waiting for $what"
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out after ${TIMEOUT}s waiting for $what"
    sleep 0.2
  done
}
cephq() { timeout 20 ceph --connect-timeout 10 "$@"; }

# --- monitor --------------------------------------------------------------------------------------------------
ceph-authtool --create-keyring "$STATE/mon.a.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$STATE/client.admin.keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$STATE/mon.a.keyring" --import-keyring "$STATE/client.admin.keyring" >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$STATE/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$STATE/monmap" --keyring "$STATE/mon.a.keyring" >>"$STATE/log/mon.a.out" 2>&1
spawn mon.a ceph-mon -i a
wait_for "the monitor" mon.a cephq mon stat

# --- OSD ------------------------------------------------------------------------------------------------------
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$(cephq osd new "$OSD_UUID")
mkdir -p "$STATE/osd/osd.$OSD_ID"
ceph-osd -i "$OSD_ID" --no-mon-config --mkfs --mkkey --osd-uuid "$OSD_UUID" >>"$STATE/log/osd.$OSD_ID.out" 2>&1 \
  || fail "ceph-osd --mkfs failed ($BACKEND; BlueStore needs a file system with O_DIRECT: try Z4AI_S3_OSD_BACKEND=memstore)"
cephq auth add "osd.$OSD_ID" osd 'allow *' mon 'allow profile osd' -i "$STATE/osd.$OSD_ID.keyring" >/dev/null 2>&1
spawn "osd.$OSD_ID" ceph-osd -i "$OSD_ID"
osd_up() { cephq osd dump 2>/dev/null | grep -q "^osd.$OSD_ID up"; }
wait_for "the OSD to come up" "osd.$OSD_ID" osd_up

# --- gateway and user -----------------------------------------------------------------------------------------
cephq auth get-or-create "$RGW_NAME" mon 'allow rw' osd 'allow rwx' -o "$STATE/$RGW_NAME.keyring" >/dev/null 2>&1
spawn rgw radosgw -n "$RGW_NAME"
ENDPOINT="http://127.0.0.1:$RGW_PORT"
wait_for "the gateway at $ENDPOINT" rgw endpoint_answers "$ENDPOINT"

rand() { tr -dc "$1" </dev/urandom | head -c "$2" || true; }
ACCESS_KEY="Z4AI$(rand 'A-Z0-9' 16)"
SECRET_KEY="$(rand 'A-Za-z0-9' 40)"
timeout 60 radosgw-admin user create --uid=z4ai --display-name="Z4Ai tests" \
  --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null 2>>"$STATE/log/radosgw-admin.out" \
  || fail "radosgw-admin user create failed"
trap - ERR

umask 077
cat > "$STATE/env.sh" <<ENVEOF
export Z4AI_S3_ENDPOINT=$ENDPOINT
export Z4AI_S3_REGION=$REGION
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
ENVEOF
elapsed_ms=$(( $(date +%s%3N) - started_ms ))
elapsed="$((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000)))"
say "Ceph RGW ready at $ENDPOINT in ${elapsed}s ($BACKEND OSD); state in $STATE; source $STATE/env.sh"
cat "$STATE/env.sh"
