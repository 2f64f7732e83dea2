"""Tables of pre-authorisation (预先授权, seed 000 §8): the request, its files, its timeline.

Personal data of an applicant other than the insured (name, mobile, e-mail, ID, address)
is one encrypted JSON value.
"""

from __future__ import annotations

import datetime
import enum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime


class PreAuthStatus(enum.Enum):
    DRAFT = "draft"  # being filled in
    SUBMITTED = "submitted"  # 已提交: waiting for the claims office
    MORE_REQUESTED = "more_requested"  # 待补充资料: the office asked for more files
    APPROVED = "approved"  # 已批准: items, amount, validity
    DECLINED = "declined"  # 未批准: with the reason


class PreAuthorisation(Base):
    __tablename__ = "pre_authorisation"
    __table_args__ = (Index("ix_pre_authorisation_status", "status", "submitted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"))
    status: Mapped[str] = mapped_column(String(20))  # PreAuthStatus value
    notice_accepted_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    applicant_relation: Mapped[str] = mapped_column(String(20))  # self, or a relation
    applicant_enc: Mapped[str | None] = mapped_column(Text)  # another applicant's details
    facility_id: Mapped[str] = mapped_column(String(80))  # the directory's id
    facility_name: Mapped[str] = mapped_column(String(200))
    visit_date: Mapped[datetime.date] = mapped_column(Date)
    items: Mapped[str] = mapped_column(Text)  # 就诊项目
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("adjuster.id"))
    approved_items: Mapped[str | None] = mapped_column(Text)
    approved_fen: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[datetime.date | None] = mapped_column(Date)
    valid_to: Mapped[datetime.date | None] = mapped_column(Date)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    # the office's request for more files: what, and by when (working days)
    more_instructions: Mapped[str | None] = mapped_column(Text)
    more_due: Mapped[datetime.date | None] = mapped_column(Date)
    more_requested_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)

    documents: Mapped[list[PreAuthDocument]] = relationship(order_by="PreAuthDocument.id")
    events: Mapped[list[PreAuthEvent]] = relationship(order_by="PreAuthEvent.id")


class PreAuthDocument(Base):
    __tablename__ = "pre_auth_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pre_auth_id: Mapped[int] = mapped_column(ForeignKey("pre_authorisation.id"), index=True)
    category: Mapped[str] = mapped_column(String(30))  # APPLICATION_FORM, MEDICAL_RECORD
    storage_key: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)


class PreAuthEvent(Base):
    __tablename__ = "pre_auth_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pre_auth_id: Mapped[int] = mapped_column(ForeignKey("pre_authorisation.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
