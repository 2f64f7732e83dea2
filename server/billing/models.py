"""Direct-billing appointments (直付就诊预约) and their timeline."""

from __future__ import annotations

import datetime
import enum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime


class AppointmentStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # 已提交
    CONFIRMED = "confirmed"  # 预约成功
    TIME_PROPOSED = "time_proposed"  # 医院另约时间，待会员确认
    DECLINED = "declined"  # 预约失败
    CANCELLED = "cancelled"  # 会员取消
    ATTENDED = "attended"  # 已就诊
    NO_SHOW = "no_show"  # 未就诊


OPEN_STATUSES = frozenset(
    {AppointmentStatus.SUBMITTED, AppointmentStatus.CONFIRMED, AppointmentStatus.TIME_PROPOSED}
)


class Liability(enum.StrEnum):
    OUTPATIENT = "outpatient"  # 门急诊
    INPATIENT = "inpatient"  # 住院
    DENTAL = "dental"  # 齿科


class FacilityNature(enum.StrEnum):
    PUBLIC = "public"  # 公立医院特需部或国际医疗中心
    PRIVATE = "private"  # 非公立医疗机构


class VisitTime(enum.StrEnum):
    MORNING = "morning"  # 上午
    AFTERNOON = "afternoon"  # 下午


class Appointment(Base):
    """One appointment request. The applicant's name, ID number and mobile and the
    description of the complaint are encrypted; `open_key` holds one open appointment per
    insured person, facility and day (a unique column, NULL once closed)."""

    __tablename__ = "appointment"
    __table_args__ = (
        Index("ix_appointment_queue", "status", "created_at"),
        Index("ix_appointment_account", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    applicant_name_enc: Mapped[str] = mapped_column(Text)
    applicant_id_number_enc: Mapped[str] = mapped_column(Text)
    applicant_mobile_enc: Mapped[str] = mapped_column(Text)
    visit_date: Mapped[datetime.date] = mapped_column(Date)
    visit_time: Mapped[str] = mapped_column(String(16))  # a VisitTime value
    liability: Mapped[str] = mapped_column(String(16))  # a Liability value
    province: Mapped[str] = mapped_column(String(40))
    city: Mapped[str] = mapped_column(String(40))
    facility_nature: Mapped[str] = mapped_column(String(16))  # a FacilityNature value
    facility_id: Mapped[str] = mapped_column(String(80), index=True)
    facility_name: Mapped[str] = mapped_column(String(200))  # as it was named on the day
    facility_name_en: Mapped[str] = mapped_column(String(200), default="")
    department: Mapped[str] = mapped_column(String(100))
    description_enc: Mapped[str] = mapped_column(Text)
    department_type: Mapped[str] = mapped_column(String(100), default="")
    doctor_name: Mapped[str] = mapped_column(String(60), default="")
    doctor_level: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(16))  # an AppointmentStatus value
    confirmed_time: Mapped[str] = mapped_column(String(5), default="")  # HH:MM, China time
    confirmed_doctor: Mapped[str] = mapped_column(String(60), default="")
    proposed_date: Mapped[datetime.date | None] = mapped_column(Date)
    proposed_time: Mapped[str] = mapped_column(String(5), default="")
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    open_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)

    events: Mapped[list[AppointmentEvent]] = relationship(
        order_by="AppointmentEvent.id", cascade="all, delete-orphan"
    )


class AppointmentEvent(Base):
    """One line of an appointment's timeline."""

    __tablename__ = "appointment_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(24))  # submitted, confirmed, time_proposed, ...
    actor: Mapped[str] = mapped_column(String(16))  # member | coordinator
    actor_id: Mapped[int | None] = mapped_column(Integer)
    status_to: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class ReissueStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # 已提交
    POSTED = "posted"  # 已寄出 (tracking number)
    DELIVERED = "delivered"  # 已签收


class ReissueReason(enum.StrEnum):
    LOST = "lost"  # 遗失
    DAMAGED = "damaged"  # 损坏
    OTHER = "other"  # 其他 (with text)


class CardReissue(Base):
    """A request for a new physical direct-billing card (申请补卡). Mobile and street address
    are encrypted; `open_key` (the policy id while not delivered) keeps one open request
    per card."""

    __tablename__ = "card_reissue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"))
    mobile_enc: Mapped[str] = mapped_column(Text)
    province_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6))
    district_code: Mapped[str] = mapped_column(String(6))
    street_enc: Mapped[str] = mapped_column(Text)
    postcode: Mapped[str] = mapped_column(String(6))
    reason: Mapped[str] = mapped_column(String(16))  # a ReissueReason value
    reason_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # a ReissueStatus value
    tracking_no: Mapped[str] = mapped_column(String(40), default="")
    open_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)


class AdvanceStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # 已提交
    APPROVED = "approved"  # 已批准: amount and the hospital to be paid
    DECLINED = "declined"  # 未批准 (reason)
    DOCUMENTS_ASKED = "documents_asked"  # 待补充资料: the desk asked for documents


class AdvancePayment(Base):
    """An inpatient advance payment request (住院垫付). Applicant data and the description
    are encrypted."""

    __tablename__ = "advance_payment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    facility_id: Mapped[str | None] = mapped_column(String(80))  # None: typed, not listed
    hospital_name: Mapped[str] = mapped_column(String(200))
    admission_date: Mapped[datetime.date] = mapped_column(Date)
    description_enc: Mapped[str] = mapped_column(Text)
    applicant_name_enc: Mapped[str] = mapped_column(Text)
    applicant_sex: Mapped[str] = mapped_column(String(1))  # M | F
    applicant_id_number_enc: Mapped[str] = mapped_column(Text)
    applicant_mobile_enc: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # an AdvanceStatus value
    approved_fen: Mapped[int | None] = mapped_column(Integer)
    pay_to: Mapped[str] = mapped_column(String(200), default="")  # the hospital to be paid
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)

    events: Mapped[list[AdvancePaymentEvent]] = relationship(
        order_by="AdvancePaymentEvent.id", cascade="all, delete-orphan"
    )


class AdvancePaymentEvent(Base):
    """One line of an advance payment request's timeline."""

    __tablename__ = "advance_payment_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    advance_id: Mapped[int] = mapped_column(
        ForeignKey("advance_payment.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(24))  # submitted, approved, declined
    actor: Mapped[str] = mapped_column(String(16))  # member | coordinator
    actor_id: Mapped[int | None] = mapped_column(Integer)
    status_to: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
