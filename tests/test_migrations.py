"""Migrations build the schema on both dialects, and the models match them exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db import make_engine
from app.migrate import include_object
from app.models import Base


def test_upgrade_head_matches_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_object": include_object, "compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() is not None
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert {"region", "team", "volunteer", "certification", "equipment",
            "console_user"} <= tables


def test_spatial_indexes_exist(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(
                "SELECT f_table_name || '.' || f_geometry_column FROM geometry_columns "
                "WHERE spatial_index_enabled = 1").scalars().all()
        else:
            rows = connection.exec_driver_sql(
                "SELECT tablename || '.' || substring(indexdef from '\\((\\w+)\\)') "
                "FROM pg_indexes WHERE indexdef LIKE '%%USING gist%%'").scalars().all()
    engine.dispose()
    assert set(rows) >= {"region.boundary", "equipment.location", "volunteer.home_location",
                         "volunteer.duty_location"}
