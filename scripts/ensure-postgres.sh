#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries are on this machine: shiftflow's
# tests and `make run` start a private server from them (no service needed).
set -euo pipefail
have() {
  local dir
  dir=$(pg_config --bindir 2>/dev/null || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
if have; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL server binaries not found; install the Debian package 'postgresql' (needs root)." >&2
  exit 1
fi
echo "installing PostgreSQL server binaries (Debian package postgresql)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
# The package starts a cluster service on some systems; shiftflow runs its own.
(service postgresql stop || pg_ctlcluster --help) >/dev/null 2>&1 || true
have
