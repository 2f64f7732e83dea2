"""saved payees (收款人), the self-service contact change with its progress list, and
pre-authorisation (预先授权) requests with their files and timeline

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 19:00:00.000000

Payees captured by claims so far keep null in the new columns: the applicant's own
account, with bank name and number only.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
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
    op.create_table(
        "pre_authorisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notice_accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applicant_relation", sa.String(length=20), nullable=False),
        sa.Column("applicant_enc", sa.Text(), nullable=True),
        sa.Column("facility_id", sa.String(length=80), nullable=False),
        sa.Column("facility_name", sa.String(length=200), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("approved_items", sa.Text(), nullable=True),
        sa.Column("approved_fen", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("more_instructions", sa.Text(), nullable=True),
        sa.Column("more_due", sa.Date(), nullable=True),
        sa.Column("more_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_pre_authorisation_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["adjuster.id"], name=op.f("fk_pre_authorisation_decided_by_adjuster")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_pre_authorisation_policy_id_policy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pre_authorisation")),
    )
    with op.batch_alter_table("pre_authorisation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pre_authorisation_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "ix_pre_authorisation_status", ["status", "submitted_at"], unique=False
        )
    tables: tuple[tuple[str, list[sa.Column[Any]]], ...] = (
        (
            "pre_auth_document",
            [
                sa.Column("category", sa.String(length=30), nullable=False),
                sa.Column("storage_key", sa.String(length=120), nullable=False),
                sa.Column("content_type", sa.String(length=60), nullable=False),
                sa.Column("size", sa.Integer(), nullable=False),
                sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
            ],
        ),
        (
            "pre_auth_event",
            [
                sa.Column("status", sa.String(length=20), nullable=False),
                sa.Column("at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("note", sa.Text(), nullable=False),
            ],
        ),
    )
    for table, columns in tables:
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("pre_auth_id", sa.Integer(), nullable=False),
            *columns,
            sa.ForeignKeyConstraint(
                ["pre_auth_id"],
                ["pre_authorisation.id"],
                name=op.f(f"fk_{table}_pre_auth_id_pre_authorisation"),
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f(f"ix_{table}_pre_auth_id"), ["pre_auth_id"], unique=False
            )


def downgrade() -> None:
    for table in ("pre_auth_event", "pre_auth_document"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_pre_auth_id"))
        op.drop_table(table)
    with op.batch_alter_table("pre_authorisation", schema=None) as batch_op:
        batch_op.drop_index("ix_pre_authorisation_status")
        batch_op.drop_index(batch_op.f("ix_pre_authorisation_account_id"))
    op.drop_table("pre_authorisation")
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_index("ix_service_request_account")
    op.drop_table("service_request")
    with op.batch_alter_table("contact_profile", schema=None) as batch_op:
        for name in reversed(_CONTACT):
            batch_op.drop_column(name)
    with op.batch_alter_table("payee_account", schema=None) as batch_op:
        for name, _ in reversed(_PAYEE):
            batch_op.drop_column(name)
