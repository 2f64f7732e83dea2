"""Development servers deliver the notification outbox themselves (NOTIFIER=inprocess)."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from server.accounts.models import SmsOutbox
from server.accounts.wiring import member_services
from server.app import create_app
from server.db import make_engine, make_sessionmaker, migrate
from server.notify.outbox import Notification, Status, enqueue
from server.services import Services
from server.settings import from_env


def test_the_setting_defaults_to_inprocess_only_in_development() -> None:
    assert from_env({}).notifier == "inprocess"
    secrets = {"SECRET_KEY": "s" * 32, "ENCRYPTION_KEY": "e" * 32}
    assert from_env({"APP_ENV": "production", **secrets}).notifier == "off"
    assert from_env({"APP_ENV": "development", "NOTIFIER": "off"}).notifier == "off"


def _app(services: Services, tmp_path: Path, notifier: str) -> tuple[TestClient, object]:
    settings = services.settings.with_(
        notifier=notifier, database_url=f"sqlite:///{tmp_path / 'n.sqlite3'}"
    )
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    members = member_services(settings)
    s = dataclasses.replace(services, settings=settings, db=factory, members=members)
    with factory() as db:
        enqueue(db, "sms", "13612341560", "", "hello", "inprocess:1", vault=members.vault)
        db.commit()
    return TestClient(create_app(settings, services=s)), factory


def _status(factory: object) -> Status:
    with factory() as db:  # type: ignore[operator]
        return db.scalar(
            select(Notification.status).where(Notification.dedupe_key == "inprocess:1")
        )


def _notifier_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "notifier"}


@pytest.mark.timeout(60)  # the wait below ends when the message has left
def test_a_queued_sms_leaves_while_the_server_runs(services: Services, tmp_path: Path) -> None:
    client, factory = _app(services, tmp_path, "inprocess")
    before = _notifier_threads()
    with client:
        assert len(_notifier_threads() - before) == 1
        while _status(factory) is not Status.SENT:
            time.sleep(0.05)
    assert _notifier_threads() - before == set()  # stopped with the server
    with factory() as db:  # type: ignore[operator]
        assert db.scalar(select(SmsOutbox.body)) == "hello"


def test_with_the_notifier_off_messages_wait_for_the_worker(
    services: Services, tmp_path: Path
) -> None:
    client, factory = _app(services, tmp_path, "off")
    before = _notifier_threads()
    with client:
        assert client.get("/healthz").status_code == 200
        assert _notifier_threads() - before == set()
    assert _status(factory) is Status.PENDING
