"""the university plan: outpatient totals loaded per year, the declaration a claim accepted

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outpatient_year_total",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_outpatient_year_total_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outpatient_year_total")),
        sa.UniqueConstraint("person_id", "year", name="uq_outpatient_year_total"),
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declaration_version", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("declaration_accepted_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_column("declaration_accepted_at")
        batch_op.drop_column("declaration_version")
    op.drop_table("outpatient_year_total")
