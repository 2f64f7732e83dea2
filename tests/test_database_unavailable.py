"""A database that cannot be reached answers 503 SERVICE_UNAVAILABLE, never a 500.

tests/test_faults.py drops a real server's PostgreSQL connections mid-request; here the
same answers come, quickly and on SQLite, from a database file that cannot be opened.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.db import make_engine, make_sessionmaker
from server.services import Services

LOGIN = """mutation { logIn(input: {mobile: "13800000001", password: "Demo2026!"}) {
  __typename } }"""


@pytest.fixture
def client(services: Services, tmp_path: Path) -> Iterator[TestClient]:
    # a folder where the database file should be: every connection attempt fails
    engine = make_engine(f"sqlite:///{tmp_path}")
    broken = dataclasses.replace(services, db=make_sessionmaker(engine))
    with TestClient(create_app(services.settings, services=broken)) as c:
        yield c
    engine.dispose()


def test_graphql_answers_503_with_a_code_and_retry_after(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    r = client.post("/graphql", json={"query": LOGIN})
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    [error] = r.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "nothing was saved" in error["message"]
    # no SQL and no traceback in the answer or the log
    assert "sqlite" not in r.text.lower() and "Traceback" not in caplog.text


def test_the_upload_endpoint_answers_503_in_its_own_shape(client: TestClient) -> None:
    r = client.post(
        "/api/claims/1/documents",
        params={"category": "INVOICE"},
        files={"file": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")},
        headers={"Authorization": "Bearer " + "x" * 43},
    )
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    assert r.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


def test_a_directory_search_needs_no_database_and_still_answers(client: TestClient) -> None:
    r = client.post("/graphql", json={"query": "{ facilities(first: 1) { totalCount } }"})
    assert r.status_code == 200 and "errors" not in r.json()
