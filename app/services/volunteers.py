"""Volunteers and their certificates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Unprocessable, not_found
from app.geo.crs import Crs
from app.models import Certification, Region, Team, Volunteer
from app.models.base import utcnow
from app.models.region import RegionLevel
from app.models.volunteer import RoleTag, VolunteerStatus
from app.networks import NetworkRegistry
from app.schemas.common import BBox
from app.schemas.volunteer import (
    CertificationCreate,
    CertificationRead,
    CertificationUpdate,
    VolunteerCreate,
    VolunteerRead,
    VolunteerSelfUpdate,
    VolunteerUpdate,
)
from app.security import Principal, mask_phone
from app.services.anchors import snap_volunteer
from app.services.scope import (
    get_scoped,
    region_by_code_in_scope,
    visible,
)
from app.spatial import point_element, point_out, within_bbox, within_radius


def _community(session: Session, code: str, principal: Principal) -> Region:
    region = region_by_code_in_scope(session, code, principal, field="region_code")
    if region.level != RegionLevel.community:
        raise Unprocessable(f"volunteers belong to a community; {code} is a {region.level}",
                            field="region_code")
    return region


def _check_team(session: Session, team_id: int | None, region: Region, principal: Principal
                ) -> None:
    if team_id is None:
        return
    team = get_scoped(session, Team, team_id, principal, entity="team", field="team_id")
    team_region = session.get(Region, team.region_id)
    if team_region is None or not region.path.startswith(team_region.path):
        raise Unprocessable("the team must belong to the volunteer's community or above it",
                            field="team_id")


def _phone_free(session: Session, phone: str, *, except_id: int | None = None) -> None:
    # Checked before the INSERT so the 409 names the field on both dialects; the unique
    # constraint still guards concurrent writers (mapped in app.errors).
    existing = session.scalar(select(Volunteer.id).where(Volunteer.phone == phone))
    if existing is not None and existing != except_id:
        raise Conflict("phone is already registered", field="phone", code="duplicate")


def create_volunteer(session: Session, data: VolunteerCreate, *, principal: Principal,
                     networks: NetworkRegistry | None = None) -> Volunteer:
    region = _community(session, data.region_code, principal)
    _check_team(session, data.team_id, region, principal)
    _phone_free(session, data.phone)
    volunteer = Volunteer(
        name=data.name, phone=data.phone, region_id=region.id, team_id=data.team_id,
        roles=[r.value for r in data.roles], status=data.status.value,
        home_location=point_element(data.home_location) if data.home_location else None,
        duty_location=point_element(data.duty_location) if data.duty_location else None,
    )
    snap_volunteer(volunteer, networks)
    session.add(volunteer)
    session.flush()
    return volunteer


def _apply_anchors(volunteer: Volunteer, data: VolunteerUpdate | VolunteerSelfUpdate,
                   networks: NetworkRegistry | None) -> None:
    changed = False
    for key in ("home_location", "duty_location"):
        if key in data.model_fields_set:
            point = getattr(data, key)
            setattr(volunteer, key, point_element(point) if point else None)
            changed = True
    if changed:
        snap_volunteer(volunteer, networks)


def update_volunteer(session: Session, volunteer_id: int, data: VolunteerUpdate, *,
                     principal: Principal, networks: NetworkRegistry | None = None
                     ) -> Volunteer:
    volunteer = get_scoped(session, Volunteer, volunteer_id, principal, entity="volunteer",
                           field="volunteer_id")
    fields = data.model_fields_set
    for key in ("name", "phone", "region_code", "roles", "status"):
        if key in fields and getattr(data, key) is None:
            raise Unprocessable(f"{key} cannot be null", field=key)
    region = session.get(Region, volunteer.region_id)
    if "region_code" in fields:
        region = _community(session, data.region_code, principal)
        volunteer.region_id = region.id
    if "team_id" in fields:
        _check_team(session, data.team_id, region, principal)
        volunteer.team_id = data.team_id
    if "phone" in fields:
        _phone_free(session, data.phone, except_id=volunteer.id)
        volunteer.phone = data.phone
    if "name" in fields:
        volunteer.name = data.name
    if "roles" in fields:
        volunteer.roles = [r.value for r in data.roles]
    if "status" in fields:
        volunteer.status = data.status.value
    _apply_anchors(volunteer, data, networks)
    session.flush()
    return volunteer


def update_self(session: Session, volunteer_id: int, data: VolunteerSelfUpdate, *,
                networks: NetworkRegistry | None = None) -> Volunteer:
    volunteer = get_self(session, volunteer_id)
    _apply_anchors(volunteer, data, networks)
    session.flush()
    return volunteer


def is_qualified_trainer(session: Session, volunteer: Volunteer, at: datetime) -> bool:
    """A trainer as the programme counts one: active, tagged trainer, holding a valid
    certificate."""
    if (volunteer.status != VolunteerStatus.active.value
            or RoleTag.trainer.value not in (volunteer.roles or [])):
        return False
    return session.scalar(select(Certification.id).where(
        Certification.volunteer_id == volunteer.id, Certification.valid_at(at)).limit(1)
    ) is not None


def get_self(session: Session, volunteer_id: int) -> Volunteer:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise not_found("volunteer", volunteer_id)
    return volunteer


def delete_volunteer(session: Session, volunteer_id: int, *, principal: Principal) -> None:
    session.delete(get_scoped(session, Volunteer, volunteer_id, principal, entity="volunteer",
                              field="volunteer_id"))
    session.flush()


def list_volunteers_query(
    session: Session, principal: Principal, *, region_code: str | None, status: str | None,
    skill: str | None, team_id: int | None, bbox: BBox | None,
    near: tuple[float, float, float] | None, at: datetime | None = None,
) -> Select:
    dialect = session.get_bind().dialect.name
    stmt = select(Volunteer).where(visible(session, Volunteer.region_id, principal,
                                           within_code=region_code))
    if status is not None:
        stmt = stmt.where(Volunteer.status == status)
    if team_id is not None:
        stmt = stmt.where(Volunteer.team_id == team_id)
    if skill is not None:
        moment = at or utcnow()
        stmt = stmt.where(Volunteer.id.in_(
            select(Certification.volunteer_id).where(Certification.skill == skill,
                                                     Certification.valid_at(moment))))
    if bbox is not None:
        stmt = stmt.where(or_(within_bbox(Volunteer.home_location, bbox, dialect=dialect),
                              within_bbox(Volunteer.duty_location, bbox, dialect=dialect)))
    if near is not None:
        lon, lat, radius_m = near
        stmt = stmt.where(or_(
            within_radius(Volunteer.home_location, lon, lat, radius_m, dialect=dialect),
            within_radius(Volunteer.duty_location, lon, lat, radius_m, dialect=dialect)))
    return stmt.order_by(Volunteer.id)


def qualified_skills(session: Session, volunteer_ids: Iterable[int], *,
                     at: datetime | None = None) -> dict[int, list[str]]:
    """Skills each volunteer holds a valid certificate for at ``at`` (default now)."""
    moment = at or utcnow()
    ids = list(volunteer_ids)
    skills: dict[int, set[str]] = defaultdict(set)
    if ids:
        rows = session.execute(select(Certification.volunteer_id, Certification.skill).where(
            Certification.volunteer_id.in_(ids), Certification.valid_at(moment)))
        for volunteer_id, skill in rows:
            skills[volunteer_id].add(skill)
    return {i: sorted(skills[i]) for i in ids}


def volunteer_reads(session: Session, volunteers: list[Volunteer], crs: Crs
                    ) -> list[VolunteerRead]:
    skills = qualified_skills(session, [v.id for v in volunteers])
    return [
        VolunteerRead(
            id=v.id, name=v.name, phone_masked=mask_phone(v.phone), region_id=v.region_id,
            team_id=v.team_id, roles=v.roles, status=v.status, qualified_skills=skills[v.id],
            home_location=point_out(v.home_location, crs),
            duty_location=point_out(v.duty_location, crs),
            wechat_bound=v.wechat_openid is not None,
            created_at=v.created_at, updated_at=v.updated_at,
        )
        for v in volunteers
    ]


# -- certifications ---------------------------------------------------------------------------

def create_certification(session: Session, data: CertificationCreate, *, principal: Principal
                         ) -> Certification:
    get_scoped(session, Volunteer, data.volunteer_id, principal, entity="volunteer",
               field="volunteer_id")
    duplicate = session.scalar(select(Certification.id).where(
        Certification.skill == data.skill.value, Certification.number == data.number))
    if duplicate is not None:
        raise Conflict("certificate number already exists for this skill", field="number",
                       code="duplicate")
    certification = Certification(
        volunteer_id=data.volunteer_id, skill=data.skill.value, issued_at=data.issued_at,
        expires_at=data.expires_at, issuer=data.issuer, number=data.number)
    session.add(certification)
    session.flush()
    return certification


def get_certification(session: Session, certification_id: int, *, principal: Principal
                      ) -> Certification:
    certification = session.get(Certification, certification_id)
    if certification is None:
        raise not_found("certification", certification_id, field="certification_id")
    # Scope follows the certified volunteer's community.
    get_scoped(session, Volunteer, certification.volunteer_id, principal,
               entity="certification", field="certification_id")
    return certification


def update_certification(session: Session, certification_id: int, data: CertificationUpdate,
                         *, principal: Principal) -> Certification:
    certification = get_certification(session, certification_id, principal=principal)
    if "expires_at" in data.model_fields_set:
        if data.expires_at is None or data.expires_at <= certification.issued_at:
            raise Unprocessable("expires_at must be after issued_at", field="expires_at")
        certification.expires_at = data.expires_at
    if "issuer" in data.model_fields_set:
        if data.issuer is None:
            raise Unprocessable("issuer cannot be null", field="issuer")
        certification.issuer = data.issuer
    session.flush()
    return certification


def list_certifications_query(
    session: Session, principal: Principal, *, volunteer_id: int | None, skill: str | None,
    region_code: str | None, valid: bool | None, expiring_within_days: int | None,
) -> Select:
    now = utcnow()
    stmt = (select(Certification).join(Volunteer, Volunteer.id == Certification.volunteer_id)
            .where(visible(session, Volunteer.region_id, principal, within_code=region_code)))
    if volunteer_id is not None:
        stmt = stmt.where(Certification.volunteer_id == volunteer_id)
    if skill is not None:
        stmt = stmt.where(Certification.skill == skill)
    valid_now = Certification.valid_at(now)
    if valid is not None:
        stmt = stmt.where(valid_now if valid else ~valid_now)
    if expiring_within_days is not None:
        stmt = stmt.where(valid_now,
                          Certification.expires_at <= now + timedelta(days=expiring_within_days))
    return stmt.order_by(Certification.expires_at, Certification.id)


def certifications_of(session: Session, volunteer: Volunteer) -> list[Certification]:
    return list(session.scalars(select(Certification)
                                .where(Certification.volunteer_id == volunteer.id)
                                .order_by(Certification.expires_at.desc())))


def certification_read(certification: Certification) -> CertificationRead:
    read = CertificationRead.model_validate(
        {**{k: getattr(certification, k) for k in CertificationRead.model_fields
            if k != "valid_now"}, "valid_now": certification.is_valid_at(utcnow())})
    return read
