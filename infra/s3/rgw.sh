#!/usr/bin/env bash
# Throwaway, loopback-only, single-node Ceph RADOS Gateway (S3) for tests.
# Background (measurements, S3 behaviour to code for): shared/design/S3-TESTING.md in the
# workspace that holds this repo. Requires the packages from infra/s3/install.sh.
#
# Usage: infra/s3/rgw.sh <command>
#   start            bootstrap mon + osd + radosgw into the state dir and print S3 env exports
#                    (no-op if this state dir's gateway is already up). Progress goes to stderr,
#                    so this works:  eval "$(infra/s3/rgw.sh start)"
#                    A stopped or broken cluster in the state dir is wiped first, whatever its
#                    store; use `restart` to bring a bluestore cluster back with its data.
#   stop [--purge]   stop radosgw, osd, mon (by pid file only); --purge also deletes the state dir
#   status           exit 0 and print the env exports if the gateway is up and answering, else 1
#   env              print the env exports of the (last) started gateway
#   restart          stop + start. memstore: the new cluster is EMPTY (all objects are lost).
#                    bluestore: the cluster is resumed from disk and keeps its objects.
#   restart-gateway  restart only the radosgw process; objects survive (they live in the OSD)
#
# Environment (read when a cluster is created; later commands reuse the values it was created with):
#   TESSERA_RGW_DIR            state dir (default /tmp/tessera-rgw); must be short (unix socket paths)
#   TESSERA_S3_PORT            S3 HTTP port on 127.0.0.1 (default 7480)
#   TESSERA_RGW_MON_PORT       monitor port on 127.0.0.1 (default 16789)
#   TESSERA_RGW_MSGR_PORT_MIN  first port the OSD may bind (default 16800)
#   TESSERA_RGW_MSGR_PORT_MAX  last port the OSD may bind (default 16899)
#   TESSERA_RGW_STORE          memstore (default; RAM, fastest) | bluestore (sparse file, survives restart)
#   TESSERA_RGW_STORE_SIZE_MB  capacity the OSD reports (default 4096 memstore, 16384 bluestore)
#   TESSERA_RGW_START_TIMEOUT  seconds to wait for each start phase (default 60)
#   TESSERA_S3_ACCESS_KEY      default tessera-test-access
#   TESSERA_S3_SECRET_KEY      default tessera-test-secret-0123456789abcdef
#   TESSERA_RGW_DEBUG          the gateway's log level (default 0/0: no line per request; Ceph's is 1/5)
#
# Files in the state dir: env (exports), ceph.conf, log/*.log (daemon logs), run/*.pid.
set -euo pipefail

# A stray CEPH_ARGS/CEPH_CONF from the caller would point the ceph tools at another cluster.
unset CEPH_ARGS CEPH_CONF

readonly RGW_NAME=client.rgw.tessera
readonly S3_UID=tessera
readonly MARKER=.tessera-rgw

STATE=$(realpath -m -- "${TESSERA_RGW_DIR:-/tmp/tessera-rgw}")
readonly STATE
readonly CONF=$STATE/ceph.conf
readonly SETTINGS=$STATE/settings
readonly ENV_FILE=$STATE/env
readonly LOCK_FILE=${STATE}.lock

log() { printf '[rgw] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

now_ms() { date +%s%3N; }

# ---------------------------------------------------------------------------------------------
# Settings: taken from the environment when a cluster is created, then frozen in $SETTINGS so
# that status/stop/restart act on the cluster that exists, whatever the caller's env says now.

settings_from_env() {
  S3_PORT=${TESSERA_S3_PORT:-7480}
  MON_PORT=${TESSERA_RGW_MON_PORT:-16789}
  MSGR_PORT_MIN=${TESSERA_RGW_MSGR_PORT_MIN:-16800}
  MSGR_PORT_MAX=${TESSERA_RGW_MSGR_PORT_MAX:-16899}
  STORE=${TESSERA_RGW_STORE:-memstore}
  ACCESS_KEY=${TESSERA_S3_ACCESS_KEY:-tessera-test-access}
  SECRET_KEY=${TESSERA_S3_SECRET_KEY:-tessera-test-secret-0123456789abcdef}
  RGW_DEBUG=${TESSERA_RGW_DEBUG:-0/0}
  [[ $RGW_DEBUG =~ ^[0-9]+(/[0-9]+)?$ ]] || die "TESSERA_RGW_DEBUG must be a Ceph log level like 1/5, got '$RGW_DEBUG'"
  case $STORE in
    memstore) STORE_SIZE_MB=${TESSERA_RGW_STORE_SIZE_MB:-4096} ;;
    bluestore) STORE_SIZE_MB=${TESSERA_RGW_STORE_SIZE_MB:-16384} ;;
    *) die "TESSERA_RGW_STORE must be memstore or bluestore, got '$STORE'" ;;
  esac
  local v
  for v in S3_PORT MON_PORT MSGR_PORT_MIN MSGR_PORT_MAX STORE_SIZE_MB; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number, got '${!v}'"
  done
  ((MSGR_PORT_MIN <= MSGR_PORT_MAX)) || die "TESSERA_RGW_MSGR_PORT_MIN > TESSERA_RGW_MSGR_PORT_MAX"
}

settings_save() {
  local v
  for v in S3_PORT MON_PORT MSGR_PORT_MIN MSGR_PORT_MAX STORE STORE_SIZE_MB ACCESS_KEY SECRET_KEY RGW_DEBUG; do
    printf '%s=%q\n' "$v" "${!v}"
  done >"$SETTINGS"
}

# Returns 1 when there is no cluster here; falls back to env so error messages still make sense.
settings_load() {
  settings_from_env
  if [[ -f $SETTINGS ]]; then
    # shellcheck source=/dev/null
    source "$SETTINGS"
    return 0
  fi
  return 1
}

# ---------------------------------------------------------------------------------------------
# Process handling. Only pid files written by daemons of *this* state dir are trusted, and a
# pid is only ours if its command line names our ceph.conf (pids get reused; other clusters
# may run on the same machine, so nothing is ever matched by process name).

pid_file() { printf '%s/run/%s.pid' "$STATE" "$1"; }

daemon_pid() {
  local f pid
  f=$(pid_file "$1")
  [[ -r $f ]] || return 1
  pid=$(<"$f") || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$CONF" || return 1
  printf '%s\n' "$pid"
}

daemon_alive() { daemon_pid "$1" >/dev/null; }

# Daemons re-parent to PID 1 when they fork into the background. If PID 1 is slow to reap
# (containers, micro-VM inits), an exited daemon lingers as a zombie and `kill -0` still succeeds.
pid_running() {
  local state
  state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# grace: seconds between SIGTERM and SIGKILL.
stop_daemon() {
  local name=$1 grace=${2:-10} pid i t0
  t0=$(now_ms)
  if ! pid=$(daemon_pid "$name"); then
    rm -f -- "$(pid_file "$name")"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    pid_running "$pid" || break
    sleep 0.1
  done
  if pid_running "$pid"; then
    log "$name did not exit within $grace s of SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      pid_running "$pid" || break
      sleep 0.1
    done
    pid_running "$pid" && die "$name (pid $pid) survived SIGKILL"
  fi
  rm -f -- "$(pid_file "$name")"
  log "$name stopped in $(($(now_ms) - t0)) ms"
}

# Order matters: radosgw and the OSD talk to the mon while shutting down.
# A broken cluster is about to be wiped, so it gets a short grace: radosgw waits on a dead OSD.
stop_all() {
  local grace=${1:-10}
  stop_daemon "$RGW_NAME" "$grace"
  stop_daemon osd.0 "$grace"
  stop_daemon mon.a "$grace"
}

any_alive() { daemon_alive "$RGW_NAME" || daemon_alive osd.0 || daemon_alive mon.a; }

# Daemons fork into the background themselves; stdio and the lock fd are detached so that
# `eval "$(rgw.sh start)"` does not hang on an inherited pipe and the lock is released.
launch() {
  local name=$1
  shift
  "$@" -c "$CONF" </dev/null >>"$STATE/log/$name.out" 2>&1 9>&- ||
    fail_start "$name" "$name failed to start (exit $?)"
}

http_code() {
  curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$S3_PORT/" 2>/dev/null || true
}

# RGW answers an anonymous GET / with 403 (or 200 on some versions); both mean "serving".
http_ready() {
  local code
  code=$(http_code)
  [[ $code == 403 || $code == 200 ]]
}

is_up() { daemon_alive mon.a && daemon_alive osd.0 && daemon_alive "$RGW_NAME" && http_ready; }

# Like is_up, but gives a busy gateway (e.g. under a parallel test's load) time to answer before
# start concludes it is broken and wipes it.
cluster_answering() {
  local i
  for ((i = 0; i < 50; i++)); do
    daemon_alive mon.a && daemon_alive osd.0 && daemon_alive "$RGW_NAME" || return 1
    http_ready && return 0
    sleep 0.2
  done
  return 1
}

port_in_use() { [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

ceph_cli() { timeout 30 ceph -c "$CONF" -n client.admin --connect-timeout 20 "$@"; }

# ---------------------------------------------------------------------------------------------
# Failure reporting: show the end of the log that explains the failure, then take down what was
# started so no half-cluster lingers. The state dir is kept for inspection.

show_log() {
  local f
  for f in "$STATE/log/$1.out" "$STATE/log/$1.log"; do
    [[ -s $f ]] || continue
    log "---- last lines of $f ----"
    tail -n 25 -- "$f" >&2
  done
}

fail_start() {
  local name=$1
  shift
  log "ERROR: $*"
  show_log "$name"
  log "stopping partially started cluster; logs kept in $STATE/log"
  stop_all 2 || true
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Bootstrap

# Refuses to delete anything that this script did not create.
wipe_state() {
  [[ -e $STATE ]] || return 0
  [[ $STATE != / && $STATE != "$HOME" ]] || die "refusing to wipe $STATE"
  if [[ -e $STATE/$MARKER ]] || [[ -d $STATE && -z $(ls -A -- "$STATE") ]]; then
    rm -rf -- "$STATE"
  else
    die "$STATE exists and was not created by rgw.sh; choose another TESSERA_RGW_DIR"
  fi
}

new_uuid() {
  if command -v uuidgen >/dev/null 2>&1; then uuidgen; else cat /proc/sys/kernel/random/uuid; fi
}

write_conf() {
  local fsid=$1 store_bytes=$((STORE_SIZE_MB * 1024 * 1024)) store_conf
  if [[ $STORE == memstore ]]; then
    store_conf="osd objectstore = memstore
memstore device bytes = $store_bytes"
  else
    # Sparse file: only written blocks use disk. The cache is capped so RSS stays bounded.
    store_conf="osd objectstore = bluestore
bluestore block create = true
bluestore block size = $store_bytes
bluestore block db create = false
bluestore block wal create = false
bluestore fsck on mkfs = false
osd memory target = 1073741824"
  fi
  # \$name / \$id are ceph metavariables, expanded by each daemon.
  cat >"$CONF" <<EOF
# Generated by infra/s3/rgw.sh; recreated at every fresh start.
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$MON_PORT]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind msgr2 = true
ms bind ipv6 = false
ms bind port min = $MSGR_PORT_MIN
ms bind port max = $MSGR_PORT_MAX
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = $STATE/keyring
run dir = $STATE/run
crash dir = $STATE/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false

[mon]
mon data = $STATE/mon/\$id
pid file = $STATE/run/\$name.pid
admin socket = $STATE/run/\$name.asok
log file = $STATE/log/\$name.log
mon cluster log file = $STATE/log/cluster.log
# Default 1 s: every map change waits for it; 0.1 s cuts bootstrap from ~12 s to ~2 s.
paxos propose interval = 0.1
# The mon refuses to run (crit) when its disk is nearly full; test disks often are.
mon data avail warn = 2
mon data avail crit = 1

[osd]
osd data = $STATE/osd/\$id
keyring = $STATE/osd/\$id/keyring
pid file = $STATE/run/\$name.pid
admin socket = $STATE/run/\$name.asok
log file = $STATE/log/\$name.log
$store_conf

[$RGW_NAME]
rgw data = $STATE/rgw
pid file = $STATE/run/\$name.pid
admin socket = $STATE/run/\$name.asok
log file = $STATE/log/\$name.log
# Without tcp_nodelay small responses stall ~40 ms (Nagle + delayed ACK).
rgw frontends = beast endpoint=127.0.0.1:$S3_PORT tcp_nodelay=1
# Lifecycle threads make radosgw take 3-10 s to stop.
rgw enable lc threads = false
# Ceph's default (1/5) logs three lines per request: ~15 % of the gateway's CPU per small GET
# (0.85 vs 1.0 ms measured), CPU that tests and benchmarks share with Tessera. Errors are logged
# at level 0 either way; TESSERA_RGW_DEBUG=1/5 brings the request lines back.
debug rgw = $RGW_DEBUG
EOF
}

bootstrap_fresh() {
  local fsid osd_uuid osd_secret osd_id
  wipe_state
  mkdir -p -- "$STATE"/{run,log,crash,mon/a,osd,rgw}
  touch -- "$STATE/$MARKER"
  settings_save
  fsid=$(new_uuid)
  write_conf "$fsid"

  local out=$STATE/log/bootstrap.out
  {
    ceph-authtool --create-keyring "$STATE/keyring" --gen-key -n mon. --cap mon 'allow *'
    ceph-authtool "$STATE/keyring" --gen-key -n client.admin \
      --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *'
    ceph-authtool "$STATE/keyring" --gen-key -n "$RGW_NAME" --cap mon 'allow rw' --cap osd 'allow rwx'
    monmaptool --create --clobber --enable-all-features --fsid "$fsid" \
      --addv a "[v2:127.0.0.1:$MON_PORT]" "$STATE/monmap"
  } >>"$out"
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$STATE/monmap" --keyring "$STATE/keyring" \
    >>"$STATE/log/mon.a.out" 2>&1 || fail_start mon.a "ceph-mon --mkfs failed"

  launch mon.a ceph-mon -i a

  log "registering osd"
  osd_uuid=$(new_uuid)
  osd_secret=$(ceph-authtool --gen-print-key)
  printf '{"cephx_secret": "%s"}\n' "$osd_secret" >"$STATE/osd-secret.json"
  osd_id=$(ceph_cli osd new "$osd_uuid" -i "$STATE/osd-secret.json" 2>>"$STATE/log/mon.a.out") ||
    fail_start mon.a "'ceph osd new' failed: the monitor is not answering"
  rm -f -- "$STATE/osd-secret.json"
  [[ $osd_id == 0 ]] || fail_start mon.a "expected osd id 0, got '$osd_id'"
  mkdir -p -- "$STATE/osd/0"
  ceph-authtool --create-keyring "$STATE/osd/0/keyring" --name osd.0 --add-key "$osd_secret" >>"$out"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$STATE/log/osd.0.out" 2>&1 ||
    fail_start osd.0 "ceph-osd --mkfs failed"
}

wait_osd_up() {
  local deadline=$(($(date +%s) + START_TIMEOUT)) stat=''
  while (($(date +%s) < deadline)); do
    daemon_alive osd.0 || fail_start osd.0 "ceph-osd exited during start-up"
    stat=$(ceph_cli osd stat -f json 2>/dev/null || true)
    if [[ $stat == *'"num_up_osds":1,'* && $stat == *'"num_in_osds":1,'* ]]; then
      return 0
    fi
    sleep 0.2
  done
  fail_start osd.0 "osd.0 not up+in after ${START_TIMEOUT}s (last 'ceph osd stat': ${stat:-no answer})"
}

wait_http() {
  local deadline=$(($(date +%s) + START_TIMEOUT))
  while (($(date +%s) < deadline)); do
    daemon_alive "$RGW_NAME" || fail_start "$RGW_NAME" "radosgw exited during start-up"
    http_ready && return 0
    sleep 0.1
  done
  fail_start "$RGW_NAME" "http://127.0.0.1:$S3_PORT/ did not answer within ${START_TIMEOUT}s (last HTTP code: $(http_code))"
}

# A resumed cluster already has the user; a fresh one cannot, so skip the lookup there.
ensure_user() {
  if [[ $1 == resume ]] && radosgw-admin -c "$CONF" -n client.admin user info --uid "$S3_UID" >/dev/null 2>&1; then
    return 0
  fi
  radosgw-admin -c "$CONF" -n client.admin user create --uid "$S3_UID" --display-name "Tessera tests" \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >/dev/null 2>>"$STATE/log/radosgw-admin.out" ||
    fail_start radosgw-admin "radosgw-admin user create failed"
}

write_env() {
  {
    printf 'export S3_ENDPOINT=%q\n' "http://127.0.0.1:$S3_PORT"
    printf 'export AWS_ACCESS_KEY_ID=%q\n' "$ACCESS_KEY"
    printf 'export AWS_SECRET_ACCESS_KEY=%q\n' "$SECRET_KEY"
    printf 'export AWS_REGION=us-east-1\n'
    printf 'export S3_FORCE_PATH_STYLE=true\n'
  } >"$ENV_FILE"
}

check_ports_free() {
  port_in_use "$S3_PORT" && die "port 127.0.0.1:$S3_PORT is already in use (set TESSERA_S3_PORT)"
  port_in_use "$MON_PORT" && die "port 127.0.0.1:$MON_PORT is already in use (set TESSERA_RGW_MON_PORT)"
  return 0
}

check_tools() {
  local bin missing=()
  for bin in ceph-mon ceph-osd radosgw radosgw-admin ceph-authtool monmaptool ceph curl ss timeout flock realpath; do
    command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
  done
  ((${#missing[@]} == 0)) || die "missing: ${missing[*]} (run infra/s3/install.sh)"
  # Unix socket paths are limited to 107 bytes.
  ((${#STATE} <= 70)) || die "TESSERA_RGW_DIR is too long for admin socket paths: $STATE"
}

# mode: fresh (new empty cluster) | resume (restart daemons on an existing bluestore cluster)
start_cluster() {
  local mode=$1 t0
  t0=$(now_ms)
  START_TIMEOUT=${TESSERA_RGW_START_TIMEOUT:-60}
  [[ $START_TIMEOUT =~ ^[0-9]+$ ]] || die "TESSERA_RGW_START_TIMEOUT must be a number of seconds"
  check_tools

  if settings_load && cluster_answering; then
    log "already running ($STATE)"
    write_env
    cat -- "$ENV_FILE"
    return 0
  fi
  if [[ -e $STATE/$MARKER ]] && any_alive; then
    log "previous cluster in $STATE is not answering; stopping it"
    stop_all 2
  fi

  if [[ $mode == resume ]]; then
    settings_load || die "no cluster to resume in $STATE"
    check_ports_free
    log "resuming $STORE cluster in $STATE"
    rm -f -- "$STATE"/run/*.asok
    launch mon.a ceph-mon -i a
  else
    settings_from_env
    check_ports_free
    log "bootstrapping $STORE cluster in $STATE (mon 127.0.0.1:$MON_PORT, S3 127.0.0.1:$S3_PORT)"
    bootstrap_fresh
  fi

  launch osd.0 ceph-osd -i 0
  wait_osd_up
  log "osd up after $(($(now_ms) - t0)) ms; starting radosgw"
  launch "$RGW_NAME" radosgw -n "$RGW_NAME"
  wait_http
  ensure_user "$mode"
  touch -- "$STATE/bootstrapped"
  write_env
  log "S3 ready at http://127.0.0.1:$S3_PORT in $(($(now_ms) - t0)) ms (state: $STATE)"
  cat -- "$ENV_FILE"
}

# Serialises start/stop/restart on the same state dir (e.g. parallel test workers). The lock
# file sits next to the state dir because the dir itself gets wiped.
take_lock() {
  mkdir -p -- "$(dirname -- "$LOCK_FILE")"
  exec 9>"$LOCK_FILE"
  flock -w 180 9 || die "timed out waiting for $LOCK_FILE (another rgw.sh holds it)"
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_start() {
  take_lock
  start_cluster fresh
}

cmd_stop() {
  local purge=0 t0
  case ${1:-} in
    '') ;;
    --purge) purge=1 ;;
    *) die "usage: rgw.sh stop [--purge]" ;;
  esac
  take_lock
  t0=$(now_ms)
  if [[ ! -e $STATE/$MARKER ]]; then
    log "nothing to stop in $STATE"
    return 0
  fi
  stop_all
  rm -f -- "$STATE"/run/*.asok
  if ((purge)); then
    # The lock file stays: deleting it could let a waiting and a new caller both hold "the" lock.
    wipe_state
    log "stopped and removed $STATE in $(($(now_ms) - t0)) ms"
  else
    log "stopped in $(($(now_ms) - t0)) ms (state kept in $STATE)"
  fi
}

cmd_status() {
  if settings_load && is_up; then
    cat -- "$ENV_FILE"
    return 0
  fi
  local d state
  for d in mon.a osd.0 "$RGW_NAME"; do
    if daemon_alive "$d"; then state=running; else state=stopped; fi
    log "$d: $state"
  done
  log "http://127.0.0.1:$S3_PORT/: $(http_code)"
  return 1
}

cmd_env() {
  [[ -s $ENV_FILE ]] || die "no env file in $STATE (start the gateway first)"
  cat -- "$ENV_FILE"
}

cmd_restart() {
  local requested_store=${TESSERA_RGW_STORE:-memstore}
  take_lock
  if settings_load && [[ -e $STATE/bootstrapped && $STORE == bluestore && $requested_store == bluestore ]]; then
    stop_all
    start_cluster resume
  else
    [[ -e $STATE/$MARKER ]] && stop_all
    start_cluster fresh
  fi
}

cmd_restart_gateway() {
  take_lock
  START_TIMEOUT=${TESSERA_RGW_START_TIMEOUT:-60}
  settings_load || die "no cluster in $STATE (run: rgw.sh start)"
  if ! daemon_alive mon.a || ! daemon_alive osd.0; then
    die "mon/osd of $STATE are not running (run: rgw.sh start)"
  fi
  local t0
  t0=$(now_ms)
  stop_daemon "$RGW_NAME"
  port_in_use "$S3_PORT" && die "port 127.0.0.1:$S3_PORT is still in use after stopping radosgw"
  rm -f -- "$STATE/run/$RGW_NAME.asok"
  launch "$RGW_NAME" radosgw -n "$RGW_NAME"
  wait_http
  log "radosgw restarted in $(($(now_ms) - t0)) ms"
  write_env
  cat -- "$ENV_FILE"
}

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
}

main() {
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env "$@" ;;
    restart) cmd_restart "$@" ;;
    restart-gateway) cmd_restart_gateway "$@" ;;
    -h | --help | help)
      usage
      ;;
    *)
      usage
      exit 2
      ;;
  esac
}

main "$@"
