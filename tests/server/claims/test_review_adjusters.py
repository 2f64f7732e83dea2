"""Adjuster accounts: creation, log-in with throttling, sessions, the script, the demo user."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.errors import LoginFailed, LoginLocked
from server.claims import adjusters
from server.claims.core import ClaimContext
from server.claims.errors import AdjusterUnauthenticated
from server.claims.models import Adjuster
from server.crypto import token_hash, vault_for
from server.db import make_engine, make_sessionmaker
from server.errors import ValidationFailed
from server.sessions import LoginSession
from server.settings import ROOT
from tests.db import FakeClock
from tests.server.claims.review_helpers import ADJUSTER_PASSWORD, make_adjuster


def _log_in(
    db: Session, cx: ClaimContext, password: str = ADJUSTER_PASSWORD, user: str = "wang.fang"
) -> adjusters.AdjusterSignIn:
    return adjusters.log_in(db, cx, username=user, password=password)


def test_an_adjuster_signs_in_and_the_session_holds_only_a_hash(
    db_session: Session, claims: ClaimContext
) -> None:
    # given an adjuster
    make_adjuster(db_session, claims)
    # when they sign in (the username's case does not matter)
    signed = _log_in(db_session, claims, user=" Wang.Fang ")
    # then the token authenticates them and only its hash is stored
    assert adjusters.authenticate(db_session, claims, signed.token).username == "wang.fang"
    row = db_session.scalar(select(LoginSession))
    assert row is not None and row.token_hash == token_hash(signed.token)
    assert (row.kind, row.subject_id, row.channel) == (
        "adjuster",
        signed.adjuster.id,
        "back-office",
    )
    assert signed.token not in row.token_hash
    # and the e-mail is kept encrypted
    adjuster = db_session.scalar(select(Adjuster))
    assert adjuster is not None and "insurer.example" not in (adjuster.email_enc or "")
    assert adjusters.email_of(claims.vault, adjuster) == "wang.fang@insurer.example"


def test_wrong_password_and_unknown_user_fail_alike(
    db_session: Session, claims: ClaimContext
) -> None:
    make_adjuster(db_session, claims)
    with pytest.raises(LoginFailed) as wrong:
        _log_in(db_session, claims, password="Wrong-2026!")
    with pytest.raises(LoginFailed) as unknown:
        _log_in(db_session, claims, user="nobody")
    assert wrong.value.message == unknown.value.message
    assert wrong.value.code == unknown.value.code == "LOGIN_FAILED"
    # absurd inputs are the same failure, not a crash
    with pytest.raises(LoginFailed):
        _log_in(db_session, claims, user="x" * 5000, password="y" * 5000)


def test_failures_are_throttled_then_locked(
    db_session: Session, claims: ClaimContext, clock: FakeClock
) -> None:
    make_adjuster(db_session, claims)
    for _ in range(3):
        with pytest.raises(LoginFailed):
            _log_in(db_session, claims, password="Wrong-2026!")
    # after 3 failures even the right password waits
    with pytest.raises(LoginLocked) as wait:
        _log_in(db_session, claims)
    assert 0 < wait.value.retry_after <= 30
    clock.advance(seconds=31)
    with pytest.raises(LoginFailed):
        _log_in(db_session, claims, password="Wrong-2026!")
    clock.advance(seconds=31)
    with pytest.raises(LoginFailed):
        _log_in(db_session, claims, password="Wrong-2026!")
    # the 5th failure locks for 15 minutes
    clock.advance(seconds=31)
    with pytest.raises(LoginLocked) as locked:
        _log_in(db_session, claims)
    assert locked.value.retry_after > 800
    clock.advance(minutes=16)
    assert _log_in(db_session, claims).adjuster.username == "wang.fang"


def test_sessions_end_when_idle_at_the_absolute_limit_and_on_log_out(
    db_session: Session, claims: ClaimContext, clock: FakeClock
) -> None:
    make_adjuster(db_session, claims)
    idle = _log_in(db_session, claims).token
    clock.advance(minutes=31)
    with pytest.raises(AdjusterUnauthenticated):
        adjusters.authenticate(db_session, claims, idle)
    # a session kept busy still ends after 12 hours
    busy = _log_in(db_session, claims).token
    for _ in range(12 * 3):
        clock.advance(minutes=20)
        try:
            adjusters.authenticate(db_session, claims, busy)
        except AdjusterUnauthenticated:
            break
    else:  # pragma: no cover
        pytest.fail("the session outlived its absolute limit")
    # log-out ends a session at once
    token = _log_in(db_session, claims).token
    adjusters.log_out(db_session, claims, token)
    with pytest.raises(AdjusterUnauthenticated):
        adjusters.authenticate(db_session, claims, token)
    with pytest.raises(AdjusterUnauthenticated):
        adjusters.authenticate(db_session, claims, "not-a-token")


def test_a_deactivated_adjuster_is_signed_out_and_cannot_sign_in(
    db_session: Session, claims: ClaimContext
) -> None:
    adjuster = make_adjuster(db_session, claims)
    token = _log_in(db_session, claims).token
    adjusters.deactivate(db_session, claims, adjuster)
    with pytest.raises(AdjusterUnauthenticated):
        adjusters.authenticate(db_session, claims, token)
    with pytest.raises(LoginFailed):
        _log_in(db_session, claims)


def test_a_sign_in_with_the_previous_token_rotates_it(
    db_session: Session, claims: ClaimContext
) -> None:
    make_adjuster(db_session, claims)
    first = _log_in(db_session, claims).token
    second = adjusters.log_in(
        db_session, claims, username="wang.fang", password=ADJUSTER_PASSWORD, previous_token=first
    ).token
    with pytest.raises(AdjusterUnauthenticated):
        adjusters.authenticate(db_session, claims, first)
    assert adjusters.authenticate(db_session, claims, second).username == "wang.fang"


@pytest.mark.parametrize(
    ("field", "kwargs", "code"),
    [
        ("username", {"username": "x"}, "INVALID_USERNAME"),
        ("username", {"username": "../etc"}, "INVALID_USERNAME"),
        ("name", {"name": "  "}, "INVALID_NAME"),
        ("email", {"email": "not-an-address"}, "INVALID_EMAIL"),
        ("password", {"password": "short1!"}, "PASSWORD_LENGTH"),
        ("password", {"password": "lettersanddigits123"}, "PASSWORD_TOO_SIMPLE"),
        ("password", {"password": "with space 1!"}, "PASSWORD_CHARACTERS"),
    ],
)
def test_creation_checks_every_field(
    db_session: Session, claims: ClaimContext, field: str, kwargs: dict[str, str], code: str
) -> None:
    values = {
        "username": "li.lei",
        "name": "李雷",
        "email": "li.lei@insurer.example",
        "password": ADJUSTER_PASSWORD,
    } | kwargs
    with pytest.raises(ValidationFailed) as e:
        adjusters.create_adjuster(db_session, claims.vault, now=claims.now(), **values)
    assert [(p.field, p.code) for p in e.value.problems] == [(field, code)]


def test_a_username_is_taken_once(db_session: Session, claims: ClaimContext) -> None:
    make_adjuster(db_session, claims)
    with pytest.raises(adjusters.AdjusterExists):
        make_adjuster(db_session, claims, "WANG.FANG")


def test_the_demo_adjuster_is_loaded_once(db_session: Session, claims: ClaimContext) -> None:
    line = adjusters.load_demo_adjuster(db_session, claims.vault, now=claims.now())
    again = adjusters.load_demo_adjuster(db_session, claims.vault, now=claims.now())
    assert line == again and line[:2] == ("adjuster", "Demo2026!")
    assert len(db_session.scalars(select(Adjuster)).all()) == 1
    signed = adjusters.log_in(db_session, claims, username="adjuster", password="Demo2026!")
    assert claims.vault.decrypt(signed.adjuster.display_name_enc) == "演示审核员"


# --- the script ------------------------------------------------------------------------------


def _script() -> ModuleType:
    return importlib.import_module("scripts.create_adjuster")


@pytest.fixture
def script_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "script-test-secret")
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)
    return url


def test_the_script_creates_an_adjuster_with_the_password_from_the_environment(
    script_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADJUSTER_PASSWORD", ADJUSTER_PASSWORD)
    args = ["--username", "zhao.min", "--name", "赵敏", "--email", "zhao.min@insurer.example"]
    assert _script().main(args) == 0
    assert "adjuster zhao.min created" in capsys.readouterr().out
    engine = make_engine(script_env)
    with make_sessionmaker(engine)() as s:
        adjuster = s.scalar(select(Adjuster))
        vault = vault_for("script-test-secret")
        assert adjuster is not None and vault.decrypt(adjuster.display_name_enc) == "赵敏"
        assert adjusters.email_of(vault, adjuster) == "zhao.min@insurer.example"
    engine.dispose()
    # the same username again is refused with a message, not a trace
    assert _script().main(args) == 1
    assert "taken" in capsys.readouterr().err


def test_the_script_refuses_a_weak_or_missing_password(
    script_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADJUSTER_PASSWORD", "weak")
    assert _script().main(["--username", "zhao.min", "--name", "赵敏"]) == 1
    assert "password" in capsys.readouterr().err
    monkeypatch.delenv("ADJUSTER_PASSWORD")
    monkeypatch.setattr("sys.stdin", _NotATerminal())
    assert _script().main(["--username", "zhao.min", "--name", "赵敏"]) == 2
    assert "ADJUSTER_PASSWORD" in capsys.readouterr().err


def test_the_script_asks_twice_in_a_terminal(
    script_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ADJUSTER_PASSWORD", raising=False)
    module = _script()
    answers = iter([ADJUSTER_PASSWORD, "Different-2026!"])
    monkeypatch.setattr(module.getpass, "getpass", lambda prompt: next(answers))
    monkeypatch.setattr(module.sys, "stdin", _Terminal())
    assert module.main(["--username", "zhao.min", "--name", "赵敏"]) == 2
    assert "differ" in capsys.readouterr().err


class _NotATerminal:
    def isatty(self) -> bool:
        return False

    def read(self, *_: Any) -> str:
        return ""


class _Terminal(_NotATerminal):
    def isatty(self) -> bool:
        return True


def test_the_demo_loader_prints_the_adjuster_login(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {"VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "APP_ENV": "development"}
    r = subprocess.run(
        [sys.executable, "-m", "scripts.load_demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "adjuster / Demo2026!" in r.stdout
