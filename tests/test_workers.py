"""Two workers of the production start over PostgreSQL share their state, with the limits
and captchas in Redis (REDIS_URL) and without it (in the database): a lock-out made
through one worker holds on the other, and a captcha drawn by one worker is shown and
answered on the other.

A keep-alive connection stays with the worker that accepted it, so the test holds one
connection per worker (told apart by the `x-test-worker` header of tests/served_app.py)
and also checks fresh connections, wherever they land.
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import re
import secrets
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from server.accounts.wiring import member_services
from server.claims.core import claim_context
from server.clock import system_clock
from server.db import make_engine, make_sessionmaker
from server.settings import Settings
from tests.db import _postgres
from tests.h5.supplement_helpers import INSURED_NAME, insured_member, path_of, request_documents
from tests.serving import TEST_APP, WORKER_HEADER, Served, serve

pytestmark = [pytest.mark.postgres]

CAPTCHA = "ACE23"
LOG_IN = """mutation($mobile: String!, $password: String!) {
  logIn(input: {mobile: $mobile, password: $password}) {
    __typename ... on Error { code } } }"""


@dataclass
class Shared:
    database_url: str  # with the schema in search_path
    schema: str
    base_url: str
    redis_url: str
    prefix: str


def _required(variable: str, flag: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        if os.environ.get(flag) == "1":
            pytest.fail(f"{flag}=1 but {variable} is not set")
        pytest.skip(f"{variable} is not set")
    return value


@pytest.fixture(scope="module", params=[pytest.param("redis", marks=pytest.mark.redis), "database"])
def shared(request: pytest.FixtureRequest) -> Iterator[Shared]:
    """A PostgreSQL schema of the module's own; limits in Redis under a prefix of its own,
    or (without REDIS_URL) in that database."""
    url = _required("TEST_DATABASE_URL", "REQUIRE_POSTGRES")
    redis_url = _required("TEST_REDIS_URL", "REQUIRE_REDIS") if request.param == "redis" else ""
    prefix = f"test-serving:{uuid.uuid4().hex[:12]}:"
    try:
        for database in _postgres(url):
            assert database.schema is not None
            sep = "&" if "?" in url else "?"
            options = urllib.parse.quote(f"-csearch_path={database.schema}")
            yield Shared(f"{url}{sep}options={options}", database.schema, url, redis_url, prefix)
    finally:
        if redis_url:
            import redis

            client = redis.Redis.from_url(redis_url)
            for key in client.scan_iter(match=prefix + "*"):
                client.delete(key)
            client.close()


@pytest.fixture(scope="module")
def served(shared: Shared, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    env = {
        "DATABASE_URL": shared.database_url,
        "REDIS_URL": shared.redis_url,  # empty: unset
        "REDIS_PREFIX": shared.prefix,
        "KEEPALIVE_TIMEOUT_SECONDS": "120",
        "TEST_CAPTCHA_ANSWER": CAPTCHA,
    }
    with serve(
        tmp_path_factory.mktemp("workers"), env=env, args=["--workers", "2", "--app", TEST_APP]
    ) as s:
        yield s


class Worker:
    """One keep-alive connection, and so one worker; cookies kept by hand."""

    def __init__(self, connection: http.client.HTTPConnection, pid: str) -> None:
        self.connection = connection
        self.pid = pid
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes | None = None, **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        return exchange(self.connection, method, path, body, self.cookies, self.pid, headers)


def exchange(
    c: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None,
    cookies: dict[str, str],
    pid: str | None,
    headers: dict[str, str],
) -> tuple[int, dict[str, str], bytes]:
    sent = {k.replace("_", "-"): v for k, v in headers.items()}
    if cookies:
        sent["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    c.request(method, path, body=body, headers=sent)
    r = c.getresponse()
    data = r.read()
    got = {k.lower(): v for k, v in r.getheaders()}
    if pid is not None:
        assert got[WORKER_HEADER] == pid, "a keep-alive connection changed worker"
    for value in r.headers.get_all("set-cookie") or []:
        name, _, rest = value.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    return r.status, got, data


def one_per_worker(served: Served, workers: int = 2, wait: float = 120.0) -> list[Worker]:
    """A keep-alive connection to each worker (the others may still be starting)."""
    found: dict[str, Worker] = {}
    deadline = time.monotonic() + wait
    while len(found) < workers and time.monotonic() < deadline:
        c = served.connection()
        _status, headers, _ = exchange(c, "GET", "/healthz", None, {}, None, {})
        pid = headers[WORKER_HEADER]
        if pid in found:
            c.close()
            time.sleep(0.2)
        else:
            found[pid] = Worker(c, pid)
    if len(found) < workers:
        for w in found.values():
            w.connection.close()
        raise AssertionError(f"fresh connections reached only {list(found)}")
    return list(found.values())


@pytest.fixture
def workers(served: Served) -> Iterator[list[Worker]]:
    found = one_per_worker(served)
    yield found
    for w in found:
        w.connection.close()


def log_in(send: Any, mobile: str) -> str:
    body = json.dumps(
        {"query": LOG_IN, "variables": {"mobile": mobile, "password": "Wrong-pass-1"}}
    ).encode()
    status, _headers, data = send("POST", "/graphql", body, content_type="application/json")
    assert status in (200, 429), data
    answer = json.loads(data)["data"]["logIn"]
    return str(answer.get("code") or answer["__typename"])


def test_a_login_lockout_made_on_one_worker_holds_on_the_other(
    served: Served, shared: Shared, workers: list[Worker]
) -> None:
    # given one connection to each worker and a mobile of this test's own
    first, second = workers
    mobile = f"139{secrets.randbelow(10**8):08d}"
    # when three wrong passwords go to the first worker (the fourth try must wait)
    tries = [log_in(first.request, mobile) for _ in range(3)]
    assert "LOGIN_LOCKED" not in tries
    # then the second worker refuses the next try, and so does every fresh connection
    assert log_in(second.request, mobile) == "LOGIN_LOCKED"
    assert log_in(first.request, mobile) == "LOGIN_LOCKED"
    for _ in range(8):
        c = served.connection()

        def fresh(
            method: str,
            path: str,
            body: bytes | None,
            c: http.client.HTTPConnection = c,
            **headers: str,
        ) -> Any:
            return exchange(c, method, path, body, {}, None, headers)

        try:
            assert log_in(fresh, mobile) == "LOGIN_LOCKED"
        finally:
            c.close()
    # and the counts live in Redis under this deployment's prefix, or in the database
    assert _login_counters(shared) > 0


def _login_counters(shared: Shared) -> int:
    if shared.redis_url:
        import redis

        client = redis.Redis.from_url(shared.redis_url)
        try:
            return len(list(client.scan_iter(match=f"{shared.prefix}limit:login:*")))
        finally:
            client.close()
    engine = make_engine(shared.base_url, schema=shared.schema)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM rate_limit WHERE policy = 'login'")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_a_captcha_drawn_on_one_worker_is_answered_on_the_other(
    shared: Shared, workers: list[Worker], tmp_path: Path
) -> None:
    # given a claim waiting for documents, written to the workers' database
    settings = Settings(
        environment="test",
        database_url=shared.database_url,
        redis_url=shared.redis_url,
        redis_prefix=shared.prefix,
        var_dir=tmp_path,
    )
    members = member_services(settings)
    cx = claim_context(settings, members.vault, members.accounts.codes, system_clock)
    engine = make_engine(shared.base_url, schema=shared.schema)
    try:
        factory = make_sessionmaker(engine)
        with factory() as db:
            member = insured_member(db, members.vault, datetime.date.today(), serial="771")
            db.commit()
        pending = request_documents(factory, cx, member)
    finally:
        engine.dispose()
    first, second = workers
    path = path_of(pending.link)
    # when the first worker draws the captcha
    status, _, page = first.request("GET", path)
    assert status == 200
    html = page.decode()
    csrf = _hidden(html, "csrf")
    challenge = _hidden(html, "captcha_id")
    second.cookies.update(first.cookies)  # one browser
    # kept in Redis when it is set, else in the database
    assert _where_captchas_are(shared) == ("redis" if shared.redis_url else "database")
    # then the second worker shows its image
    status, headers, image = second.request("GET", f"/h5/supplement/captcha/{challenge}")
    assert status == 200
    assert headers["content-type"] == "image/png"
    assert image.startswith(b"\x89PNG")
    # and accepts its answer: the claimant is signed in, on either worker
    form = urllib.parse.urlencode(
        {"csrf": csrf, "captcha_id": challenge, "captcha": CAPTCHA, "name": INSURED_NAME}
    ).encode()
    status, headers, body = second.request(
        "POST", path, form, content_type="application/x-www-form-urlencoded"
    )
    assert status == 303, body.decode(errors="replace")[:2000]
    assert headers["location"].endswith("/supplement/claim")
    first.cookies.update(second.cookies)
    status, _, page = first.request("GET", "/h5/supplement/claim")
    assert status == 200
    assert pending.claim_no in page.decode()
    # and the challenge, used on the second worker, is gone on the first
    status, _, _ = first.request("GET", f"/h5/supplement/captcha/{challenge}")
    assert status == 404


def _where_captchas_are(shared: Shared) -> str:
    engine = make_engine(shared.base_url, schema=shared.schema)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM supplement_captcha")).scalar_one()
    finally:
        engine.dispose()
    keys = 0
    if shared.redis_url:
        import redis

        client = redis.Redis.from_url(shared.redis_url)
        try:
            keys = len(list(client.scan_iter(match=f"{shared.prefix}captcha:*")))
        finally:
            client.close()
    assert not (rows and keys), "captchas in both places"
    return "redis" if keys else "database" if rows else "nowhere"


def _hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m is not None, f"no hidden field {name}"
    return m.group(1)
