#!/usr/bin/env bash
# System packages the test suite needs, from Debian: Chromium for the Swagger UI test (never a
# test tool's own browser download) and redis-server for the shared rate-limit test.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "Install these Debian packages first: ${missing[*]}" >&2
  exit 1
fi
echo "Installing ${missing[*]} with apt-get" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
