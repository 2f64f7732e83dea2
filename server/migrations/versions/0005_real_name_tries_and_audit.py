"""real-name verification: try counters, reclaim audit, SMS codes bound to an account

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:05:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "identity_try",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_identity_try")),
    )
    op.create_table(
        "identity_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("previous_account_id", sa.Integer(), nullable=False),
        sa.Column("factor", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("previous_id_number_hash", sa.String(length=64), nullable=True),
        sa.Column("previous_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_identity_audit_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_identity_audit_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["previous_account_id"],
            ["account.id"],
            name=op.f("fk_identity_audit_previous_account_id_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_audit")),
    )
    with op.batch_alter_table("identity_audit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_audit_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identity_audit_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identity_audit_previous_account_id"),
            ["previous_account_id"],
            unique=False,
        )

    with op.batch_alter_table("sms_code", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sms_code_account_id_account"), "account", ["account_id"], ["id"]
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("sms_code", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_sms_code_account_id_account"), type_="foreignkey")
        batch_op.drop_column("account_id")

    with op.batch_alter_table("identity_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_audit_previous_account_id"))
        batch_op.drop_index(batch_op.f("ix_identity_audit_person_id"))
        batch_op.drop_index(batch_op.f("ix_identity_audit_account_id"))

    op.drop_table("identity_audit")
    op.drop_table("identity_try")
