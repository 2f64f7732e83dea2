"""the member's message centre and preferred language

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 18:00:00.000000

Every existing member keeps Chinese, the language of every text so far.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "preferred_language", sa.String(length=2), server_default="zh", nullable=False
            )
        )
    op.create_table(
        "member_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_member_message_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_message")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_member_message_dedupe_key")),
    )
    with op.batch_alter_table("member_message", schema=None) as batch_op:
        batch_op.create_index("ix_member_message_account", ["account_id", "id"], unique=False)
        batch_op.create_index("ix_member_message_unread", ["account_id", "read_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("member_message", schema=None) as batch_op:
        batch_op.drop_index("ix_member_message_unread")
        batch_op.drop_index("ix_member_message_account")
    op.drop_table("member_message")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("preferred_language")
