"""The operator CLI bootstraps a fresh database alone: migrate, city, token, import, demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import TEST_SECRET
from tests.geo.conftest import OSM_DIR, require_data


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env,
                          capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parents[1])


def test_bootstrap_from_cli_alone(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    env = {"PATH": "/usr/bin:/bin", "RESCUE_DATABASE_URL": url, "RESCUE_SECRET_KEY": TEST_SECRET}
    assert run_cli(env, "migrate").returncode == 0
    created = run_cli(env, "create-city", "120000", "天津市")
    assert created.returncode == 0, created.stderr
    assert run_cli(env, "create-city", "120000", "again").returncode == 2
    token = run_cli(env, "token", "--role", "city_admin", "--region", "120000")
    assert token.returncode == 0, token.stderr
    bad = run_cli(env, "token", "--role", "city_admin", "--region", "nowhere")
    assert bad.returncode == 2 and "nowhere" in bad.stderr

    csv = tmp_path / "aeds.csv"
    csv.write_text("kind,name,lon,lat,region_code\naed,站前AED,117.2,39.13,120000\n"
                   "aed,坏坐标,117.2,99,120000\n", encoding="utf-8")
    rejected = run_cli(env, "import", "equipment", str(csv))
    assert rejected.returncode == 2 and "rows[2].location.lat" in rejected.stderr
    partial = run_cli(env, "import", "equipment", str(csv), "--partial")
    assert partial.returncode == 0 and "imported 1 of 2" in partial.stdout

    app = create_app(Settings(database_url=url, secret_key=TEST_SECRET))
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
        listed = client.get("/v1/equipment", headers=headers)
        assert [e["name"] for e in listed.json()["items"]] == ["站前AED"]
        health = client.get("/healthz").json()
        assert health["status"] == "ok" and health["database_dialect"] == "sqlite"


def test_demo_on_a_real_network(tmp_path):
    extract = require_data(OSM_DIR / "china" / "beijing_haidian_bupt_2025.osm.pbf")
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    env = {"PATH": "/usr/bin:/bin", "RESCUE_DATABASE_URL": url, "RESCUE_SECRET_KEY": TEST_SECRET,
           "RESCUE_DATA_DIR": str(tmp_path / "data")}
    assert run_cli(env, "migrate").returncode == 0
    missing = run_cli(env, "demo", "--city", "bupt")
    assert missing.returncode == 2 and "import-osm" in missing.stderr
    imported = run_cli(env, "import-osm", str(extract), "--city", "bupt", "--name", "北邮")
    assert imported.returncode == 0, imported.stderr
    assert "© OpenStreetMap contributors" in imported.stdout
    first = run_cli(env, "demo", "--city", "bupt")
    assert first.returncode == 0, first.stderr
    assert "40 volunteers" in first.stdout
    second = run_cli(env, "demo", "--city", "bupt")
    assert "already loaded" in second.stdout
    token = run_cli(env, "token", "--role", "city_admin", "--region", "bupt").stdout.strip()
    app = create_app(Settings(database_url=url, secret_key=TEST_SECRET,
                              data_dir=tmp_path / "data"))
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}"}
        volunteers = client.get("/v1/volunteers?limit=100", headers=headers).json()
        assert volunteers["total"] == 40
        assert all(v["name"].startswith("[DEMO]") for v in volunteers["items"])
        aeds = client.get("/v1/equipment", headers=headers).json()["items"]
        assert {"usable", "unverified", "not_usable"} <= {e["readiness"]["state"] for e in aeds}
        # every demo AED stands on a street of the imported campus network
        usable = next(e for e in aeds if e["readiness"]["state"] == "usable")
        near = client.get(f"/v1/equipment/nearby?lon={usable['location']['lon']}"
                          f"&lat={usable['location']['lat']}&minutes=1").json()
        assert near["items"][0]["equipment_id"] == usable["id"]
        assert near["items"][0]["eta_s"] < 1
        courses = client.get("/v1/courses", headers=headers).json()["items"]
        assert [len(c["modules"]) for c in courses] == [8]      # Baoding's eight modules
