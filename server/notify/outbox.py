"""The notification outbox: messages written in the same transaction as the change they announce.

A claim moved to "pending supplement" and the SMS announcing it either both exist or
neither does; a worker (server/notify/worker.py) delivers the rows afterwards and retries
while the gateway or the mail server is down. The address and the text (which greets the
person by name) are stored encrypted; `recipient_hash` finds a person's messages.
"""

from __future__ import annotations

import datetime
import enum
import logging
from typing import Any

from sqlalchemy import Enum, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from server.crypto import Vault
from server.db import Base, UTCDateTime, insert_once, utcnow
from server.errors import InvalidInput

log = logging.getLogger(__name__)


class Channel(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"


class Status(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Notification(Base):
    __tablename__ = "notification_outbox"
    # the worker's query: due pending rows, oldest first
    __table_args__ = (Index("ix_notification_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[Channel] = mapped_column(
        Enum(
            Channel,
            name="notification_channel",
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    recipient_enc: Mapped[str] = mapped_column(Text)
    recipient_hash: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body_enc: Mapped[str] = mapped_column(Text)
    status: Mapped[Status] = mapped_column(
        Enum(
            Status,
            name="notification_status",
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=Status.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    # an error class or code only: messages from mail servers often repeat the address
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)


def recipient_lookup(vault: Vault, channel: Channel | str, recipient: str) -> str:
    return vault.lookup(_normalise(Channel(channel), recipient), kind=f"notify-{channel}")


def _normalise(channel: Channel, recipient: str) -> str:
    r = recipient.strip()
    return r.lower() if channel is Channel.EMAIL else r


def enqueue(
    session: Session,
    channel: Channel | str,
    recipient: str,
    subject: str,
    body: str,
    dedupe_key: str,
    *,
    vault: Vault,
    now: datetime.datetime | None = None,
) -> Notification:
    """Add a message to the caller's session; it is sent only if the caller commits.

    The same `dedupe_key` twice (a retried request, a double click) gives the row already
    queued instead of a second message.
    """
    values = _values(channel, recipient, subject, body, dedupe_key, vault=vault, now=now)
    row, inserted = insert_once(session, Notification, "dedupe_key", **values)
    if not inserted:
        log.info("notification %d was queued earlier or queued concurrently; kept the one", row.id)
    return row


def enqueue_all(
    session: Session,
    messages: list[tuple[Channel | str, str, str, str, str]],
    *,
    vault: Vault,
    now: datetime.datetime | None = None,
) -> None:
    """`enqueue` for several messages (channel, recipient, subject, body, dedupe_key) in
    one statement: a multi-row INSERT ... ON CONFLICT DO NOTHING; a key queued before
    keeps its row. Nothing comes back (the caller that needs the rows uses `enqueue`)."""
    stmt = queue_statement(session, messages, vault=vault, now=now)
    if stmt is not None:
        session.execute(stmt)


def queue_statement(
    session: Session,
    messages: list[tuple[Channel | str, str, str, str, str]],
    *,
    vault: Vault,
    now: datetime.datetime | None = None,
) -> Any:
    """`enqueue_all`'s statement, not run (a caller may make it a CTE of its own), or None
    when there is nothing to queue."""
    rows = [_values(*m, vault=vault, now=now) for m in messages]
    if not rows:
        return None
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return (
        insert(Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[Notification.dedupe_key])
    )


def _values(
    channel: Channel | str,
    recipient: str,
    subject: str,
    body: str,
    dedupe_key: str,
    *,
    vault: Vault,
    now: datetime.datetime | None,
) -> dict[str, Any]:
    """The checked and encrypted columns of one message."""
    try:
        ch = Channel(channel)
    except ValueError:
        raise InvalidInput(f"Unknown notification channel {channel!r}.", field="channel") from None
    address = _normalise(ch, recipient)
    if not address:
        raise InvalidInput("A notification needs a recipient.", field="recipient")
    if not body.strip():
        raise InvalidInput("A notification needs a text.", field="body")
    if not dedupe_key or len(dedupe_key) > 200:
        raise InvalidInput(
            "A notification needs a key of at most 200 characters.", field="dedupe_key"
        )
    if len(subject) > 200:
        raise InvalidInput("The subject is longer than 200 characters.", field="subject")

    when = now or utcnow()
    return {
        "channel": ch,
        "recipient_enc": vault.encrypt(address),
        "recipient_hash": recipient_lookup(vault, ch, address),
        "subject": subject,
        "body_enc": vault.encrypt(body),
        "status": Status.PENDING,
        "attempts": 0,
        "next_attempt_at": when,
        "created_at": when,
        "dedupe_key": dedupe_key,
    }
