#!/usr/bin/env bash
# Runs the Worker's tests (worker/test/*.test.mjs, node --test) against what the Maven build made:
# the packed npm package (npm-package/TARGET/needle-java-wasm-*.tgz, installed into worker/ as a
# user would install it), the JVM command line (cli/TARGET/needle-cli.jar, the reference answers)
# and the generated models (wasm-bridge/TARGET/node-fixtures). The Worker runs in workerd under
# `wrangler dev` on 127.0.0.1 with Wrangler's network features off. Output is TAP.
#
# Usage: worker/scripts/test.sh SHARED [TARGET]   (the Maven module worker/ runs it in the
#   integration-test phase of `mvn verify`, after the modules it needs)
#   SHARED  ../shared (the real vocabulary)
#   TARGET  the build folder's name (-Dneedle.target; default target)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 SHARED [TARGET]" >&2
  exit 2
fi
shared="$(cd "$1" && pwd)"
target="${2:-target}"

tarballs=("$root/npm-package/$target"/needle-java-wasm-*.tgz)
jar="$root/cli/$target/needle-cli.jar"
fixtures="$root/wasm-bridge/$target/node-fixtures"
for f in "${tarballs[0]}" "$jar" "$fixtures/manifest.json"; do
  if [ ! -f "$f" ]; then
    echo "worker-tests: $f is missing (build the modules first: mvn verify runs them before this one)" >&2
    exit 1
  fi
done

node="$("$root/node-support/ensure-node.sh")"
echo "worker-tests: $("$node" --version) ($node)"
export PATH="$(dirname "$node"):$PATH" # wrangler runs under this Node too

# wrangler (and workerd, which it runs), typescript and the Workers types from package-lock.json,
# once per lock; then the package as built, from its tarball (over the file: link of
# package.json, which points at target/)
"$root/node-support/npm-ci-once.sh" "$here"
(cd "$here" && npm install --no-save --offline --no-audit --no-fund --loglevel=error "${tarballs[0]}")

work="$here/$target/test-work"
rm -rf "$work"
mkdir -p "$work"
cd "$here"
export NEEDLE_SHARED="$shared" NEEDLE_NODE_FIXTURES="$fixtures" NEEDLE_CLI_JAR="$jar" NEEDLE_WORKER_WORK="$work"
exec "$node" --test --test-reporter=tap --test-timeout=600000 test/*.test.mjs
