"""A signed-in request reads its sign-in session once: when the API budget has to look the
token up (its first request in a while), the request takes over what the budget found
(server/api_budget.py, server/sessions.py `adopt`) instead of reading it again."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.accounts.models import Account
from server.accounts.wiring import MemberServices
from server.api_budget import PAYER_SECONDS
from server.app import create_app
from server.claims.core import ClaimContext
from server.services import Services
from server.sessions import LoginSession, SessionKind
from tests.db import TEST_SECRET_KEY, FakeClock, last_sms_code, statements

VIEWER = "{ viewer { mobile realNameVerified } }"
SEND = """mutation($mobile: String!) {
  sendSmsCode(input: {mobile: $mobile, purpose: REGISTER}) { __typename }
}"""
REGISTER = """mutation($mobile: String!, $code: String!) {
  register(input: {mobile: $mobile, password: "Health2026!", smsCode: $code, acceptTerms: true}) {
    ... on SignInSuccess { token }
  }
}"""


@pytest.fixture
def client(
    services: Services,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    claims: ClaimContext,
) -> Iterator[TestClient]:
    """The app over the test database and clock, with a cost budget (the default one)."""
    settings = services.settings.with_(secret_key=TEST_SECRET_KEY)
    s = dataclasses.replace(
        services, settings=settings, db=db_factory, members=members, claims=claims
    )
    app: Starlette = create_app(settings, services=s)
    address = f"198.51.100.{secrets.randbelow(250) + 1}"
    with TestClient(app, client=(address, 50000)) as c:
        yield c


def _post(client: TestClient, query: str, token: str | None = None, **variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _register(client: TestClient, db: sessionmaker[Session], members: MemberServices) -> str:
    phone = f"1361234{secrets.randbelow(10_000):04d}"
    _post(client, SEND, mobile=phone)
    body = _post(client, REGISTER, mobile=phone, code=last_sms_code(db, members, phone))
    return str(body["data"]["register"]["token"])


def _session_reads(seen: list[str]) -> int:
    return sum(1 for s in seen if "FROM login_session" in s and s.lstrip().startswith("SELECT"))


def test_the_first_request_of_a_session_reads_it_once(
    client: TestClient,
    db_connection: Connection,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    # given a member whose token the budget has not seen for a while
    token = _register(client, db_factory, members)
    clock.advance(seconds=PAYER_SECONDS + 1)
    # when a signed-in query runs (the budget looks the token up first)
    with statements(db_connection) as seen:
        body = _post(client, VIEWER, token=token)
    # then the member is answered, and the session was read once for budget and sign-in
    assert body["data"]["viewer"]["realNameVerified"] is False
    assert _session_reads(seen) == 1
    # and the next request (the payer remembered) reads it once too, for its sign-in
    with statements(db_connection) as seen:
        _post(client, VIEWER, token=token)
    assert _session_reads(seen) == 1


def test_a_session_taken_over_moves_its_idle_clock_when_due(
    client: TestClient,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    token = _register(client, db_factory, members)
    clock.advance(minutes=2)  # past the touch interval (a minute), within the idle window
    _post(client, VIEWER, token=token)
    with db_factory() as db:
        seen = db.scalars(
            select(LoginSession.last_seen_at).where(LoginSession.revoked_at.is_(None))
        )
        assert clock.now in set(seen)


def test_a_revoked_session_is_refused_at_once_whatever_the_budget_remembers(
    client: TestClient,
    db_factory: sessionmaker[Session],
    members: MemberServices,
) -> None:
    token = _register(client, db_factory, members)
    assert "errors" not in _post(client, VIEWER, token=token)  # the payer is now remembered
    with db_factory() as db:
        members.accounts.sessions.end(db, SessionKind.MEMBER, token)
        db.commit()
    body = _post(client, VIEWER, token=token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_session_found_before_it_was_ended_is_not_taken_over(
    db_factory: sessionmaker[Session], members: MemberServices
) -> None:
    sessions = members.accounts.sessions
    with db_factory() as db:
        account = Account(phone_hash=secrets.token_hex(8), phone_enc="x", password_hash=None)
        db.add(account)
        db.flush()
        issued = sessions.start(db, SessionKind.MEMBER, account.id, channel="app")
        db.commit()
    with db_factory() as db:
        opened = sessions.peek_subject(db, SessionKind.MEMBER, issued.token, Account)
    assert opened is not None and isinstance(opened.subject, Account)
    with db_factory() as db:
        # taken over as it was found: no statement
        adopted = sessions.adopt(db, opened)
        assert adopted is not None and adopted[0] == issued.session
    with db_factory() as db:
        # once this transaction ended sessions, what was found before may be stale
        sessions.end(db, SessionKind.MEMBER, issued.token)
        assert sessions.adopt(db, opened) is None


def test_the_account_read_with_the_session_is_the_sessions_own_and_loads_the_rest(
    db_factory: sessionmaker[Session], members: MemberServices
) -> None:
    sessions = members.accounts.sessions
    with db_factory() as db:
        account = Account(phone_hash=secrets.token_hex(8), phone_enc="x", password_hash=None)
        db.add(account)
        db.flush()
        issued = sessions.start(db, SessionKind.MEMBER, account.id, channel="app")
        db.commit()
        account_id = account.id
    with db_factory() as db:
        found = sessions.authenticate_subject(db, SessionKind.MEMBER, issued.token, Account)
        assert found is not None
        session, who = found
        # given the account as the statement read it: in this session, nothing to write
        assert session == issued.session and who.id == account_id and who.phone_enc == "x"
        assert who in db and not db.dirty and not db.new
        # its relationships load as any loaded row's do
        assert who.identity is None and who.person is None
        # and read again in the same transaction, the same object
        again = sessions.authenticate_subject(db, SessionKind.MEMBER, issued.token, Account)
        assert again is not None and again[1] is who
        assert db.get(Account, account_id) is who
