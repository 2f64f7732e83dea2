from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.wiring import MemberServices
from server.policies.demo import load_demo
from server.policies.models import Person, Policy, PolicyStatus
from tests.db import FakeClock

ROOT = Path(__file__).resolve().parents[3]


def test_demo_data_has_what_the_flows_need(
    db_session: Session, members: MemberServices, clock: FakeClock
) -> None:
    data = load_demo(db_session, members.vault, today=clock.now.date())
    statuses = set(db_session.scalars(select(Policy.status)))
    assert statuses == {PolicyStatus.IN_FORCE, PolicyStatus.MATURED, PolicyStatus.SURRENDERED}
    assert db_session.scalar(select(func.count()).where(Policy.high_end.is_(True))) == 1
    dependants = db_session.scalars(select(Policy).where(Policy.main_insured_id.is_not(None))).all()
    ages = {members.policies.person_view(p.insured, clock.now.date()).is_minor for p in dependants}
    assert ages == {True, False}  # a minor and an adult dependant
    # loading again adds nothing
    before = db_session.scalar(select(func.count()).select_from(Person))
    again = load_demo(db_session, members.vault, today=clock.now.date())
    assert db_session.scalar(select(func.count()).select_from(Person)) == before
    assert again.logins == data.logins


def test_load_demo_script_runs_twice(tmp_path: Path) -> None:
    env = {"VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "APP_ENV": "development"}
    for _ in range(2):
        r = subprocess.run(
            [sys.executable, "-m", "scripts.load_demo"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
        assert "13800000001 / Demo2026!" in r.stdout
    assert (tmp_path / "app.sqlite3").exists()
    r = subprocess.run(
        [sys.executable, "-m", "scripts.load_demo"],
        cwd=ROOT,
        env={**env, "APP_ENV": "production", "SECRET_KEY": "s" * 32, "ENCRYPTION_KEY": "e" * 32},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "refusing" in r.stderr
