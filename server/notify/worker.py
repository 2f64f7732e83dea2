"""Delivers the notification outbox: due rows are sent, retried with backoff, or given up.

Each message is handled in a transaction of its own, locked with FOR UPDATE SKIP LOCKED
on PostgreSQL, so several workers share the queue without sending a message twice, and a
gateway that is down only delays its own messages. Delivery is at least once: if the
process dies between the gateway's acceptance and the commit, that message goes again.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from server.crypto import Vault
from server.db import utcnow
from server.notify.email import EmailRejected, EmailSender
from server.notify.outbox import Channel, Notification, Status
from server.notify.sms import SmsSender

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    first_delay: datetime.timedelta = datetime.timedelta(seconds=30)
    max_delay: datetime.timedelta = datetime.timedelta(hours=1)

    def delay(self, attempts: int) -> datetime.timedelta:
        """30 s, 1 min, 2 min, ... capped at an hour, after the n-th failed attempt."""
        return min(self.first_delay * (2 ** max(attempts - 1, 0)), self.max_delay)


@dataclass(slots=True)
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.failed)


def _claim_query(now: datetime.datetime, skip: set[int]) -> Select[Notification]:
    query = (
        select(Notification)
        .where(Notification.status == Status.PENDING, Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(1)
        # SQLite has no row locks (it writes one transaction at a time) and ignores this
        .with_for_update(skip_locked=True)
    )
    if skip:
        query = query.where(Notification.id.not_in(skip))
    return query


def _claim_next(session: Session, now: datetime.datetime, skip: set[int]) -> Notification | None:
    return session.scalar(_claim_query(now, skip))


def _error_label(error: Exception) -> str:
    # the class and stable code only: gateway and server texts can carry the address
    code = getattr(error, "code", None)
    label = type(error).__name__ + (f" {code}" if isinstance(code, str) else "")
    return label[:200]


def deliver_due(
    session_factory: sessionmaker[Session],
    sms_sender: SmsSender,
    email_sender: EmailSender,
    now: datetime.datetime,
    *,
    vault: Vault,
    batch: int = 50,
    policy: RetryPolicy | None = None,
) -> DeliveryReport:
    """Send up to `batch` messages that are due at `now`; returns what happened to each."""
    policy = policy or RetryPolicy()
    report = DeliveryReport()
    seen: set[int] = set()
    for _ in range(batch):
        with session_factory() as session:
            row = _claim_next(session, now, seen)
            if row is None:
                session.rollback()
                break
            seen.add(row.id)
            error: Exception | None = None
            try:
                to = vault.decrypt(row.recipient_enc)
                body = vault.decrypt(row.body_enc)
            except ValueError:
                # written under another key: no retry can read it
                row.status = Status.FAILED
                row.last_error = "undecryptable (wrong ENCRYPTION_KEY?)"
                report.failed.append(row.id)
                log.error("notification %d cannot be decrypted; given up", row.id)
                session.commit()
                continue
            try:
                # a savepoint, so a sender that writes (the development SMS outbox) and
                # then fails leaves nothing behind
                with session.begin_nested():
                    if row.channel is Channel.SMS:
                        sms_sender.send(session, to, body)
                    else:
                        email_sender.send(to, row.subject, body)
            except Exception as e:  # any failure of a sender is retried, never lost
                error = e
            row.attempts += 1
            if error is None:
                row.status = Status.SENT
                row.sent_at = now
                row.last_error = None
                report.sent.append(row.id)
            else:
                row.last_error = _error_label(error)
                if isinstance(error, EmailRejected) or row.attempts >= policy.max_attempts:
                    row.status = Status.FAILED
                    report.failed.append(row.id)
                    log.warning(
                        "notification %d given up after %d attempts: %s",
                        row.id,
                        row.attempts,
                        row.last_error,
                    )
                else:
                    row.next_attempt_at = now + policy.delay(row.attempts)
                    report.retrying.append(row.id)
                    log.info(
                        "notification %d failed (%s); retry at %s",
                        row.id,
                        row.last_error,
                        row.next_attempt_at.isoformat(),
                    )
            session.commit()
    return report


def run_forever(
    session_factory: sessionmaker[Session],
    sms_sender: SmsSender,
    email_sender: EmailSender,
    *,
    vault: Vault,
    interval: float = 5.0,
    batch: int = 50,
    policy: RetryPolicy | None = None,
    clock: Callable[[], datetime.datetime] = utcnow,
    stop: threading.Event | None = None,
) -> None:
    """Deliver due messages every `interval` seconds until `stop` is set.

    A full batch is followed at once by the next one; a database error is logged and the
    loop goes on, so a restart of the database does not end the notifier.
    """
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            report = deliver_due(
                session_factory,
                sms_sender,
                email_sender,
                clock(),
                vault=vault,
                batch=batch,
                policy=policy,
            )
        except Exception:
            log.exception("notification delivery round failed")
            report = DeliveryReport()
        if report.handled < batch:
            stop.wait(interval)
