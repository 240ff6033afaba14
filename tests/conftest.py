"""Test fixtures: real SQLite + SpatiaLite, and real PostgreSQL + PostGIS when configured.

Each database is built once per session by running the migrations; tests are isolated by
emptying the tables after each one. PostGIS tests need ``RESCUE_TEST_POSTGRES_URL``: without
it they skip locally, and fail in CI (``CI=true``), where .ci/run always provides it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.db import make_engine, make_sessionmaker
from app.main import create_app
from app.migrate import upgrade_to_head
from app.models import Base
from app.security import Principal, Role, issue_token
from app.settings import Settings

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def postgres_url() -> str | None:
    url = os.environ.get("RESCUE_TEST_POSTGRES_URL")
    if url:
        return url
    if IN_CI:
        pytest.fail("CI=true but RESCUE_TEST_POSTGRES_URL is not set: PostGIS tests must run")
    return None


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def postgis_url() -> str:
    url = postgres_url()
    if url is None:
        pytest.skip("RESCUE_TEST_POSTGRES_URL not set (PostGIS tests run in CI)")
    upgrade_to_head(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


def _empty_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
        connection.execute(text("UPDATE team SET leader_id = NULL"))
        for table in tables:
            if table == "region":  # self-referencing: leaves first
                for level in ("community", "district", "city"):
                    connection.execute(text("DELETE FROM region WHERE level = :level"),
                                       {"level": level})
            else:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    _empty_tables(engine)
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_sessionmaker(engine)() as session:
        yield session


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, secret_key=TEST_SECRET, data_dir=tmp_path,
                    wechat_app_id="wx-test-app", wechat_app_secret="wx-test-secret")


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client


def token_for(principal: Principal) -> str:
    return issue_token(secret_key=TEST_SECRET, role=principal.role, subject=principal.subject,
                       region_id=principal.region_id, volunteer_id=principal.volunteer_id,
                       ttl_s=3600)


def auth(role: Role, *, region_id: int | None = None, volunteer_id: int | None = None
         ) -> dict[str, str]:
    principal = Principal(role=role, subject=f"test:{role}", region_id=region_id,
                          volunteer_id=volunteer_id)
    return {"Authorization": f"Bearer {token_for(principal)}"}
