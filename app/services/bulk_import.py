"""Bulk import of volunteers and equipment from CSV or GeoJSON, with a row-by-row report.

A file with any bad row changes nothing, unless the caller asks to import the good rows
(``partial=True``). Each row is written in its own SAVEPOINT, so a row that fails in the
database (a duplicate phone, say) is reported without spoiling the others.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import (
    BadRequest,
    FieldError,
    ProblemError,
    Unprocessable,
    integrity_error_to_problem,
)
from app.networks import NetworkRegistry
from app.schemas.equipment import EquipmentCreate
from app.schemas.volunteer import VolunteerCreate
from app.security import Principal
from app.services.equipment import create_equipment
from app.services.volunteers import create_volunteer

MAX_ROWS = 20_000


class ImportKind(StrEnum):
    volunteers = "volunteers"
    equipment = "equipment"


class ImportFormat(StrEnum):
    csv = "csv"
    geojson = "geojson"


@dataclass
class ImportReport:
    total: int = 0
    imported_ids: list[int] = field(default_factory=list)
    rejected: list[FieldError] = field(default_factory=list)
    rejected_rows: set[int] = field(default_factory=set)


def _point(row: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    lon, lat = row.pop(f"{prefix}lon", None), row.pop(f"{prefix}lat", None)
    if lon in (None, "") and lat in (None, ""):
        return None
    return {"lon": lon, "lat": lat, "crs": row.get("crs") or "wgs84"}


def _volunteer_row(row: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in row.items() if v not in ("", None)}
    if isinstance(row.get("roles"), str):
        row["roles"] = [r.strip() for r in row["roles"].split(";") if r.strip()]
    row["home_location"] = _point(row, "home_")
    row["duty_location"] = _point(row, "duty_")
    row.pop("crs", None)
    return row


def _equipment_row(row: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in row.items() if v not in ("", None)}
    row["location"] = _point(row, "")
    row.pop("crs", None)
    return row


def _csv_rows(text: str) -> Iterator[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise BadRequest("the CSV file has no header row", field="file")
    yield from reader


def _geojson_rows(text: str, location_prefix: str) -> Iterator[dict[str, Any]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"not valid JSON: {exc.msg} at line {exc.lineno}", field="file") \
            from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise BadRequest("expected a GeoJSON FeatureCollection", field="file")
    for feature in document.get("features") or []:
        properties = dict((feature or {}).get("properties") or {})
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") == "Point" and len(geometry.get("coordinates") or []) >= 2:
            lon, lat = geometry["coordinates"][:2]
            properties[f"{location_prefix}lon"] = lon
            properties[f"{location_prefix}lat"] = lat
        yield properties


@dataclass(frozen=True)
class _Spec:
    schema: type[BaseModel]
    shape_row: Callable[[dict[str, Any]], dict[str, Any]]
    location_prefix: str
    create: Callable[..., Any]


_SPECS = {
    ImportKind.volunteers: _Spec(VolunteerCreate, _volunteer_row, "home_", create_volunteer),
    ImportKind.equipment: _Spec(EquipmentCreate, _equipment_row, "", create_equipment),
}


def import_rows(session: Session, kind: ImportKind, fmt: ImportFormat, text: str, *,
                principal: Principal, partial: bool,
                networks: NetworkRegistry | None = None) -> ImportReport:
    spec = _SPECS[kind]
    rows = (_csv_rows(text) if fmt is ImportFormat.csv
            else _geojson_rows(text, spec.location_prefix))
    report = ImportReport()
    extra = {"source": "bulk_import"} if kind is ImportKind.equipment else {}
    for number, raw in enumerate(rows, start=1):
        if number > MAX_ROWS:
            raise Unprocessable(f"at most {MAX_ROWS} rows per file", field="file")
        report.total += 1
        try:
            data = spec.schema.model_validate(spec.shape_row(dict(raw)))
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"]) or "row"
                message = "unknown column" if err["type"] == "extra_forbidden" else err["msg"]
                report.rejected.append(FieldError(f"rows[{number}].{path}", message))
            report.rejected_rows.add(number)
            continue
        try:
            with session.begin_nested():
                created = spec.create(session, data, principal=principal, networks=networks,
                                      **extra)
        except ProblemError as exc:
            errors = exc.errors or [FieldError("row", exc.detail)]
            report.rejected.extend(FieldError(f"rows[{number}].{e['field']}", e["message"])
                                   for e in errors)
            report.rejected_rows.add(number)
            continue
        except IntegrityError as exc:
            problem = integrity_error_to_problem(exc)
            report.rejected.extend(FieldError(f"rows[{number}].{e['field']}", e["message"])
                                   for e in (problem.errors or [FieldError("row", problem.detail)]))
            report.rejected_rows.add(number)
            continue
        report.imported_ids.append(created.id)
    if report.total == 0:
        raise Unprocessable("the file contains no rows", field="file")
    if report.rejected and not partial:
        raise Unprocessable(
            f"{len(report.rejected_rows)} of {report.total} rows were rejected; nothing was "
            "imported (send partial=true to import the good rows)", errors=report.rejected,
            code="import_rejected")
    return report
