"""Faults around the upload and file endpoints: a killed server, a full disk, errors on
a kept-alive connection, bodies that drip in. Each answers a clear JSON error, leaves
nothing partial and the next request works."""

from __future__ import annotations

import contextlib
import errno
import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, event, exc, func, select
from sqlalchemy.orm import Session, sessionmaker

from api import certificates
from server.accounts.wiring import MemberServices
from server.claims import claimant_uploads
from server.claims.core import ClaimContext
from server.claims.models import ClaimDocument
from server.db import make_engine, make_sessionmaker, migrate
from server.policies.demo import load_demo
from server.services import Services
from server.storage import uploads
from tests.api.live import ServerProcess, committed_app, live
from tests.api.test_claim_uploads import pdf
from tests.api.test_upload_concurrency import log_in
from tests.db import TEST_SECRET_KEY, FakeClock
from tests.server.claims.files_helpers import make_claim


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def start_slow_upload(base: str, token: str, claim_id: int, first: bytes) -> socket.socket:
    """A raw upload that announces 5 MB, sends its first part and then waits."""
    port = int(base.rsplit(":", 1)[1])
    head = (
        b"--B0undary\r\n"
        b'Content-Disposition: form-data; name="file"; filename="bill.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n"
    )
    request = (
        f"POST /api/claims/{claim_id}/documents?category=INVOICE HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: multipart/form-data; boundary=B0undary\r\n"
        "Content-Length: 5000000\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(request + head + first)
    return sock


def wait_for(condition: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting")
        time.sleep(0.05)


@pytest.fixture
def server_env(
    tmp_path: Path, services: Services, members: MemberServices, claims: ClaimContext
) -> tuple[dict[str, str], int]:
    """The environment of a server process over a SQLite file with the demo data and a
    draft; the search index is the one the test session built."""
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    engine = make_engine(url)
    try:
        migrate(engine)
        factory: sessionmaker[Session] = make_sessionmaker(engine)
        with factory() as db:
            demo = load_demo(db, members.vault)
            claim_id = make_claim(db, claims, demo).id
            db.commit()
    finally:
        engine.dispose()
    env = {
        "APP_ENV": "test",
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": url,
        "VAR_DIR": str(services.settings.var_dir),
        "STORAGE_DIR": str(tmp_path / "uploads"),
        "LOG_LEVEL": "WARNING",
    }
    return env, claim_id


def test_a_server_killed_mid_upload_leaves_nothing_after_its_restart(
    tmp_path: Path, server_env: tuple[dict[str, str], int]
) -> None:
    env, claim_id = server_env
    temp = tmp_path / "uploads" / "tmp"
    server = ServerProcess(env, tmp_path / "server.log")
    server.start()
    try:
        # given an upload streaming in, its first 200 KB written to a temporary file
        token = log_in(server.base)
        sock = start_slow_upload(server.base, token, claim_id, b"%PDF-1.4\n" + b"x" * 200_000)
        wait_for(lambda: any(p.stat().st_size > 100_000 for p in files_under(temp)))

        # when the server is killed (SIGKILL: none of its clean-up runs)
        server.kill()
        sock.close()
        assert files_under(temp), "the killed upload left its temporary file"

        # then its restart removes what the dead process was receiving
        server.start()
        assert files_under(temp) == []
        # and uploads work as before
        r = httpx.post(
            f"{server.base}/api/claims/{claim_id}/documents",
            params={"category": "INVOICE"},
            files={"file": ("bill.pdf", pdf(), "application/pdf")},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        assert files_under(temp) == []
    finally:
        server.stop()


# --- a live app over a database whose commits are real -------------------------------------------


@pytest.fixture
def draft(committed: tuple[sessionmaker[Session], Any], claims: ClaimContext) -> int:
    factory, demo = committed
    with factory() as db:
        claim_id = make_claim(db, claims, demo).id
        db.commit()
    return claim_id


def documents(factory: sessionmaker[Session], claim_id: int) -> int:
    with factory() as db:
        return int(
            db.scalar(
                select(func.count())
                .select_from(ClaimDocument)
                .where(ClaimDocument.claim_id == claim_id)
            )
            or 0
        )


def post_file(client: httpx.Client, token: str, claim_id: int, data: bytes | None = None) -> Any:
    return client.post(
        f"/api/claims/{claim_id}/documents",
        params={"category": "INVOICE"},
        files={"file": ("bill.pdf", data or pdf(), "application/pdf")},
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )


def error_of(response: Any) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    assert body["error"]["message"]
    return response.status_code, body["error"]["code"]


# --- errors are JSON; a kept-alive connection is told when it closes --------------------------


def test_an_unexpected_failure_answers_json_and_the_connection_goes_on(
    committed: tuple[sessionmaker[Session], Any],
    services: Services,
    members: MemberServices,
    claims: ClaimContext,
    draft: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    factory, _ = committed
    app = committed_app(services, members, claims, factory)
    with live(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        token = log_in(base)

        # given recording the documents fails in a way nobody foresaw
        def broken(*_args: Any) -> None:
            raise RuntimeError("bug")

        monkeypatch.setattr(claimant_uploads, "attach_documents", broken)

        # when a keep-alive client uploads
        r = post_file(client, token, draft)

        # then it gets the documented JSON error, and nothing is kept
        assert error_of(r) == (500, "INTERNAL_ERROR")
        assert "bug" not in r.text
        assert files_under(claims.storage.temp_root.parent / "objects") == []
        # and its next requests on the same client work
        monkeypatch.undo()
        assert client.get("/healthz").status_code == 200
        assert post_file(client, token, draft).status_code == 201


def test_an_answer_before_the_body_is_read_closes_the_connection(
    committed: tuple[sessionmaker[Session], Any],
    services: Services,
    members: MemberServices,
    claims: ClaimContext,
    draft: int,
) -> None:
    factory, _ = committed
    app = committed_app(services, members, claims, factory)
    with live(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        # when an upload without a session is refused before its body is read
        r = post_file(client, "", draft, pdf(padding=500_000))

        # then the answer says the connection closes, and the client goes on with a new one
        assert error_of(r) == (401, "UNAUTHENTICATED")
        assert r.headers["connection"] == "close"
        token = log_in(base)
        ok = post_file(client, token, draft)
        assert ok.status_code == 201 and ok.headers.get("connection") != "close"


def test_a_certificate_failure_answers_json(
    committed: tuple[sessionmaker[Session], Any],
    services: Services,
    members: MemberServices,
    claims: ClaimContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    factory, _ = committed

    def broken(*_args: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(certificates, "read_link", broken)
    app = committed_app(services, members, claims, factory)
    with live(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        r = client.get("/certificates/some-token.pdf")
        assert error_of(r) == (500, "INTERNAL_ERROR")
        assert r.headers["content-type"] == "application/json"
        assert client.get("/healthz").status_code == 200


# --- a full disk ---------------------------------------------------------------------------------


class FullFile:
    """A file whose disk fills after `room` bytes."""

    def __init__(self, inner: Any, room: int) -> None:
        self.inner = inner
        self.room = room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return int(self.inner.write(data))

    def close(self) -> None:
        self.inner.close()


def test_a_full_upload_disk_answers_507_and_keeps_nothing(
    committed: tuple[sessionmaker[Session], Any],
    services: Services,
    members: MemberServices,
    claims: ClaimContext,
    draft: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    factory, _ = committed
    app = committed_app(services, members, claims, factory)
    root = claims.storage.temp_root.parent
    receiver_init = uploads._Receiver.__init__

    def filling(self: Any, *args: Any, **kwargs: Any) -> None:
        receiver_init(self, *args, **kwargs)
        self._file = FullFile(self._file, 10_000)

    with live(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        token = log_in(base)

        # when the disk fills while a file is received
        monkeypatch.setattr(uploads._Receiver, "__init__", filling)
        r = post_file(client, token, draft, pdf(padding=50_000))
        assert error_of(r) == (507, "STORAGE_FULL")
        assert files_under(root) == [] and documents(factory, draft) == 0
        monkeypatch.undo()

        # and when it is full as the checked file is put in its place
        def no_room(*_args: Any) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(claims.storage, "put_file", no_room)
        r = post_file(client, token, draft)
        assert error_of(r) == (507, "STORAGE_FULL")
        assert files_under(root) == [] and documents(factory, draft) == 0
        monkeypatch.undo()

        # then once there is room again, the same client uploads
        assert post_file(client, token, draft).status_code == 201


POLICIES = "{ viewer { policies { __typename ... on PolicyList { totalCount } } } }"
SAVE_CONTACT = """mutation { saveClaimContact(input: {address: "上海市徐汇区漕溪北路1号",
  email: "zhang.wei@example.com"}) { __typename } }"""
SQL_WORDS = ("SELECT", "INSERT", "UPDATE", "[SQL", "login_session", "claim_document")


WRITING = re.compile(r"\b(INSERT INTO|UPDATE|DELETE FROM)\b", re.IGNORECASE)


class FullDisk:
    """A database whose disk is full: every INSERT, UPDATE or DELETE fails as it runs
    (`at="statement"`), or, as SQLite may do, the COMMIT of a transaction that wrote
    (`at="commit"`); reads go on."""

    def __init__(self, engine: Engine, at: str) -> None:
        self.engine = engine
        self.at = at
        self.error = engine.dialect.loaded_dbapi.OperationalError

    def __enter__(self) -> None:
        event.listen(self.engine, "before_cursor_execute", self.statement)
        event.listen(self.engine, "commit", self.commit)
        event.listen(self.engine, "rollback", self.forget)

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self.statement)
        event.remove(self.engine, "commit", self.commit)
        event.remove(self.engine, "rollback", self.forget)

    def statement(self, conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        first = statement.lstrip().split(None, 1)[0].upper()
        # a WITH writes when one of its parts does (PostgreSQL's data-modifying CTEs)
        if first in {"INSERT", "UPDATE", "DELETE"} or (
            first == "WITH" and WRITING.search(statement) is not None
        ):
            if self.at == "statement":
                raise self.error("database or disk is full")
            conn.info["wrote"] = True

    def commit(self, conn: Any) -> None:
        if conn.info.pop("wrote", False):
            # SQLite rolls back a transaction whose COMMIT finds the disk full; SQLAlchemy
            # raises the driver's refusal as this
            conn.connection.dbapi_connection.rollback()
            raise exc.OperationalError("COMMIT", {}, self.error("database or disk is full"))

    def forget(self, conn: Any) -> None:
        conn.info.pop("wrote", None)


@pytest.mark.parametrize("at", ["statement", "commit"])
def test_a_full_database_disk_keeps_reads_working_and_shows_no_sql(
    committed: tuple[sessionmaker[Session], Any],
    services: Services,
    members: MemberServices,
    claims: ClaimContext,
    clock: FakeClock,
    draft: int,
    at: str,
) -> None:
    # given a development server (errors are shown in more detail there) and a member
    # whose session is due to have its idle clock moved
    factory, _ = committed
    engine = factory.kw["bind"]
    if at == "commit" and engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL refuses the statement itself when its disk is full")
    app = committed_app(services, members, claims, factory, environment="development")
    with live(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        token = log_in(base)
        clock.advance(minutes=2)
        auth = {"Authorization": f"Bearer {token}"}
        with FullDisk(engine, at):
            # when the database's disk is full, a signed-in read still answers
            r = client.post("/graphql", json={"query": POLICIES}, headers=auth)
            assert r.status_code == 200 and "errors" not in r.json(), r.text
            assert r.json()["data"]["viewer"]["policies"]["totalCount"] > 0

            # a write fails, with no SQL in what the client sees
            r = client.post("/graphql", json={"query": SAVE_CONTACT}, headers=auth)
            assert [e["extensions"]["code"] for e in r.json()["errors"]] == [
                "INTERNAL_SERVER_ERROR"
            ], r.text
            assert not any(word in r.text for word in SQL_WORDS), r.text

            # and an upload answers 507, keeping nothing
            r = post_file(client, token, draft)
            assert error_of(r) == (507, "STORAGE_FULL")
            assert not any(word in r.text for word in SQL_WORDS), r.text
            assert files_under(claims.storage.temp_root.parent) == []
            assert documents(factory, draft) == 0

        # then with room again, writes work
        assert post_file(client, token, draft).status_code == 201


# --- slow bodies -------------------------------------------------------------------------------


def drip(base: str, token: str, claim_id: int, every: float, chunks: int) -> tuple[bytes, float]:
    """An upload sending 1 KB every `every` seconds; the answer (until the server closes)
    and how long it took."""
    sock = start_slow_upload(base, token, claim_id, b"%PDF-1.4\n" + b"x" * 1024)
    sock.settimeout(0.05)
    began = time.monotonic()
    answer = b""
    try:
        for _ in range(chunks):
            deadline = time.monotonic() + every
            while time.monotonic() < deadline:
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    continue
                except ConnectionResetError:
                    data = b""
                if not data:
                    return answer, time.monotonic() - began  # the server closed
                answer += data
            with contextlib.suppress(OSError):  # closed while sending: read the answer
                sock.sendall(b"x" * 1024)
        pytest.fail(f"the body was never cut off; answer so far: {answer!r}")
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("limits", "every", "reason"),
    [
        ({"upload_rate_grace": 1, "upload_min_rate": 1024}, 2.0, "slower than 1024 bytes/s"),
        # (sends fall between the limits' checks: data arriving after the server closed
        # would make the client's kernel drop the answer for a reset)
        ({"upload_body_timeout": 2, "upload_min_rate": 0}, 0.7, "not complete within 2 s"),
    ],
    ids=["minimum-rate", "total-time"],
)
def test_a_slow_body_is_cut_off_with_one_log_line(
    committed: tuple[sessionmaker[Session], Any],
    services: Services,
    members: MemberServices,
    claims: ClaimContext,
    draft: int,
    caplog: pytest.LogCaptureFixture,
    limits: dict[str, Any],
    every: float,
    reason: str,
) -> None:
    factory, _ = committed
    app = committed_app(services, members, claims, factory, **limits)
    with live(app) as base:
        token = log_in(base)
        caplog.clear()

        # when an upload drips in at 1 KB a `every` seconds
        answer, took = drip(base, token, draft, every, chunks=20)

    # then it is answered 408 with a JSON code and the connection closed, within the limit
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer
    assert b"connection: close" in head.lower()
    assert json.loads(body)["error"]["code"] == "REQUEST_TIMEOUT"
    assert took < 6
    # nothing partial remains
    assert files_under(claims.storage.temp_root.parent) == []
    assert documents(factory, draft) == 0
    # and the log has one line for it, naming the route and the reason, with no traceback
    lines = [r for r in caplog.records if "body cut off" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]
    assert "/api/claims/{claim_id}/documents" in lines[0].getMessage()
    assert reason in lines[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
