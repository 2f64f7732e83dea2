"""One row per message shown in a member's message centre."""

from __future__ import annotations

import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class MemberMessage(Base):
    """An in-app message, written in the language the member chose when it was sent.

    The text names no person (the claim number and amounts say what it is about), so it is
    kept readable; `dedupe_key` makes a retried change write it once.
    """

    __tablename__ = "member_message"
    # the centre's query: one account's messages, newest first; the unread count
    __table_args__ = (
        Index("ix_member_message_account", "account_id", "id"),
        Index("ix_member_message_unread", "account_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    kind: Mapped[str] = mapped_column(String(40))  # e.g. claim.settled
    subject_type: Mapped[str] = mapped_column(String(20))  # claim
    subject_id: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
