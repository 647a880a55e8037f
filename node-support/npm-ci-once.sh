#!/usr/bin/env bash
# Installs a folder's package-lock.json with `npm ci`, once per lock: DIR/node_modules/
# .needle-lock-sha256 keeps the hash of the lock it installed, so a later call with the same lock
# does nothing. Every place that installs the project's Node tools uses it: npm-package's build
# (wabt, for the SIMD kernels) and tests (wrangler, workerd, typescript), the Worker's tests.
# Concurrent calls for one folder wait for each other. npm comes from the PATH; output on stderr.
# Usage: node-support/npm-ci-once.sh DIR
set -euo pipefail
if [ $# -ne 1 ] || [ ! -f "$1/package-lock.json" ]; then
  echo "usage: $0 DIR   (a folder with a package-lock.json)" >&2
  exit 2
fi
dir="$(cd "$1" && pwd)"
exec 9<"$dir/package-lock.json"
flock 9
stamp="$dir/node_modules/.needle-lock-sha256"
want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "npm-ci-once: installing $dir/package-lock.json (npm ci)" >&2
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
echo "$want" > "$stamp"
