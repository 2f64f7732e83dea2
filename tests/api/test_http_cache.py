"""ETags, 304s, Cache-Control per kind of file, and br/gzip negotiation on every answer."""

from __future__ import annotations

import gzip

import brotli
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from api.http_cache import Compress, Conditional, choose
from h5.templating import static_version

LONG = "仁济医院 Renji Hospital dental " * 100


def test_choose_honours_preferences() -> None:
    assert choose("gzip, deflate, br") == "br"
    assert choose("gzip") == "gzip"
    assert choose("br;q=0.5, gzip;q=0.9") == "gzip"
    assert choose("br;q=0, gzip;q=0") is None
    assert choose("identity") is None
    assert choose("*") == "br"
    assert choose("") is None


def test_h5_page_has_an_etag_and_answers_304(client: TestClient) -> None:
    # given a directory page
    r = client.get("/h5/en/medical", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200
    etag = r.headers["etag"]
    assert r.headers["cache-control"] == "private, no-cache"  # HTML: revalidated each time
    # when asked again with its tag
    again = client.get("/h5/en/medical", headers={"If-None-Match": etag})
    # then 304, no body, same tag and caching
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["cache-control"] == "private, no-cache"
    # a compressed copy's weak tag is as good
    compressed = client.get("/h5/en/medical", headers={"Accept-Encoding": "br"})
    assert compressed.headers["etag"] == f"W/{etag}"
    weak = client.get(
        "/h5/en/medical",
        headers={"If-None-Match": compressed.headers["etag"], "Accept-Encoding": "br"},
    )
    assert weak.status_code == 304


@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_h5_pages_and_graphql_are_compressed_when_asked(client: TestClient, coding: str) -> None:
    page = client.get("/h5/en/medical", headers={"Accept-Encoding": coding})
    assert page.headers["content-encoding"] == coding
    assert "Accept-Encoding" in page.headers["vary"]
    assert int(page.headers["content-length"]) < len(page.content) / 2  # decoded by httpx
    query = "{ facilities(first: 20) { edges { node { nameZh nameEn addressZh district } } } }"
    gql = client.post("/graphql", json={"query": query}, headers={"Accept-Encoding": coding})
    assert gql.status_code == 200
    assert gql.headers["content-encoding"] == coding
    assert gql.json()["data"]["facilities"]["edges"]


def test_nothing_is_compressed_unasked(client: TestClient) -> None:
    r = client.get("/h5/en/medical", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in r.headers
    assert "Accept-Encoding" in r.headers["vary"]


def test_static_files_cache_by_kind(client: TestClient) -> None:
    # fingerprinted: a year, immutable; plain: an hour; both with validators and 304s
    for url in ("/h5/static/h5.css", "/static/h5.css"):
        plain = client.get(url)
        assert plain.headers["cache-control"] == "public, max-age=3600"
        assert plain.headers["last-modified"]
        tagged = client.get(
            f"{url}?v={static_version('h5.css')}", headers={"Accept-Encoding": "br"}
        )
        assert tagged.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert tagged.headers["content-encoding"] == "br"
        again = client.get(url, headers={"If-None-Match": tagged.headers["etag"]})
        assert again.status_code == 304
        since = client.get(url, headers={"If-Modified-Since": plain.headers["last-modified"]})
        assert since.status_code == 304


def _app() -> Starlette:
    async def small(request: object) -> Response:
        return PlainTextResponse("short")

    async def whole(request: object) -> Response:
        return PlainTextResponse(LONG)

    async def streamed(request: object) -> Response:
        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(3):
                yield LONG.encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    async def png(request: object) -> Response:
        return Response(b"\x89PNG" + b"\0" * 2000, media_type="image/png")

    app = Starlette(
        routes=[
            Route("/small", small),
            Route("/whole", whole),
            Route("/streamed", streamed),
            Route("/png", png),
            Route("/api/file", whole),
        ]
    )
    app.add_middleware(Conditional)
    app.add_middleware(Compress)
    return app


def test_streams_small_answers_binary_and_private_files_go_as_they_are() -> None:
    with TestClient(_app()) as c:
        headers = {"Accept-Encoding": "gzip, br"}
        assert c.get("/whole", headers=headers).headers["content-encoding"] == "br"
        for path in ("/small", "/streamed", "/png", "/api/file"):
            r = c.get(path, headers=headers)
            assert "content-encoding" not in r.headers, path
        assert "etag" not in c.get("/streamed").headers
        assert "etag" not in c.get("/api/file").headers
        raw = c.get("/whole", headers={"Accept-Encoding": "gzip"})
        assert raw.text == LONG
        # the bytes on the wire really are gzip
        with c.stream("GET", "/whole", headers={"Accept-Encoding": "gzip"}) as s:
            wire = b"".join(s.iter_raw())
        assert gzip.decompress(wire).decode() == LONG
        with c.stream("GET", "/whole", headers={"Accept-Encoding": "br"}) as s:
            wire = b"".join(s.iter_raw())
        assert brotli.decompress(wire).decode() == LONG
