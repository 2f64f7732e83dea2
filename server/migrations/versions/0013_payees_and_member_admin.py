"""saved payees (收款人) and the self-service contact change with its progress list

Revision ID: 0013
Revises: 0010
Create Date: 2026-11-29 19:00:00.000000

Payees captured by claims so far keep null in the new columns: the applicant's own
account, with bank name and number only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAYEE = (
    ("relationship", sa.String(length=20)),
    ("id_type", sa.String(length=30)),
    ("id_number_enc", sa.Text()),
    ("bank_code", sa.String(length=3)),
    ("province_code", sa.String(length=12)),
    ("city_code", sa.String(length=12)),
    ("insurance_no_enc", sa.Text()),
    ("updated_at", sa.DateTime(timezone=True)),
    ("removed_at", sa.DateTime(timezone=True)),
)
_CONTACT = ("province_code", "city_code", "district_code")


def upgrade() -> None:
    with op.batch_alter_table("payee_account", schema=None) as batch_op:
        for name, type_ in _PAYEE:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table("contact_profile", schema=None) as batch_op:
        for name in _CONTACT:
            batch_op.add_column(sa.Column(name, sa.String(length=12), nullable=True))
    op.create_table(
        "service_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("detail_enc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_service_request_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_request")),
    )
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.create_index("ix_service_request_account", ["account_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_index("ix_service_request_account")
    op.drop_table("service_request")
    with op.batch_alter_table("contact_profile", schema=None) as batch_op:
        for name in reversed(_CONTACT):
            batch_op.drop_column(name)
    with op.batch_alter_table("payee_account", schema=None) as batch_op:
        for name, _ in reversed(_PAYEE):
            batch_op.drop_column(name)
