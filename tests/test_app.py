from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from graphql import get_introspection_query
from starlette.testclient import TestClient

from server.app import create_app
from server.directory.validation import InvalidDirectoryData
from server.settings import ROOT, Settings, SettingsError, from_env


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "facilities": 15}


def test_graphql_keeps_chinese_as_utf8(client: TestClient) -> None:
    r = client.post(
        "/graphql",
        json={"query": '{ facilities(text: "仁济", first: 1) { edges { node { nameZh } } } }'},
    )
    assert "仁济".encode() in r.content
    assert b"\\u" not in r.content


def test_graphiql_only_in_development(tmp_path: Path, services) -> None:  # type: ignore[no-untyped-def]
    dev = TestClient(
        create_app(Settings(environment="development", var_dir=tmp_path), services=services)
    )
    assert "graphiql" in dev.get("/graphql", headers={"accept": "text/html"}).text.lower()
    prod_settings = Settings(
        environment="production", var_dir=tmp_path, secret_key="x" * 32, encryption_key="y" * 32
    )
    prod = TestClient(create_app(prod_settings, services=services))
    assert "graphiql" not in prod.get("/graphql", headers={"accept": "text/html"}).text.lower()


def test_production_refuses_the_development_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        create_app(Settings(environment="production", var_dir=tmp_path))


def test_server_refuses_to_start_on_invalid_data(tmp_path: Path) -> None:
    # given a copy of the data with one facility that lost its name
    data = tmp_path / "data"
    shutil.copytree(ROOT / "directory_data", data)
    medical = data / "facilities_medical.csv"
    lines = medical.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("name_zh")] = ""
    medical.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    # when the app is created over it, then it refuses, naming the file and field
    with pytest.raises(InvalidDirectoryData, match="name_zh"):
        create_app(Settings(environment="test", var_dir=tmp_path / "var", data_dir=data))


def test_settings_from_environment() -> None:
    s = from_env({"PORT": "9000", "HOST": "0.0.0.0", "SEARCH_ENGINE": "tantivy", "APP_ENV": "test"})
    assert (s.port, s.host, s.search_engine, s.environment) == (9000, "0.0.0.0", "tantivy", "test")
    assert s.base_url == "http://0.0.0.0:9000"


def test_production_answers_introspection_within_the_limits(tmp_path: Path, services) -> None:  # type: ignore[no-untyped-def]
    # the SDL is published (schema/schema.graphql), so introspection stays on in production;
    # the query limits cover it: a standard introspection query fits them, an abusive one not
    prod_settings = Settings(
        environment="production", var_dir=tmp_path, secret_key="x" * 32, encryption_key="y" * 32
    )
    # an address of its own: the session's other apps share the limiter store (and lease
    # points from it under their test-sized budgets) for the usual test client address
    with TestClient(
        create_app(prod_settings, services=services), client=("203.0.113.7", 50000)
    ) as prod:
        r = prod.post("/graphql", json={"query": get_introspection_query(descriptions=True)})
        body = r.json()
        assert r.status_code == 200 and "errors" not in body
        assert body["data"]["__schema"]["queryType"]["name"] == "Query"
        assert body["extensions"]["cost"]["requestedQueryCost"] < 10_000
        nested = (
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
        )
        refused = prod.post("/graphql", json={"query": nested}).json()
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
        assert "introspection" in refused["errors"][0]["message"].lower()
