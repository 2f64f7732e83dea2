"""Tables of documents asked for on a service request (advance payment, pre-authorisation):
the request for documents and the files sent in answer.

A request names its subject by kind and id (server/service_supplements/kinds.py), so any
later kind of service request plugs in without a table of its own. The link's token is
kept only as a hash.
"""

from __future__ import annotations

import datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class ServiceSupplement(Base):
    """One request for documents on a service request, answered once."""

    __tablename__ = "service_supplement"
    __table_args__ = (Index("ix_service_supplement_subject", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(24))  # advance_payment | pre_authorisation
    subject_id: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    requested_by: Mapped[int] = mapped_column(ForeignKey("adjuster.id"))
    requested_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    categories: Mapped[str] = mapped_column(Text)  # JSON list of category codes
    instructions: Mapped[str] = mapped_column(Text)
    working_days: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[datetime.date] = mapped_column(Date)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    fulfilled_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    fulfilled_via: Mapped[str | None] = mapped_column(String(8))  # app | h5
    remark: Mapped[str] = mapped_column(Text, default="")
    # the subject was decided (or the request withdrawn) while this one was open
    closed_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)


class ServiceSupplementDocument(Base):
    """One file sent in answer to a ServiceSupplement (through server/storage)."""

    __tablename__ = "service_supplement_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplement_id: Mapped[int] = mapped_column(
        ForeignKey("service_supplement.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(40))
    storage_key: Mapped[str] = mapped_column(String(120))
    thumbnail_key: Mapped[str | None] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(8))  # app | h5
    uploaded_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
