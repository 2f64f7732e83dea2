"""Limiter fixtures: every backend over real storage, for behaviour and race tests.

`store` gives each backend in turn: memory, the database on SQLite and on PostgreSQL
(TEST_DATABASE_URL, as for tests/db.py), and Redis (TEST_REDIS_URL; REQUIRE_REDIS=1 turns
its absence into a failure), with sessions for the application's own tables (the same
database, or a SQLite one beside memory and Redis). The databases commit for real, each
in a file or schema of its own for the whole run; tests keep apart by using keys and
mobiles of their own (`fresh_key`, `fresh_mobile`). Redis keys carry a prefix of the
test's own and are deleted after it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from server.db import make_engine, make_sessionmaker, migrate
from server.limits import Backend, Limiter
from server.limits.database import DatabaseBackend
from server.limits.memory import MemoryBackend
from server.limits.redis_store import RedisBackend
from tests.db import FakeClock, _postgres


@dataclass
class Store:
    name: str
    backend: Backend
    # a unit of work: a session committed when the block ends, rolled back if it raises
    unit: Callable[[], AbstractContextManager[Session]]

    def limiter(self, clock: FakeClock) -> Limiter:
        return Limiter(self.backend, clock)


def fresh_key() -> str:
    return secrets.token_hex(32)


def fresh_mobile() -> str:
    return f"139{secrets.randbelow(10**8):08d}"


@pytest.fixture(scope="session")
def limits_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('limits') / 'limits.sqlite3'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def limits_postgres() -> Iterator[Engine]:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip("TEST_DATABASE_URL is not set")
    for database in _postgres(url):
        engine = make_engine(database.url, schema=database.schema)
        try:
            migrate(engine)
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def redis_backend() -> Iterator[RedisBackend]:
    url = os.environ.get("TEST_REDIS_URL", "")
    if not url:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but TEST_REDIS_URL is not set")
        pytest.skip("TEST_REDIS_URL is not set")
    import redis

    # room for the 120 threads of the widest concurrency test (the pool refuses past its cap)
    client = redis.Redis.from_url(url, max_connections=256)
    prefix = f"test-limit:{uuid.uuid4().hex[:12]}:"
    try:
        yield RedisBackend(client, prefix)
    finally:
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
        client.close()


def _units(engine: Engine) -> Callable[[], AbstractContextManager[Session]]:
    factory = make_sessionmaker(engine)

    @contextlib.contextmanager
    def unit() -> Iterator[Session]:
        with factory() as s, s.begin():
            yield s

    return unit


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def store(request: pytest.FixtureRequest) -> Store:
    name = request.param
    engine = request.getfixturevalue("limits_postgres" if name == "postgresql" else "limits_sqlite")
    if name == "memory":
        return Store(name, MemoryBackend(), _units(engine))
    if name == "redis":
        return Store(name, request.getfixturevalue("redis_backend"), _units(engine))
    return Store(name, DatabaseBackend(), _units(engine))
