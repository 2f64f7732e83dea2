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
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table (copy, drop, rename); with foreign keys enforced, the
        # drop fails while other rows point at it. The pragma only works outside a
        # transaction, so it goes to the driver's connection (in autocommit, see db.py),
        # and the keys are checked once the migrations are done.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead
        render_as_batch=sqlite,
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"migration left rows without their parents: {broken}")
        connection.commit()
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
