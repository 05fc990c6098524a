#!/usr/bin/env bash
# The whole check: install what is missing, start the real servers, build, lint, typecheck,
# Rust checks and every test suite. The servers are stopped on the way out, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p .tmp
services=scripts/services
trap '"$services/stop" || true' EXIT

"$services/install"
# The servers boot while the build and static checks run; `await` joins them before tests.
"$services/start" --no-wait

npm run build
npm run lint
npm run typecheck
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
npm run test:native

"$services/await"
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json
node scripts/test-summary.mjs .tmp/vitest.json
