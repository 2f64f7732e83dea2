"""encrypt the remaining names of people: policyholders and adjusters

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 15:00:00

Existing rows are encrypted with the application's key: the vault that server.db.migrate()
is given, or the one the environment's settings describe (as the engine is found in env.py).
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, plain column, encrypted column)
_COLUMNS = (
    ("policy", "holder_name", "holder_name_enc"),
    ("adjuster", "display_name", "display_name_enc"),
)


def _vault() -> Any:
    vault = context.config.attributes.get("vault")
    if vault is None:
        from server.crypto import vault_for
        from server.settings import from_env

        settings = from_env()
        vault = vault_for(settings.secret_key, settings.encryption_key)
    return vault


def _move(table: str, source: str, target: str, transform: Any) -> None:
    conn = op.get_bind()
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column(target, sa.Text(), nullable=True))
    rows = conn.execute(sa.text(f"SELECT id, {source} FROM {table}")).all()
    for row_id, value in rows:
        conn.execute(
            sa.text(f"UPDATE {table} SET {target} = :v WHERE id = :id"),
            {"v": transform(value), "id": row_id},
        )
    with op.batch_alter_table(table) as batch:
        batch.alter_column(target, existing_type=sa.Text(), nullable=False)
        batch.drop_column(source)


def upgrade() -> None:
    conn = op.get_bind()
    needed = any(
        conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None
        for table, _, _ in _COLUMNS
    )
    vault: Any = _vault() if needed else None
    for table, plain, encrypted in _COLUMNS:
        _move(table, plain, encrypted, lambda v: vault.encrypt(v))


def downgrade() -> None:
    conn = op.get_bind()
    needed = any(
        conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None
        for table, _, _ in _COLUMNS
    )
    vault: Any = _vault() if needed else None
    for table, plain, encrypted in _COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(plain, sa.String(length=200), nullable=True))
        rows = conn.execute(sa.text(f"SELECT id, {encrypted} FROM {table}")).all()
        for row_id, value in rows:
            conn.execute(
                sa.text(f"UPDATE {table} SET {plain} = :v WHERE id = :id"),
                {"v": vault.decrypt(value), "id": row_id},
            )
        with op.batch_alter_table(table) as batch:
            batch.alter_column(plain, existing_type=sa.String(length=200), nullable=False)
            batch.drop_column(encrypted)
