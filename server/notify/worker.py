"""Delivers the notification outbox: due rows are sent, retried with backoff, or given up.

No transaction is open while a gateway or mail server is called, so a server that takes
its time (or never answers) cannot hold the database: on SQLite a read transaction held
across the call would keep every member's write waiting. Each message goes through:

1. a claim: one short write transaction, a single UPDATE that counts the attempt and
   moves `next_attempt_at` a lease ahead (rows locked with FOR UPDATE SKIP LOCKED on
   PostgreSQL; SQLite runs one writer at a time), so no other worker takes the row;
2. the delivery, outside any transaction, under the sender's connect and total timeouts;
3. the result, in another short transaction, written only if the row is still this
   worker's claim (same attempt count, still pending).

SMS and e-mail are claimed separately and `run_forever` delivers each channel in a thread
of its own: a stuck mail server delays only e-mail. Delivery is at least once: if the
process dies between the gateway's acceptance and step 3, the message goes again once its
lease has run out.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Update, select, update
from sqlalchemy.orm import Session, sessionmaker

from server.crypto import Vault
from server.db import utcnow
from server.notify.email import EmailRejected, EmailSender
from server.notify.outbox import Channel, Notification, Status
from server.notify.sms import SmsSender

log = logging.getLogger(__name__)

# how long a claimed message is left to its worker before another may take it: longer than
# any delivery's total timeout (NOTIFY_DELIVERY_TIMEOUT is at most two minutes)
LEASE = datetime.timedelta(minutes=5)


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


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    channel: Channel
    recipient_enc: str
    subject: str
    body_enc: str
    attempts: int  # this attempt's number: the claim's token when the result is written


def _claim_query(
    now: datetime.datetime,
    skip: set[int],
    channels: Iterable[Channel] = tuple(Channel),
    lease: datetime.timedelta = LEASE,
) -> Update:
    due = (
        select(Notification.id)
        .where(
            Notification.status == Status.PENDING,
            Notification.next_attempt_at <= now,
            Notification.channel.in_(list(channels)),
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(1)
        # SQLite has no row locks (it writes one transaction at a time) and ignores this
        .with_for_update(skip_locked=True)
    )
    if skip:
        due = due.where(Notification.id.not_in(skip))
    return (
        update(Notification)
        # the conditions again: the row may have changed since the subquery saw it
        .where(
            Notification.id == due.scalar_subquery(),  # an InitPlan: evaluated once
            Notification.status == Status.PENDING,
            Notification.next_attempt_at <= now,
        )
        .values(attempts=Notification.attempts + 1, next_attempt_at=now + lease)
        .returning(
            Notification.id,
            Notification.channel,
            Notification.recipient_enc,
            Notification.subject,
            Notification.body_enc,
            Notification.attempts,
        )
    )


def _claim_next(
    session_factory: sessionmaker[Session],
    now: datetime.datetime,
    skip: set[int],
    channels: Iterable[Channel],
) -> _Claimed | None:
    with session_factory() as session:
        row = session.execute(
            _claim_query(now, skip, channels), execution_options={"synchronize_session": False}
        ).one_or_none()
        session.commit()
    return None if row is None else _Claimed(*row)


def _record(session: Session, claim: _Claimed, **values: object) -> bool:
    """Writes the outcome if the row is still this claim's; the caller commits."""
    result = session.execute(
        update(Notification)
        .where(
            Notification.id == claim.id,
            Notification.status == Status.PENDING,
            Notification.attempts == claim.attempts,
        )
        .values(**values),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        # the lease ran out and another worker took the message: its result stands
        log.warning("notification %d: claim lost before its result was written", claim.id)
        return False
    return True


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
    channels: Iterable[Channel] = tuple(Channel),
) -> DeliveryReport:
    """Send up to `batch` messages of each of `channels` due at `now`, one channel after
    the other; returns what happened to each. `deliver_round` runs the channels at once."""
    policy = policy or RetryPolicy()
    report = DeliveryReport()
    for channel in channels:
        seen: set[int] = set()
        for _ in range(batch):
            claim = _claim_next(session_factory, now, seen, (channel,))
            if claim is None:
                break
            seen.add(claim.id)
            _deliver_one(
                session_factory, claim, sms_sender, email_sender, now, vault, policy, report
            )
    return report


def _deliver_one(
    session_factory: sessionmaker[Session],
    claim: _Claimed,
    sms_sender: SmsSender,
    email_sender: EmailSender,
    now: datetime.datetime,
    vault: Vault,
    policy: RetryPolicy,
    report: DeliveryReport,
) -> None:
    with session_factory() as session:
        try:
            to = vault.decrypt(claim.recipient_enc)
            body = vault.decrypt(claim.body_enc)
        except ValueError:
            # written under another key: no retry can read it
            if _record(
                session,
                claim,
                status=Status.FAILED,
                last_error="undecryptable (wrong ENCRYPTION_KEY?)",
            ):
                report.failed.append(claim.id)
                log.error("notification %d cannot be decrypted; given up", claim.id)
            session.commit()
            return
        error: Exception | None = None
        try:
            if claim.channel is Channel.SMS:
                # a gateway sender writes nothing, so no transaction is open during its
                # call; the development sender's row commits with the result below
                sms_sender.send(session, to, body)
            else:
                email_sender.send(to, claim.subject, body)
        except Exception as e:  # any failure of a sender is retried, never lost
            error = e
            session.rollback()  # whatever a failed sender wrote goes too
        if error is None:
            if _record(session, claim, status=Status.SENT, sent_at=now, last_error=None):
                report.sent.append(claim.id)
            session.commit()
            return
        label = _error_label(error)
        if isinstance(error, EmailRejected) or claim.attempts >= policy.max_attempts:
            if _record(session, claim, status=Status.FAILED, last_error=label):
                report.failed.append(claim.id)
                log.warning(
                    "notification %d given up after %d attempts: %s",
                    claim.id,
                    claim.attempts,
                    label,
                )
        else:
            retry_at = now + policy.delay(claim.attempts)
            if _record(session, claim, next_attempt_at=retry_at, last_error=label):
                report.retrying.append(claim.id)
                log.info(
                    "notification %d failed (%s); retry at %s",
                    claim.id,
                    label,
                    retry_at.isoformat(),
                )
        session.commit()


def deliver_round(
    session_factory: sessionmaker[Session],
    sms_sender: SmsSender,
    email_sender: EmailSender,
    now: datetime.datetime,
    *,
    vault: Vault,
    batch: int = 50,
    policy: RetryPolicy | None = None,
) -> DeliveryReport:
    """`deliver_due` for SMS and e-mail at the same time, each in a thread of its own.

    Needs a session factory whose sessions may run in parallel (an engine's, not one
    connection's).
    """
    reports: dict[Channel, DeliveryReport] = {}

    def one(channel: Channel) -> None:
        reports[channel] = deliver_due(
            session_factory,
            sms_sender,
            email_sender,
            now,
            vault=vault,
            batch=batch,
            policy=policy,
            channels=(channel,),
        )

    threads = [threading.Thread(target=one, args=(c,), name=f"notifier-{c}") for c in Channel]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    merged = DeliveryReport()
    for r in reports.values():
        merged.sent += r.sent
        merged.retrying += r.retrying
        merged.failed += r.failed
    return merged


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

    SMS and e-mail each have a loop (a thread) of their own, so a mail server that hangs
    does not hold the SMS. A full batch is followed at once by the next one; a database
    error is logged and the loop goes on, so a restart of the database does not end the
    notifier.
    """
    stop = stop or threading.Event()

    def loop(channel: Channel) -> None:
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
                    channels=(channel,),
                )
            except Exception:
                log.exception("notification delivery round failed (%s)", channel)
                report = DeliveryReport()
            if report.handled < batch:
                stop.wait(interval)

    threads = [
        threading.Thread(target=loop, args=(c,), name=f"notifier-{c}", daemon=True) for c in Channel
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
