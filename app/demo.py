"""Demo data on a real street network: districts, communities, volunteers and AEDs.

The city and its walking network come from ``rescue-circle import-osm``; the demo splits
the network's area into two districts of two communities each and places volunteers and
AEDs deterministically on its streets. Everything is labelled ``[DEMO]``; loading twice
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Unprocessable
from app.geo.snap import snap_points
from app.models import Region
from app.networks import CityNetwork, NetworkRegistry
from app.schemas.common import PointIn
from app.schemas.equipment import EquipmentCreate
from app.schemas.region import BoundaryIn, RegionCreate
from app.schemas.volunteer import CertificationCreate, VolunteerCreate
from app.security import Principal, Role
from app.services.equipment import create_equipment
from app.services.regions import create_region
from app.services.training import ensure_default_course
from app.services.volunteers import create_certification, create_volunteer

VOLUNTEERS_PER_COMMUNITY = 10
DEMO_AEDS = 12
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class DemoSummary:
    city_code: str
    city_id: int
    created: bool
    communities: int = 0
    volunteers: int = 0
    aeds: int = 0

    def describe(self) -> str:
        if not self.created:
            return f"demo data already loaded in city {self.city_code} (id {self.city_id})"
        return (f"loaded demo data in city {self.city_code}: {self.communities} communities, "
                f"{self.volunteers} volunteers, {self.aeds} AEDs (all labelled [DEMO])")


def _quasi_random(i: int) -> tuple[float, float]:
    """Deterministic, well-spread points in the unit square (additive recurrence)."""
    return (0.5 + i * 0.7548776662) % 1.0, (0.5 + i * 0.5698402910) % 1.0


def _box_polygon(box: Box) -> BoundaryIn:
    x0, y0, x1, y1 = box
    return BoundaryIn(type="Polygon",
                      coordinates=[[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]])


def _core_box(city: CityNetwork) -> Box:
    """The central part of the main component (10th-90th percentiles), where streets are."""
    network = city.network
    lon = network.node_lon[network.node_in_main]
    lat = network.node_lat[network.node_in_main]
    (x0, x1), (y0, y1) = np.percentile(lon, [10, 90]), np.percentile(lat, [10, 90])
    return float(x0), float(y0), float(x1), float(y1)


def _on_streets(city: CityNetwork, box: Box, first: int, count: int) -> list[PointIn]:
    """``count`` deterministic points of ``box`` moved onto their nearest street."""
    x0, y0, x1, y1 = box
    spread = np.array([_quasi_random(first + k) for k in range(count * 4)])
    snapped = snap_points(city.network, x0 + spread[:, 0] * (x1 - x0),
                          y0 + spread[:, 1] * (y1 - y0))
    points = [PointIn(lon=round(float(snapped.lon[k]), 7), lat=round(float(snapped.lat[k]), 7))
              for k in np.flatnonzero(snapped.ok)[:count]]
    if len(points) < count:
        raise Unprocessable("the demo area has too few streets", field="city")
    return points


def load_demo(session: Session, networks: NetworkRegistry, city_code: str, *,
              now: datetime | None = None) -> DemoSummary:
    city_region = session.scalar(select(Region).where(Region.code == city_code))
    city = networks.get(city_code)
    if city_region is None or city is None:
        raise Unprocessable(f"import a network for city {city_code} first "
                            "(rescue-circle import-osm FILE --city CODE)", field="city")
    if session.scalar(select(Region.id).where(Region.code == f"{city_code}-d1")) is not None:
        return DemoSummary(city_code, city_region.id, False)
    now = now or datetime.now(UTC)
    operator = Principal(role=Role.city_admin, subject="demo", region_id=city_region.id,
                         region_path=city_region.path)
    x0, y0, x1, y1 = _core_box(city)
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    halves = [((x0, y0, xm, ym), (xm, y0, x1, ym)), ((x0, ym, xm, y1), (xm, ym, x1, y1))]
    communities: list[tuple[Region, Box]] = []
    for d, boxes in enumerate(halves, start=1):
        district = create_region(session, RegionCreate(
            code=f"{city_code}-d{d}", name=f"[DEMO] District {d}", level="district",
            parent_code=city_code,
            boundary=_box_polygon((boxes[0][0], boxes[0][1], boxes[1][2], boxes[1][3]))),
            principal=operator)
        for c, box in enumerate(boxes, start=1):
            community = create_region(session, RegionCreate(
                code=f"{district.code}-c{c}", name=f"[DEMO] Community {d}.{c}",
                level="community", parent_code=district.code, population=4000 + 1500 * c,
                boundary=_box_polygon(box)), principal=operator)
            communities.append((community, box))

    volunteers = 0
    skills = ("cpr", "aed", "trauma_bandaging")
    for ci, (community, box) in enumerate(communities):
        homes = _on_streets(city, box, ci * 100, VOLUNTEERS_PER_COMMUNITY)
        for k, home in enumerate(homes):
            i = ci * VOLUNTEERS_PER_COMMUNITY + k
            volunteer = create_volunteer(session, VolunteerCreate(
                name=f"[DEMO] Volunteer {i + 1:02d}", phone=f"1380000{i + 1:04d}",
                region_code=community.code,
                roles=["trainer"] if k == 0 else (["veteran"] if k % 4 == 1 else ["resident"]),
                home_location=home), principal=operator, networks=networks)
            volunteers += 1
            # Most are certified; every fifth certificate has lapsed (eligibility demos).
            issued = now - timedelta(days=400 if i % 5 == 4 else 100)
            for skill in skills[: 1 + i % 3]:
                create_certification(session, CertificationCreate(
                    volunteer_id=volunteer.id, skill=skill, issued_at=issued,
                    expires_at=issued + timedelta(days=365), issuer="[DEMO] Training centre",
                    number=f"DEMO-{city_code}-{skill.upper()}-{i + 1:04d}"), principal=operator)

    today = now.date()
    hours = ("24/7", "24/7", "Mo-Fr 08:00-18:00", "Mo-Su 07:00-22:00")
    per_community = DEMO_AEDS // len(communities)
    for ci, (community, box) in enumerate(communities):
        for k, location in enumerate(_on_streets(city, box, 5000 + ci * 100, per_community)):
            a = ci * per_community + k
            create_equipment(session, EquipmentCreate(
                kind="aed", name=f"[DEMO] AED {a + 1:02d}", location=location,
                region_code=community.code, opening_hours=hours[a % len(hours)],
                indoor=a % 2 == 0, status="needs_service" if a == 7 else "available",
                pads_expire_on=today + timedelta(days=40 if a == 3 else 400),
                battery_expires_on=today + timedelta(days=900),
                last_verified_on=None if a == 5 else today - timedelta(days=30),
                owner_name="[DEMO] Owner", owner_phone=f"0912345{a:04d}",
                cabinet_pin=f"{1000 + 37 * a}" if a % 3 == 0 else None),
                principal=operator, networks=networks)
    ensure_default_course(session, city_region)   # Baoding's eight modules, city-wide
    return DemoSummary(city_code, city_region.id, True, len(communities), volunteers,
                       DEMO_AEDS)
