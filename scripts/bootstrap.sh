#!/usr/bin/env bash
# Make ./.venv ready: system packages (SpatiaLite, a Python whose sqlite3 can load
# extensions), the virtualenv and the project. Sourced by run-demo.sh and test.sh.
# Usage: bootstrap.sh [extras]   e.g. bootstrap.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${1:-}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  if ! command -v apt-get >/dev/null; then
    echo "error: please install: $* (no apt-get here)" >&2; exit 1
  fi
  [ -n "${APT_UPDATED:-}" ] || { as_root apt-get update -qq; APT_UPDATED=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# A Python >= 3.11 whose sqlite3 module can load SpatiaLite (some builds, e.g. pyenv's
# defaults, compile that out).
capable() {
  "$1" - <<'PY' 2>/dev/null
import sqlite3, sys
sys.exit(0 if sys.version_info >= (3, 11) and hasattr(sqlite3.Connection, "enable_load_extension") else 1)
PY
}
pick_python() {
  for candidate in ${PYTHON:-} /usr/bin/python3.11 /usr/bin/python3 python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null && capable "$candidate"; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

spatialite_ok() {
  "$1" -c "import sqlite3; c = sqlite3.connect(':memory:'); c.enable_load_extension(True); c.load_extension('mod_spatialite')" 2>/dev/null
}

PY="$(pick_python || true)"
if [ -z "$PY" ]; then
  echo "installing Python 3 from the system packages" >&2
  apt_install python3 python3-venv
  PY="$(pick_python)"
fi
if ! spatialite_ok "$PY"; then
  echo "installing SpatiaLite (libsqlite3-mod-spatialite)" >&2
  apt_install libsqlite3-mod-spatialite
fi
if ! "$PY" -m venv --help >/dev/null 2>&1 || ! "$PY" -c "import ensurepip" 2>/dev/null; then
  apt_install python3-venv
fi

if [ -x .venv/bin/python ] && ! capable .venv/bin/python; then
  echo "recreating .venv: its Python cannot load SQLite extensions" >&2
  rm -rf .venv
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv

STAMP=".venv/.installed-${EXTRAS:-base}"
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".${EXTRAS:+[$EXTRAS]}"
  touch "$STAMP"
fi
