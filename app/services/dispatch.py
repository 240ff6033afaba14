"""Ranking responders and AEDs for an incident: eligibility from the registry and the live
state, walking times and the AED-fetch choice from app.geo.dispatch."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
from sqlalchemy import Date, Exists, Select, bindparam, exists, select
from sqlalchemy.orm import Session

from app.errors import Unprocessable
from app.geo.crs import Crs
from app.geo.dispatch import DispatchPlan, NetworkPoints, rank_for_incident
from app.geo.snap import snap_points
from app.live.state import LiveFix, LiveState
from app.models import Assignment, Certification, EquipmentPoint, Region, Volunteer
from app.models.base import UTCDateTime
from app.models.equipment import EquipmentStatus
from app.models.incident import ACTIVE_ASSIGNMENT_STATUSES
from app.models.volunteer import Skill, VolunteerStatus
from app.networks import NetworkRegistry
from app.schemas.common import PointIn
from app.schemas.dispatch import RankedAed, RankedResponder, RankResponse
from app.security import Principal, mask_phone
from app.services.readiness import Readiness, assess_equipment, local_date
from app.services.scope import region_path_in_scope
from app.services.walking import (
    RANKING_COLUMNS,
    Located,
    equipment_positions,
    locate,
)
from app.settings import Settings
from app.spatial import box_params, in_box, point_out_lonlat, radius_bbox


@dataclass(frozen=True)
class RankedVolunteer:
    """What the console is shown of a ranked responder (phone masked on the way out)."""

    id: int
    name: str
    phone: str
    region_path: str


@dataclass(frozen=True)
class RankedIncident:
    located: Located
    speed_mps: float
    budget_s: float
    plan: DispatchPlan
    volunteers: list[RankedVolunteer]  # one per plan.responders row
    fixes: list[LiveFix]
    aeds: list[int]


@dataclass(frozen=True)
class _Candidate:
    may_fetch: bool  # holds a valid AED-use certificate
    volunteer: RankedVolunteer


def _eligible(session: Session, ids: list[int], skills: list[str], at: datetime
              ) -> dict[int, _Candidate]:
    """Active volunteers among ``ids`` holding a valid certificate for every skill and not
    on another active incident, with whether each may fetch an AED and what the console is
    shown of them."""
    if not ids:
        return {}
    # Core, not ORM, execution: these are plain columns, and the ORM's per-statement
    # bookkeeping cost more than the query on this path.
    return {row.id: _Candidate(bool(row.may_fetch),
                               RankedVolunteer(row.id, row.name, row.phone, row.path))
            for row in session.connection().execute(_eligible_query(tuple(skills)),
                                                    {"ids": ids, "at": at})}


@lru_cache(maxsize=64)
def _eligible_query(skills: tuple[str, ...]) -> Select:
    """Built once per set of skills (building it cost a fair share of a ranking), run with
    the candidates and the moment as parameters.

    One query, every lookup per candidate through an index: certificates by volunteer (an
    ``IN (subquery)`` made SQLite list every valid certificate of the skill instead), and
    the active assignment through the partial unique index, which SQLite uses only when
    the statuses are literals in the SQL (bound, it scanned every assignment ever made)."""
    at = bindparam("at", type_=UTCDateTime())

    def certified(skill: str) -> Exists:
        return exists().where(Certification.volunteer_id == Volunteer.id,
                              Certification.skill == skill, Certification.valid_at(at))

    active = bindparam("active_statuses", list(ACTIVE_ASSIGNMENT_STATUSES), expanding=True,
                       literal_execute=True)
    return select(
        Volunteer.id, certified(Skill.aed.value).label("may_fetch"), Volunteer.name,
        Volunteer.phone, Region.path,
    ).join(Region, Region.id == Volunteer.region_id).where(
        Volunteer.id.in_(bindparam("ids", expanding=True)),
        Volunteer.status == VolunteerStatus.active.value,
        ~exists().where(Assignment.volunteer_id == Volunteer.id, Assignment.status.in_(active)),
        *(certified(skill) for skill in skills))


@lru_cache(maxsize=2)
def _aeds_maybe_usable(dialect: str) -> Select:
    """AEDs in a box that readiness might call usable. What it refuses on these facts
    alone (not available; pads or battery expired or of unknown expiry; never verified)
    is left out here, where it costs nothing; ``assess_equipment`` judges the rest (and
    would refuse these too)."""
    today = bindparam("today", type_=Date)
    return select(*RANKING_COLUMNS).where(
        EquipmentPoint.kind == "aed",
        EquipmentPoint.status == EquipmentStatus.available.value,
        EquipmentPoint.pads_expire_on > today, EquipmentPoint.battery_expires_on > today,
        EquipmentPoint.last_verified_on.is_not(None),
        in_box(EquipmentPoint.location, dialect=dialect))


def rank(session: Session, networks: NetworkRegistry, live: LiveState, settings: Settings, *,
         location: PointIn, kind: str, budget_s: float | None, limit: int, now: datetime,
         only_volunteers: Collection[int] | None = None) -> RankedIncident:
    """One bounded walking search from the incident ranks every eligible responder (active,
    on duty with a fresh plausible fix, certified for the kind, not on another active
    incident; among ``only_volunteers`` when given, e.g. a team's drill) and every usable
    AED; for cardiac arrests some responders fetch AEDs."""
    if kind not in settings.incident_kinds:
        raise Unprocessable(f"unknown incident kind {kind!r}", field="kind")
    located = locate(session, networks, location, field="location",
                     max_snap_m=settings.max_snap_m)
    city_region = located.region
    speed = city_region.responder_speed_mps
    budget = float(budget_s if budget_s is not None else city_region.time_budget_s)
    reach = radius_bbox(located.lon, located.lat, speed * budget + 1.0)
    network = located.city.network

    with live.ask_on_duty_fresh(now=now, city_code=located.city.city_code,
                                bbox=(reach.min_lon, reach.min_lat, reach.max_lon,
                                      reach.max_lat)) as fresh_fixes:
        # The AEDs (whoever is on duty) while the live state looks the fixes up.
        today = local_date(now, city_region.timezone)
        rows = session.connection().execute(
            _aeds_maybe_usable(session.get_bind().dialect.name),
            {**box_params(reach), "today": today}).all()
        usable = [r for r in rows if assess_equipment(
            r, timezone=city_region.timezone, at=now).state is Readiness.usable]
        edge, offset, off_street = equipment_positions(session, located.city, usable)
        aeds = NetworkPoints.on_streets(edge, offset, off_street / speed)
        fixes = fresh_fixes()

    if only_volunteers is not None:
        fixes = [f for f in fixes if f.volunteer_id in only_volunteers]
    ids = [f.volunteer_id for f in fixes]
    eligible = _eligible(session, ids, settings.incident_kinds[kind], now)
    fixes = [f for f in fixes if f.volunteer_id in eligible]
    lon = np.array([f.lon for f in fixes], np.float64)
    lat = np.array([f.lat for f in fixes], np.float64)
    snapped = snap_points(network, lon, lat, max_snap_m=settings.max_snap_m)
    responders = NetworkPoints.from_snapped(snapped, speed_mps=speed)

    plan = rank_for_incident(
        network, located.snapped, responders, aeds, speed_mps=speed, budget_seconds=budget,
        limit=limit, fetch_aed=kind in settings.aed_fetch_kinds,
        can_fetch=np.array([eligible[f.volunteer_id].may_fetch for f in fixes], bool),
        incident_extra_seconds=located.snapped.distance_m / speed)
    return RankedIncident(
        located, speed, budget, plan,
        [eligible[fixes[r.responder].volunteer_id].volunteer for r in plan.responders],
        fixes, [int(r.id) for r in usable])


def rank_response(ranked: RankedIncident, principal: Principal, crs: Crs) -> RankResponse:
    """The console's view: phones masked, positions only inside the caller's area."""
    plan = ranked.plan
    responders = []
    for row, volunteer in zip(plan.responders, ranked.volunteers, strict=True):
        fix = ranked.fixes[row.responder]
        visible = region_path_in_scope(volunteer.region_path, principal)
        responders.append(RankedResponder(
            volunteer_id=volunteer.id, name=volunteer.name,
            phone_masked=mask_phone(volunteer.phone), role=row.role,
            eta_s=round(row.eta_seconds, 1), distance_m=round(row.distance_m, 1),
            direct_eta_s=round(row.direct_seconds, 1),
            aed_id=ranked.aeds[row.aed] if row.aed is not None else None,
            aed_eta_s=round(row.to_aed_seconds, 1) if row.to_aed_seconds is not None else None,
            position=point_out_lonlat(fix.lon, fix.lat, crs) if visible else None))
    return RankResponse(
        city=ranked.located.city.city_code, speed_mps=ranked.speed_mps,
        budget_s=ranked.budget_s, eligible_responders=plan.reachable_responders,
        responders=responders,
        aeds=[RankedAed(equipment_id=ranked.aeds[a.aed], eta_s=round(a.eta_seconds, 1),
                        distance_m=round(a.distance_m, 1)) for a in plan.aeds],
        first_responder_eta_s=plan.first_responder_seconds,
        first_aed_eta_s=plan.first_aed_seconds)
