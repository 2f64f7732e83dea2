"""scripts/clean_uploads.py: stored files no claim refers to, and temporary leftovers."""

from __future__ import annotations

import datetime
import io
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scripts import clean_uploads
from server.accounts.models import Account
from server.claims.core import ClaimContext
from server.claims.models import Channel, ClaimDocument
from server.claims.uxiang_models import UxiangAuthorisation
from server.db import utcnow
from server.storage import LocalStorage, StoredUpload, store_upload
from server.storage.backend import new_temp_file
from tests.server.claims.files_helpers import main_insured_claim

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def image() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50, 40), (0, 0, 200)).save(out, "JPEG")
    return out.getvalue()


def age(storage: LocalStorage, *keys: str | None, hours: float = 48) -> None:
    when = (utcnow() - datetime.timedelta(hours=hours)).timestamp()
    for key in keys:
        if key is not None:
            os.utime(storage.path_of(key), (when, when))


def claim_with(
    db_factory: sessionmaker[Session], demo: Any, doc: StoredUpload, signature: StoredUpload
) -> None:
    with db_factory() as s:
        claim = main_insured_claim(s, demo, signature_key=signature.key)
        s.add(
            ClaimDocument(
                claim_id=claim.id,
                category="INVOICE",
                storage_key=doc.key,
                thumbnail_key=doc.thumbnail_key,
                content_type=doc.content_type,
                size=doc.size,
                original_sha256=doc.original_sha256,
                display_name=doc.display_name,
                channel=Channel.APP,
            )
        )
        s.commit()


def test_old_orphans_and_temporary_files_go_and_everything_referred_to_stays(
    db_factory: sessionmaker[Session], demo: Any, claims: ClaimContext
) -> None:
    storage = claims.storage
    assert isinstance(storage, LocalStorage)
    # given a claim with a document (and its thumbnail) and a signature, all old
    doc = store_upload(storage, image(), filename="invoice.jpg")
    signature = store_upload(storage, image(), filename="sig.jpg")
    claim_with(db_factory, demo, doc, signature)
    # an old orphaned image with its thumbnail, an old orphaned PDF, a recent orphan
    orphan = store_upload(storage, image())
    orphan_pdf = store_upload(storage, PDF)
    recent = store_upload(storage, PDF)
    age(storage, doc.key, doc.thumbnail_key, signature.key, signature.thumbnail_key)
    age(storage, orphan.key, orphan.thumbnail_key, orphan_pdf.key)
    # and temporary files: one left by a crash long ago, one of an upload streaming now
    stale, streaming = new_temp_file(storage), new_temp_file(storage)
    when = (utcnow() - datetime.timedelta(hours=48)).timestamp()
    os.utime(stale, (when, when))

    # when
    report = clean_uploads.clean(
        db_factory, storage, now=utcnow(), older_than=datetime.timedelta(hours=24)
    )

    # then
    assert orphan.thumbnail_key is not None
    assert sorted(report.orphans) == sorted([orphan.key, orphan.thumbnail_key, orphan_pdf.key])
    assert report.temp_files == [stale.name]
    for key in (doc.key, doc.thumbnail_key, signature.key, signature.thumbnail_key, recent.key):
        assert key is not None and storage.exists(key)
    for key in (orphan.key, orphan.thumbnail_key, orphan_pdf.key):
        assert key is not None and not storage.exists(key)
    assert not stale.exists() and streaming.exists()

    # and a second run finds nothing more
    again = clean_uploads.clean(
        db_factory, storage, now=utcnow(), older_than=datetime.timedelta(hours=24)
    )
    assert again.orphans == [] and again.temp_files == []


def test_the_command_cleans_the_configured_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = LocalStorage(tmp_path / "uploads")
    orphan = store_upload(storage, PDF)
    kept = store_upload(storage, PDF)
    age(storage, orphan.key, hours=10)
    age(storage, kept.key, hours=2)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.sqlite3'}")
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("STORAGE_BACKEND", "local")

    assert clean_uploads.main(["--older-than-hours", "6"]) == 0

    assert "removed 1 orphaned stored files and 0 temporary files" in capsys.readouterr().out
    assert not storage.exists(orphan.key) and storage.exists(kept.key)


def test_the_command_refuses_an_age_that_could_catch_uploads_in_progress(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        clean_uploads.main(["--older-than-hours", "0.1"])
    assert exit_.value.code == 2
    assert "at least 1" in capsys.readouterr().err


def test_a_signed_uxiang_authorisation_keeps_its_signature(
    db_factory: sessionmaker[Session], demo: Any, claims: ClaimContext
) -> None:
    # given an old signature of a U享赔 authorisation, and an old orphan
    storage = claims.storage
    assert isinstance(storage, LocalStorage)
    signature = store_upload(storage, image(), filename="sig.jpg")
    orphan = store_upload(storage, PDF)
    with db_factory() as s:
        s.add(
            UxiangAuthorisation(
                account_id=s.scalars(select(Account.id)).first(),
                policy_id=demo.policy_ids["main"],
                version="UX-2026-1",
                accepted_at=utcnow(),
                client_enc="x",
                signature_key=signature.key,
                signed_at=utcnow(),
            )
        )
        s.commit()
    age(storage, signature.key, signature.thumbnail_key, orphan.key)
    # when the clean-up runs
    report = clean_uploads.clean(
        db_factory, storage, now=utcnow(), older_than=datetime.timedelta(hours=24)
    )
    # then only the orphan goes
    assert report.orphans == [orphan.key]
    assert storage.exists(signature.key)
