#!/usr/bin/env bash
# Runs the npm package's tests as a user would meet the package: installs the packed tarball into
# a scratch project (OUT/scratch) and runs node --test there; the tests import only
# "needle-java-wasm". Output is TAP; it ends with the counts ("# pass N", "# fail N").
# Usage: scripts/node-tests.sh OUT SHARED NODE_FIXTURES   (run by Maven in the integration-test phase)
#   OUT            the folder holding needle-java-wasm-VERSION.tgz (scripts/build.mjs writes it)
#   SHARED         ../shared (parity and tokenizer fixtures)
#   NODE_FIXTURES  generated models and the JVM's answers (wasm-bridge's NodeFixturesTest writes them)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -ne 3 ]; then
  echo "usage: $0 OUT SHARED NODE_FIXTURES" >&2
  exit 2
fi
out="$(cd "$1" && pwd)"
shared="$(cd "$2" && pwd)"
fixtures="$3"
if [ ! -f "$fixtures/manifest.json" ]; then
  echo "node-tests: $fixtures/manifest.json is missing (wasm-bridge's NodeFixturesTest writes it)" >&2
  exit 1
fi
fixtures="$(cd "$fixtures" && pwd)"
tarballs=("$out"/needle-java-wasm-*.tgz)
if [ ! -f "${tarballs[0]}" ]; then
  echo "node-tests: no needle-java-wasm-*.tgz in $out (scripts/build.mjs makes it)" >&2
  exit 1
fi

node="$("$here/scripts/ensure-node.sh")"
echo "node-tests: $("$node" --version) ($node)"

# the test tools (wrangler, which bundles Workers, and workerd, the Workers runtime) from
# package-lock.json, once per lock
stamp="$here/node_modules/.needle-lock-sha256"
want="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi
workerd="$here/node_modules/.bin/workerd"
if ! "$workerd" --version >/dev/null 2>&1; then
  echo "node-tests: $workerd does not run (npm ci should have installed it)" >&2
  exit 1
fi

scratch="$out/scratch"
rm -rf "$scratch"
mkdir -p "$scratch/test"
printf '{ "name": "needle-java-wasm-tests", "private": true, "type": "module" }\n' > "$scratch/package.json"
(cd "$scratch" && npm install --offline --no-audit --no-fund --loglevel=error "${tarballs[0]}")
cp "$here"/test/*.mjs "$scratch/test/"

cd "$scratch"
export NEEDLE_SHARED="$shared" NEEDLE_NODE_FIXTURES="$fixtures" NEEDLE_TEST_TOOLS="$here/node_modules"
exec "$node" --test --test-reporter=tap --test-timeout=300000 "test/*.test.mjs"
