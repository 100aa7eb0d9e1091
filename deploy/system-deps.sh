#!/usr/bin/env bash
# System packages from Debian, installed with apt-get when missing (quiet when nothing is):
#   (no argument)  what `npm test` needs: Chromium for the Swagger UI test (never a test tool's
#                  own browser download) and redis-server for the shared rate-limit test;
#                  and Java with Maven for the time-skipping workflow test (below);
#   cluster        what `npm run start:cluster` and `npm run test:cluster` add: PostgreSQL 15,
#                  HAProxy and openssl;
#   java           only Java and Maven: Temporal's time-skipping test server runs on the JVM,
#                  resolved from Maven Central (deploy/temporal-test-server/install.sh).
set -euo pipefail
missing=()
case "${1:-}" in
  cluster)
    [ -x /usr/lib/postgresql/15/bin/postgres ] || missing+=(postgresql-15)
    [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
    command -v openssl >/dev/null || missing+=(openssl)
    ;;
  java) ;;
  *) [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
esac
[ "${1:-}" = java ] || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
if [ "${1:-}" != cluster ]; then
  command -v java >/dev/null || missing+=(default-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "Install these Debian packages first: ${missing[*]}" >&2
  exit 1
fi
echo "Installing ${missing[*]} with apt-get" >&2
apt-get update -qq
# Their own services (a system-wide PostgreSQL, HAProxy) are not wanted: the cluster runs its
# own processes. policy-rc.d tells the packages not to start them.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
