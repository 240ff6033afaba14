"""Consumables at district reserve centres, with low-stock and expiry alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.deps import Admin, DbSession, PageDep, Reader
from app.errors import Conflict, NotFound, problem_responses
from app.models import InventoryLine
from app.models.base import utcnow
from app.schemas.common import Page
from app.schemas.inventory import (
    InventoryAdjust,
    InventoryLineCreate,
    InventoryLineRead,
    InventoryLineUpdate,
)
from app.services import inventory as service
from app.services.pagination import paginate

router = APIRouter(tags=["inventory"])

WithinDays = Annotated[int, Query(ge=0, le=3650, description="Alert on batches expiring "
                                  "within this many days.", examples=[30])]


def _reads(session: DbSession, lines: list[InventoryLine], within_days: int = 30
           ) -> list[InventoryLineRead]:
    return [_read(line, alerts) for line, alerts in
            service.with_alerts(session, lines, at=utcnow(), within_days=within_days)]


def _read(line: InventoryLine, alerts: list[str]) -> InventoryLineRead:
    fields = {name: getattr(line, name) for name in InventoryLineRead.model_fields
              if name != "alerts"}
    return InventoryLineRead(**fields, alerts=alerts)


@router.get("/v1/equipment/{equipment_id}/inventory", operation_id="list_inventory",
            response_model=Page[InventoryLineRead], responses=problem_responses(NotFound))
def list_inventory(equipment_id: int, session: DbSession, principal: Reader, page: PageDep,
                   within_days: WithinDays = 30) -> Page[InventoryLineRead]:
    stmt = service.lines_query(session, principal, equipment_id)
    items, total = paginate(session, stmt, limit=page.limit, offset=page.offset)
    return Page(items=_reads(session, items, within_days), total=total, limit=page.limit,
                offset=page.offset)


@router.post("/v1/equipment/{equipment_id}/inventory", operation_id="add_inventory_line",
             response_model=InventoryLineRead, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(NotFound, Conflict))
def add_inventory_line(equipment_id: int, data: InventoryLineCreate, session: DbSession,
                       principal: Admin) -> InventoryLineRead:
    """A new item or batch at a reserve centre (another equipment kind: 422)."""
    return _reads(session, [service.add_line(session, equipment_id, data, principal)])[0]


@router.patch("/v1/inventory/{line_id}", operation_id="update_inventory_line",
              response_model=InventoryLineRead, responses=problem_responses(NotFound))
def update_inventory_line(line_id: int, data: InventoryLineUpdate, session: DbSession,
                          principal: Admin) -> InventoryLineRead:
    return _reads(session, [service.update_line(session, line_id, data, principal)])[0]


@router.post("/v1/inventory/{line_id}/adjust", operation_id="adjust_inventory",
             response_model=InventoryLineRead, responses=problem_responses(NotFound, Conflict))
def adjust_inventory(line_id: int, data: InventoryAdjust, session: DbSession,
                     principal: Admin) -> InventoryLineRead:
    """Add a delivery or take items out; stock never goes below zero, also when several
    hand-outs race (409 `insufficient_stock`)."""
    return _reads(session, [service.adjust(session, line_id, data.delta, principal)])[0]


@router.get("/v1/inventory/alerts", operation_id="list_inventory_alerts",
            response_model=Page[InventoryLineRead], responses=problem_responses(NotFound))
def list_inventory_alerts(session: DbSession, principal: Reader, page: PageDep,
                          within_days: WithinDays = 30,
                          region: Annotated[str | None, Query(
                              description="Only this region code and its subtree.",
                              examples=["120101"])] = None) -> Page[InventoryLineRead]:
    """Reserve-centre stock that is low (at or below its minimum) or expires within the
    window, for the caller's area."""
    lines = service.alert_lines(session, principal, region_code=region, at=utcnow(),
                                within_days=within_days)
    return Page(items=[_read(line, alerts)
                       for line, alerts in lines[page.offset:page.offset + page.limit]],
                total=len(lines), limit=page.limit, offset=page.offset)
