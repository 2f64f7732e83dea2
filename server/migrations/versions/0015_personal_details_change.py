"""the change of personal details (客户信息变更): the request's side with its photos and
signature, the steps of every self-service request, the audit of applied changes

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 20:41:27.688090

Requests already on the progress list (contact changes) have no steps recorded: the list
shows them from their own times.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "details_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("open_for", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_details_change_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["adjuster.id"], name=op.f("fk_details_change_decided_by_adjuster")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_details_change_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
            name=op.f("fk_details_change_request_id_service_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_details_change")),
        sa.UniqueConstraint("open_for", name=op.f("uq_details_change_open_for")),
        sa.UniqueConstraint("request_id", name=op.f("uq_details_change_request_id")),
    )
    with op.batch_alter_table("details_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_details_change_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "personal_details_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("adjuster_id", sa.Integer(), nullable=False),
        sa.Column("old_enc", sa.Text(), nullable=False),
        sa.Column("new_enc", sa.Text(), nullable=False),
        sa.Column("previous_id_number_hash", sa.String(length=64), nullable=False),
        sa.Column("previous_phone_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_personal_details_audit_account_id_account"),
        ),
        sa.ForeignKeyConstraint(
            ["adjuster_id"],
            ["adjuster.id"],
            name=op.f("fk_personal_details_audit_adjuster_id_adjuster"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_personal_details_audit_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
            name=op.f("fk_personal_details_audit_request_id_service_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_details_audit")),
        sa.UniqueConstraint("request_id", name=op.f("uq_personal_details_audit_request_id")),
    )
    with op.batch_alter_table("personal_details_audit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_personal_details_audit_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_personal_details_audit_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_personal_details_audit_previous_id_number_hash"),
            ["previous_id_number_hash"],
            unique=False,
        )

    op.create_table(
        "service_request_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
            name=op.f("fk_service_request_event_request_id_service_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_request_event")),
    )
    with op.batch_alter_table("service_request_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_request_event_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "details_change_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("storage_key", sa.String(length=120), nullable=False),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["details_change.id"],
            name=op.f("fk_details_change_file_change_id_details_change"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_details_change_file")),
        sa.UniqueConstraint("change_id", "category", name="uq_details_change_file"),
    )
    with op.batch_alter_table("details_change_file", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_details_change_file_change_id"), ["change_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("details_change_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_details_change_file_change_id"))

    op.drop_table("details_change_file")
    with op.batch_alter_table("service_request_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_request_event_request_id"))

    op.drop_table("service_request_event")
    with op.batch_alter_table("personal_details_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_details_audit_previous_id_number_hash"))
        batch_op.drop_index(batch_op.f("ix_personal_details_audit_person_id"))
        batch_op.drop_index(batch_op.f("ix_personal_details_audit_account_id"))

    op.drop_table("personal_details_audit")
    with op.batch_alter_table("details_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_details_change_account_id"))

    op.drop_table("details_change")
