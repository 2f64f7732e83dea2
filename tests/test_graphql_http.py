"""A plain JSON POST to /graphql is answered exactly as Strawberry's view would answer it.

GraphQLApp takes a direct path for ordinary API calls (server/app.py, `_dispatch`).
Each request here is sent twice, once as it comes and once with the direct path
switched off, and status, headers and body must be the same byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import server.app
from server.app import GraphQLApp

SEARCH = "query($text: String) { facilities(text: $text, first: 2) { totalCount edges { node { id nameZh } } } }"
TWO_OPERATIONS = (
    "query A { facilities(first: 1) { totalCount } } query B { facilityFacets { totalCount } }"
)

# (body as JSON, or raw bytes; headers)
REQUESTS: list[tuple[Any, dict[str, str]]] = [
    ({"query": SEARCH, "variables": {"text": "仁济"}}, {}),
    ({"query": SEARCH, "variables": {"text": 5}}, {}),  # a variable of the wrong type
    ({"query": SEARCH}, {"content-type": "application/json; charset=utf-8"}),
    ({"query": "{ facilities { nope } }"}, {}),
    ({"query": "{ facilities { totalCount "}, {}),
    ({"query": TWO_OPERATIONS, "operationName": "B"}, {}),
    ({"query": TWO_OPERATIONS}, {}),  # which operation: the client must say
    ({"query": TWO_OPERATIONS, "operationName": "C"}, {}),
    ({"query": "subscription { facilities { totalCount } }"}, {}),
    ({"query": "mutation { nope }"}, {}),
    ({"query": SEARCH, "extensions": {"x": 1}}, {}),
    ({"query": SEARCH, "variables": None, "operationName": None}, {"accept": "*/*"}),
    ({"query": SEARCH}, {"accept": "application/json"}),
    ({"query": '{ facility(id: "RmFjaWxpdHk6bm9uZQ==") { id } }'}, {}),
    ({"query": '{ facilities(after: "not a cursor") { totalCount } }'}, {}),
    # not plain API calls: the view answers, as before
    ({"query": ""}, {}),
    ({"variables": {}}, {}),
    ({"query": SEARCH, "variables": [1]}, {}),
    ({"query": SEARCH, "operationName": 3}, {}),
    ([{"query": SEARCH}], {}),
    (b'{"query": ', {"content-type": "application/json"}),
    (b"[]", {"content-type": "application/json"}),
    ({"query": SEARCH}, {"content-type": "text/plain"}),
    ({"query": SEARCH}, {"accept": "multipart/mixed"}),
]


@pytest.fixture
def clients(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def _send(client: TestClient, body: Any, headers: dict[str, str]) -> tuple[int, list[Any], bytes]:
    if isinstance(body, bytes):
        r = client.post("/graphql", content=body, headers=headers)
    else:
        r = client.post("/graphql", json=body, headers=headers)
    return r.status_code, sorted(r.headers.items()), r.content


@pytest.mark.parametrize(("body", "headers"), REQUESTS)
def test_same_response_as_strawberrys_view(
    clients: TestClient, monkeypatch: pytest.MonkeyPatch, body: Any, headers: dict[str, str]
) -> None:
    direct = _send(clients, body, headers)

    async def no_plain_operation(request: Any) -> None:
        return None

    with monkeypatch.context() as m:
        m.setattr(server.app, "_plain_operation", no_plain_operation)
        view = _send(clients, body, headers)
    assert direct == view


def test_plain_calls_take_the_direct_path(
    clients: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = GraphQLApp._execute_plain

    async def spy(self: GraphQLApp, request: Any, query: str, *rest: Any) -> Any:
        calls.append(query)
        return await original(self, request, query, *rest)

    monkeypatch.setattr(GraphQLApp, "_execute_plain", spy)
    for body, headers in REQUESTS:
        _send(clients, body, headers)
    assert len(calls) == 15  # the first fifteen requests above
