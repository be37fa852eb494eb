#!/usr/bin/env bash
# Installs the Debian packages that infra/s3/rgw.sh needs (Ceph RADOS Gateway and a
# minimal mon/osd). Idempotent: when the binaries are already present it does nothing,
# so it is cheap to call from CI before every test run.
set -euo pipefail

PACKAGES=(radosgw ceph-mon ceph-osd ceph-common curl iproute2 uuid-runtime)
REQUIRED_BINARIES=(radosgw ceph-mon ceph-osd ceph-authtool monmaptool radosgw-admin ceph curl ss)

log() { printf '[s3-install] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

missing=()
for bin in "${REQUIRED_BINARIES[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done

if ((${#missing[@]} == 0)); then
  log "all required binaries present ($(radosgw --version 2>/dev/null | awk '{print $3}' || true)); nothing to do"
  exit 0
fi

log "missing: ${missing[*]}"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this installer only supports Debian/Ubuntu; install ${PACKAGES[*]} by hand"

SUDO=()
if ((EUID != 0)); then
  command -v sudo >/dev/null 2>&1 || die "not root and sudo is not available; re-run as root"
  SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
log "running: apt-get update"
"${SUDO[@]}" apt-get update -q >&2 || die "apt-get update failed"
log "running: apt-get install -y --no-install-recommends ${PACKAGES[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >&2 ||
  die "apt-get install failed (another apt/dpkg process holding the lock? see output above)"

for bin in "${REQUIRED_BINARIES[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || die "$bin still missing after install"
done
log "installed: $(radosgw --version 2>/dev/null || echo radosgw)"
