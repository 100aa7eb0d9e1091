#!/usr/bin/env bash
# Temporal's time-skipping test server from Maven Central, for `TestWorkflowEnvironment
# .createTimeSkipping` (@temporalio/testing would download a native build from temporal.download
# at run time; this machine reaches package registries only). Resolves the jars that pom.xml
# beside this script names (it pins the version) with Maven into a per-user cache keyed by that
# version, once: every clone and CI run on this machine reuses it. Prints the launcher's path on
# stdout; progress goes to stderr.
#
#   <cache>/temporal-test-server   the launcher: `temporal-test-server <port> [flags]`, the way
#                                  the SDK runs an `existing-path` test server
#   <cache>/lib/                   the server's jars
#   <cache>/classes.jsa            the classes a start loads, archived (AppCDS): a start takes
#                                  ~0.3 s instead of 1-2 s, well inside the 5 s the SDK waits
#
# TEMPORAL_TEST_SERVER_CACHE moves the cache (default
# ~/.cache/task-control-api/temporal-test-server). Java and Maven come from Debian's packages
# (deploy/system-deps.sh) when missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's:.*<temporal-test-server.version>\(.*\)</temporal-test-server.version>.*:\1:p' "$here/pom.xml")"
[ -n "$version" ] || { echo "$here/pom.xml sets no temporal-test-server.version" >&2; exit 1; }
root="${TEMPORAL_TEST_SERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/task-control-api/temporal-test-server}"
dir="$root/$version"
launcher="$dir/temporal-test-server"

complete() { [ -x "$launcher" ] && [ -f "$dir/classes.jsa" ]; }
if complete; then echo "$launcher"; exit 0; fi

mkdir -p "$root"
# One install at a time per cache: a second caller waits for the first and then reuses its result.
exec 9>"$root/.install.lock"
flock 9
if complete; then echo "$launcher"; exit 0; fi

if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  bash "$here/../system-deps.sh" java >&2
fi

if [ ! -x "$launcher" ]; then
  echo "Resolving Temporal test server $version from Maven Central into $dir (once per machine)" >&2
  work="$(mktemp -d "$root/.install-$version.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  # The jars are copied out of Maven's local repository: the cache stands alone. Maven's log is
  # shown only when it fails (3.8 prints stray colour codes even when quiet).
  mvn -B -ntp -f "$here/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$work/lib" >"$work/maven.log" 2>&1 || {
    cat "$work/maven.log" >&2
    echo "Maven could not resolve io.temporal:temporal-test-server:$version (log above)" >&2
    exit 1
  }
  rm "$work/maven.log"
  [ -f "$work/lib/temporal-test-server-$version.jar" ] || {
    echo "Maven resolved no temporal-test-server-$version.jar" >&2
    exit 1
  }
  # exec: the SDK stops the server by killing the process it started, so that must be the JVM.
  # C1 only (TieredStopAtLevel=1) starts faster; tests are too short for C2 to pay off. A class
  # archive left by another JVM version is ignored without a word (-Xlog:cds off) and the start
  # merely takes longer.
  cat >"$work/temporal-test-server" <<'LAUNCHER'
#!/usr/bin/env bash
# Temporal's time-skipping test server: `temporal-test-server <port> [--enable-time-skipping]`.
# Written by deploy/temporal-test-server/install.sh.
here="$(cd "$(dirname "$0")" && pwd)"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
archive=()
[ -f "$here/classes.jsa" ] && archive=("-XX:SharedArchiveFile=$here/classes.jsa" -Xlog:cds=off -Xlog:cds+dynamic=off)
exec "$java" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "${archive[@]}" ${TEMPORAL_TEST_SERVER_JAVA_OPTS:-} \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"
LAUNCHER
  chmod 755 "$work" "$work/temporal-test-server"
  rm -rf "$dir"
  mv "$work" "$dir"
  trap - EXIT
fi

# The class archive records the jars' paths, so it is made where they stay: start the server
# once, wait until it listens, stop it; the JVM writes the classes it loaded as it exits.
echo "Archiving the test server's classes for fast starts" >&2
port=""
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 30000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[ -n "$port" ] || { echo "No free port to start the test server on" >&2; exit 1; }
rm -f "$dir/classes.jsa.tmp"
TEMPORAL_TEST_SERVER_JAVA_OPTS="-XX:ArchiveClassesAtExit=$dir/classes.jsa.tmp" \
  "$launcher" "$port" >/dev/null 2>"$dir/.archive.log" &
pid=$!
deadline=$((SECONDS + 120))
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
  if ! kill -0 "$pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
    kill "$pid" 2>/dev/null || true
    echo "The test server did not start on port $port:" >&2
    cat "$dir/.archive.log" >&2
    exit 1
  fi
  sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || true
[ -s "$dir/classes.jsa.tmp" ] || {
  echo "The JVM wrote no class archive:" >&2
  cat "$dir/.archive.log" >&2
  exit 1
}
mv "$dir/classes.jsa.tmp" "$dir/classes.jsa"
rm -f "$dir/.archive.log"
echo "Temporal test server $version ready" >&2
echo "$launcher"
