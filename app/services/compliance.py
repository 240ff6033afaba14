"""The programmes' own targets per community: responders, trainers, certificates, equipment,
and training pass and excellent rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.models import Certification, EquipmentPoint, Region, Volunteer
from app.models.region import RegionLevel
from app.models.volunteer import RoleTag, Skill, VolunteerStatus
from app.services.training import Counts, latest_counts, meets
from app.settings import Settings

EXPIRING_WITHIN_DAYS = 30
# The skill that makes a volunteer a qualified first responder.
RESPONDER_SKILL = Skill.cpr


@dataclass(frozen=True)
class CommunityCompliance:
    region_id: int
    code: str
    name: str
    qualified_responders: int
    certified_trainers: int
    certificates_expiring: int
    equipment_needing_service: int
    responders_target_met: bool
    trainers_target_met: bool
    # Training (app.services.training: each volunteer by their latest assessment); None
    # while nobody of the community has been assessed.
    training_assessed: int
    training_pass_rate: float | None
    training_excellent_rate: float | None
    pass_rate_target_met: bool | None
    excellent_rate_target_met: bool | None


def _count_by_region(session: Session, stmt) -> dict[int, int]:
    return dict(session.execute(stmt).all())


def community_compliance(session: Session, region: Region, settings: Settings, *,
                         at: datetime) -> list[CommunityCompliance]:
    """One row per community in ``region``'s subtree (the region itself if it is one)."""
    communities = list(session.scalars(
        select(Region).where(Region.path.startswith(region.path, autoescape=True),
                             Region.level == RegionLevel.community.value)
        .order_by(Region.code)))
    ids = [c.id for c in communities]
    if not ids:
        return []
    active = (Volunteer.status == VolunteerStatus.active.value) & Volunteer.region_id.in_(ids)
    valid = Certification.valid_at(at)
    responders = _count_by_region(session, select(
        Volunteer.region_id, func.count(func.distinct(Volunteer.id)))
        .join(Certification, Certification.volunteer_id == Volunteer.id)
        .where(active, valid, Certification.skill == RESPONDER_SKILL.value)
        .group_by(Volunteer.region_id))
    # A trainer is a volunteer tagged trainer who holds at least one valid certificate.
    trainer_rows = session.execute(
        select(Volunteer.region_id, Volunteer.roles).where(
            active, Volunteer.id.in_(select(Certification.volunteer_id).where(valid)))).all()
    trainers: dict[int, int] = {}
    for region_id, roles in trainer_rows:
        if RoleTag.trainer.value in (roles or []):
            trainers[region_id] = trainers.get(region_id, 0) + 1
    expiring = _count_by_region(session, select(Volunteer.region_id, func.count())
                                 .join(Certification, Certification.volunteer_id == Volunteer.id)
                                 .where(active, valid, Certification.expires_at
                                        <= at + timedelta(days=EXPIRING_WITHIN_DAYS))
                                 .group_by(Volunteer.region_id))
    training = latest_counts(session, ids)
    today = at.date()
    service = _count_by_region(session, select(EquipmentPoint.region_id, func.count())
                               .where(EquipmentPoint.region_id.in_(ids), or_(
                                   EquipmentPoint.status.in_(("needs_service",
                                                              "out_of_service")),
                                   EquipmentPoint.pads_expire_on <= today,
                                   EquipmentPoint.battery_expires_on <= today))
                               .group_by(EquipmentPoint.region_id))
    rows = []
    for c in communities:
        r, t = responders.get(c.id, 0), trainers.get(c.id, 0)
        counts = training.get(c.id, Counts())
        rows.append(CommunityCompliance(
            region_id=c.id, code=c.code, name=c.name, qualified_responders=r,
            certified_trainers=t, certificates_expiring=expiring.get(c.id, 0),
            equipment_needing_service=service.get(c.id, 0),
            responders_target_met=r >= settings.target_responders_per_community,
            trainers_target_met=t >= settings.target_trainers_per_community,
            training_assessed=counts.assessed, training_pass_rate=counts.pass_rate,
            training_excellent_rate=counts.excellent_rate,
            pass_rate_target_met=meets(counts.pass_rate, settings.target_pass_rate),
            excellent_rate_target_met=meets(counts.excellent_rate,
                                            settings.target_excellent_rate)))
    return rows
