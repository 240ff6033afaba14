"""Small deterministic factories for test data, written through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from app.models import (
    EquipmentPoint,
    FollowUp,
    Hazard,
    Incident,
    InventoryLine,
    Region,
    Reward,
    Team,
    Volunteer,
)
from app.models.service import FollowUpKind
from app.models.training import Course, CourseModule, TrainingSession
from app.schemas.common import PointIn
from app.schemas.equipment import EquipmentCreate
from app.schemas.hazard import HazardCreate
from app.schemas.region import RegionCreate
from app.schemas.team import TeamCreate
from app.schemas.volunteer import CertificationCreate, VolunteerCreate
from app.security import Principal, Role
from app.services.equipment import create_equipment
from app.services.hazards import report as report_hazard
from app.services.regions import create_city, create_region
from app.services.teams import create_team
from app.services.volunteers import create_certification, create_volunteer
from app.settings import Settings
from app.spatial import lonlat_element

OPERATOR = Principal(role=Role.city_admin, subject="factory", region_path="/")
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@dataclass
class Area:
    """A city with two districts (A and B), each with one community."""

    city: Region
    district_a: Region
    district_b: Region
    community_a: Region
    community_b: Region


def make_area(session: Session, prefix: str = "tj") -> Area:
    city = create_city(session, code=prefix, name="天津市")
    districts, communities = [], []
    for label in ("a", "b"):
        district = create_region(session, RegionCreate(
            code=f"{prefix}-{label}", name=f"District {label}", level="district",
            parent_code=city.code), principal=OPERATOR)
        community = create_region(session, RegionCreate(
            code=f"{prefix}-{label}-1", name=f"Community {label}1", level="community",
            parent_code=district.code, population=12000), principal=OPERATOR)
        districts.append(district)
        communities.append(community)
    session.commit()
    return Area(city, districts[0], districts[1], communities[0], communities[1])


def make_volunteer(session: Session, community: Region, n: int, *,
                   lon: float = 117.2, lat: float = 39.13) -> Volunteer:
    volunteer = create_volunteer(session, VolunteerCreate(
        name=f"志愿者{n}", phone=f"1391234{n:04d}", region_code=community.code,
        roles=["resident"], home_location=PointIn(lon=lon, lat=lat)), principal=OPERATOR)
    session.commit()
    return volunteer


def make_certification(session: Session, volunteer: Volunteer, skill: str = "cpr", *,
                       issued: datetime = NOW - timedelta(days=30), days: int = 365,
                       number: str | None = None):
    certification = create_certification(session, CertificationCreate(
        volunteer_id=volunteer.id, skill=skill, issued_at=issued,
        expires_at=issued + timedelta(days=days), issuer="天津市急救中心",
        number=number or f"{skill}-{volunteer.id}-{issued:%Y%m%d}"), principal=OPERATOR)
    session.commit()
    return certification


def make_team(session: Session, region: Region, name: str = "社区急救队") -> Team:
    team = create_team(session, TeamCreate(name=name, kind="community", region_code=region.code),
                       principal=OPERATOR)
    session.commit()
    return team


def make_aed(session: Session, region: Region, n: int, *, lon: float = 117.2,
             lat: float = 39.13, **fields) -> EquipmentPoint:
    values = {"kind": "aed", "name": f"AED {n}", "location": PointIn(lon=lon, lat=lat),
              "region_code": region.code, "opening_hours": "24/7",
              "pads_expire_on": "2027-06-30", "battery_expires_on": "2029-01-31",
              "last_verified_on": "2026-11-01", "owner_phone": "02223456789",
              "cabinet_pin": "4921", **fields}
    equipment = create_equipment(session, EquipmentCreate.model_validate(values),
                                 principal=OPERATOR)
    session.commit()
    return equipment


def make_incident(session: Session, region: Region, *, lon: float = 117.2, lat: float = 39.13
                  ) -> Incident:
    incident = Incident(kind="cardiac_arrest", location=lonlat_element(lon, lat),
                        region_id=region.id, created_by="factory", budget_s=240)
    session.add(incident)
    session.commit()
    return incident


def make_inventory_line(session: Session, region: Region) -> InventoryLine:
    centre = make_aed(session, region, 99, kind="reserve_centre", name="应急物资储备中心")
    line = InventoryLine(equipment_id=centre.id, item="绷带", quantity=10)
    session.add(line)
    session.commit()
    return line


def make_reward(session: Session, region: Region, *, cost_minutes: int = 60) -> Reward:
    reward = Reward(name="家庭急救包", cost_minutes=cost_minutes, region_id=region.id)
    session.add(reward)
    session.commit()
    return reward


def make_follow_up(session: Session, incident_id: int, *, equipment_id: int, region: Region
                   ) -> FollowUp:
    follow_up = FollowUp(kind=FollowUpKind.aed_check.value, incident_id=incident_id,
                         equipment_id=equipment_id, region_id=region.id)
    session.add(follow_up)
    session.commit()
    return follow_up


def make_hazard(session: Session, region: Region, *, kind: str = "blocked_exit",
                principal: Principal = OPERATOR, at: datetime = NOW, lon: float = 117.2,
                lat: float = 39.13) -> Hazard:
    hazard = report_hazard(session, Settings(), principal, HazardCreate(
        kind=kind, location=PointIn(lon=lon, lat=lat), region_code=region.code,
        building="3号楼", description="安全出口被杂物堵塞"), now=at)
    session.commit()
    return hazard


def make_course(session: Session, region: Region, name: str = "急救员培训") -> Course:
    course = Course(name=name, region_id=region.id, skills=["cpr", "aed"], validity_days=365,
                    modules=[CourseModule(position=1, title="心肺复苏与AED使用")])
    session.add(course)
    session.commit()
    return course


def make_training_session(session: Session, course_id: int, region: Region, *,
                          starts: datetime = NOW - timedelta(hours=3), hours: int = 2
                          ) -> TrainingSession:
    sitting = TrainingSession(course_id=course_id, region_id=region.id, trainer_id=None,
                              starts_at=starts, ends_at=starts + timedelta(hours=hours))
    session.add(sitting)
    session.commit()
    return sitting
