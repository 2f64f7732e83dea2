"""Claim files on S3-compatible storage over HTTP: moto's S3 server on loopback, reached
through the settings (STORAGE_BACKEND=s3, S3_BUCKET, S3_ENDPOINT_URL, S3_REGION), as a
deployment of several servers has it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims.core import ClaimContext, claim_context
from server.claims.models import ClaimDocument
from server.services import Services
from server.settings import Settings
from server.storage import S3Storage
from tests.api.test_claim_uploads import jpeg, log_in, make_claim, upload
from tests.db import Api, FakeClock
from tests.server.claims.files_helpers import (
    account_of,
    add_document,
    settle,
    sign,
    submit,
    token,
)
from tests.server.claims.files_helpers import make_claim as make_full_claim

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

BUCKET = "claims-uploads"
REGION = "cn-north-1"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 in server mode: real HTTP on a loopback port of its own."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    # moto takes any credentials; these only satisfy botocore's signer
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def claims(
    services: Services,
    member_settings: Settings,
    members: MemberServices,
    clock: FakeClock,
    tmp_path: Path,
    bucket: Any,
    s3_endpoint: str,
) -> ClaimContext:
    """The claim services with the storage the settings choose: the S3 server."""
    settings = services.settings.with_(
        secret_key=member_settings.secret_key,
        storage_backend="s3",
        s3_bucket=BUCKET,
        s3_endpoint_url=s3_endpoint,
        s3_region=REGION,
        storage_dir=tmp_path / "uploads",
    )
    return claim_context(settings, members.vault, members.accounts.codes, clock)


def objects(bucket: Any) -> dict[str, bytes]:
    out = {}
    for page in bucket.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            out[item["Key"]] = bucket.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
    return out


def test_an_upload_goes_to_the_bucket_and_reads_back_through_its_link(
    api: Api, db_factory: sessionmaker[Session], demo: Any, claims: ClaimContext, bucket: Any
) -> None:
    assert isinstance(claims.storage, S3Storage)
    # given a member's draft
    member_token = log_in(api, "13800000001")
    draft = make_claim(db_factory, demo)
    # when a photo of an invoice is uploaded over HTTP
    r = upload(api.client, member_token, draft, [("发票.jpg", jpeg(), "image/jpeg")])
    # then it and its preview are objects in the bucket, and nothing stays on local disk
    assert r.status_code == 201, r.text
    [doc] = r.json()["documents"]
    with db_factory() as s:
        row = s.scalars(select(ClaimDocument).where(ClaimDocument.claim_id == draft)).one()
    stored = objects(bucket)
    assert set(stored) == {f"uploads/{row.storage_key}", f"uploads/{row.thumbnail_key}"}
    assert list(claims.storage.temp_dir.iterdir()) == []
    # and its signed link serves the object's bytes, read from the bucket
    path = doc["url"].split("://", 1)[1].split("/", 1)[1]
    served = api.client.get("/" + path)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.content == stored[f"uploads/{row.storage_key}"]
    preview = api.client.get("/" + doc["thumbnailUrl"].split("://", 1)[1].split("/", 1)[1])
    assert preview.content == stored[f"uploads/{row.thumbnail_key}"]


def test_the_settlement_notice_pdf_is_kept_in_the_bucket_and_served_from_it(
    api: Api, db_factory: sessionmaker[Session], demo: Any, claims: ClaimContext, bucket: Any
) -> None:
    # given a settled claim whose documents are in the bucket
    with db_factory() as db:
        claim = make_full_claim(db, claims, demo)
        add_document(db, claims, claim, jpeg(), "发票.jpg")
        sign(db, claims, claim)
        submit(db, claims, claim)
        settle(db, claims, claim, decided_at=claims.now())
        db.commit()
        claim_id, main = claim.id, account_of(db, claims, "13800000001").id
    before = set(objects(bucket))
    # when the member opens the notice's PDF
    first = api.client.get(
        "/claim-files/" + token(db_factory, claims, "notice-pdf", claim_id, "member", main)
    )
    # then it is rendered once and kept in the bucket
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    [kept] = set(objects(bucket)) - before
    assert objects(bucket)[kept] == first.content
    # and opened again (on this or any other server) it is read back from the bucket
    bucket.put_object(Bucket=BUCKET, Key=kept, Body=first.content + b"%kept\n")
    again = api.client.get(
        "/claim-files/" + token(db_factory, claims, "notice-pdf", claim_id, "member", main)
    )
    assert again.status_code == 200
    assert again.content == first.content + b"%kept\n"
    assert again.headers["content-type"] == "application/pdf"
