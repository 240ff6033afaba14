"""District reserve centres: consumables in stock, with low-stock and expiry alerts. Stock
changes are conditional UPDATEs under a CHECK, so concurrent hand-outs never go negative."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Unprocessable, not_found
from app.models import EquipmentPoint, InventoryLine, Region
from app.models.equipment import EquipmentKind
from app.schemas.inventory import InventoryLineCreate, InventoryLineUpdate
from app.security import Principal
from app.services.scope import get_scoped, visible


def alerts_for(line: InventoryLine, *, today: date, within_days: int) -> list[str]:
    alerts = []
    if line.quantity <= line.min_quantity:
        alerts.append(f"low stock: {line.quantity} {line.unit}, minimum {line.min_quantity}")
    if line.expires_on is not None:
        if line.expires_on <= today:
            alerts.append(f"expired on {line.expires_on.isoformat()}")
        elif line.expires_on <= today + timedelta(days=within_days):
            alerts.append(f"expires on {line.expires_on.isoformat()}")
    return alerts


def with_alerts(session: Session, lines: list[InventoryLine], *, at: datetime,
                within_days: int) -> list[tuple[InventoryLine, list[str]]]:
    """Each line with its alerts, judged by the local date of its reserve centre."""
    zones = dict(session.execute(
        select(EquipmentPoint.id, Region.timezone)
        .join(Region, Region.id == EquipmentPoint.region_id)
        .where(EquipmentPoint.id.in_({line.equipment_id for line in lines}))).all())
    return [(line, alerts_for(line, today=at.astimezone(ZoneInfo(zones[line.equipment_id]))
                              .date(), within_days=within_days)) for line in lines]


def _centre(session: Session, equipment_id: int, principal: Principal) -> EquipmentPoint:
    return get_scoped(session, EquipmentPoint, equipment_id, principal, entity="equipment",
                      field="equipment_id")


def get_line(session: Session, line_id: int, principal: Principal) -> InventoryLine:
    line = session.get(InventoryLine, line_id)
    if line is None:
        raise not_found("inventory line", line_id, field="line_id")
    _centre(session, line.equipment_id, principal)   # 404 outside the caller's area
    return line


def add_line(session: Session, equipment_id: int, data: InventoryLineCreate,
             principal: Principal) -> InventoryLine:
    centre = _centre(session, equipment_id, principal)
    if centre.kind != EquipmentKind.reserve_centre.value:
        raise Unprocessable("only a reserve centre keeps an inventory", field="equipment_id",
                            code="not_a_reserve_centre")
    line = InventoryLine(equipment_id=centre.id, **data.model_dump())
    session.add(line)
    session.flush()
    return line


def update_line(session: Session, line_id: int, data: InventoryLineUpdate,
                principal: Principal) -> InventoryLine:
    line = get_line(session, line_id, principal)
    changes = data.model_dump(exclude_unset=True)
    for key in ("unit", "min_quantity"):
        if key in changes and changes[key] is None:
            raise Unprocessable(f"{key} cannot be null", field=key)
    for key, value in changes.items():
        setattr(line, key, value)
    session.flush()
    return line


def adjust(session: Session, line_id: int, delta: int, principal: Principal
           ) -> InventoryLine:
    line = get_line(session, line_id, principal)
    try:
        with session.begin_nested():
            session.execute(update(InventoryLine).where(InventoryLine.id == line_id)
                            .values(quantity=InventoryLine.quantity + delta))
    except IntegrityError as exc:
        raise Conflict("not enough in stock", field="delta", code="insufficient_stock") from exc
    session.refresh(line)
    return line


def lines_query(session: Session, principal: Principal, equipment_id: int) -> Select:
    _centre(session, equipment_id, principal)
    return (select(InventoryLine).where(InventoryLine.equipment_id == equipment_id)
            .order_by(InventoryLine.item, InventoryLine.expires_on, InventoryLine.id))


def alert_lines(session: Session, principal: Principal, *, region_code: str | None,
                at: datetime, within_days: int) -> list[tuple[InventoryLine, list[str]]]:
    """Lines of the caller's reserve centres that are low or expire within the window."""
    lines = list(session.scalars(
        select(InventoryLine).join(EquipmentPoint,
                                   EquipmentPoint.id == InventoryLine.equipment_id)
        .where(visible(session, EquipmentPoint.region_id, principal, within_code=region_code))
        .order_by(InventoryLine.equipment_id, InventoryLine.item, InventoryLine.id)))
    return [(line, alerts) for line, alerts in
            with_alerts(session, lines, at=at, within_days=within_days) if alerts]
