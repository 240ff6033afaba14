"""Coverage audit over the REST API and the CLI, on a river city whose shares can be
worked out by hand, and end to end on a real extract."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from shapely.geometry import Polygon, mapping

from app.networks import publish_network
from app.schemas.region import BoundaryIn, RegionCreate
from app.security import Role
from app.services.regions import create_city, create_region
from tests.api.test_walking_api import _at, river_network
from tests.conftest import TEST_SECRET, auth
from tests.factories import OPERATOR, make_aed, make_certification, make_volunteer
from tests.geo.conftest import OSM_DIR, require_data

SPEED = 1.8  # the region's responder speed: 4 minutes reach 432 m


def _box(x0, y0, x1, y1) -> BoundaryIn:
    ring = [_at(x0, y0), _at(x1, y0), _at(x1, y1), _at(x0, y1), _at(x0, y0)]
    return BoundaryIn(**mapping(Polygon(ring)), crs="wgs84")


@pytest.fixture
def river(session, settings):
    """City `river`: a north-bank and a south-bank district, 2 km of bank each, one bridge."""
    city = create_city(session, code="river", name="河城")
    north = create_region(session, RegionCreate(code="north", name="北岸", level="district",
                                                parent_code="river",
                                                boundary=_box(-1100, 1, 1100, 300)),
                          principal=OPERATOR)
    south = create_region(session, RegionCreate(code="south", name="南岸", level="district",
                                                parent_code="river", population=9000,
                                                boundary=_box(-1100, -300, 1100, -1)),
                          principal=OPERATOR)
    community = create_region(session, RegionCreate(code="south-1", name="南岸社区",
                                                    level="community", parent_code="south"),
                              principal=OPERATOR)
    session.commit()
    publish_network(settings.data_dir, "river", river_network(), None, meta={})
    return city, north, south, community


def _rows(body, of="aed"):
    return {r["region_code"]: r for r in body["rows"] if r["of"] == of}


def test_shares_by_hand(client, session, river):
    city, *_ = river
    make_aed(session, city, 1, lon=_at(0, 25)[0], lat=_at(0, 25)[1],
             opening_hours="Mo-Su 08:00-18:00")
    headers = auth(Role.auditor, region_id=city.id)
    # 14:00 in Beijing: the AED is open. 5 m to the street, then 427 m each way.
    body = client.get("/v1/coverage?region=river&minutes=4&at=2026-11-23T14:00:00%2B08:00",
                      headers=headers).json()
    rows = _rows(body)
    assert rows["north"]["length_share"] == pytest.approx(854 / 2000, abs=0.002)
    assert rows["south"]["length_share"] == 0
    assert rows["river"]["length_share"] == pytest.approx(854 / 4040, abs=0.002)
    assert rows["river"]["total_length_m"] == pytest.approx(4040, abs=1)
    assert rows["north"]["p50_s"] > 240  # under half of the bank is within 4 minutes
    assert body["attribution"] == "© OpenStreetMap contributors"
    # 03:00: the AED sits in a building that is closed, so nothing is covered
    night = _rows(client.get("/v1/coverage?region=river&at=2026-11-23T03:00:00%2B08:00",
                             headers=headers).json())
    assert night["north"]["length_share"] == 0
    assert night["north"]["sources"] == 0


def test_responders_and_unverified_are_separate(client, session, river):
    city, _, _, community = river
    make_aed(session, city, 1, lon=_at(0, 25)[0], lat=_at(0, 25)[1], last_verified_on=None)
    volunteer = make_volunteer(session, community, 1, lon=_at(0, -25)[0], lat=_at(0, -25)[1])
    make_certification(session, volunteer, "cpr")
    headers = auth(Role.city_admin, region_id=city.id)
    body = client.get("/v1/coverage?region=river&of=both&include_unverified=true",
                      headers=headers).json()
    assert _rows(body, "aed")["north"]["length_share"] == 0  # unverified: not usable
    assert _rows(body, "aed_including_unverified")["north"]["length_share"] > 0.4
    responders = _rows(body, "responders")
    assert responders["south"]["length_share"] == pytest.approx(854 / 2000, abs=0.002)
    assert responders["north"]["length_share"] == 0
    # the south district's 9 000 residents have no buildings in this toy extract
    assert responders["south"]["population_share"] is None


def test_csv_geojson_and_placements(client, session, river):
    city, *_ = river
    make_aed(session, city, 1, lon=_at(0, 25)[0], lat=_at(0, 25)[1])
    headers = auth(Role.auditor, region_id=city.id)
    table = client.get("/v1/coverage?region=river&format=csv", headers=headers)
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert {"region_code", "length_share", "building_share", "population_share", "p50_s",
            "p90_s"} <= set(rows[0])
    assert 0 <= float(rows[0]["length_share"]) <= 1
    gaps = client.get("/v1/coverage?region=river&format=geojson", headers=headers)
    assert gaps.headers["content-type"].startswith("application/geo+json")
    features = gaps.json()["features"]
    uncovered = [f for f in features if "length_m" in f["properties"]]
    assert sum(f["properties"]["length_m"] for f in uncovered) == pytest.approx(
        4040 - 854, abs=5)
    placed = client.post("/v1/coverage/placements", headers=headers,
                         json={"region": "river", "count": 2, "minutes": 4})
    assert placed.status_code == 200, placed.text
    sites = placed.json()["sites"]
    assert len(sites) == 2
    assert sites[0]["gain_m"] >= sites[1]["gain_m"] > 0
    assert sites[1]["cumulative_share"] > sites[0]["cumulative_share"] > 854 / 4040
    bad = client.post("/v1/coverage/placements", headers=headers,
                      json={"region": "river", "count": 0})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "count"


def test_audit_errors(client, session, river):
    city, *_ = river
    headers = auth(Role.auditor, region_id=city.id)
    assert client.get("/v1/coverage?region=nowhere", headers=headers).status_code == 404
    lonely = create_city(session, code="lonely", name="无网")
    session.commit()
    no_network = client.get("/v1/coverage?region=lonely",
                            headers=auth(Role.auditor, region_id=lonely.id))
    assert no_network.status_code == 422 and no_network.json()["code"] == "no_network"


def test_audit_cli_end_to_end(tmp_path, database_url, engine):
    """On SpatiaLite and PostGIS alike (``engine`` empties the tables afterwards)."""
    extract = require_data(OSM_DIR / "china" / "beijing_haidian_bupt_2025.osm.pbf")
    env = {"PATH": "/usr/bin:/bin", "RESCUE_DATABASE_URL": database_url,
           "RESCUE_SECRET_KEY": TEST_SECRET, "RESCUE_DATA_DIR": str(tmp_path / "data")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, text=True,
                              capture_output=True, cwd=Path(__file__).resolve().parents[2])

    assert cli("migrate").returncode == 0
    assert cli("import-osm", str(extract), "--city", "bupt").returncode == 0
    assert cli("demo", "--city", "bupt").returncode == 0
    out = tmp_path / "audit"
    done = cli("audit", "--region", "bupt", "--out", str(out), "--include-unverified")
    assert done.returncode == 0, done.stderr
    assert "coverage (multi-source walking search) ... done" in done.stderr
    rows = list(csv.DictReader((out / "coverage.csv").open(encoding="utf-8")))
    assert {r["region_code"] for r in rows} >= {"bupt", "bupt-d1", "bupt-d2"}
    city_aed = next(r for r in rows if r["region_code"] == "bupt" and r["of"] == "aed")
    assert 0 < float(city_aed["length_share"]) <= 1
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in page and "© OpenStreetMap contributors" in page
    gaps = json.loads((out / "gaps.geojson").read_text(encoding="utf-8"))
    assert gaps["features"] and gaps["attribution"] == "© OpenStreetMap contributors"
    placements = json.loads((out / "placements.geojson").read_text(encoding="utf-8"))
    assert len(placements["features"]) == 5
    bad = cli("audit", "--region", "nowhere", "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and "nowhere" in bad.stderr


def test_responders_from_live_positions(client, session, river):
    from datetime import UTC, datetime

    from app.live.state import Fix

    city, _, _, community = river
    volunteer = make_volunteer(session, community, 1, lon=_at(0, -25)[0], lat=_at(0, -25)[1])
    make_certification(session, volunteer, "cpr")
    headers = auth(Role.auditor, region_id=city.id)
    empty = _rows(client.get("/v1/coverage?region=river&of=responders&responders=live",
                             headers=headers).json(), "responders_live")
    assert empty["river"]["sources"] == 0
    # on duty now on the NORTH bank, although at home on the south bank
    now = datetime.now(UTC)
    client.app.state.live.set_on_duty(volunteer.id, "river", now=now)
    lon, lat = _at(0, 25)
    client.app.state.live.record_fix(volunteer.id, Fix(lon=lon, lat=lat, accuracy_m=5,
                                                       recorded_at=now), received_at=now)
    live_rows = _rows(client.get("/v1/coverage?region=river&of=responders&responders=live",
                                 headers=headers).json(), "responders_live")
    assert live_rows["north"]["length_share"] == pytest.approx(854 / 2000, abs=0.002)
    assert live_rows["south"]["length_share"] == 0
