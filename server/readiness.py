"""Readiness: can this instance serve requests? The database answers, Redis answers (when
REDIS_URL is set) and storage takes a small file and deletes it again.

Each check either passes or names what failed by the error's class only: messages from
drivers can carry host names, users or URLs with passwords.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from server.storage.backend import Storage, new_key, new_temp_file

OK = "ok"
NOT_CONFIGURED = "not configured"
TIMEOUT_SECONDS = 2.0


def check_database(db: sessionmaker[Session]) -> None:
    with db() as session:
        session.execute(text("SELECT 1"))


@functools.cache
def _redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(
        url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
    )


def check_redis(url: str) -> None:
    if not _redis_client(url).ping():
        raise ConnectionError("no PONG")


def check_storage(storage: Storage) -> None:
    """A probe file stored and deleted, through the same calls an upload makes."""
    probe = new_temp_file(storage)
    try:
        probe.write_bytes(b"readiness probe")
        key = new_key("pdf")
        storage.put_file(key, probe)
        storage.delete(key)
    finally:
        probe.unlink(missing_ok=True)


def _outcome(check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as error:
        return f"failed: {type(error).__name__}"
    return OK


def readiness(
    db: sessionmaker[Session] | None, redis_url: str, storage: Storage | None
) -> dict[str, str]:
    """Each part's state: "ok", "not configured" or "failed: <error class>". Blocking."""
    return {
        "database": NOT_CONFIGURED if db is None else _outcome(lambda: check_database(db)),
        "redis": NOT_CONFIGURED if not redis_url else _outcome(lambda: check_redis(redis_url)),
        "storage": (
            NOT_CONFIGURED if storage is None else _outcome(lambda: check_storage(storage))
        ),
    }


def failing(checks: dict[str, str]) -> list[str]:
    return [name for name, state in checks.items() if state not in (OK, NOT_CONFIGURED)]
