"""What one process asks of its database: statements, commits, rollbacks, connection
checkouts and pings (DB_STATS=1, for benchmarks; `/_stats/db` serves them).

Counted through SQLAlchemy's engine and pool events, and by wrapping the dialect's ping,
which runs outside the cursor events. Off by default: nothing is attached then.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class DbStats:
    statements: int = 0
    commits: int = 0
    rollbacks: int = 0
    checkouts: int = 0
    pings: int = 0
    connects: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str) -> None:
        with self._lock:  # request threads count at once
            setattr(self, name, getattr(self, name) + 1)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if f.name[0] != "_"}


def watch(engine: Engine) -> DbStats:
    """Count what `engine` does from now on."""
    stats = DbStats()

    trace = os.environ.get("DB_STATS_TRACE")  # a file: each statement's text, appended

    def statement(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        stats.add("statements")
        if trace:
            with open(trace, "a", encoding="utf-8") as out:
                out.write(" ".join(text.split()) + "\n")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", lambda _conn: stats.add("commits"))
    event.listen(engine, "rollback", lambda _conn: stats.add("rollbacks"))
    event.listen(engine.pool, "checkout", lambda *_a: stats.add("checkouts"))
    event.listen(engine.pool, "connect", lambda *_a: stats.add("connects"))

    dialect = engine.dialect
    ping = dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        stats.add("pings")
        return ping(dbapi_connection)

    dialect.do_ping = counted_ping  # type: ignore[method-assign]
    return stats
