"""The limiter's one table: a counter per policy and key."""

from __future__ import annotations

import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class RateLimit(Base):
    """Tries counted under one key of one policy within the current window (see
    server/limits/__init__.py); the key is a keyed hash or "all"."""

    __tablename__ = "rate_limit"

    policy: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    # the window closes then; the next count opens a new one (purged after it, unless locked)
    window_ends: Mapped[datetime.datetime] = mapped_column(UTCDateTime, index=True)
    next_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
