"""Database fixtures shared by the account and policy tests.

`db_url` runs each test on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL too
(in a schema of its own, so parallel runs do not meet); REQUIRE_POSTGRES=1 turns the
missing variable into a failure. Each test runs inside a transaction that is rolled
back; the code under test commits only savepoints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.accounts.wiring import MemberServices, member_services
from server.claims.core import ClaimContext, claim_context
from server.crypto import vault_for
from server.db import make_engine, make_sessionmaker, migrate
from server.hospital_records import DevHospitalRecords, medical_list
from server.services import Services
from server.settings import Settings

TEST_SECRET_KEY = "test-secret-key-for-accounts"
# the members' vault in tests (member_settings): for rows a test writes directly
TEST_VAULT = vault_for(TEST_SECRET_KEY)


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)


@dataclasses.dataclass(frozen=True)
class Database:
    url: str
    schema: str | None


def _postgres(url: str) -> Iterator[Database]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield Database(url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        yield Database(f"sqlite:///{path}", None)
        return
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip("TEST_DATABASE_URL is not set")
    yield from _postgres(url)


@pytest.fixture(scope="session")
def db_engine(database: Database) -> Iterator[Engine]:
    engine = make_engine(database.url, schema=database.schema)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db_connection(db_engine: Engine) -> Iterator[Connection]:
    conn = db_engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def db_factory(db_connection: Connection) -> sessionmaker[Session]:
    # commits inside the code under test release savepoints; the outer transaction rolls back
    return sessionmaker(
        bind=db_connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def db_session(db_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = db_factory()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def pg_committed(
    members: MemberServices, clock: FakeClock
) -> Iterator[tuple[sessionmaker[Session], Any]]:
    """A session factory whose commits are real, over the demo data, for races between sessions.

    The data lives in a PostgreSQL schema of its own, created and dropped here, so the
    committed rows never meet the other tests (which run in rolled-back transactions).
    """
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("concurrent row locks are a PostgreSQL matter; SQLite has one writer")
    from server.policies.demo import load_demo

    for database in _postgres(url):
        engine = make_engine(database.url, schema=database.schema)
        try:
            migrate(engine)
            factory = make_sessionmaker(engine)
            with factory() as s:
                data = load_demo(s, members.vault, today=clock.now.date())
                s.commit()
            yield factory, data
        finally:
            engine.dispose()


@pytest.fixture
def committed(
    database: Database, members: MemberServices, clock: FakeClock, tmp_path: Path
) -> Iterator[tuple[sessionmaker[Session], Any]]:
    """Like `pg_committed`, on SQLite (a file of its own) as well as on PostgreSQL."""
    from server.policies.demo import load_demo

    def over(engine: Engine) -> Iterator[tuple[sessionmaker[Session], Any]]:
        try:
            migrate(engine)
            factory = make_sessionmaker(engine)
            with factory() as s:
                data = load_demo(s, members.vault, today=clock.now.date())
                s.commit()
            yield factory, data
        finally:
            engine.dispose()

    if database.schema is None:
        yield from over(make_engine(f"sqlite:///{tmp_path / 'committed.sqlite3'}"))
        return
    for own in _postgres(database.url):
        yield from over(make_engine(own.url, schema=own.schema))


def run_together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in n threads started at once; each result or the exception raised."""
    results: list[Any] = [None] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as e:
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def member_settings() -> Settings:
    return Settings(environment="test", secret_key=TEST_SECRET_KEY)


@pytest.fixture
def members(member_settings: Settings, clock: FakeClock) -> MemberServices:
    return member_services(member_settings, clock=clock)


@pytest.fixture
def member_app(
    services: Services,
    member_settings: Settings,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    claims: ClaimContext,
) -> Starlette:
    from server.app import create_app

    settings = services.settings.with_(secret_key=member_settings.secret_key)
    s = dataclasses.replace(
        services, settings=settings, db=db_factory, members=members, claims=claims
    )
    return create_app(settings, services=s)


@pytest.fixture
def claims(
    services: Services,
    member_settings: Settings,
    members: MemberServices,
    clock: FakeClock,
    tmp_path: Path,
) -> ClaimContext:
    """Claim operations over a fresh upload folder, on the test clock."""
    settings = services.settings.with_(
        secret_key=member_settings.secret_key, storage_dir=tmp_path / "uploads"
    )
    return claim_context(
        settings,
        members.vault,
        members.accounts.codes,
        clock,
        hospital_records=DevHospitalRecords(medical_list(services.directory.directory)),
    )


class Api:
    """GraphQL over HTTP with an optional bearer token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.token: str | None = None

    def __call__(self, query: str, token: str | None = None, **variables: Any) -> Any:
        headers = {}
        tok = token if token is not None else self.token
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        r = self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        # 429 (with Retry-After) where every root field was refused by a limit
        assert r.status_code == 200 or (r.status_code == 429 and r.headers["retry-after"]), r.text
        return r.json()


@pytest.fixture
def api(member_app: Starlette) -> Iterator[Api]:
    with TestClient(member_app) as c:
        yield Api(c)


def last_sms_code(db: sessionmaker[Session], members: MemberServices, phone: str) -> str:
    """The code in the newest message the development sender recorded for `phone`."""
    import re

    from sqlalchemy import select

    from server.accounts.models import SmsOutbox

    with db() as s:
        body = s.scalar(
            select(SmsOutbox.body)
            .where(SmsOutbox.phone_hash == members.vault.lookup(phone, kind="phone"))
            .order_by(SmsOutbox.id.desc())
            .limit(1)
        )
    assert body is not None, "no SMS recorded"
    m = re.search(r"\d{6}", body)
    assert m is not None
    return m.group()


@pytest.fixture
def demo(db_factory: sessionmaker[Session], members: MemberServices, clock: FakeClock) -> Any:
    """The demo data set, committed (to a savepoint) so the app's requests see it."""
    from server.policies.demo import load_demo

    with db_factory() as s:
        data = load_demo(s, members.vault, today=clock.now.date())
        s.commit()
    return data


@contextlib.contextmanager
def statements(conn: Connection | Engine) -> Iterator[list[str]]:
    """Every SQL statement sent through `conn` inside the block, as sent."""
    seen: list[str] = []

    def record(_c: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(conn, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", record)


def writes(seen: list[str]) -> list[str]:
    """The statements among `seen` that change rows."""
    return [
        s for s in seen if s.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
