"""Faults around the upload and file endpoints: a killed server, a full disk, errors on
a kept-alive connection, bodies that drip in. Each answers a clear JSON error, leaves
nothing partial and the next request works."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims.core import ClaimContext
from server.db import make_engine, make_sessionmaker, migrate
from server.policies.demo import load_demo
from server.services import Services
from tests.api.live import ServerProcess
from tests.api.test_claim_uploads import pdf
from tests.api.test_upload_concurrency import log_in
from tests.db import TEST_SECRET_KEY
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
