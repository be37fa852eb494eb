#!/usr/bin/env bash
# The demo from a fresh machine: toolchain and dependencies, then `tessera demo` (sample images,
# the Gemini emulator and a worker in one process, real Redis; a throwaway redis-server from
# PATH is started when none answers). Extra arguments go to `tessera demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=infra/bootstrap.sh
source infra/bootstrap.sh
exec pnpm --silent tessera demo "$@"
