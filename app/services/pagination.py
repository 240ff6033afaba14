"""Offset pagination shared by every list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def paginate(session: Session, stmt: Select[Any], *, limit: int, offset: int
             ) -> tuple[list[Any], int]:
    """One page of ``stmt`` (already ordered) and the total number of matches."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(session.scalars(stmt.limit(limit).offset(offset)))
    return items, int(total or 0)
