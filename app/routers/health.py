"""Liveness and readiness for operators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from app.deps import PUBLIC

router = APIRouter(tags=["health"])


class HealthRead(BaseModel):
    status: str = Field(description="`ok` when the database answers, else `degraded`.",
                        examples=["ok"])
    database: str = Field(description="`ok` or the error class of the failed probe.",
                          examples=["ok"])
    database_dialect: str = Field(description="`sqlite` or `postgresql`.", examples=["sqlite"])
    networks: dict[str, int] = Field(
        description="Walking networks loaded, by city code, with their node counts.",
        examples=[{"helsinki": 23154}])


@router.get("/healthz", operation_id="health", response_model=HealthRead,
            dependencies=[Depends(PUBLIC)])
def health(request: Request) -> HealthRead:
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # a health probe reports any failure instead of raising
        database = type(exc).__name__
    networks = request.app.state.networks
    return HealthRead(status="ok" if database == "ok" else "degraded", database=database,
                      database_dialect=engine.dialect.name,
                      networks=networks.node_counts())
