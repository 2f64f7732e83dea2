"""A partner's API key: only its hash is kept, with the key's budgets."""

from __future__ import annotations

import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class PartnerKey(Base):
    """One key handed to a partner app (`scripts/create_partner_key.py`)."""

    __tablename__ = "partner_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    # SHA-256 of the key (a random secret: no slow hash needed), how requests find it
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the key's first characters, shown in listings so a partner can tell keys apart
    prefix: Mapped[str] = mapped_column(String(12))
    rate_per_minute: Mapped[int] = mapped_column(Integer)
    cost_per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, nullable=True)
