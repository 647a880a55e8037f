#!/usr/bin/env bash
# Runs the Worker's tests (worker/test/*.test.mjs, node --test) against what the Maven build made:
# the packed npm package (npm-package/TARGET/needle-java-wasm-*.tgz, installed into worker/ as a
# user would install it), the JVM command line (cli/TARGET/needle-cli.jar, the reference answers)
# and the generated models (wasm-bridge/TARGET/node-fixtures). The Worker runs in workerd under
# `wrangler dev` on 127.0.0.1 with Wrangler's network features off. Output is TAP.
#
# Usage: worker/scripts/test.sh SHARED [MAVEN_ARGS...]   (./run-tests calls it after `mvn verify`)
#   SHARED      ../shared (the real vocabulary)
#   MAVEN_ARGS  the arguments given to mvn: -Dneedle.target=NAME picks the build folder (default
#               target); -DskipTests, -Dmaven.test.skip, -Dneedle.npm.skip=true or -Dneedle.worker.skip=true
#               skip these tests, and so does a partial build (-pl/--projects, -rf).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
if [ $# -lt 1 ]; then
  echo "usage: $0 SHARED [MAVEN_ARGS...]" >&2
  exit 2
fi
shared="$(cd "$1" && pwd)"
shift

target="target"
for arg in "$@"; do
  case "$arg" in
    -Dneedle.target=*) target="${arg#-Dneedle.target=}" ;;
    -DskipTests|-DskipTests=true|-Dmaven.test.skip|-Dmaven.test.skip=true|-Dneedle.npm.skip=true|-Dneedle.worker.skip=true)
      echo "worker-tests: skipped ($arg)"
      exit 0 ;;
    -pl|--projects|-pl=*|--projects=*|-rf|--resume-from|-rf=*|--resume-from=*)
      echo "worker-tests: skipped (a partial build: $arg)"
      exit 0 ;;
  esac
done

tarballs=("$root/npm-package/$target"/needle-java-wasm-*.tgz)
jar="$root/cli/$target/needle-cli.jar"
fixtures="$root/wasm-bridge/$target/node-fixtures"
for f in "${tarballs[0]}" "$jar" "$fixtures/manifest.json"; do
  if [ ! -f "$f" ]; then
    echo "worker-tests: $f is missing (run the Maven build first: ./run-tests)" >&2
    exit 1
  fi
done

node="$("$root/npm-package/scripts/ensure-node.sh")"
echo "worker-tests: $("$node" --version) ($node)"
export PATH="$(dirname "$node"):$PATH" # wrangler runs under this Node too

# wrangler (and workerd, which it runs) from package-lock.json, once per lock; then the package
# as built, from its tarball (over the file: link of package.json, which points at target/)
stamp="$here/node_modules/.needle-lock-sha256"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi
(cd "$here" && npm install --no-save --offline --no-audit --no-fund --loglevel=error "${tarballs[0]}")

work="$here/$target/test-work"
rm -rf "$work"
mkdir -p "$work"
cd "$here"
export NEEDLE_SHARED="$shared" NEEDLE_NODE_FIXTURES="$fixtures" NEEDLE_CLI_JAR="$jar" NEEDLE_WORKER_WORK="$work"
exec "$node" --test --test-reporter=tap --test-timeout=600000 test/*.test.mjs
