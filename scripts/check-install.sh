#!/bin/sh
# Installs stormtunnel the way the README's "Install for daily use" says, into a throw-away npm prefix, and
# runs `stormtunnel demo` from an unrelated folder. Needs the npm registry (dependencies); not run by
# `npm test`. Usage: sh scripts/check-install.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root"
npm pack --silent --pack-destination "$tmp" >/dev/null
npm install -g --silent --prefix "$tmp/prefix" "$tmp"/stormtunnel-*.tgz
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
"$tmp/prefix/bin/stormtunnel" --version
"$tmp/prefix/bin/stormtunnel" demo
echo "check-install: ok"
