"""The PostgreSQL pool: no ping per checkout, a ping after idling, a dead idle connection
replaced; and the DB_STATS counters that show it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from server import db as server_db
from server.app import create_app
from server.db import make_engine
from server.dbstats import watch
from server.settings import Settings


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip("the pool's pings are a PostgreSQL matter")
    engine = make_engine(url, schema=f"t_{uuid.uuid4().hex[:12]}")
    yield engine
    engine.dispose()


def test_a_busy_connection_is_not_pinged(pg_engine: Engine) -> None:
    # given
    stats = watch(pg_engine)
    # when
    for _ in range(5):
        with pg_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    # then
    counts = stats.snapshot()
    assert counts["checkouts"] == 5
    assert counts["pings"] == 0
    assert counts["statements"] == 5
    assert counts["connects"] == 1


def test_an_idle_connection_is_pinged_and_replaced_when_dead(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: one pooled connection, which the server then closes
    stats = watch(pg_engine)
    with pg_engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    killer = make_engine(os.environ["TEST_DATABASE_URL"])
    with killer.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    killer.dispose()
    monkeypatch.setattr(server_db, "IDLE_PING_S", 0.0)
    # when
    with pg_engine.connect() as conn:
        new_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    # then: pinged, found dead, replaced without an error reaching the caller
    assert new_pid != pid
    counts = stats.snapshot()
    assert counts["pings"] >= 1
    assert counts["connects"] == 2


def test_an_idle_live_connection_is_kept(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    stats = watch(pg_engine)
    with pg_engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    monkeypatch.setattr(server_db, "IDLE_PING_S", 0.0)
    # when
    with pg_engine.connect() as conn:
        again = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    # then
    assert again == pid
    assert stats.snapshot()["pings"] == 1


def test_the_stats_endpoint_exists_only_when_asked(settings: Settings) -> None:
    # given
    plain = create_app(settings.with_(database_url=f"sqlite:///{settings.var_dir}/s1.sqlite3"))
    counted = create_app(
        settings.with_(database_url=f"sqlite:///{settings.var_dir}/s2.sqlite3", db_stats=True)
    )
    # when
    with TestClient(plain) as c:
        missing = c.get("/_stats/db")
    with TestClient(counted) as c:
        c.post("/graphql", json={"query": "{ __typename }"})
        found = c.get("/_stats/db")
    # then
    assert missing.status_code == 404
    assert found.status_code == 200
    body = found.json()
    assert set(body) >= {"pid", "statements", "commits", "pings", "checkouts"}
