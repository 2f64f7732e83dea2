"""server/db.py: engines as the server uses them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from server.db import make_engine, make_sessionmaker


@pytest.mark.timeout(60)
def test_a_sqlite_commit_refused_as_locked_leaves_the_connection_usable(tmp_path: Path) -> None:
    # given a SQLite file that another process is reading, inside a transaction
    path = tmp_path / "app.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    factory = make_sessionmaker(engine)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT * FROM t").fetchall()
    # when a write's COMMIT is refused (after the busy timeout)
    with pytest.raises(OperationalError, match="database is locked"), factory() as s:
        s.execute(text("INSERT INTO t VALUES (1)"))
        s.commit()
    reader.execute("ROLLBACK")
    reader.close()
    # then the pooled connection is not left inside that transaction: the next write works
    with factory() as s:
        s.execute(text("INSERT INTO t VALUES (2)"))
        s.commit()
        assert s.execute(text("SELECT x FROM t")).scalars().all() == [2]
    engine.dispose()
