"""Bytes on the wire for the English list page and a GraphQL directory page: plain, gzip, br,
and a revisit with the ETag (304).

    .venv/bin/python -m scripts.bench_transfer
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings

QUERY = (
    "{ facilities(first: 20) { totalCount edges { node { id nameZh nameEn addressZh district"
    " districtEn grade gradeEn departments { zh en } verifiedOn source } } } }"
)


def _wire(c: TestClient, method: str, url: str, coding: str, **kw: object) -> tuple[int, float]:
    start = time.perf_counter()
    with c.stream(method, url, headers={"Accept-Encoding": coding}, **kw) as r:  # type: ignore[arg-type]
        size = len(b"".join(r.iter_raw()))
    return size, (time.perf_counter() - start) * 1000


def main() -> None:
    settings = Settings(environment="test", var_dir=Path(tempfile.mkdtemp()))
    with TestClient(create_app(settings)) as c:
        print("| answer | identity | gzip | br | revisit (304) |")
        print("|---|---|---|---|---|")
        for label, method, url, kw in (
            ("GET /h5/en/medical", "GET", "/h5/en/medical", {}),
            ("POST /graphql, 20 facilities", "POST", "/graphql", {"json": {"query": QUERY}}),
        ):
            sizes = [
                _wire(c, method, url, coding, **kw)[0] for coding in ("identity", "gzip", "br")
            ]
            revisit = "n/a (POST)"
            if method == "GET":
                tag = c.get(url, headers={"Accept-Encoding": "br"}).headers["etag"]
                r = c.get(url, headers={"If-None-Match": tag, "Accept-Encoding": "br"})
                revisit = f"{r.status_code}, 0 B body"
            print(f"| {label} | {sizes[0]} B | {sizes[1]} B | {sizes[2]} B | {revisit} |")


if __name__ == "__main__":
    main()
