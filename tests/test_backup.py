"""Backup and restore (scripts/backup.py, scripts/restore.py) on SQLite and PostgreSQL.

A submitted claim with its documents and signature is backed up while its database is
live, restored into a fresh database and an empty upload folder, and read back through
GraphQL and its signed links by a server over the restored copy.
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from strawberry import relay

from scripts.backup import MANIFEST, backup
from scripts.restore import RestoreRefused, restore
from server.accounts.wiring import MemberServices
from server.app import create_app
from server.claims.core import claim_context
from server.db import make_engine, make_sessionmaker
from server.services import Services
from server.settings import Settings
from server.storage.backend import LocalStorage, Storage
from tests.db import FakeClock
from tests.server.claims.files_helpers import add_document, jpeg, make_claim, png, sign, submit

LOGIN = """mutation($m: String!, $p: String!) {
  logIn(input: {mobile: $m, password: $p}) { __typename ... on SignInSuccess { token } } }"""
CLAIM = """query($id: ID!) { claim(id: $id) { __typename ... on Claim { claimNo status
  documents { category url } } } }"""


@dataclasses.dataclass
class Target:
    url: str
    drop: Any = None


def _live_url(factory: sessionmaker[Session]) -> str:
    """The URL of the `committed` database, with the schema it lives in on PostgreSQL."""
    engine = factory.kw["bind"]
    if engine.dialect.name == "sqlite":
        return str(engine.url)
    with engine.connect() as conn:
        schema = conn.scalar(text("SELECT current_schema()"))
    return f"{os.environ['TEST_DATABASE_URL']}?options=-csearch_path%3D{schema}"


def _read(storage: Storage, key: str) -> bytes:
    stream = storage.open(key)
    try:
        return stream.read()
    finally:
        stream.close()


@pytest.fixture
def fresh(committed: Any, tmp_path: Path) -> Iterator[Target]:
    """An empty database of the same kind: a new SQLite file, or a new PostgreSQL database."""
    factory, _ = committed
    live = _live_url(factory)
    if live.startswith("sqlite"):
        yield Target(f"sqlite:///{tmp_path / 'restored.sqlite3'}")
        return
    name = f"restore_{uuid.uuid4().hex[:10]}"
    server = os.environ["TEST_DATABASE_URL"]
    admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, query = live.partition("?")
    try:
        yield Target(f"{base.rsplit('/', 1)[0]}/{name}?{query}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_claim_with_its_documents_reads_back_after_backup_and_restore(
    committed: Any,
    fresh: Target,
    services: Services,
    member_settings: Settings,
    members: MemberServices,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    factory, demo = committed
    settings = services.settings.with_(
        secret_key=member_settings.secret_key, storage_dir=tmp_path / "uploads"
    )
    cx = claim_context(settings, members.vault, members.accounts.codes, clock)
    # given a submitted claim with two documents and a signature, committed
    with factory() as db:
        claim = make_claim(db, cx, demo)
        invoice = add_document(db, cx, claim, jpeg(), "发票.jpg")
        record = add_document(db, cx, claim, png(), "病历.png", category="MEDICAL_RECORD")
        sign(db, cx, claim)
        submit(db, cx, claim)
        db.commit()
        claim_id, claim_no = claim.id, claim.claim_no
        originals = {
            "INVOICE": _read(cx.storage, invoice.storage_key),
            "MEDICAL_RECORD": _read(cx.storage, record.storage_key),
        }
    # when the database and the uploads are backed up while live
    folder = backup(_live_url(factory), cx.storage, tmp_path / "backups", now=clock.now)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert len(manifest["uploads"]) == 6  # two documents and the signature, each with a preview
    # and restored into a fresh database and an empty upload folder
    restored_storage = LocalStorage(tmp_path / "restored-uploads")
    assert restore(folder, fresh.url, restored_storage, vault=members.vault) == 6
    # then a server over the restored copy shows the member the claim and its documents
    engine = make_engine(fresh.url)
    try:
        restored_settings = settings.with_(storage_dir=tmp_path / "restored-uploads")
        restored_cx = claim_context(restored_settings, members.vault, members.accounts.codes, clock)
        app = create_app(
            restored_settings,
            services=dataclasses.replace(
                services,
                settings=restored_settings,
                db=make_sessionmaker(engine),
                members=members,
                claims=restored_cx,
            ),
        )
        with TestClient(app) as client:
            signed_in = client.post(
                "/graphql",
                json={"query": LOGIN, "variables": {"m": "13800000001", "p": "Demo2026!"}},
            ).json()["data"]["logIn"]
            auth = {"Authorization": f"Bearer {signed_in['token']}"}
            found = client.post(
                "/graphql",
                json={"query": CLAIM, "variables": {"id": relay.to_base64("Claim", claim_id)}},
                headers=auth,
            ).json()["data"]["claim"]
            assert found["claimNo"] == claim_no and found["status"] == "SUBMITTED"
            assert sorted(d["category"] for d in found["documents"]) == sorted(originals)
            for doc in found["documents"]:
                served = client.get("/" + doc["url"].split("://", 1)[1].split("/", 1)[1])
                assert served.status_code == 200
                assert served.content == originals[doc["category"]]
    finally:
        engine.dispose()


def test_restore_refuses_a_database_that_is_not_empty(
    committed: Any, members: MemberServices, clock: FakeClock, tmp_path: Path
) -> None:
    factory, _ = committed
    live = _live_url(factory)
    folder = backup(live, LocalStorage(tmp_path / "uploads"), tmp_path / "b", now=clock.now)
    with pytest.raises(RestoreRefused):
        restore(folder, live, LocalStorage(tmp_path / "again"), vault=members.vault)


def test_restore_refuses_a_damaged_file(
    committed: Any, members: MemberServices, clock: FakeClock, tmp_path: Path
) -> None:
    factory, _ = committed
    storage = LocalStorage(tmp_path / "uploads")
    temp = tmp_path / "uploads" / "tmp" / "x.part"
    temp.write_bytes(b"%PDF-1.4 original")
    storage.put_file("0" * 32 + ".pdf", temp)
    folder = backup(_live_url(factory), storage, tmp_path / "b", now=clock.now)
    (folder / "uploads" / ("0" * 32 + ".pdf")).write_bytes(b"%PDF-1.4 changed!")
    target = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    if not _live_url(factory).startswith("sqlite"):
        pytest.skip("the file check is the same whatever the database")
    with pytest.raises(RestoreRefused, match="does not match"):
        restore(folder, target, LocalStorage(tmp_path / "r"), vault=members.vault)
