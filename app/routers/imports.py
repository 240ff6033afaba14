"""Bulk import of volunteers and equipment (CSV or GeoJSON in the request body)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field

from app.deps import Admin, DbSession, Networks
from app.errors import BadRequest, NotFound, problem_responses
from app.schemas.common import FieldErrorOut, OutputModel
from app.services.bulk_import import MAX_ROWS, ImportFormat, ImportKind, import_rows

router = APIRouter(prefix="/v1/imports", tags=["imports"])


MAX_BYTES = 20 * 1024 * 1024
_MEDIA_TYPES = {"text/csv": ImportFormat.csv, "application/geo+json": ImportFormat.geojson,
                "application/json": ImportFormat.geojson}


class ImportReportRead(OutputModel):
    total: int = Field(description="Rows read from the file.", examples=[120])
    imported: int = Field(description="Rows written.", examples=[118])
    imported_ids: list[int] = Field(description="Ids of the created objects, in file order.",
                                    examples=[[31, 32]])
    rejected_rows: list[int] = Field(description="1-based numbers of rejected rows.",
                                     examples=[[7, 64]])
    rejected: list[FieldErrorOut] = Field(description="Why each rejected row was refused; "
                                          "`field` is `rows[N].column`.")


_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": (
            "CSV (`text/csv`, header row; volunteers: name, phone, region_code, team_id, "
            "roles `a;b`, status, home_lon, home_lat, duty_lon, duty_lat, crs; equipment: "
            "kind, name, lon, lat, crs, region_code and the optional equipment fields) or a "
            "GeoJSON FeatureCollection (`application/geo+json`) of Point features whose "
            f"properties are those columns. At most {MAX_ROWS} rows."),
        "content": {
            "text/csv": {"schema": {"type": "string"},
                         "example": "name,phone,region_code,roles,home_lon,home_lat\n"
                                    "张伟,13812341234,120101001,resident;veteran,117.2,39.13\n"},
            "application/geo+json": {"schema": {"type": "object"}},
        },
    }
}


async def uploaded_file(request: Request) -> tuple[ImportFormat, str]:
    """The raw request body and its format (read here so the route itself can stay sync)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in _MEDIA_TYPES:
        raise BadRequest("send text/csv or application/geo+json", field="content-type",
                         code="unsupported_media_type")
    body = await request.body()
    if len(body) > MAX_BYTES:
        raise BadRequest(f"the file is larger than {MAX_BYTES} bytes", field="file")
    try:
        return _MEDIA_TYPES[media_type], body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest("the file must be UTF-8 encoded", field="file") from exc


@router.post("/{kind}", operation_id="bulk_import", response_model=ImportReportRead,
             responses=problem_responses(BadRequest, NotFound), openapi_extra=_BODY_DOC)
def bulk_import(
    admin: Admin,
    kind: Annotated[ImportKind, Path(description="volunteers or equipment.")],
    upload: Annotated[tuple[ImportFormat, str], Depends(uploaded_file)],
    session: DbSession,
    networks: Networks,
    partial: Annotated[bool, Query(description="Import the good rows even if some are "
                                   "rejected (default: all or nothing).")] = False,
) -> ImportReportRead:
    fmt, text = upload
    report = import_rows(session, kind, fmt, text, principal=admin, partial=partial,
                         networks=networks)
    return ImportReportRead(total=report.total, imported=len(report.imported_ids),
                            imported_ids=report.imported_ids,
                            rejected_rows=sorted(report.rejected_rows),
                            rejected=[FieldErrorOut(**e) for e in report.rejected])
