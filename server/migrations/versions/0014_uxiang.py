"""U享赔: the member's signed authorisations and the visit records claims were made from

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 20:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uxiang_authorisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_enc", sa.Text(), nullable=False),
        sa.Column("signature_key", sa.String(length=120), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_uxiang_authorisation_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_uxiang_authorisation_policy_id_policy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uxiang_authorisation")),
    )
    with op.batch_alter_table("uxiang_authorisation", schema=None) as batch_op:
        batch_op.create_index("ix_uxiang_authorisation_account", ["account_id", "id"], unique=False)
    op.create_table(
        "uxiang_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("authorisation_id", sa.Integer(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("record_enc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["authorisation_id"],
            ["uxiang_authorisation.id"],
            name=op.f("fk_uxiang_claim_authorisation_id_uxiang_authorisation"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
            name=op.f("fk_uxiang_claim_claim_id_claim"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_uxiang_claim_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uxiang_claim")),
        sa.UniqueConstraint("person_id", "record_id", name="uq_uxiang_claim_record"),
    )
    with op.batch_alter_table("uxiang_claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_uxiang_claim_claim_id"), ["claim_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("uxiang_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uxiang_claim_claim_id"))
    op.drop_table("uxiang_claim")
    with op.batch_alter_table("uxiang_authorisation", schema=None) as batch_op:
        batch_op.drop_index("ix_uxiang_authorisation_account")
    op.drop_table("uxiang_authorisation")
