#!/usr/bin/env bash
# Creates the Temporal databases on PostgreSQL when missing and brings both schemas (persistence
# and SQL visibility) to the version the pinned server needs: `npm run temporal:schema`.
# Idempotent: run it before every start, and after changing the server version in go.mod (the
# upgrade of a schema a running older server uses is what Temporal's upgrade notes describe).
#
# Reads the SQL tool's own variables: SQL_HOST (127.0.0.1), SQL_PORT (5432), SQL_USER,
# SQL_PASSWORD; and TEMPORAL_DB (temporal), TEMPORAL_VISIBILITY_DB (temporal_visibility).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$("$here/build.sh")"
export SQL_PLUGIN=postgres12 SQL_HOST="${SQL_HOST:-127.0.0.1}" SQL_PORT="${SQL_PORT:-5432}"
schemas="$bin/schema/postgresql/v12"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# The tool logs a JSON line per step; show them only when a step fails.
tool() {
  if ! "$bin/temporal-sql-tool" "$@" >>"$log" 2>&1; then
    echo "temporal-sql-tool $* failed:" >&2
    cat "$log" >&2
    return 1
  fi
}

for pair in "${TEMPORAL_DB:-temporal}:temporal" "${TEMPORAL_VISIBILITY_DB:-temporal_visibility}:visibility"; do
  db="${pair%%:*}" schema="${pair##*:}"
  # create-database has no "if not exists": an existing database is what we want.
  if ! "$bin/temporal-sql-tool" --db "$db" create-database >>"$log" 2>&1; then
    grep -q 'already exists' "$log" || { cat "$log" >&2; exit 1; }
  fi
  tool --db "$db" setup-schema -v 0.0
  tool --db "$db" update-schema -d "$schemas/$schema/versioned"
  : >"$log"
done
echo "Temporal schemas are current on $SQL_HOST:$SQL_PORT" >&2
