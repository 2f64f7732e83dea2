from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.errors import NotFound
from server.storage import InvalidKey, S3Storage, iter_chunks, store_upload
from server.storage.backend import new_key, new_temp_file, thumbnail_key

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

BUCKET = "claims-uploads"


@pytest.fixture
def s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Storage]:
    # moto answers in-process; these placeholder values only satisfy botocore's signer.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield S3Storage(BUCKET, client=client, temp_dir=tmp_path / "tmp")


def put_bytes(storage: S3Storage, key: str, data: bytes) -> None:
    temp = new_temp_file(storage)
    temp.write_bytes(data)
    storage.put_file(key, temp)


def test_put_open_delete(s3):
    key = new_key("pdf")
    temp = new_temp_file(s3)
    temp.write_bytes(b"%PDF-1.4 hello")

    s3.put_file(key, temp)

    assert not temp.exists()
    assert s3.exists(key)
    head = s3.client.head_object(Bucket=BUCKET, Key="uploads/" + key)
    assert head["ContentType"] == "application/pdf"
    assert b"".join(iter_chunks(s3, key, 4)) == b"%PDF-1.4 hello"
    s3.delete(key)
    assert not s3.exists(key)


def test_missing_and_invalid_keys(s3):
    with pytest.raises(NotFound):
        s3.open(new_key("jpg"))
    with pytest.raises(InvalidKey):
        s3.exists("../other-bucket/secret")


def test_upload_through_s3(s3, samples):
    data = samples.jpeg(samples.noise(400, 200))
    stored = store_upload(s3, io.BytesIO(data), filename="a.jpg")
    assert s3.exists(stored.key) and s3.exists(stored.thumbnail_key)
    assert list(s3.temp_dir.iterdir()) == []


def test_keys_older_than_and_cleanup(s3):
    known, orphan = new_key("jpg"), new_key("png")
    for key in (known, thumbnail_key(known), orphan):
        put_bytes(s3, key, b"x")
    s3.client.put_object(Bucket=BUCKET, Key="uploads/not-a-key.txt", Body=b"x")
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1)
    earlier = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10)

    assert sorted(s3.keys_older_than(later)) == sorted([known, thumbnail_key(known), orphan])
    assert list(s3.keys_older_than(earlier)) == []

    report = s3.cleanup_orphans({known}, older_than=later)
    assert report.orphans == [orphan]
    assert s3.exists(known) and s3.exists(thumbnail_key(known)) and not s3.exists(orphan)
