"""Tables of the change of personal details (客户信息变更, seed 000 §11.1): what a request
changes and for whom, its photos and signature, the steps of every 自助保全 request, and the
audit of applied changes (old and new values, encrypted).
"""

from __future__ import annotations

import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class DetailsChange(Base):
    """The personal-details side of a `service_request` (its new values are the request's
    `detail_enc`). `open_for` is the account id while the request is a draft or with the
    office, null once decided: the unique constraint keeps one open request per member
    however many arrive at once."""

    __tablename__ = "details_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    open_for: Mapped[int | None] = mapped_column(Integer, unique=True)
    submitted_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("adjuster.id"))
    reject_reason: Mapped[str | None] = mapped_column(Text)


class DetailsChangeFile(Base):
    """One photo (ID_FRONT, ID_BACK, ID_HANDHELD) or the SIGNATURE; a new upload of a
    category replaces the earlier one."""

    __tablename__ = "details_change_file"
    __table_args__ = (UniqueConstraint("change_id", "category", name="uq_details_change_file"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("details_change.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)


class ServiceRequestEvent(Base):
    """A step of a 自助保全 request's timeline (保全进度查询)."""

    __tablename__ = "service_request_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # ServiceRequestStatus value
    at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class PersonalDetailsAudit(Base):
    """A change of personal details as applied: who approved it, the old and new values
    (JSON, encrypted) and the keyed hashes the identity had before (for tracing a former
    document or mobile back to this person)."""

    __tablename__ = "personal_details_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    adjuster_id: Mapped[int] = mapped_column(ForeignKey("adjuster.id"))
    old_enc: Mapped[str] = mapped_column(Text)
    new_enc: Mapped[str] = mapped_column(Text)
    previous_id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    previous_phone_hash: Mapped[str] = mapped_column(String(64))
