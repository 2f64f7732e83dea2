from __future__ import annotations

import datetime
import threading

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.errors import SmsDeliveryFailed
from server.accounts.models import SmsOutbox
from server.crypto import Vault
from server.db import make_sessionmaker
from server.notify.email import LogEmailSender, SmtpEmailSender
from server.notify.outbox import Notification, Status, enqueue
from server.notify.sms import HttpSender, OutboxSender
from server.notify.templates import (
    SupplementNotice,
    supplement_deadline,
    supplement_email,
    supplement_link,
    supplement_sms,
)
from server.notify.worker import RetryPolicy, deliver_due, run_forever
from tests.db import FakeClock
from tests.server.notify.conftest import SmtpServer, free_port

TOKEN = "Zx8_Qm2-Lp0rTk4vWy6n"


class RecordingSms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, db: Session, phone: str, text: str) -> None:
        self.sent.append((phone, text))


def _mailer(server: SmtpServer) -> SmtpEmailSender:
    return SmtpEmailSender(server.host, server.port, "理赔服务 <claims@insurer.example>", timeout=5)


def _notice(clock: FakeClock) -> SupplementNotice:
    return SupplementNotice(
        claimant_name="张三",
        claim_no="VSHH2603020001",
        instructions="请补充有效报销凭证及病历",
        deadline=supplement_deadline(clock.now),
        link=supplement_link("https://care.example", TOKEN),
    )


def _row(factory: sessionmaker[Session], row_id: int) -> Notification:
    with factory() as s:
        row = s.get(Notification, row_id)
        assert row is not None
        return row


def test_supplement_email_goes_through_smtp_and_reads_back_in_chinese(
    db_factory: sessionmaker[Session], vault: Vault, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given the supplement e-mail queued with the state change
    mail = supplement_email(_notice(clock))
    with db_factory() as s:
        row = enqueue(
            s,
            "email",
            "zhang.san@example.com",
            mail.subject,
            mail.body,
            "sup:1:email",
            vault=vault,
            now=clock.now,
        )
        s.commit()
    # when the worker runs
    report = deliver_due(db_factory, RecordingSms(), _mailer(smtp), clock.now, vault=vault)
    # then the mail server received one message for the address
    assert report.sent == [row.id]
    [(rcpt, msg)] = smtp.mailbox.messages
    assert rcpt == ["zhang.san@example.com"]
    # with the Chinese subject encoded in the header and decoded back intact
    assert msg["Subject"] == "【太平洋保险】理赔补充材料通知（赔案号：VSHH2603020001）"
    # (on the wire the header is RFC 2047 encoded UTF-8, the body base64 or quoted-printable)
    [raw] = smtp.mailbox.raw
    subject_line = next(ln for ln in raw.splitlines() if ln.startswith(b"Subject:"))
    assert subject_line.isascii() and b"=?utf-8?" in subject_line.lower()
    assert "张三".encode() not in raw
    assert msg.get_content_type() == "text/plain" and msg.get_content_charset() == "utf-8"
    body = msg.get_content()
    # 2026-03-02 is a Monday: two working days later is Wednesday the 4th
    assert "尊敬的张三先生/女士" in body and "2026年3月4日" in body
    assert "https://care.example/h5/supplement/" + TOKEN in body and "10108686" in body
    assert msg["Message-ID"] and msg["Date"]
    # and the row is marked sent
    done = _row(db_factory, row.id)
    assert done.status is Status.SENT and done.sent_at == clock.now and done.attempts == 1


def test_mail_server_down_keeps_the_message_then_delivers_it_once(
    db_factory: sessionmaker[Session], vault: Vault, clock: FakeClock, smtp_server: SmtpServer
) -> None:
    # given a queued e-mail and a mail server that is not running
    with db_factory() as s:
        row = enqueue(
            s, "email", "li@example.com", "主题", "正文", "down:1", vault=vault, now=clock.now
        )
        s.commit()
    mailer = _mailer(smtp_server)
    report = deliver_due(db_factory, RecordingSms(), mailer, clock.now, vault=vault)
    # then it stays pending, to be tried again later, with an error that names no address
    assert report.retrying == [row.id] and report.sent == []
    waiting = _row(db_factory, row.id)
    assert waiting.status is Status.PENDING and waiting.attempts == 1
    assert waiting.next_attempt_at == clock.now + datetime.timedelta(seconds=30)
    assert waiting.last_error and "li@" not in waiting.last_error
    # when the worker runs again before the retry time, nothing is tried
    clock.advance(seconds=10)
    assert deliver_due(db_factory, RecordingSms(), mailer, clock.now, vault=vault).handled == 0
    # when the server is up and the retry is due
    smtp_server.start()
    clock.advance(seconds=25)
    report = deliver_due(db_factory, RecordingSms(), mailer, clock.now, vault=vault)
    # then it is delivered, once, and later rounds leave it alone
    assert report.sent == [row.id]
    clock.advance(hours=2)
    assert deliver_due(db_factory, RecordingSms(), mailer, clock.now, vault=vault).handled == 0
    assert len(smtp_server.mailbox.messages) == 1
    done = _row(db_factory, row.id)
    assert done.status is Status.SENT and done.attempts == 2 and done.last_error is None


def test_sms_gateway_down_is_retried_with_growing_delays_then_given_up(
    db_factory: sessionmaker[Session], vault: Vault, clock: FakeClock
) -> None:
    # given an SMS and a gateway nobody listens on
    with db_factory() as s:
        row = enqueue(s, "sms", "13612341560", "", "短信", "sms:1", vault=vault, now=clock.now)
        s.commit()
    gateway = HttpSender(f"http://127.0.0.1:{free_port()}/send", timeout=2)
    policy = RetryPolicy(max_attempts=4, first_delay=datetime.timedelta(seconds=10))
    delays = []
    # when the worker keeps running at each retry time
    for _ in range(3):
        report = deliver_due(
            db_factory, gateway, LogEmailSender(), clock.now, vault=vault, policy=policy
        )
        assert report.retrying == [row.id]
        nxt = _row(db_factory, row.id).next_attempt_at
        delays.append((nxt - clock.now).total_seconds())
        clock.now = nxt
    report = deliver_due(
        db_factory, gateway, LogEmailSender(), clock.now, vault=vault, policy=policy
    )
    # then the delays doubled and the fourth failure gave up
    assert delays == [10, 20, 40]
    assert report.failed == [row.id]
    failed = _row(db_factory, row.id)
    assert failed.status is Status.FAILED and failed.attempts == 4
    assert failed.last_error == "SmsDeliveryFailed SMS_DELIVERY_FAILED"
    clock.advance(days=1)
    assert deliver_due(db_factory, gateway, LogEmailSender(), clock.now, vault=vault).handled == 0


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(
        first_delay=datetime.timedelta(minutes=1), max_delay=datetime.timedelta(minutes=10)
    )
    assert [policy.delay(n).total_seconds() / 60 for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_a_refused_address_fails_at_once(
    db_factory: sessionmaker[Session], vault: Vault, clock: FakeClock, smtp: SmtpServer
) -> None:
    smtp.mailbox.refuse.add("nobody@example.com")
    with db_factory() as s:
        row = enqueue(
            s, "email", "nobody@example.com", "主题", "正文", "refused", vault=vault, now=clock.now
        )
        s.commit()
    report = deliver_due(db_factory, RecordingSms(), _mailer(smtp), clock.now, vault=vault)
    assert report.failed == [row.id]
    assert _row(db_factory, row.id).last_error == "EmailRejected EMAIL_REJECTED"


def test_supplement_sms_through_the_development_outbox(
    db_factory: sessionmaker[Session], vault: Vault, clock: FakeClock
) -> None:
    text = supplement_sms(_notice(clock))
    with db_factory() as s:
        row = enqueue(s, "sms", "13612341560", "", text, "sup:1:sms", vault=vault, now=clock.now)
        s.commit()
    report = deliver_due(db_factory, OutboxSender(vault), LogEmailSender(), clock.now, vault=vault)
    assert report.sent == [row.id]
    with db_factory() as s:
        [recorded] = s.scalars(select(SmsOutbox)).all()
    assert vault.decrypt(recorded.phone_enc) == "13612341560"
    assert recorded.body == text and TOKEN in recorded.body


class FlakySms:
    """Writes like the development sender, then fails: the write must not survive."""

    def __init__(self, vault: Vault) -> None:
        self.inner = OutboxSender(vault)

    def send(self, db: Session, phone: str, text: str) -> None:
        self.inner.send(db, phone, text)
        raise SmsDeliveryFailed("gateway hiccup")


def test_a_failed_send_leaves_no_partial_write(
    db_factory: sessionmaker[Session], vault: Vault, clock: FakeClock
) -> None:
    with db_factory() as s:
        row = enqueue(s, "sms", "13612341560", "", "短信", "flaky", vault=vault, now=clock.now)
        s.commit()
    report = deliver_due(db_factory, FlakySms(vault), LogEmailSender(), clock.now, vault=vault)
    assert report.retrying == [row.id]
    with db_factory() as s:
        assert s.scalars(select(SmsOutbox)).all() == []


def test_batch_limits_one_round_and_oldest_go_first(
    db_factory: sessionmaker[Session], vault: Vault, clock: FakeClock
) -> None:
    with db_factory() as s:
        for i in range(5):
            enqueue(
                s,
                "sms",
                f"1361234156{i}",
                "",
                f"第{i}条",
                f"b:{i}",
                vault=vault,
                now=clock.now + datetime.timedelta(seconds=i),
            )
        s.commit()
    sms = RecordingSms()
    clock.advance(minutes=1)
    assert (
        len(deliver_due(db_factory, sms, LogEmailSender(), clock.now, vault=vault, batch=3).sent)
        == 3
    )
    assert (
        len(deliver_due(db_factory, sms, LogEmailSender(), clock.now, vault=vault, batch=3).sent)
        == 2
    )
    assert [t for _, t in sms.sent] == [f"第{i}条" for i in range(5)]


def test_a_message_under_another_key_is_given_up_not_retried_forever(
    db_factory: sessionmaker[Session], vault: Vault, clock: FakeClock
) -> None:
    with db_factory() as s:
        row = enqueue(
            s, "sms", "13612341560", "", "短信", "old-key", vault=Vault("old"), now=clock.now
        )
        s.commit()
    report = deliver_due(db_factory, RecordingSms(), LogEmailSender(), clock.now, vault=vault)
    assert report.failed == [row.id]


def test_run_forever_delivers_until_stopped(
    db_engine: Engine, vault: Vault, clock: FakeClock, smtp: SmtpServer
) -> None:
    # the channels' loops run side by side: sessions of an engine, not of one connection
    factory = make_sessionmaker(db_engine)
    try:
        with factory() as s:
            enqueue(
                s, "email", "wang@example.com", "主题", "正文", "loop:1", vault=vault, now=clock.now
            )
            enqueue(s, "sms", "13612341560", "", "短信", "loop:2", vault=vault, now=clock.now)
            s.commit()
        stop = threading.Event()
        delivered = threading.Event()
        sms = RecordingSms()

        class Signalling(SmtpEmailSender):
            def send(self, to: str, subject: str, body: str) -> None:
                super().send(to, subject, body)
                delivered.set()

        mailer = Signalling(smtp.host, smtp.port, "claims@insurer.example", timeout=5)
        worker = threading.Thread(
            target=run_forever,
            args=(factory, sms, mailer),
            kwargs={"vault": vault, "interval": 0.05, "clock": clock, "stop": stop},
        )
        worker.start()
        try:
            assert delivered.wait(10)
            deadline = threading.Event()
            for _ in range(100):
                if sms.sent:
                    break
                deadline.wait(0.05)
        finally:
            stop.set()
            worker.join(10)
        assert not worker.is_alive()
        assert len(smtp.mailbox.messages) == 1
        assert sms.sent == [("13612341560", "短信")]
    finally:
        with factory() as s:
            s.execute(delete(Notification).where(Notification.dedupe_key.in_(["loop:1", "loop:2"])))
            s.commit()


@pytest.mark.postgres
def test_two_workers_on_postgresql_never_send_a_message_twice(
    db_engine: Engine, vault: Vault, clock: FakeClock
) -> None:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) are a PostgreSQL matter; SQLite has one writer")
    factory = make_sessionmaker(db_engine)
    keys = [f"pg-concurrent:{i}" for i in range(20)]
    try:
        with factory() as s:
            for k in keys:
                enqueue(s, "sms", "13612341560", "", k, k, vault=vault, now=clock.now)
            s.commit()
        sent: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(2)

        class Slow:
            def send(self, db: Session, phone: str, text: str) -> None:
                with lock:
                    sent.append(text)
                threading.Event().wait(0.01)  # hold the row lock a little

        def work() -> None:
            start.wait()
            deliver_due(factory, Slow(), LogEmailSender(), clock.now, vault=vault)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(sent) == sorted(keys)
        with factory() as s:
            statuses = s.scalars(
                select(Notification.status).where(Notification.dedupe_key.in_(keys))
            ).all()
        assert statuses == [Status.SENT] * len(keys)
    finally:
        with factory() as s:
            s.execute(delete(Notification).where(Notification.dedupe_key.in_(keys)))
            s.commit()


def test_postgresql_rows_are_claimed_with_skip_locked() -> None:
    from sqlalchemy.dialects import postgresql

    from server.notify.worker import _claim_query

    sql = str(
        _claim_query(datetime.datetime.now(datetime.UTC), {1}).compile(dialect=postgresql.dialect())
    )
    assert "FOR UPDATE SKIP LOCKED" in sql and "LIMIT" in sql
