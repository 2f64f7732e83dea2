"""Alembic environment: the engine comes from server.db.migrate() or from the settings."""

from __future__ import annotations

from alembic import context

from server.db import make_engine
from server.models import metadata

target_metadata = metadata
config = context.config

engine = config.attributes.get("engine")
if engine is None:
    from server.settings import from_env

    engine = make_engine(from_env().resolved_database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
