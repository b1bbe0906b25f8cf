#!/usr/bin/env bash
# Install the Debian packages the cluster tests start as child processes (test/cluster/): etcd,
# a one-monitor/one-OSD Ceph with radosgw, and PostgreSQL. Idempotent: when every binary is already
# present it prints one line and exits at once (no apt, no network). Never starts or enables any
# systemd unit; the tests run the daemons themselves on loopback ports in a temp dir.
set -euo pipefail

PACKAGES=(etcd-server etcd-client ceph-mon ceph-osd radosgw ceph-common postgresql)
BINARIES=(etcd etcdctl ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool)

missing=()
for bin in "${BINARIES[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
# PostgreSQL's server binaries are not on PATH in Debian; any installed major version will do.
pg_found=no
for dir in /usr/lib/postgresql/*/bin; do
  if [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ]; then pg_found=yes; fi
done
[ "$pg_found" = yes ] || missing+=("postgres (/usr/lib/postgresql/*/bin)")

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: etcd, ceph (mon, osd, radosgw) and postgresql already installed"
  exit 0
fi

echo "install-deps: missing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
install() {
  echo "install-deps: apt-get install ${PACKAGES[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PACKAGES[@]}"
}
if ! install; then
  echo "install-deps: install failed; running apt-get update and retrying"
  $SUDO apt-get update
  install
fi

for bin in "${BINARIES[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || { echo "install-deps: $bin still missing after install" >&2; exit 1; }
done
echo "install-deps: done"
