#!/usr/bin/env bash
# Best effort: installs the tools some tests need, when missing: CBC (Debian
# coinor-cbc) for the test of the IP model behind `shiftflow bench cbc`, and
# curl and jq for the README walkthrough test. A test whose tool is still
# missing is skipped with a message.
set -uo pipefail
declare -A pkg=([cbc]=coinor-cbc [jq]=jq [curl]=curl)
missing=()
for tool in "${!pkg[@]}"; do
  command -v "$tool" >/dev/null || missing+=("${pkg[$tool]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing ${missing[*]} and cannot install here; the tests that need them will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
(apt-get install -y -qq "${missing[@]}" || (apt-get update -qq && apt-get install -y -qq "${missing[@]}")) >/dev/null 2>&1 \
  || echo "installing ${missing[*]} failed; the tests that need them will be skipped" >&2
exit 0
