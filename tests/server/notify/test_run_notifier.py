from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import select

from server.accounts.models import SmsOutbox
from server.crypto import vault_for
from server.db import make_engine, make_sessionmaker, migrate, unit_of_work
from server.notify.outbox import Notification, Status, enqueue


def _script() -> ModuleType:
    return importlib.import_module("scripts.run_notifier")


@pytest.mark.usefixtures("restore_logging")
def test_once_delivers_what_is_due_with_the_configured_senders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a database with one queued SMS and one e-mail, and no gateway or mail server set
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    for name in ("SMS_GATEWAY_URL", "SMTP_HOST", "ENCRYPTION_KEY", "APP_ENV", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "notifier-test-secret")
    engine = make_engine(url)
    migrate(engine)
    vault = vault_for("notifier-test-secret")
    with unit_of_work(make_sessionmaker(engine)) as s:
        enqueue(s, "sms", "13612341560", "", "短信正文", "script:sms", vault=vault)
        enqueue(s, "email", "a@example.com", "主题", "邮件正文", "script:email", vault=vault)
    # when the notifier runs once
    assert _script().main(["--once"]) == 0
    # then both went out through the development senders, logged by the server's configuration
    out, err = capsys.readouterr()
    assert "sent 2, retrying 0, failed 0" in out
    assert "INFO    server.notify.sms: sms to 136****1560: 短信正文" in err
    assert "13612341560" not in err
    with make_sessionmaker(engine)() as s:
        assert set(s.scalars(select(Notification.status))) == {Status.SENT}
        assert s.scalars(select(SmsOutbox.body)).all() == ["短信正文"]
    engine.dispose()


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        _script().main(["--interval", "0"])
    assert e.value.code == 2 and "must be positive" in capsys.readouterr().err
