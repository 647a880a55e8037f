#!/usr/bin/env bash
# Runs the npm package's tests as a user would meet the package: installs the packed tarball into
# a scratch project (OUT/scratch) and runs node --test there; the tests import only
# "needle-java-wasm" (and the shared helpers of node-support/, copied beside them as in the
# repository: scratch/npm-package/test, scratch/node-support). Output is TAP; it ends with the
# counts ("# pass N", "# fail N").
# Usage: scripts/node-tests.sh OUT SHARED NODE_FIXTURES   (run by Maven in the integration-test phase)
#   OUT            the folder holding needle-java-wasm-VERSION.tgz (scripts/build.mjs writes it)
#   SHARED         ../shared (parity and tokenizer fixtures)
#   NODE_FIXTURES  generated models and the JVM's answers (wasm-bridge's NodeFixturesTest writes them)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
support="$(cd "$here/../node-support" && pwd)"
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

node="$("$support/ensure-node.sh")"
echo "node-tests: $("$node" --version) ($node)"

# the test tools of package-lock.json (wrangler, which bundles Workers; workerd, the Workers
# runtime; typescript, which checks index.d.ts), once per lock
"$support/npm-ci-once.sh" "$here"
workerd="$here/node_modules/.bin/workerd"
if ! "$workerd" --version >/dev/null 2>&1; then
  echo "node-tests: $workerd does not run (npm ci should have installed it)" >&2
  exit 1
fi

scratch="$out/scratch"
rm -rf "$scratch"
mkdir -p "$scratch/npm-package/test" "$scratch/node-support"
printf '{ "name": "needle-java-wasm-tests", "private": true, "type": "module" }\n' > "$scratch/package.json"
(cd "$scratch" && npm install --offline --no-audit --no-fund --loglevel=error "${tarballs[0]}")
cp "$here"/test/*.mjs "$here"/test/*.ts "$here"/test/tsconfig.json "$scratch/npm-package/test/"
cp "$support"/*.mjs "$scratch/node-support/"

cd "$scratch/npm-package"
# NEEDLE_PACKAGE_STAGE: the staged package folder scripts/build.mjs packed (pack.test.mjs runs npm
# pack --dry-run there); NEEDLE_REPOSITORY_ROOT: the checkout (the LICENSE the package must carry)
export NEEDLE_SHARED="$shared" NEEDLE_NODE_FIXTURES="$fixtures" NEEDLE_TEST_TOOLS="$here/node_modules"
export NEEDLE_PACKAGE_STAGE="$out/package" NEEDLE_REPOSITORY_ROOT="$(cd "$here/.." && pwd)"
exec "$node" --test --test-reporter=tap --test-timeout=300000 "test/*.test.mjs"
