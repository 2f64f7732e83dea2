"""one session table for members, adjusters and the supplement portal

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 15:10:00.000000

Live sessions move over (same token hashes, same clocks), so nobody signed in has to sign
in again; revoked and ended ones are left behind with the old tables.
"""

import datetime
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (kind, channel, subject column, scope column, old table)
_OLD = (
    ("member", "channel", "account_id", "NULL", "auth_session"),
    ("adjuster", "'back-office'", "adjuster_id", "NULL", "adjuster_session"),
    ("portal", "'h5'", "claim_id", "supplement_id", "supplement_session"),
)


def _now() -> sa.BindParameter[datetime.datetime]:
    # typed, so SQLite compares it in the format its DATETIME columns are stored in
    return sa.bindparam(
        "now", datetime.datetime.now(datetime.UTC), type_=sa.DateTime(timezone=True)
    )


def upgrade() -> None:
    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_session_token_hash")),
    )
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.create_index("ix_login_session_subject", ["kind", "subject_id"], unique=False)
        batch_op.create_index("ix_login_session_expires_at", ["expires_at"], unique=False)

    for kind, channel, subject, scope, table in _OLD:
        op.get_bind().execute(
            sa.text(
                "INSERT INTO login_session (kind, subject_id, scope_id, channel, token_hash,"
                " created_at, last_seen_at, expires_at, revoked_at)"
                f" SELECT '{kind}', {subject}, {scope}, {channel}, token_hash, created_at,"
                f" last_seen_at, expires_at, NULL FROM {table}"
                " WHERE revoked_at IS NULL AND expires_at > :now"
            ).bindparams(_now())
        )

    with op.batch_alter_table("supplement_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplement_session_claim_id"))
    op.drop_table("supplement_session")
    with op.batch_alter_table("adjuster_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adjuster_session_adjuster_id"))
    op.drop_table("adjuster_session")
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_session_account_id"))
    op.drop_table("auth_session")


def downgrade() -> None:
    # the tables as 0001, 0003 and 0004 made them; live sessions go back
    op.create_table(
        "auth_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_auth_session_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_session_token_hash")),
    )
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_auth_session_account_id"), ["account_id"], unique=False
        )
    op.create_table(
        "adjuster_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("adjuster_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["adjuster_id"], ["adjuster.id"], name=op.f("fk_adjuster_session_adjuster_id_adjuster")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjuster_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_adjuster_session_token_hash")),
    )
    with op.batch_alter_table("adjuster_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adjuster_session_adjuster_id"), ["adjuster_id"], unique=False
        )
    op.create_table(
        "supplement_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("supplement_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_supplement_session_claim_id_claim")
        ),
        sa.ForeignKeyConstraint(
            ["supplement_id"],
            ["claim_supplement.id"],
            name=op.f("fk_supplement_session_supplement_id_claim_supplement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplement_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_supplement_session_token_hash")),
    )
    with op.batch_alter_table("supplement_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplement_session_claim_id"), ["claim_id"], unique=False
        )

    live = "revoked_at IS NULL AND expires_at > :now"
    bind = op.get_bind()
    for sql in (
        "INSERT INTO auth_session (account_id, token_hash, channel, created_at, last_seen_at,"
        " expires_at) SELECT subject_id, token_hash, channel, created_at, last_seen_at,"
        f" expires_at FROM login_session WHERE kind = 'member' AND {live}",
        "INSERT INTO adjuster_session (adjuster_id, token_hash, created_at, last_seen_at,"
        " expires_at) SELECT subject_id, token_hash, created_at, last_seen_at, expires_at"
        f" FROM login_session WHERE kind = 'adjuster' AND {live}",
        "INSERT INTO supplement_session (claim_id, supplement_id, token_hash, created_at,"
        " last_seen_at, expires_at) SELECT subject_id, scope_id, token_hash, created_at,"
        f" last_seen_at, expires_at FROM login_session WHERE kind = 'portal' AND {live}"
        " AND scope_id IS NOT NULL",
    ):
        bind.execute(sa.text(sql).bindparams(_now()))

    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.drop_index("ix_login_session_expires_at")
        batch_op.drop_index("ix_login_session_subject")
    op.drop_table("login_session")
