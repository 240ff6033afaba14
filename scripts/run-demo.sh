#!/usr/bin/env bash
# Serve the API with demo data on the embedded database (SQLite + SpatiaLite under ./var/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export RESCUE_DATABASE_URL="${RESCUE_DATABASE_URL:-sqlite:///var/rescue-circle.sqlite3}"
.venv/bin/rescue-circle migrate
.venv/bin/rescue-circle demo | tee var/demo-token.txt
echo "serving http://127.0.0.1:${PORT:-8000} (docs at /docs); the admin token is in var/demo-token.txt"
exec .venv/bin/uvicorn app.main:app --host 127.0.0.1 --port "${PORT:-8000}"
