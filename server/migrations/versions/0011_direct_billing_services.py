"""direct-billing appointments, their timeline, card reissues, inpatient advance
payments, and the back office's roles

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 19:00:00.000000

Every existing back-office account stays a claims adjuster.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("adjuster", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=16), server_default="adjuster", nullable=False)
        )
    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("applicant_name_enc", sa.Text(), nullable=False),
        sa.Column("applicant_id_number_enc", sa.Text(), nullable=False),
        sa.Column("applicant_mobile_enc", sa.Text(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("visit_time", sa.String(length=16), nullable=False),
        sa.Column("liability", sa.String(length=16), nullable=False),
        sa.Column("province", sa.String(length=40), nullable=False),
        sa.Column("city", sa.String(length=40), nullable=False),
        sa.Column("facility_nature", sa.String(length=16), nullable=False),
        sa.Column("facility_id", sa.String(length=80), nullable=False),
        sa.Column("facility_name", sa.String(length=200), nullable=False),
        sa.Column("facility_name_en", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("description_enc", sa.Text(), nullable=False),
        sa.Column("department_type", sa.String(length=100), nullable=False),
        sa.Column("doctor_name", sa.String(length=60), nullable=False),
        sa.Column("doctor_level", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("confirmed_time", sa.String(length=5), nullable=False),
        sa.Column("confirmed_doctor", sa.String(length=60), nullable=False),
        sa.Column("proposed_date", sa.Date(), nullable=True),
        sa.Column("proposed_time", sa.String(length=5), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("open_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_appointment_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["person.id"], name=op.f("fk_appointment_patient_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_appointment_policy_id_policy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
        sa.UniqueConstraint("open_key", name=op.f("uq_appointment_open_key")),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index("ix_appointment_account", ["account_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_appointment_facility_id"), ["facility_id"], unique=False
        )
        batch_op.create_index("ix_appointment_queue", ["status", "created_at"], unique=False)
    op.create_table(
        "appointment_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("status_to", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_event_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_event")),
    )
    with op.batch_alter_table("appointment_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_event_appointment_id"), ["appointment_id"], unique=False
        )

    op.create_table(
        "card_reissue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("mobile_enc", sa.Text(), nullable=False),
        sa.Column("province_code", sa.String(length=6), nullable=False),
        sa.Column("city_code", sa.String(length=6), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_enc", sa.Text(), nullable=False),
        sa.Column("postcode", sa.String(length=6), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("reason_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tracking_no", sa.String(length=40), nullable=False),
        sa.Column("open_key", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_card_reissue_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_card_reissue_policy_id_policy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_reissue")),
        sa.UniqueConstraint("open_key", name=op.f("uq_card_reissue_open_key")),
    )
    with op.batch_alter_table("card_reissue", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_card_reissue_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "advance_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.String(length=80), nullable=True),
        sa.Column("hospital_name", sa.String(length=200), nullable=False),
        sa.Column("admission_date", sa.Date(), nullable=False),
        sa.Column("description_enc", sa.Text(), nullable=False),
        sa.Column("applicant_name_enc", sa.Text(), nullable=False),
        sa.Column("applicant_sex", sa.String(length=1), nullable=False),
        sa.Column("applicant_id_number_enc", sa.Text(), nullable=False),
        sa.Column("applicant_mobile_enc", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approved_fen", sa.Integer(), nullable=True),
        sa.Column("pay_to", sa.String(length=200), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_advance_payment_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["person.id"], name=op.f("fk_advance_payment_patient_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policy.id"], name=op.f("fk_advance_payment_policy_id_policy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advance_payment")),
    )
    with op.batch_alter_table("advance_payment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_advance_payment_account_id"), ["account_id"], unique=False
        )
    op.create_table(
        "advance_payment_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advance_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("status_to", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advance_id"],
            ["advance_payment.id"],
            name=op.f("fk_advance_payment_event_advance_id_advance_payment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advance_payment_event")),
    )
    with op.batch_alter_table("advance_payment_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_advance_payment_event_advance_id"), ["advance_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("advance_payment_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advance_payment_event_advance_id"))
    op.drop_table("advance_payment_event")
    with op.batch_alter_table("advance_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advance_payment_account_id"))
    op.drop_table("advance_payment")
    with op.batch_alter_table("card_reissue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_reissue_account_id"))
    op.drop_table("card_reissue")
    with op.batch_alter_table("appointment_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_event_appointment_id"))
    op.drop_table("appointment_event")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_queue")
        batch_op.drop_index(batch_op.f("ix_appointment_facility_id"))
        batch_op.drop_index("ix_appointment_account")
    op.drop_table("appointment")
    with op.batch_alter_table("adjuster", schema=None) as batch_op:
        batch_op.drop_column("role")
