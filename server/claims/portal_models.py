"""Tables of the H5 supplement portal: captcha challenges.

They live in the database, not in a process, so several servers share them: a captcha
shown by one server can be checked by another. Nothing here is readable without the
server key: answers are kept only as keyed hashes. Failed log-ins and captcha rates are
counted by the limiter (server/limits); the portal's one-claim sessions live with every
other sign-in in server/sessions.py.
"""

from __future__ import annotations

import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class PortalCaptcha(Base):
    """One captcha challenge: good for a single answer within its five minutes."""

    __tablename__ = "supplement_captcha"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # the page names the challenge by a random id; only its hash is kept
    public_id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # image | audio
    # keyed hash of the id and the answer: a leaked table does not give the answers away
    answer_hash: Mapped[str] = mapped_column(String(64))
    # the browser (its pre-login cookie) the challenge was shown to
    bound_to: Mapped[str] = mapped_column(String(64))
    # the rendered PNG or WAV, served while the challenge is open and dropped once used
    media: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
