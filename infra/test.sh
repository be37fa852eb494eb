#!/usr/bin/env bash
# The whole test run from a fresh machine: toolchain, dependencies, Redis, the S3 server, then
# format, lint, typecheck, the compose file check and every test tier.
#   infra/test.sh             everything
#   infra/test.sh <vitest args> passes them to vitest (e.g. `infra/test.sh --project unit`)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=infra/bootstrap.sh
source infra/bootstrap.sh

say() { printf '[test] %s\n' "$*" >&2; }

export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
if ! redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
  if [ "$REDIS_URL" = redis://127.0.0.1:6379 ]; then
    command -v redis-server >/dev/null || { say "installing redis-server"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2; }
    say "starting redis-server on 127.0.0.1:6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2
    for _ in $(seq 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  redis-cli -u "$REDIS_URL" ping >/dev/null || { say "Redis does not answer at $REDIS_URL"; exit 1; }
fi
say "redis answers at $REDIS_URL"

if [ -z "${S3_ENDPOINT:-}" ]; then
  infra/s3/install.sh >&2
  eval "$(infra/s3/rgw.sh start)"
  export S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION S3_FORCE_PATH_STYLE
fi
say "S3 server at $S3_ENDPOINT"

# HEVC-coded HEIC test scenes need Debian's heif-enc with x265; the tests that use it skip
# (and say so) when it cannot be installed.
if ! command -v heif-enc >/dev/null && [ "$(id -u)" = 0 ]; then
  say "installing libheif-examples (heif-enc) for HEIC test scenes"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libheif-examples) >&2 ||
    say "could not install libheif-examples: HEIC scene tests will be skipped"
fi

# The dashboard's browser test drives Debian's Chromium headless; it skips (and says so) without it.
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ]; then
  say "installing chromium for the dashboard's browser test"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >&2 ||
    say "could not install chromium: the dashboard browser test will be skipped"
fi

if [ $# -gt 0 ]; then
  exec pnpm vitest run "$@"
fi

say "format";    pnpm format:check
say "lint";      pnpm lint
say "typecheck"; pnpm typecheck
if command -v docker-compose >/dev/null; then
  say "docker-compose.yml"; docker-compose -f docker-compose.yml config --quiet
else
  say "docker-compose not installed: compose file check skipped (apt-get install docker-compose)"
fi
# Each tier ends with the reporter's plain "Tests: N passed, N failed, N skipped" line; the run
# ends with their sum, so the last line speaks for every tier.
summaries=$(mktemp)
trap 'rm -f "$summaries" "$summaries.log"' EXIT
tier() {
  local status=0
  "$@" 2>&1 | tee "$summaries.log" || status=$?
  grep -E '^Tests: [0-9]+ passed' "$summaries.log" >>"$summaries" || true
  return "$status"
}
say "tests"
tier pnpm test
say "chaos: SIGKILLed workers, a Redis crash and an S3 restart mid-run"
tier pnpm test:chaos
awk '{ p += $2; f += $4; s += $6 } END { printf "\nTotal: %d passed, %d failed, %d skipped\n", p, f, s }' "$summaries"
