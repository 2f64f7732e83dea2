"""Faults of the mail server and the SMS gateway, against real servers on loopback.

A mail server that accepts the connection and never answers must not hold the database
(on SQLite a transaction left open across the SMTP call blocks every member's write),
nor the SMS queued behind the e-mail; the e-mail goes out once, when the server answers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.accounts.wiring import member_services
from server.app import create_app
from server.db import make_engine, make_sessionmaker, migrate
from server.notify.email import EmailDeliveryFailed, LogEmailSender, SmtpEmailSender
from server.notify.outbox import Notification, Status, enqueue
from server.notify.sms import OutboxSender
from server.notify.worker import RetryPolicy, deliver_due, run_forever
from server.services import Services
from tests.db import FakeClock
from tests.server.notify.conftest import Mailbox, SmtpServer

SEND = """mutation($m: String!) { sendSmsCode(input: {mobile: $m, purpose: REGISTER}) {
  __typename } }"""
# SQLite's busy timeout (server/db.py): a write that waited on a lock takes this long
BUSY_TIMEOUT = 5.0


class Silent:
    """A TCP server that accepts connections and never says a word (a hung mail server)."""

    def __init__(self, port: int = 0) -> None:
        self.sock = socket.create_server(("127.0.0.1", port))
        self.port = int(self.sock.getsockname()[1])
        self.accepted = threading.Event()
        self.conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()

    def close(self) -> None:
        # a shutdown wakes the thread blocked in accept(); a close alone leaves it listening
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for c in self.conns:
            c.close()
        self._thread.join(5)


class Trickling(Silent):
    """Answers each connection with a greeting that never ends, one line a second."""

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    @staticmethod
    def _drip(conn: socket.socket) -> None:
        try:
            while True:
                conn.sendall(b"220-still thinking\r\n")
                time.sleep(0.5)
        except OSError:
            return


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = Silent()
    try:
        yield server
    finally:
        server.close()


def _wait(condition: Callable[[], bool], seconds: float = 20) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "gave up waiting"
        time.sleep(0.05)


def _status(factory: sessionmaker[Session], key: str) -> Notification:
    with factory() as s:
        row = s.scalar(select(Notification).where(Notification.dedupe_key == key))
        assert row is not None
        return row


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file as `make serve` has it: every connection a writer of its own."""
    engine = make_engine(f"sqlite:///{tmp_path / 'app.sqlite3'}")
    migrate(engine)
    yield engine
    engine.dispose()


def test_a_hung_mail_server_blocks_neither_members_nor_the_sms(
    services: Services, sqlite_file: Engine, silent: Silent, clock: FakeClock
) -> None:
    # given the server's database on SQLite with an e-mail queued before an SMS
    settings = services.settings.with_(notifier="off", database_url=str(sqlite_file.url))
    factory = make_sessionmaker(sqlite_file)
    members = member_services(settings)
    vault = members.vault
    with factory() as s:
        enqueue(
            s,
            "email",
            "li.si@example.com",
            "主题",
            "正文",
            "hung:email",
            vault=vault,
            now=clock.now,
        )
        enqueue(s, "sms", "13612341560", "", "短信", "hung:sms", vault=vault, now=clock.now)
        s.commit()
    app = create_app(
        settings,
        services=dataclasses.replace(services, settings=settings, db=factory, members=members),
    )
    # and a mail server that accepts and never answers
    mailer = SmtpEmailSender(
        "127.0.0.1", silent.port, "claims@insurer.example", connect_timeout=4, timeout=6
    )
    stop = threading.Event()
    policy = RetryPolicy(first_delay=datetime.timedelta(seconds=30))
    worker = threading.Thread(
        target=run_forever,
        args=(factory, OutboxSender(vault), mailer),
        kwargs={"vault": vault, "interval": 0.05, "clock": clock, "stop": stop, "policy": policy},
    )
    worker.start()
    try:
        with TestClient(app) as client:
            # when the notifier is stuck in the SMTP conversation
            assert silent.accepted.wait(10)
            # then members' writes go through without waiting on a lock
            for i in range(4):
                started = time.monotonic()
                r = client.post(
                    "/graphql", json={"query": SEND, "variables": {"m": f"1391234560{i}"}}
                )
                took = time.monotonic() - started
                assert r.status_code == 200
                assert r.json()["data"]["sendSmsCode"]["__typename"] == "SendSmsCodeSuccess"
                assert took < BUSY_TIMEOUT / 2, f"a member's write waited {took:.1f} s"
            # and the SMS queued behind the e-mail is delivered while the e-mail still hangs
            _wait(lambda: _status(factory, "hung:sms").status is Status.SENT)
            hanging = _status(factory, "hung:email")
            assert hanging.status is Status.PENDING and hanging.last_error is None
            assert client.get("/healthz").status_code == 200
            # when the connect timeout ends the attempt, the e-mail waits for its retry
            _wait(lambda: _status(factory, "hung:email").last_error is not None)
            waiting = _status(factory, "hung:email")
            assert waiting.status is Status.PENDING and waiting.attempts == 1
            assert waiting.last_error == "EmailDeliveryFailed EMAIL_DELIVERY_FAILED"
            assert waiting.next_attempt_at == clock.now + datetime.timedelta(seconds=30)
        # when the mail server answers again, on the same port, and the retry is due
        port = silent.port
        silent.close()
        smtp = SmtpServer("127.0.0.1", port, Mailbox())
        smtp.start()
        try:
            clock.advance(seconds=31)
            _wait(lambda: _status(factory, "hung:email").status is Status.SENT)
            # then it is delivered exactly once, even as rounds go on
            clock.advance(hours=3)
            time.sleep(0.5)
            assert len(smtp.mailbox.messages) == 1
            [(rcpt, _)] = smtp.mailbox.messages
            assert rcpt == ["li.si@example.com"]
            assert _status(factory, "hung:email").attempts == 2
        finally:
            smtp.stop()
    finally:
        stop.set()
        worker.join(20)
    assert not worker.is_alive()


def test_a_server_that_answers_too_slowly_is_cut_off_at_the_total_timeout() -> None:
    # given a mail server whose greeting goes on forever, a line every half second
    server = Trickling()
    try:
        mailer = SmtpEmailSender(
            "127.0.0.1", server.port, "claims@insurer.example", connect_timeout=1, timeout=2
        )
        started = time.monotonic()
        # when an e-mail is sent, then it fails as a delivery failure (to be retried)
        with pytest.raises(EmailDeliveryFailed):
            mailer.send("li.si@example.com", "主题", "正文")
        # after the total timeout, though each line came well within the connect timeout
        assert time.monotonic() - started < 2 + 2
    finally:
        server.close()


class _Gateway(BaseHTTPRequestHandler):
    status: ClassVar[int] = 503
    received: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if type(self).status == 200:
            type(self).received.append(body)
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class SmsGateway:
    """An HTTP SMS gateway on loopback that can refuse connections, answer 503, or work."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/send"
        self.server: ThreadingHTTPServer | None = None
        handler = type("Handler", (_Gateway,), {"received": [], "status": 503})
        self.handler: type[_Gateway] = handler

    def up(self, status: int) -> None:
        self.handler.status = status
        if self.server is None:
            self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
            threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def received(self) -> list[dict[str, str]]:
        return self.handler.received


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    g = SmsGateway()
    try:
        yield g
    finally:
        g.down()


def _send_code(client: TestClient, mobile: str) -> dict[str, str]:
    query = """mutation($m: String!) { sendSmsCode(input: {mobile: $m, purpose: REGISTER}) {
      __typename ... on SendSmsCodeSuccess { resendAfterSeconds }
      ... on Error { code message } } }"""
    r = client.post("/graphql", json={"query": query, "variables": {"m": mobile}})
    assert r.status_code == 200
    result: dict[str, str] = r.json()["data"]["sendSmsCode"]
    return result


def test_sms_gateway_down_codes_say_so_and_notices_wait_until_it_returns(
    services: Services, sqlite_file: Engine, gateway: SmsGateway, clock: FakeClock
) -> None:
    # given a server whose SMS gateway refuses connections, with a supplement notice queued
    settings = services.settings.with_(
        notifier="off",
        database_url=str(sqlite_file.url),
        sms_gateway_url=gateway.url,
        sms_gateway_timeout=2,
        notify_connect_timeout=1,
    )
    factory = make_sessionmaker(sqlite_file)
    members = member_services(settings)
    with factory() as s:
        enqueue(
            s,
            "sms",
            "13612341560",
            "",
            "补充材料通知",
            "down:sms",
            vault=members.vault,
            now=clock.now,
        )
        s.commit()
    app = create_app(
        settings,
        services=dataclasses.replace(services, settings=settings, db=factory, members=members),
    )
    policy = RetryPolicy(first_delay=datetime.timedelta(seconds=30))

    def notifier_round() -> list[int]:
        report = deliver_due(
            factory, members.sms, LogEmailSender(), clock.now, vault=members.vault, policy=policy
        )
        return report.sent

    with TestClient(app) as client:
        # when a member asks for a code, then the answer says it could not be sent, typed
        down = _send_code(client, "13912345601")
        assert down["__typename"] == "SmsDeliveryFailedError"
        assert down["code"] == "SMS_DELIVERY_FAILED"
        # and the queued notice stays queued, to be retried
        assert notifier_round() == []
        assert _status(factory, "down:sms").status is Status.PENDING
        # when the gateway is up but answers 503, the same
        gateway.up(503)
        assert _send_code(client, "13912345601")["__typename"] == "SmsDeliveryFailedError"
        clock.advance(seconds=31)
        assert notifier_round() == []
        waiting = _status(factory, "down:sms")
        assert (
            waiting.attempts == 2 and waiting.last_error == "SmsDeliveryFailed SMS_DELIVERY_FAILED"
        )
        # when the gateway works again
        gateway.up(200)
        # then the member gets a code at once (the failed tries spent none of the budget)
        assert _send_code(client, "13912345601")["__typename"] == "SendSmsCodeSuccess"
        assert [m["phone"] for m in gateway.received] == ["13912345601"]
        # and the notice goes out when its retry is due, once
        clock.advance(minutes=2)
        assert len(notifier_round()) == 1
        clock.advance(hours=2)
        assert notifier_round() == []
        assert [m["text"] for m in gateway.received[1:]] == ["补充材料通知"]
        assert _status(factory, "down:sms").status is Status.SENT
