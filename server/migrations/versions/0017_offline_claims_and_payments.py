"""paper claims the office enters (no member account needed: a contact on the claim), the
payment of settled claims, and the facility id a claim names

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 21:00:00.000000

Existing claims and payees keep their account; the new claim columns are null on them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.alter_column("account_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("facility_id", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("entered_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("contact_phone_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("contact_email_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("contact_language", sa.String(length=5), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_claim_entered_by_adjuster"), "adjuster", ["entered_by"], ["id"]
        )
    with op.batch_alter_table("payee_account", schema=None) as batch_op:
        batch_op.alter_column("account_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "claim_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("bank_reference", sa.String(length=60), nullable=False),
        sa.Column("payee_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_claim_payment_claim_id_claim")
        ),
        sa.ForeignKeyConstraint(
            ["payee_id"], ["payee_account.id"], name=op.f("fk_claim_payment_payee_id_payee_account")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["adjuster.id"], name=op.f("fk_claim_payment_recorded_by_adjuster")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_payment")),
        sa.UniqueConstraint("claim_id", name=op.f("uq_claim_payment_claim_id")),
    )


def downgrade() -> None:
    op.drop_table("claim_payment")
    with op.batch_alter_table("payee_account", schema=None) as batch_op:
        batch_op.alter_column("account_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_claim_entered_by_adjuster"), type_="foreignkey")
        batch_op.drop_column("contact_language")
        batch_op.drop_column("contact_email_enc")
        batch_op.drop_column("contact_phone_enc")
        batch_op.drop_column("entered_by")
        batch_op.drop_column("facility_id")
        batch_op.alter_column("account_id", existing_type=sa.Integer(), nullable=False)
