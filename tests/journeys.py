"""What the journey tests (tests/test_*_journey.py) share: a GraphQL call that must not
fail, a coordinator signed in at the desk, and the outbox delivered over real SMTP."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims.adjusters import create_adjuster
from server.notify.email import SmtpEmailSender
from server.notify.worker import DeliveryReport, deliver_due
from tests.db import Api, FakeClock
from tests.server.notify.conftest import Mailbox, SmtpServer, free_port

DESK_PASSWORD = "Desk-2026!x"
STAFF_LOG_IN = """mutation($u: String!, $p: String!) {
  adjusterLogIn(input: {username: $u, password: $p}) {
  __typename ... on AdjusterSignInSuccess { token } ... on Error { code } } }"""


def gql(api: Api, query: str, token: str, **variables: Any) -> dict[str, Any]:
    """The one root field's answer; a GraphQL error fails the test."""
    body = api(query, token=token, **variables)
    assert "errors" not in body, body
    found: dict[str, Any] = next(iter(body["data"].values()))
    return found


def ok(payload: dict[str, Any], typename: str) -> dict[str, Any]:
    assert payload["__typename"] == typename, payload
    return payload


def staff_token(
    api: Api,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
    *,
    username: str = "chen.xietiao",
    role: str = "coordinator",
    email: str = "",
) -> str:
    """A back-office account of `role` made now, and its signed-in token."""
    with db_factory() as db:
        create_adjuster(
            db,
            members.vault,
            username=username,
            name="陈协调" if role == "coordinator" else "某人",
            email=email,
            password=DESK_PASSWORD,
            now=clock.now,
            role=role,
        )
        db.commit()
    return staff_log_in(api, username)


def staff_log_in(api: Api, username: str = "chen.xietiao") -> str:
    """A new token for a back-office account made by `staff_token`."""
    out = ok(gql(api, STAFF_LOG_IN, "", u=username, p=DESK_PASSWORD), "AdjusterSignInSuccess")
    token: str = out["token"]
    return token


def deliver(
    db_factory: sessionmaker[Session], members: MemberServices, clock: FakeClock
) -> tuple[DeliveryReport, list[tuple[list[str], EmailMessage]]]:
    """Deliver the outbox: SMS to the development sender, e-mail to SMTP on loopback; what
    was sent, and the (recipients, message) pairs the mail server received."""
    smtp = SmtpServer("127.0.0.1", free_port(), Mailbox())
    smtp.start()
    try:
        email = SmtpEmailSender("127.0.0.1", smtp.port, "service@example.com", timeout=10)
        report = deliver_due(db_factory, members.sms, email, clock.now, vault=members.vault)
    finally:
        smtp.stop()
    return report, list(smtp.mailbox.messages)
