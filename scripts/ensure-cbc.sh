#!/usr/bin/env bash
# Best effort: installs CBC (Debian coinor-cbc) so the test of the IP model
# behind `shiftflow bench cbc` runs; without it that one test is skipped.
set -uo pipefail
command -v cbc >/dev/null && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "cbc not found and cannot be installed here; the CBC model test will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
(apt-get install -y -qq coinor-cbc || (apt-get update -qq && apt-get install -y -qq coinor-cbc)) >/dev/null 2>&1 \
  || echo "installing coinor-cbc failed; the CBC model test will be skipped" >&2
exit 0
