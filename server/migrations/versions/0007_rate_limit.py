"""one limiter: the rate_limit table replaces the log-in, real-name and portal counters

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 15:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "rate_limit",
        sa.Column("policy", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_ends", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("policy", "key", name=op.f("pk_rate_limit")),
    )
    with op.batch_alter_table("rate_limit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rate_limit_window_ends"), ["window_ends"], unique=False
        )
    # log-in and real-name tries now count in rate_limit (policies "login", "realname-*");
    # running waits and budgets start afresh
    op.drop_table("login_throttle")
    op.drop_table("identity_try")
    # the supplement portal's failures and captcha rates too
    with op.batch_alter_table("supplement_login_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_supplement_login_failure_client")
        batch_op.drop_index("ix_supplement_login_failure_claim")
    op.drop_table("supplement_login_failure")
    with op.batch_alter_table("supplement_captcha", schema=None) as batch_op:
        batch_op.drop_index("ix_supplement_captcha_client")
        batch_op.drop_column("client_hash")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("supplement_captcha", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("client_hash", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.create_index(
            "ix_supplement_captcha_client", ["client_hash", "created_at"], unique=False
        )
    op.create_table(
        "supplement_login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_key", sa.String(length=64), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplement_login_failure")),
    )
    with op.batch_alter_table("supplement_login_failure", schema=None) as batch_op:
        batch_op.create_index(
            "ix_supplement_login_failure_claim", ["claim_key", "at"], unique=False
        )
        batch_op.create_index(
            "ix_supplement_login_failure_client", ["client_key", "at"], unique=False
        )
    op.create_table(
        "identity_try",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_identity_try")),
    )
    op.create_table(
        "login_throttle",
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("phone_hash", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("rate_limit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_limit_window_ends"))
    op.drop_table("rate_limit")
