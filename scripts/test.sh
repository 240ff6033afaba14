#!/usr/bin/env bash
# Install what the tests need, then run the linter and the whole suite.
# PostGIS tests run when RESCUE_TEST_POSTGRES_URL is set (.ci/run sets it in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
