from __future__ import annotations

import logging
import os
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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--graphql-executor",
        choices=("fast", "stock"),
        default=os.environ.get("GRAPHQL_EXECUTOR", "fast"),
        help="the GraphQL executor of the test app (GRAPHQL_EXECUTOR; `make test` runs both)",
    )


@pytest.fixture(scope="session")
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Test settings over the curated data, with indexes in a throwaway var/."""
    return Settings(
        environment="test",
        var_dir=tmp_path_factory.mktemp("var"),
        graphql_executor=request.config.getoption("graphql_executor"),
        # every test client calls from one address: budgets too large to matter here
        # (tests/schema/test_rate_limits.py sets its own)
        graphql_anonymous_budget=10**9,
        graphql_signed_in_budget=10**9,
    )


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
        # 429 (with Retry-After) where every root field was refused by a limit
        assert r.status_code == 200 or (r.status_code == 429 and r.headers["retry-after"]), r.text
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
