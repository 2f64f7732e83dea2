from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.app import build_services, create_app
from server.logs import UVICORN_LOGGERS
from server.services import Services
from server.settings import Settings

# database fixtures (SQLite and PostgreSQL), factories and the member API client; the
# limiter's backends
pytest_plugins = ("tests.db", "tests.limits")


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Test settings over the curated data, with indexes in a throwaway var/."""
    return Settings(environment="test", var_dir=tmp_path_factory.mktemp("var"))


@pytest.fixture(scope="session")
def services(settings: Settings) -> Services:
    return build_services(settings)


@pytest.fixture(scope="session")
def app(settings: Settings, services: Services) -> Starlette:
    return create_app(settings, services=services)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


class GraphQLClient:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def __call__(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> Any:
        r = self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def gql(client: TestClient) -> GraphQLClient:
    return GraphQLClient(client)


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Puts the root and uvicorn loggers back as they were after a test configures logging."""
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in UVICORN_LOGGERS)]
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in loggers]
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture(scope="session")
def root() -> Path:
    return Path(__file__).resolve().parent.parent
