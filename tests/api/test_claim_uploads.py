"""The upload endpoints: documents of a claim and the claimant's signature, over HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import io
import json
import tracemalloc
from collections.abc import Coroutine, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from strawberry import relay

from api.multipart import receive_files
from server.claims.core import ClaimContext
from server.claims.models import (
    Adjuster,
    Channel,
    Claim,
    ClaimDocument,
    ClaimEvent,
    ClaimStatus,
    SupplementRequest,
)
from server.errors import DomainError
from server.storage import LocalStorage, StoredUpload, UploadError
from server.storage.backend import KEY_PATTERN
from tests.db import TEST_VAULT, Api
from tests.heic import heic
from tests.server.claims.files_helpers import link_of, main_insured_claim

MB = 1024 * 1024
T = TypeVar("T")

LOGIN = """mutation($m: String!, $p: String!) {
  logIn(input: {mobile: $m, password: $p}) { __typename ... on SignInSuccess { token } }
}"""


# --- sample files -----------------------------------------------------------------------------


def jpeg(image: Image.Image | None = None, **save: Any) -> bytes:
    out = io.BytesIO()
    (image or Image.new("RGB", (64, 48), (200, 30, 30))).save(out, "JPEG", quality=90, **save)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 120, 0, 128)).save(out, "PNG")
    return out.getvalue()


def pdf(padding: int = 0) -> bytes:
    """A small well-formed PDF, optionally padded to a size with a comment line."""
    head = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    tail = b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    if padding:
        head += b"%" + b"x" * padding + b"\n"
    return head + tail


# --- the claim and the member ------------------------------------------------------------------


def log_in(api: Api, mobile: str) -> str:
    out = api(LOGIN, m=mobile, p="Demo2026!")["data"]["logIn"]
    assert out["__typename"] == "SignInSuccess", out
    return str(out["token"])


def make_claim(
    db_factory: sessionmaker[Session],
    demo: Any,
    *,
    status: ClaimStatus = ClaimStatus.DRAFT,
    claim_type: str | None = "OUTPATIENT",
) -> int:
    """A claim of the demo's main insured (13800000001), committed so requests see it."""
    with db_factory() as s:
        claim = main_insured_claim(s, demo, status=status, claim_type=claim_type)
        s.commit()
        return claim.id


def request_supplement(
    db_factory: sessionmaker[Session], claim_id: int, categories: list[str]
) -> int:
    with db_factory() as s:
        adjuster = Adjuster(
            username=f"adj{claim_id}",
            display_name_enc=TEST_VAULT.encrypt("审核员"),
            password_hash="x",
        )
        s.add(adjuster)
        s.flush()
        now = datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)
        supplement = SupplementRequest(
            claim_id=claim_id,
            requested_by=adjuster.id,
            requested_at=now,
            categories=json.dumps(categories),
            instructions="请补充发票",
            deadline=datetime.date(2026, 3, 4),
            token_hash=f"{claim_id:064d}",
            expires_at=now + datetime.timedelta(days=3),
        )
        s.add(supplement)
        s.commit()
        return supplement.id


def global_id(claim_id: int) -> str:
    return relay.to_base64("Claim", claim_id)


@pytest.fixture
def client(api: Api) -> TestClient:
    return api.client


@pytest.fixture
def token(api: Api, demo: Any) -> str:
    return log_in(api, "13800000001")


@pytest.fixture
def draft(db_factory: sessionmaker[Session], demo: Any) -> int:
    return make_claim(db_factory, demo)


@pytest.fixture
def storage(claims: ClaimContext) -> LocalStorage:
    assert isinstance(claims.storage, LocalStorage)
    return claims.storage


def stored_files(storage: LocalStorage) -> list[Path]:
    """Every file under the storage root: objects and temporary files alike."""
    return sorted(p for p in storage.root.rglob("*") if p.is_file())


def read_stored(storage: LocalStorage, key: str) -> bytes:
    stream = storage.open(key)
    try:
        return stream.read()
    finally:
        stream.close()


def documents_of(db_factory: sessionmaker[Session], claim_id: int) -> list[ClaimDocument]:
    with db_factory() as s:
        return list(
            s.scalars(
                select(ClaimDocument)
                .where(ClaimDocument.claim_id == claim_id)
                .order_by(ClaimDocument.id)
            )
        )


FileSpec = tuple[str, bytes] | tuple[str, bytes, str]


def upload(
    client: TestClient,
    token: str | None,
    claim: int | str,
    files: list[FileSpec],
    category: str | None = "INVOICE",
    what: str = "documents",
    data: Mapping[str, str] | None = None,
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params = {"category": category} if category is not None and what == "documents" else {}
    parts = [
        ("file", (f[0], f[1], f[2] if len(f) == 3 else "application/octet-stream"))  # type: ignore[misc]
        for f in files
    ]
    return client.post(
        f"/api/claims/{claim}/{what}",
        params=params,
        files=parts,
        data=dict(data or {}),
        headers=headers,
    )


def error_of(response: Any) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["message"]
    return response.status_code, body["error"]["code"]


def multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0undary42") -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def raw_post(
    client: TestClient,
    token: str,
    claim_id: int,
    body: bytes,
    content_type: str = "multipart/form-data; boundary=b0undary42",
) -> Any:
    return client.post(
        f"/api/claims/{claim_id}/documents?category=INVOICE",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )


# --- accepted files -----------------------------------------------------------------------------


def test_jpeg_png_heic_and_pdf_are_stored_and_recorded(
    client: TestClient,
    token: str,
    draft: int,
    storage: LocalStorage,
    db_factory: sessionmaker[Session],
) -> None:
    # when four files of the four accepted types arrive in one request
    r = upload(
        client,
        token,
        global_id(draft),
        [
            ("invoice.jpg", jpeg()),
            ("receipt.png", png()),
            ("IMG_0001.HEIC", heic()),
            ("bill.pdf", pdf()),
        ],
    )

    # then all four are answered as the GraphQL ClaimDocumentFile, in camelCase
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    docs = r.json()["documents"]
    assert [d["contentType"] for d in docs] == [
        "image/jpeg",
        "image/png",
        "image/jpeg",  # HEIC becomes JPEG so every browser shows it
        "application/pdf",
    ]
    assert [d["displayName"] for d in docs] == [
        "invoice.jpg",
        "receipt.png",
        "IMG_0001.HEIC",
        "bill.pdf",
    ]
    assert [(d["width"], d["height"]) for d in docs] == [(64, 48), (40, 30), (64, 48), (None, None)]
    assert {d["category"] for d in docs} == {"INVOICE"}
    assert {d["channel"] for d in docs} == {"APP"}
    assert not any(d["inSupplement"] for d in docs)
    assert all(d["url"].startswith("http") and "/claim-files/" in d["url"] for d in docs)
    assert [d["thumbnailUrl"] is not None for d in docs] == [True, True, True, False]
    assert all(d["problemReason"] is None for d in docs)

    # and they are recorded on the claim, with stored objects behind them
    rows = documents_of(db_factory, draft)
    assert [relay.to_base64("ClaimDocument", row.id) for row in rows] == [d["id"] for d in docs]
    assert [row.size for row in rows] == [d["size"] for d in docs]
    for row in rows:
        assert row.channel is Channel.APP and row.supplement_id is None
        assert storage.exists(row.storage_key)
        assert row.thumbnail_key is None or storage.exists(row.thumbnail_key)
    assert list(storage.temp_dir.iterdir()) == []


def test_the_integer_claim_id_works_too(client: TestClient, token: str, draft: int) -> None:
    r = upload(client, token, draft, [("a.pdf", pdf())])
    assert r.status_code == 201, r.text


def test_a_jpg_that_is_really_a_pdf_is_stored_as_a_pdf(
    client: TestClient, token: str, draft: int, storage: LocalStorage
) -> None:
    r = upload(client, token, draft, [("invoice.jpg", pdf(), "image/jpeg")])
    assert r.status_code == 201, r.text
    (doc,) = r.json()["documents"]
    assert doc["contentType"] == "application/pdf" and doc["thumbnailUrl"] is None
    assert doc["displayName"] == "invoice.jpg"


SCRIPTS = {
    "shell": b"#!/bin/sh\nrm -rf /\n",
    "html": b"<script>alert(1)</script>" * 20,
    "php": b"<?php system($_GET['c']); ?>",
    "exe": b"MZ\x90\x00" + b"\x00" * 300,
}


def test_a_jpg_that_is_a_script_is_refused_and_nothing_is_kept(
    client: TestClient,
    token: str,
    draft: int,
    storage: LocalStorage,
    db_factory: sessionmaker[Session],
) -> None:
    for kind, content in SCRIPTS.items():
        r = upload(client, token, draft, [("invoice.jpg", content, "image/jpeg")])
        assert error_of(r) == (415, "UNSUPPORTED_FILE_TYPE"), kind
        assert r.json()["error"]["field"] == "file"
    assert stored_files(storage) == []
    assert documents_of(db_factory, draft) == []


def test_chinese_file_names_are_kept_for_display(
    client: TestClient, token: str, draft: int
) -> None:
    r = upload(client, token, draft, [("门诊发票 2026.jpg", jpeg())])
    assert r.status_code == 201, r.text
    assert r.json()["documents"][0]["displayName"] == "门诊发票 2026.jpg"


def test_a_traversal_name_is_only_a_display_name(
    client: TestClient, token: str, draft: int, storage: LocalStorage, tmp_path: Path
) -> None:
    r = upload(client, token, draft, [("../../etc/passwd.jpg", jpeg())])
    assert r.status_code == 201, r.text
    assert r.json()["documents"][0]["displayName"] == "passwd.jpg"
    # everything lives under generated keys inside the storage root, nothing beside it
    files = stored_files(storage)
    assert len(files) == 2  # the image and its thumbnail
    assert all(KEY_PATTERN.fullmatch(p.name) and "passwd" not in str(p) for p in files)
    assert not (tmp_path / "etc").exists() and not (storage.root.parent / "etc").exists()


def test_exif_is_removed_and_the_image_is_upright_with_a_thumbnail(
    client: TestClient, token: str, draft: int, storage: LocalStorage, db_factory: Any
) -> None:
    # given a landscape photo, red left and blue right, whose EXIF says "rotate 90° CW"
    # and carries a camera make and a GPS position
    image = Image.new("RGB", (600, 400), (255, 0, 0))
    image.paste((0, 0, 255), (300, 0, 600, 400))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "SpyCam Ltd"
    exif.get_ifd(0x8825)[2] = (31.0, 14.0, 0.0)
    uploaded = jpeg(image, exif=exif)
    assert b"SpyCam" in uploaded

    r = upload(client, token, draft, [("photo.jpg", uploaded)])

    assert r.status_code == 201, r.text
    doc = r.json()["documents"][0]
    assert (doc["width"], doc["height"]) == (400, 600)
    (row,) = documents_of(db_factory, draft)
    data = read_stored(storage, row.storage_key)
    assert b"SpyCam" not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as again:
        assert again.size == (400, 600) and dict(again.getexif()) == {}
        top, bottom = again.getpixel((200, 20)), again.getpixel((200, 580))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60  # red is on top now
    assert bottom[2] > 200 and bottom[0] < 60
    assert row.thumbnail_key is not None
    with Image.open(io.BytesIO(read_stored(storage, row.thumbnail_key))) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 320
        assert thumb.size == (213, 320)


def test_an_empty_file_input_is_skipped_but_an_empty_named_file_is_refused(
    client: TestClient, token: str, draft: int, storage: LocalStorage
) -> None:
    # a browser sends an empty part with filename="" for a file input left empty
    body = multipart([("file", "", b""), ("file", "a.pdf", pdf())])
    r = raw_post(client, token, draft, body)
    assert r.status_code == 201, r.text
    assert len(r.json()["documents"]) == 1

    body = multipart([("file", "empty.jpg", b"")])
    assert error_of(raw_post(client, token, draft, body)) == (400, "EMPTY_FILE")


def test_a_corrupt_image_is_refused(
    client: TestClient, token: str, draft: int, storage: LocalStorage
) -> None:
    broken = jpeg(Image.new("RGB", (300, 300), (1, 2, 3)))[:400]
    r = upload(client, token, draft, [("a.pdf", pdf()), ("broken.jpg", broken)])
    assert error_of(r) == (400, "CORRUPT_FILE")
    assert stored_files(storage) == []  # the good file sent first is gone too


# --- size limits ------------------------------------------------------------------------------


def test_an_eleven_megabyte_file_is_refused_and_nothing_is_left(
    client: TestClient,
    token: str,
    draft: int,
    storage: LocalStorage,
    db_factory: sessionmaker[Session],
) -> None:
    r = upload(client, token, draft, [("a.pdf", pdf()), ("big.pdf", pdf(padding=11 * MB))])
    assert error_of(r) == (413, "FILE_TOO_LARGE")
    assert "10 MB" in r.json()["error"]["message"]
    assert stored_files(storage) == []
    assert documents_of(db_factory, draft) == []


def test_a_file_of_exactly_the_limit_passes(client: TestClient, token: str, draft: int) -> None:
    data = pdf()
    data = pdf(padding=10 * MB - len(data) - 2)
    assert len(data) == 10 * MB
    r = upload(client, token, draft, [("max.pdf", data)])
    assert r.status_code == 201, r.text


def test_the_per_claim_cap_is_kept(
    client: TestClient,
    token: str,
    draft: int,
    claims: ClaimContext,
    storage: LocalStorage,
    db_factory: sessionmaker[Session],
) -> None:
    claims.settings = claims.settings.with_(claim_upload_cap_mb=1)
    first = upload(client, token, draft, [("a.pdf", pdf(padding=600 * 1024))])
    assert first.status_code == 201, first.text
    before = stored_files(storage)

    # a second file that takes the claim past 1 MB is refused, and not kept
    second = upload(client, token, draft, [("b.pdf", pdf(padding=600 * 1024))])
    assert error_of(second) == (413, "QUOTA_EXCEEDED")
    assert stored_files(storage) == before

    # so are two files in one request that pass it together
    other = make_claim_for_cap(db_factory, draft)
    both = upload(
        client,
        token,
        other,
        [("c.pdf", pdf(padding=600 * 1024)), ("d.pdf", pdf(padding=600 * 1024))],
    )
    assert error_of(both) == (413, "QUOTA_EXCEEDED")
    assert stored_files(storage) == before
    assert len(documents_of(db_factory, draft)) == 1
    assert documents_of(db_factory, other) == []


def make_claim_for_cap(db_factory: sessionmaker[Session], like: int) -> int:
    with db_factory() as s:
        original = s.get(Claim, like)
        assert original is not None
        claim = Claim(
            account_id=original.account_id,
            applicant_id=original.applicant_id,
            policy_id=original.policy_id,
            insured_id=original.insured_id,
            relation=original.relation,
            plan_rules=original.plan_rules,
            claim_type=original.claim_type,
        )
        s.add(claim)
        s.commit()
        return claim.id


def test_too_many_files_in_one_request_are_refused(
    client: TestClient, token: str, draft: int, storage: LocalStorage
) -> None:
    r = upload(client, token, draft, [(f"{i}.pdf", pdf()) for i in range(11)])
    assert error_of(r) == (413, "TOO_MANY_FILES")
    assert stored_files(storage) == []
    ten = upload(client, token, draft, [(f"{i}.pdf", pdf()) for i in range(10)])
    assert ten.status_code == 201 and len(ten.json()["documents"]) == 10


def test_too_many_or_too_long_text_fields_are_refused(
    client: TestClient, token: str, draft: int, storage: LocalStorage
) -> None:
    fields = [(f"f{i}", None, b"x") for i in range(21)]
    r = raw_post(client, token, draft, multipart([*fields, ("file", "a.pdf", pdf())]))
    assert error_of(r) == (413, "TOO_MANY_FIELDS")
    r = raw_post(client, token, draft, multipart([("remark", None, b"x" * 9000)]))
    assert error_of(r) == (413, "FIELD_TOO_LARGE")
    # empty file inputs count too, so a body of endless empty parts is bounded
    empties = [("file", "", b"") for _ in range(21)]
    r = raw_post(client, token, draft, multipart([*empties, ("file", "a.pdf", pdf())]))
    assert error_of(r) == (413, "TOO_MANY_FIELDS")
    r = raw_post(client, token, draft, multipart([("remark", None, b"\xff\xfe")]))
    assert error_of(r) == (400, "MALFORMED_MULTIPART")
    assert stored_files(storage) == []


# --- malformed requests ----------------------------------------------------------------------


BOUNDARY = "multipart/form-data; boundary=b0undary42"
MALFORMED: dict[str, tuple[bytes, str, str]] = {
    "wrong-boundary": (
        multipart([("file", "a.pdf", pdf())], boundary="other"),
        BOUNDARY,
        "MALFORMED_MULTIPART",
    ),
    "no-boundary": (
        multipart([("file", "a.pdf", pdf())]),
        "multipart/form-data",
        "MALFORMED_MULTIPART",
    ),
    "long-boundary": (
        multipart([("file", "a.pdf", pdf())], boundary="b" * 300),
        "multipart/form-data; boundary=" + "b" * 300,
        "MALFORMED_MULTIPART",
    ),
    "truncated": (multipart([("file", "a.pdf", pdf())])[:-20], BOUNDARY, "MALFORMED_MULTIPART"),
    "empty": (b"", BOUNDARY, "MALFORMED_MULTIPART"),
    "no-disposition": (
        b"--b0undary42\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b0undary42--\r\n",
        BOUNDARY,
        "MALFORMED_MULTIPART",
    ),
    "not-form-data": (
        b'--b0undary42\r\nContent-Disposition: attachment; name="file"\r\n\r\nhi\r\n'
        b"--b0undary42--\r\n",
        BOUNDARY,
        "MALFORMED_MULTIPART",
    ),
    "bad-header": (
        b"--b0undary42\r\nnot a header\r\n\r\nhi\r\n--b0undary42--\r\n",
        BOUNDARY,
        "MALFORMED_MULTIPART",
    ),
    "huge-header": (
        b"--b0undary42\r\nX-Pad: " + b"a" * 10_000 + b"\r\n\r\nhi\r\n--b0undary42--\r\n",
        BOUNDARY,
        "MALFORMED_MULTIPART",
    ),
    "other-field": (multipart([("upload", "a.pdf", pdf())]), BOUNDARY, "MALFORMED_MULTIPART"),
    "no-file": (multipart([("remark", None, b"hello")]), BOUNDARY, "NO_FILE"),
}


def test_malformed_multipart_is_a_400(
    client: TestClient, token: str, draft: int, storage: LocalStorage
) -> None:
    for case, (body, content_type, code) in MALFORMED.items():
        r = raw_post(client, token, draft, body, content_type)
        assert error_of(r) == (400, code), case
    assert stored_files(storage) == []


def test_a_body_that_is_not_multipart_is_a_415(client: TestClient, token: str, draft: int) -> None:
    r = raw_post(client, token, draft, b'{"file": "x"}', "application/json")
    assert error_of(r) == (415, "NOT_MULTIPART")


def test_a_non_numeric_content_length_is_a_400(
    token: str, draft: int, member_app: Starlette
) -> None:
    result = drive(
        member_app,
        f"/api/claims/{draft}/documents?category=INVOICE",
        token,
        [multipart([("file", "a.pdf", pdf())])],
        content_length="12abc",
    )
    assert (result.status, result.json["error"]["code"]) == (400, "MALFORMED_MULTIPART")


# --- who and what ------------------------------------------------------------------------------


def test_unauthenticated_is_a_401(client: TestClient, demo: Any, draft: int) -> None:
    r = upload(client, None, draft, [("a.pdf", pdf())])
    assert error_of(r) == (401, "UNAUTHENTICATED")
    assert r.headers["www-authenticate"] == "Bearer"
    r = upload(client, "not-a-session", draft, [("a.pdf", pdf())])
    assert error_of(r) == (401, "UNAUTHENTICATED")
    r = client.post(
        f"/api/claims/{draft}/documents?category=INVOICE",
        headers={"Authorization": "Basic dXNlcjpwYXNz"},
        files=[("file", ("a.pdf", pdf()))],
    )
    assert error_of(r) == (401, "UNAUTHENTICATED")


def test_without_real_name_verification_it_is_a_403(api: Api, demo: Any, draft: int) -> None:
    unverified = log_in(api, "13800000003")
    r = upload(api.client, unverified, draft, [("a.pdf", pdf())])
    assert error_of(r) == (403, "REAL_NAME_REQUIRED")


def test_another_members_claim_answers_as_missing(
    api: Api, token: str, draft: int, storage: LocalStorage
) -> None:
    other = log_in(api, "13800000005")
    theirs = upload(api.client, other, global_id(draft), [("a.pdf", pdf())])
    missing = upload(api.client, token, global_id(draft + 1000), [("a.pdf", pdf())])
    assert error_of(theirs) == error_of(missing) == (404, "CLAIM_NOT_FOUND")
    assert theirs.json() == missing.json()
    assert stored_files(storage) == []


def test_a_bad_claim_id_answers_as_missing(client: TestClient, token: str) -> None:
    for claim_id in [
        "not-base64!",
        relay.to_base64("Policy", 1),
        relay.to_base64("Claim", "x"),
        relay.to_base64("Claim", "9" * 30),
        "9" * 30,
        "-1",
    ]:
        r = upload(client, token, claim_id, [("a.pdf", pdf())])
        assert error_of(r) == (404, "CLAIM_NOT_FOUND"), claim_id


def test_a_wrong_category_is_a_400(
    client: TestClient, token: str, draft: int, storage: LocalStorage
) -> None:
    for category, code in [
        ("XRAY", "CATEGORY_NOT_ALLOWED"),  # not in the plan's rules
        ("DISCHARGE_SUMMARY", "CATEGORY_NOT_ALLOWED"),  # not for an outpatient claim
        (None, "BAD_USER_INPUT"),
        ("", "BAD_USER_INPUT"),
    ]:
        r = upload(client, token, draft, [("a.pdf", pdf())], category=category)
        assert error_of(r) == (400, code), category
        assert r.json()["error"]["field"] == "category"
    assert stored_files(storage) == []


def test_a_claim_not_taking_files_is_a_409(
    client: TestClient,
    token: str,
    db_factory: sessionmaker[Session],
    demo: Any,
    storage: LocalStorage,
) -> None:
    for status in [
        ClaimStatus.SUBMITTED,
        ClaimStatus.UNDER_REVIEW,
        ClaimStatus.SETTLED,
        ClaimStatus.REJECTED,
        ClaimStatus.WITHDRAWN,
    ]:
        claim_id = make_claim(db_factory, demo, status=status)
        r = upload(client, token, claim_id, [("a.pdf", pdf())])
        assert error_of(r) == (409, "CLAIM_STATE_CONFLICT"), status
    assert stored_files(storage) == []


def test_a_pending_supplement_takes_the_requested_categories_only(
    client: TestClient,
    token: str,
    db_factory: sessionmaker[Session],
    demo: Any,
) -> None:
    claim_id = make_claim(db_factory, demo, status=ClaimStatus.PENDING_SUPPLEMENT)
    supplement_id = request_supplement(db_factory, claim_id, ["INVOICE"])

    r = upload(client, token, claim_id, [("a.pdf", pdf())], category="INVOICE")
    assert r.status_code == 201, r.text
    assert r.json()["documents"][0]["inSupplement"] is True
    assert [d.supplement_id for d in documents_of(db_factory, claim_id)] == [supplement_id]

    r = upload(client, token, claim_id, [("a.pdf", pdf())], category="MEDICAL_RECORD")
    assert error_of(r) == (400, "CATEGORY_NOT_ALLOWED")
    assert "INVOICE" in r.json()["error"]["message"]


def test_a_claim_whose_status_changes_while_files_stream_keeps_nothing(
    client: TestClient,
    token: str,
    draft: int,
    db_factory: sessionmaker[Session],
    storage: LocalStorage,
    claims: ClaimContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from api import multipart

    real = multipart.store_upload_async

    async def submit_meanwhile(*args: Any, **kwargs: Any) -> StoredUpload:
        stored = await real(*args, **kwargs)
        with db_factory() as s:
            claim = s.get(Claim, draft)
            assert claim is not None
            claim.status = ClaimStatus.SUBMITTED
            s.commit()
        return stored

    monkeypatch.setattr(multipart, "store_upload_async", submit_meanwhile)
    r = upload(client, token, draft, [("a.jpg", jpeg())])
    assert error_of(r) == (409, "CLAIM_STATE_CONFLICT")
    assert stored_files(storage) == []
    assert documents_of(db_factory, draft) == []


@pytest.mark.parametrize(
    ("before", "after", "category", "answer"),
    [
        ("INPATIENT", "OUTPATIENT", "DISCHARGE_SUMMARY", (400, "CATEGORY_NOT_ALLOWED")),
        ("OUTPATIENT", "INPATIENT", "INVOICE", (201, None)),
    ],
)
def test_a_claim_type_changed_while_files_stream_is_checked_again(
    client: TestClient,
    token: str,
    db_factory: sessionmaker[Session],
    demo: Any,
    storage: LocalStorage,
    monkeypatch: pytest.MonkeyPatch,
    before: str,
    after: str,
    category: str,
    answer: tuple[int, str | None],
) -> None:
    from api import multipart

    # given a draft whose claim type changes while the file streams in
    claim_id = make_claim(db_factory, demo, claim_type=before)
    real = multipart.store_upload_async

    async def change_meanwhile(*args: Any, **kwargs: Any) -> StoredUpload:
        stored = await real(*args, **kwargs)
        with db_factory() as s:
            claim = s.get(Claim, claim_id)
            assert claim is not None
            claim.claim_type = after
            s.commit()
        return stored

    monkeypatch.setattr(multipart, "store_upload_async", change_meanwhile)

    # when
    r = upload(client, token, claim_id, [("a.jpg", jpeg())], category=category)

    # then the category is checked against the claim type it has now
    if answer[0] == 201:
        assert r.status_code == 201, r.text
        assert [d.category for d in documents_of(db_factory, claim_id)] == [category]
    else:
        assert error_of(r) == answer
        assert stored_files(storage) == []
        assert documents_of(db_factory, claim_id) == []


# --- signature ---------------------------------------------------------------------------------


def signature_png() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGBA", (300, 120), (255, 255, 255, 0))
    image.paste((0, 0, 0, 255), (20, 50, 280, 60))
    image.save(out, "PNG")
    return out.getvalue()


def test_a_signature_is_recorded_in_one_statement_on_postgresql(
    client: TestClient, token: str, draft: int, db_connection: Any
) -> None:
    from tests.db import statements

    # when the draft is signed
    with statements(db_connection) as seen:
        r = upload(client, token, draft, [("sig.png", signature_png())], what="signature")
    assert r.status_code == 200, r.text
    # then: session and account, the draft before the body; then its row locked and read,
    # the signature written and the event recorded: one statement on PostgreSQL
    sql = [s for s in seen if "SAVEPOINT" not in s.upper()]
    words = [s.lstrip().split()[0].upper() for s in sql]
    if db_connection.dialect.name == "postgresql":
        assert words == ["SELECT", "SELECT", "WITH"], sql
        assert "FOR UPDATE" in sql[2] and "INSERT INTO claim_event" in sql[2], sql[2]
    else:
        assert words == ["SELECT", "SELECT", "SELECT", "UPDATE", "INSERT"], sql


def test_a_signature_is_stored_and_recorded(
    client: TestClient,
    token: str,
    draft: int,
    db_factory: sessionmaker[Session],
    storage: LocalStorage,
    claims: ClaimContext,
) -> None:
    r = upload(client, token, global_id(draft), [("sig.png", signature_png())], what="signature")
    assert r.status_code == 200, r.text
    sig = r.json()["signature"]
    assert sig["contentType"] == "image/png" and (sig["width"], sig["height"]) == (300, 120)
    link, viewer, _ = link_of(db_factory, claims, sig["url"])
    assert (link.kind, link.object_id, viewer) == ("sig", draft, "member")
    assert sig["signedAt"] == "2026-03-02T09:00:00+00:00"
    with db_factory() as s:
        claim = s.get(Claim, draft)
        assert claim is not None and claim.signature_key and claim.signed_at is not None
        first_key = claim.signature_key
        events = list(s.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == draft)))
    assert storage.exists(first_key)
    assert [(e.kind, e.channel) for e in events] == [("SIGNED", Channel.APP)]

    # signing again replaces it, and the old image goes
    r = upload(client, token, draft, [("sig.jpg", jpeg())], what="signature")
    assert r.status_code == 200, r.text
    with db_factory() as s:
        claim = s.get(Claim, draft)
        assert claim is not None and claim.signature_key not in (None, first_key)
        new_key = claim.signature_key
    assert not storage.exists(first_key)
    assert {p.name.split(".")[0] for p in stored_files(storage)} == {new_key.split(".")[0]}


def test_a_bad_signature_is_refused(
    client: TestClient, token: str, draft: int, storage: LocalStorage
) -> None:
    cases: dict[str, tuple[list[FileSpec], tuple[int, str]]] = {
        "pdf": ([("sig.pdf", pdf())], (415, "UNSUPPORTED_FILE_TYPE")),
        "heic": ([("sig.heic", heic())], (415, "UNSUPPORTED_FILE_TYPE")),
        "two": ([("a.png", signature_png()), ("b.png", signature_png())], (413, "TOO_MANY_FILES")),
        "too-big": ([("big.jpg", b"\xff\xd8\xff" + b"\x00" * (2 * MB))], (413, "FILE_TOO_LARGE")),
    }
    for case, (files, expected) in cases.items():
        r = upload(client, token, draft, files, what="signature")
        assert error_of(r) == expected, case
    assert error_of(raw_post_signature(client, token, draft)) == (400, "NO_FILE")
    assert stored_files(storage) == []


def raw_post_signature(client: TestClient, token: str, claim_id: int) -> Any:
    return client.post(
        f"/api/claims/{claim_id}/signature",
        content=multipart([("remark", None, b"x")]),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "multipart/form-data; boundary=b0undary42",
        },
    )


def test_only_a_draft_is_signed_and_only_by_its_maker(
    api: Api,
    token: str,
    db_factory: sessionmaker[Session],
    demo: Any,
    draft: int,
) -> None:
    sent = make_claim(db_factory, demo, status=ClaimStatus.SUBMITTED)
    r = upload(api.client, token, sent, [("s.png", signature_png())], what="signature")
    assert error_of(r) == (409, "CLAIM_STATE_CONFLICT")
    other = log_in(api, "13800000005")
    r = upload(api.client, other, draft, [("s.png", signature_png())], what="signature")
    assert error_of(r) == (404, "CLAIM_NOT_FOUND")
    r = upload(api.client, None, draft, [("s.png", signature_png())], what="signature")
    assert error_of(r) == (401, "UNAUTHENTICATED")


# --- streaming, driven over ASGI without a client that buffers the body -----------------------


@dataclasses.dataclass
class Driven:
    status: int
    json: Any
    consumed: int  # request body bytes the app read


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """On a loop of its own thread: the TestClient's portal may run one in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def drive(
    app: Any,
    path_and_query: str,
    token: str,
    chunks: Iterable[bytes],
    *,
    boundary: str = "b0undary42",
    content_length: str | None = None,
) -> Driven:
    path, _, query = path_and_query.partition("?")
    headers = [
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
    ]
    if content_length is not None:
        headers.append((b"content-length", content_length.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    source = iter(chunks)
    consumed = 0
    done = False
    status = 0
    body = bytearray()

    async def receive() -> dict[str, Any]:
        nonlocal consumed, done
        if done:
            await asyncio.sleep(3600)
        chunk = next(source, None)
        if chunk is None:
            done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        consumed += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    run_async(app(scope, receive, send))
    return Driven(status, json.loads(body) if body else None, consumed)


def streamed_pdf_upload(size: int, boundary: str = "b0undary42") -> Iterator[bytes]:
    """A multipart body with one PDF of `size` bytes, made 64 KiB at a time."""
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    head, tail = b"%PDF-1.7\n%", b"\n%%EOF\n"
    block = b"x" * (64 * 1024)
    yield head
    remaining = size - len(head) - len(tail)
    while remaining > 0:
        n = min(remaining, len(block))
        yield block[:n]
        remaining -= n
    yield tail
    yield f"\r\n--{boundary}--\r\n".encode()


def test_streaming_nine_megabytes_does_not_hold_the_file(
    member_app: Starlette, token: str, draft: int, storage: LocalStorage
) -> None:
    path = f"/api/claims/{draft}/documents?category=INVOICE"
    # a first small upload warms the caches (SQL compilation, imports) outside the measure
    warm = drive(member_app, path, token, streamed_pdf_upload(100 * 1024))
    assert warm.status == 201, warm.json

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = drive(member_app, path, token, streamed_pdf_upload(9 * MB))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.status == 201, result.json
    assert result.json["documents"][0]["size"] == 9 * MB
    growth = peak - base
    assert growth < 3 * MB, f"peak grew by {growth} bytes while 9 MB streamed in"


def test_an_oversized_file_is_refused_as_soon_as_it_passes_the_limit(
    member_app: Starlette, token: str, draft: int, storage: LocalStorage
) -> None:
    result = drive(
        member_app,
        f"/api/claims/{draft}/documents?category=INVOICE",
        token,
        streamed_pdf_upload(40 * MB),
    )
    assert (result.status, result.json["error"]["code"]) == (413, "FILE_TOO_LARGE")
    # it stopped reading just past 10 MB instead of taking in all 40
    assert 10 * MB < result.consumed < 10 * MB + 256 * 1024
    assert stored_files(storage) == []


def test_a_content_length_past_what_a_request_may_carry_is_refused_unread(
    member_app: Starlette, token: str, draft: int, storage: LocalStorage
) -> None:
    result = drive(
        member_app,
        f"/api/claims/{draft}/documents?category=INVOICE",
        token,
        streamed_pdf_upload(1 * MB),
        content_length=str(200 * MB),
    )
    assert (result.status, result.json["error"]["code"]) == (413, "REQUEST_TOO_LARGE")
    assert result.consumed == 0
    assert stored_files(storage) == []


def test_a_full_claim_is_refused_before_the_body_is_read(
    member_app: Starlette,
    token: str,
    draft: int,
    claims: ClaimContext,
    db_factory: sessionmaker[Session],
) -> None:
    with db_factory() as s:
        s.add(
            ClaimDocument(
                claim_id=draft,
                category="INVOICE",
                storage_key="0" * 32 + ".pdf",
                content_type="application/pdf",
                size=claims.claim_cap_bytes,
                original_sha256="0" * 64,
                display_name="big.pdf",
            )
        )
        s.commit()
    result = drive(
        member_app,
        f"/api/claims/{draft}/documents?category=INVOICE",
        token,
        streamed_pdf_upload(1 * MB),
    )
    assert (result.status, result.json["error"]["code"]) == (413, "QUOTA_EXCEEDED")
    assert "already" in result.json["error"]["message"]
    assert result.consumed == 0


def test_a_client_that_goes_away_leaves_nothing(
    member_app: Starlette, token: str, draft: int, storage: LocalStorage
) -> None:
    path = f"/api/claims/{draft}/documents?category=INVOICE"
    first = b"".join(streamed_pdf_upload(50 * 1024))
    second = list(streamed_pdf_upload(2 * MB))
    # one complete file, then half of the next, then the connection drops
    body = first.rsplit(b"--b0undary42--", 1)[0] + b"".join(second[:10])
    scope_result = drive_disconnecting(member_app, path, token, [body])
    assert scope_result == 400
    assert stored_files(storage) == []


def drive_disconnecting(app: Any, path_and_query: str, token: str, chunks: list[bytes]) -> int:
    path, _, query = path_and_query.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"multipart/form-data; boundary=b0undary42"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    pending = list(chunks)
    status = 0

    async def receive() -> dict[str, Any]:
        if pending:
            return {"type": "http.request", "body": pending.pop(0), "more_body": True}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    run_async(app(scope, receive, send))
    return status


# --- the reusable reader, as a plain HTML form would use it -------------------------------------


class CsrfRefused(DomainError):
    code = "CSRF_INVALID"


def form_app(storage: LocalStorage, seen: list[dict[str, str]], **options: Any) -> Starlette:
    """A tiny app shaped like the H5 supplement form: csrf, category, remark, files."""

    def check(field: str, fields: Mapping[str, str]) -> None:
        seen.append(dict(fields))
        if fields.get("csrf") != "good-token":
            raise CsrfRefused("The form has expired; open it again.")

    async def endpoint(request: Request) -> Response:
        form = receive_files(request, storage, before_file=check, **options)
        results: list[dict[str, Any]] = []
        try:
            async with form:
                async for field, result in form:
                    if isinstance(result, UploadError):
                        results.append({"field": field, "error": result.code})
                    else:
                        results.append({"field": field, "type": result.content_type})
        except DomainError as e:
            return JSONResponse({"refused": e.code, "stored": len(form.stored)}, status_code=400)
        return JSONResponse({"fields": form.fields, "files": results})

    return Starlette(routes=[Route("/form", endpoint, methods=["POST"])])


def test_the_reader_gives_the_text_fields_and_each_file_with_its_own_outcome(
    tmp_path: Path,
) -> None:
    storage = LocalStorage(tmp_path / "store")
    seen: list[dict[str, str]] = []
    with TestClient(form_app(storage, seen)) as c:
        r = c.post(
            "/form",
            data={"csrf": "good-token", "category": "INVOICE", "remark": "补充发票，谢谢"},
            files=[
                ("file", ("a.jpg", jpeg(), "image/jpeg")),
                ("file", ("evil.jpg", b"<?php system($_GET['c']); ?>" * 10, "image/jpeg")),
                ("file", ("b.pdf", pdf(), "application/pdf")),
            ],
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["fields"] == {
        "csrf": "good-token",
        "category": "INVOICE",
        "remark": "补充发票，谢谢",
    }
    # a refused file does not stop the next one: the form decides what to do with each
    assert body["files"] == [
        {"field": "file", "type": "image/jpeg"},
        {"field": "file", "error": "UNSUPPORTED_FILE_TYPE"},
        {"field": "file", "type": "application/pdf"},
    ]
    # the fields sent before the files were known before the first file's bytes
    assert seen[0] == {"csrf": "good-token", "category": "INVOICE", "remark": "补充发票，谢谢"}
    assert list(storage.temp_dir.iterdir()) == []


def test_the_reader_can_refuse_before_a_files_bytes_are_stored(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    with TestClient(form_app(storage, [])) as c:
        r = c.post(
            "/form",
            data={"csrf": "forged"},
            files=[("file", ("a.jpg", jpeg(), "image/jpeg"))],
        )
    assert r.status_code == 400
    assert r.json() == {"refused": "CSRF_INVALID", "stored": 0}
    assert [p for p in storage.root.rglob("*") if p.is_file()] == []


def test_the_reader_skips_the_rest_of_an_oversized_file_and_goes_on(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    with TestClient(form_app(storage, [], max_bytes=1 * MB, max_files=3)) as c:
        r = c.post(
            "/form",
            data={"csrf": "good-token"},
            files=[
                ("file", ("big.pdf", pdf(padding=2 * MB), "application/pdf")),
                ("file", ("small.pdf", pdf(), "application/pdf")),
            ],
        )
    assert r.status_code == 200, r.text
    assert r.json()["files"] == [
        {"field": "file", "error": "FILE_TOO_LARGE"},
        {"field": "file", "type": "application/pdf"},
    ]


# --- no database connection is held while a body streams in --------------------------------


@pytest.mark.parametrize("step", ["documents", "signature"])
def test_the_checks_before_streaming_end_their_transaction(
    member_app: Starlette,
    api: Api,
    db_factory: sessionmaker[Session],
    demo: Any,
    step: str,
) -> None:
    # A transaction left open here would hold a pooled connection for as long as the client
    # takes to send the file: a few slow uploads would then starve every other request.
    from api import claim_uploads

    token = log_in(api, "13800000001")
    claim_id = make_claim(db_factory, demo)
    services = member_app.state.services
    request = Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
        }
    )
    with db_factory() as db:
        if step == "documents":
            target = claim_uploads._documents_target(
                services, services.claims, db, request, claim_id, "INVOICE"
            )
        else:
            target = claim_uploads._signature_target(services, db, request, claim_id)
        assert (target.claim_id, db.in_transaction()) == (claim_id, False)


@pytest.mark.parametrize("raw", ["99999999999", "2147483648", "0"])
def test_an_id_beyond_the_integer_keys_is_an_unknown_claim(api: Api, demo: Any, raw: str) -> None:
    # bound to an INTEGER column, 99999999999 would overflow PostgreSQL's int4: not a 500
    token = log_in(api, "13800000001")
    r = api.client.post(
        f"/api/claims/{raw}/documents",
        params={"category": "INVOICE"},
        files={"file": ("a.jpg", jpeg(), "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "CLAIM_NOT_FOUND"


def test_an_upload_reads_the_account_once_in_four_statements(
    client: TestClient, token: str, draft: int, db_connection: Any
) -> None:
    from tests.db import statements

    # when a photo is uploaded
    with statements(db_connection) as seen:
        response = upload(client, token, draft, [("bill.jpg", jpeg())])
    # then: session and account together, the claim with its bytes before the body; the
    # claim's time written (its row locked) returning it with its bytes again, and the
    # document after it: on PostgreSQL in the same statement
    assert response.status_code == 201
    sql = [s for s in seen if "SAVEPOINT" not in s.upper()]
    words = [s.lstrip().split()[0].upper() for s in sql]
    if db_connection.dialect.name == "postgresql":
        assert words == ["SELECT", "SELECT", "WITH"], sql
        assert "UPDATE CLAIM" in sql[2].upper() and "INSERT INTO CLAIM_DOCUMENT" in sql[2].upper()
    else:
        assert words == ["SELECT", "SELECT", "UPDATE", "INSERT"], sql
    assert "RETURNING" in sql[2].upper() and "sum(" in sql[2].lower(), sql[2]
    assert not [s for s in sql if s.lstrip().upper().startswith("SELECT ACCOUNT.")]
