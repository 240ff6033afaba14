"""Equipment registry: AEDs, kits, reserve centres, with derived readiness."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Unprocessable
from app.geo.crs import Crs
from app.models import EquipmentPoint, Region
from app.models.base import utcnow
from app.networks import NetworkRegistry
from app.schemas.common import BBox
from app.schemas.equipment import EquipmentCreate, EquipmentRead, EquipmentUpdate, ReadinessRead
from app.security import Principal, mask_phone
from app.services.anchors import snap_equipment
from app.services.readiness import assess_equipment, expiry_reminders
from app.services.scope import (
    get_scoped,
    region_by_code_in_scope,
    visible,
)
from app.spatial import point_element, point_out, within_bbox, within_radius

NON_NULL_UPDATE_FIELDS = ("name", "location", "region_code", "address", "floor_note", "indoor",
                          "access", "opening_hours", "owner_name", "owner_phone", "status",
                          "notes")


def _device_free(session: Session, device_id: str | None, *, except_id: int | None = None
                 ) -> None:
    if device_id is None:
        return
    existing = session.scalar(select(EquipmentPoint.id)
                              .where(EquipmentPoint.device_id == device_id))
    if existing is not None and existing != except_id:
        raise Conflict("device_id is already bound to other equipment", field="device_id",
                       code="duplicate")


def create_equipment(session: Session, data: EquipmentCreate, *, principal: Principal,
                     source: str = "manual", networks: NetworkRegistry | None = None
                     ) -> EquipmentPoint:
    region = region_by_code_in_scope(session, data.region_code, principal, field="region_code")
    _device_free(session, data.device_id)
    values = data.model_dump(exclude={"location", "region_code"})
    equipment = EquipmentPoint(
        **{k: (v.value if hasattr(v, "value") else v) for k, v in values.items()},
        location=point_element(data.location), region_id=region.id, source=source)
    snap_equipment(equipment, networks)
    session.add(equipment)
    session.flush()
    return equipment


def update_equipment(session: Session, equipment_id: int, data: EquipmentUpdate, *,
                     principal: Principal, networks: NetworkRegistry | None = None
                     ) -> EquipmentPoint:
    equipment = get_scoped(session, EquipmentPoint, equipment_id, principal,
                           entity="equipment", field="equipment_id")
    for key in data.model_fields_set:
        value = getattr(data, key)
        if value is None and key in NON_NULL_UPDATE_FIELDS:
            raise Unprocessable(f"{key} cannot be null", field=key)
        if key == "location":
            equipment.location = point_element(value)
            snap_equipment(equipment, networks)
        elif key == "region_code":
            equipment.region_id = region_by_code_in_scope(session, value, principal,
                                                          field="region_code").id
        else:
            if key == "device_id":
                _device_free(session, value, except_id=equipment.id)
            setattr(equipment, key, value.value if hasattr(value, "value") else value)
    session.flush()
    return equipment


def delete_equipment(session: Session, equipment_id: int, *, principal: Principal) -> None:
    session.delete(get_scoped(session, EquipmentPoint, equipment_id, principal,
                              entity="equipment", field="equipment_id"))
    session.flush()


def list_equipment_query(
    session: Session, principal: Principal, *, region_code: str | None, kind: str | None,
    status: str | None, bbox: BBox | None, near: tuple[float, float, float] | None,
    expiring_before: date | None = None,
) -> Select:
    dialect = session.get_bind().dialect.name
    stmt = select(EquipmentPoint).where(visible(session, EquipmentPoint.region_id, principal,
                                                within_code=region_code))
    if kind is not None:
        stmt = stmt.where(EquipmentPoint.kind == kind)
    if status is not None:
        stmt = stmt.where(EquipmentPoint.status == status)
    if expiring_before is not None:
        stmt = stmt.where(or_(EquipmentPoint.pads_expire_on <= expiring_before,
                              EquipmentPoint.battery_expires_on <= expiring_before))
    if bbox is not None:
        stmt = stmt.where(within_bbox(EquipmentPoint.location, bbox, dialect=dialect))
    if near is not None:
        stmt = stmt.where(within_radius(EquipmentPoint.location, *near, dialect=dialect))
    return stmt.order_by(EquipmentPoint.id)


def equipment_reads(session: Session, items: list[EquipmentPoint], crs: Crs, *,
                    reminder_days: int, at: datetime | None = None) -> list[EquipmentRead]:
    moment = at or utcnow()
    region_ids = {e.region_id for e in items}
    timezones = dict(session.execute(select(Region.id, Region.timezone)
                                     .where(Region.id.in_(region_ids))).all())
    reads = []
    for e in items:
        timezone = timezones[e.region_id]
        result = assess_equipment(e, timezone=timezone, at=moment)
        reads.append(EquipmentRead(
            id=e.id, kind=e.kind, name=e.name, location=point_out(e.location, crs),
            region_id=e.region_id, address=e.address, floor_note=e.floor_note,
            indoor=e.indoor, access=e.access, opening_hours=e.opening_hours,
            has_cabinet_pin=bool(e.cabinet_pin), owner_name=e.owner_name,
            owner_phone_masked=mask_phone(e.owner_phone) if e.owner_phone else "",
            status=e.status, pads_expire_on=e.pads_expire_on,
            battery_expires_on=e.battery_expires_on, last_verified_on=e.last_verified_on,
            device_id=e.device_id, source=e.source, osm_id=e.osm_id, notes=e.notes,
            readiness=ReadinessRead(state=result.state, reasons=result.reasons,
                                    actions=result.actions,
                                    evaluated_at=moment),
            expiry_reminders=expiry_reminders(
                pads_expire_on=e.pads_expire_on, battery_expires_on=e.battery_expires_on,
                today=moment.date(), within_days=reminder_days),
            created_at=e.created_at, updated_at=e.updated_at,
        ))
    return reads


def maintenance_list(session: Session, principal: Principal, *, region_code: str | None,
                     at: datetime) -> list[EquipmentPoint]:
    """Equipment in scope that is not usable now for a reason someone can act on (a closed
    building at night is not maintenance)."""
    stmt = list_equipment_query(session, principal, region_code=region_code, kind=None,
                                status=None, bbox=None, near=None)
    items = list(session.scalars(stmt))
    timezones = dict(session.execute(select(Region.id, Region.timezone).where(
        Region.id.in_({e.region_id for e in items}))).all())
    return [e for e in items
            if assess_equipment(e, timezone=timezones[e.region_id], at=at).actions]
