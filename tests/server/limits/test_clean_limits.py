from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from scripts import clean_limits
from server.db import make_engine, make_sessionmaker, migrate, unit_of_work, utcnow
from server.limits import Limiter, Policy
from server.limits.database import DatabaseBackend
from tests.limits import fresh_key

MINUTE = datetime.timedelta(minutes=1)


def test_the_command_removes_spent_counters_and_keeps_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    an_hour_ago = utcnow() - datetime.timedelta(hours=1)
    spent, locked, running = fresh_key(), fresh_key(), fresh_key()
    budget = Policy("clean-budget", window=10 * MINUTE, limit=3)
    lock = Policy("clean-lock", window=MINUTE, limit=1, lock=datetime.timedelta(hours=2))
    with unit_of_work(factory) as db:
        Limiter(DatabaseBackend(), lambda: an_hour_ago).hit(db, budget, spent)
        Limiter(DatabaseBackend(), lambda: an_hour_ago).hit(db, lock, locked)
        Limiter(DatabaseBackend(), utcnow).hit(db, budget, running)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)  # the database is what is cleaned here

    assert clean_limits.main([]) == 0

    assert "removed 1 spent limit counters" in capsys.readouterr().out
    backend = DatabaseBackend()
    with unit_of_work(factory) as db:
        assert backend.read(db, budget, spent) is None
        assert backend.read(db, lock, locked) is not None
        assert backend.read(db, budget, running) is not None
    engine.dispose()
