#!/usr/bin/env bash
# Builds the Temporal server and its SQL tool from the Go module beside this script (go.mod pins
# the version) into a per-user cache keyed by that version, once: every clone and CI run on this
# machine reuses it. Prints the cache directory on stdout; progress goes to stderr.
#
#   <cache>/temporal-server      the server (`--config-file ... start`)
#   <cache>/temporal-sql-tool    schema set-up and upgrades (`--plugin postgres12 ...`)
#   <cache>/schema/postgresql/   the versioned schemas that come with this server version
#
# TEMPORAL_SERVER_CACHE moves the cache (default ~/.cache/task-control-api/temporal-server).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(awk '$1 == "require" && $2 == "go.temporal.io/server" { print $3 }' "$here/go.mod")"
[ -n "$version" ] || { echo "deploy/temporal/go.mod does not require go.temporal.io/server" >&2; exit 1; }
root="${TEMPORAL_SERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/task-control-api/temporal-server}"
dir="$root/$version"

complete() { [ -x "$dir/temporal-server" ] && [ -x "$dir/temporal-sql-tool" ] && [ -d "$dir/schema/postgresql" ]; }
if complete; then echo "$dir"; exit 0; fi

mkdir -p "$root"
# One build at a time per cache: a second caller waits for the first and then reuses its result.
exec 9>"$root/.build.lock"
flock 9
if complete; then echo "$dir"; exit 0; fi

command -v go >/dev/null || { echo "Go is needed to build the Temporal server (https://go.dev/dl)" >&2; exit 1; }
echo "Building Temporal server $version into $dir (once per machine; about 7 minutes on 2 cores)" >&2
work="$(mktemp -d "$root/.build-$version.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$here"
# The server's go.mod asks for a newer Go than many machines have; `auto` fetches that toolchain
# through the module proxy when the local one is older (and uses the local one otherwise).
export GOTOOLCHAIN=auto GOFLAGS=-mod=readonly CGO_ENABLED=0
nice go build -trimpath -ldflags '-s -w' -o "$work/temporal-server" go.temporal.io/server/cmd/server
nice go build -trimpath -ldflags '-s -w' -o "$work/temporal-sql-tool" go.temporal.io/server/cmd/tools/sql
module_dir="$(go list -m -f '{{.Dir}}' go.temporal.io/server)"
mkdir -p "$work/schema"
cp -R "$module_dir/schema/postgresql" "$work/schema/"
chmod -R u+w "$work/schema"
rm -rf "$dir"
chmod 755 "$work"
mv "$work" "$dir"
trap - EXIT
echo "Built Temporal server $version" >&2
echo "$dir"
