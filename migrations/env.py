"""Alembic environment: one set of migrations for SQLite + SpatiaLite and PostGIS."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers

from app.db import make_engine
from app.migrate import include_object
from app.models import Base
from app.settings import Settings

config = context.config


def _engine():
    connection = config.attributes.get("connection")
    if connection is not None:
        return connection
    url = config.get_main_option("sqlalchemy.url") or Settings().database_url
    return make_engine(url)


def run_migrations_online() -> None:
    connectable = _engine()
    if hasattr(connectable, "connect"):
        with connectable.connect() as connection:
            _run(connection)
        connectable.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations_online()
