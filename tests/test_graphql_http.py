"""A plain JSON POST to /graphql is answered exactly as Strawberry's view would answer it.

With GRAPHQL_EXECUTOR=fast, GraphQLApp takes a direct path for ordinary API calls
(server/app.py, `_dispatch`) and executes with schema/execution.py; with `stock`, the
view and Strawberry's executor answer everything. Each request here is sent to an app of
each kind, and status, headers and body must be the same byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import GraphQLApp, create_app
from server.services import Services
from server.settings import Settings

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
def clients(settings: Settings, services: Services) -> Iterator[dict[str, TestClient]]:
    # without the response cache: these compare how each executor answers
    apps = {
        executor: create_app(
            settings.with_(graphql_executor=executor, response_cache_mb=0), services=services
        )
        for executor in ("fast", "stock")
    }
    with TestClient(apps["fast"]) as fast, TestClient(apps["stock"]) as stock:
        yield {"fast": fast, "stock": stock}


def _send(client: TestClient, body: Any, headers: dict[str, str]) -> tuple[int, list[Any], bytes]:
    if isinstance(body, bytes):
        r = client.post("/graphql", content=body, headers=headers)
    else:
        r = client.post("/graphql", json=body, headers=headers)
    return r.status_code, sorted(r.headers.items()), r.content


@pytest.mark.parametrize(("body", "headers"), REQUESTS)
def test_same_response_as_strawberrys_view(
    clients: dict[str, TestClient], body: Any, headers: dict[str, str]
) -> None:
    assert _send(clients["fast"], body, headers) == _send(clients["stock"], body, headers)


@pytest.mark.parametrize(("executor", "direct"), [("fast", 15), ("stock", 0)])
def test_plain_calls_take_the_direct_path_with_the_fast_executor(
    clients: dict[str, TestClient], monkeypatch: pytest.MonkeyPatch, executor: str, direct: int
) -> None:
    calls: list[str] = []
    original = GraphQLApp._execute_plain

    async def spy(self: GraphQLApp, request: Any, query: str, *rest: Any) -> Any:
        calls.append(query)
        return await original(self, request, query, *rest)

    monkeypatch.setattr(GraphQLApp, "_execute_plain", spy)
    for body, headers in REQUESTS:
        _send(clients[executor], body, headers)
    assert len(calls) == direct  # the first fifteen requests above, when fast


MALFORMED = [
    (b"null", "application/json", 400, "BAD_REQUEST"),
    (b'"x"', "application/json", 400, "BAD_REQUEST"),
    (b"\xff\xfe{}", "application/json", 400, "BAD_REQUEST"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "BAD_REQUEST"),
    (b'[{"query": "{ __typename }"}]', "application/json", 400, "BAD_REQUEST"),
    (b'{"query": "{ __typename }"}', "text/plain", 400, "BAD_REQUEST"),
    (b'{"query": 5}', "application/json", 400, "BAD_REQUEST"),
    (b'{"query": "{ __typename }", "variables": [1]}', "application/json", 400, "BAD_REQUEST"),
    (b'{"query": "' + b"x" * (1024 * 1024) + b'"}', "application/json", 413, "PAYLOAD_TOO_LARGE"),
]


@pytest.mark.parametrize(("body", "content_type", "status", "code"), MALFORMED)
def test_a_malformed_body_gets_a_graphql_shaped_error(
    clients: dict[str, TestClient], body: bytes, content_type: str, status: int, code: str
) -> None:
    for client in clients.values():
        r = client.post("/graphql", content=body, headers={"content-type": content_type})
        assert (r.status_code, r.headers["content-type"]) == (status, "application/json")
        assert [e["extensions"]["code"] for e in r.json()["errors"]] == [code]
        assert r.json()["errors"][0]["message"]


def test_a_body_over_the_cap_is_refused_while_it_streams(clients: dict[str, TestClient]) -> None:
    # no Content-Length: the body is counted as it arrives
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    r = clients["fast"].post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
