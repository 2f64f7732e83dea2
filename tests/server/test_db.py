"""server/db.py: engines as the server uses them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from server.db import make_engine, make_sessionmaker


@pytest.mark.timeout(60)
def test_a_reader_inside_a_transaction_no_longer_blocks_a_writes_commit(tmp_path: Path) -> None:
    # given a SQLite file that another process is reading, inside a transaction
    path = tmp_path / "app.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    factory = make_sessionmaker(engine)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT * FROM t").fetchall()
    # when a write commits meanwhile, then it goes through (WAL: readers do not block the
    # writer; in the old rollback journal this COMMIT was refused "database is locked")
    with factory() as s:
        s.execute(text("INSERT INTO t VALUES (1)"))
        s.commit()
    reader.execute("ROLLBACK")
    reader.close()
    with factory() as s:
        assert s.execute(text("SELECT x FROM t")).scalars().all() == [1]
    engine.dispose()


def test_a_connection_returned_inside_a_transaction_is_taken_out_of_it(tmp_path: Path) -> None:
    # A COMMIT refused as locked (still possible when a checkpoint or another writer holds
    # the file) leaves SQLite's transaction open while SQLAlchemy counts it as ended.
    from server.db import _sqlite_end_transaction

    raw = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    raw.execute("CREATE TABLE t (x INTEGER)")
    raw.execute("BEGIN")
    raw.execute("INSERT INTO t VALUES (1)")
    assert raw.in_transaction
    _sqlite_end_transaction(raw, None)
    assert not raw.in_transaction
    assert raw.execute("SELECT count(*) FROM t").fetchone() == (0,)
    raw.close()
