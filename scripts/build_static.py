"""Write the public directory as a static site: the app's own pages, crawled and saved.

    .venv/bin/python -m scripts.build_static --out var/site

Every page the H5 app links to from its language pages (lists and their pages, a page and
a driver card per facility, favourites, FAQ), the QR codes (SVG and PNG) and the assets
are rendered by the app itself (same templates, same data) and written as files:
`/h5/en/medical` becomes `h5/en/medical/index.html`, page 2 of a list
`h5/en/medical/page/2/index.html`, and assets get their content hash in the name
(`h5/static/h5.<hash>.css`, links rewritten). Beside every file lie `.gz` and `.br`
copies; `manifest.json` lists each file's size and SHA-256 with the data date. The output
depends only on the data and the code: building twice gives the same bytes.

Publish the folder to any static host or bucket (see README: Static site); the app serves
it too, under /h5/, when STATIC_SITE_DIR names it.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import brotli
from starlette.testclient import TestClient

from h5.qr import QR_KINDS
from server.app import create_app
from server.settings import Settings, from_env

LANGS = ("en", "zh")
_LINK = re.compile(r'(href|src)="(/h5/[^"#]*)"')
_PAGE = re.compile(r"^(/h5/(?:en|zh)/[a-z]+)\?page=(\d+)$")
_ASSET = re.compile(r"^/h5/static/([\w.-]+)\?v=([0-9a-f]{6,64})$")
COMPRESSED = (".html", ".css", ".js", ".svg", ".json", ".txt")


def static_path(url: str) -> str | None:
    """Where a page or asset URL lives in the built site (a path from its root), or None
    for URLs a static site cannot answer (searches, other query strings)."""
    if m := _ASSET.match(url):
        name, version = m.groups()
        stem, dot, ext = name.rpartition(".")
        return f"/h5/static/{stem}.{version}{dot}{ext}"
    if m := _PAGE.match(url.replace("&amp;", "&")):
        base, page = m.groups()
        return f"{base}/" if page == "1" else f"{base}/page/{page}/"
    if "?" in url:
        return None
    if url.endswith((".svg", ".png")):
        return url
    return url.rstrip("/") + "/"


def _file_for(path: str) -> str:
    return path.lstrip("/") + ("index.html" if path.endswith("/") else "")


def _rewrite(html: str) -> str:
    def swap(m: re.Match[str]) -> str:
        target = static_path(m.group(2))
        return f'{m.group(1)}="{target}"' if target is not None else m.group(0)

    return _LINK.sub(swap, html)


def build(settings: Settings, out: Path) -> dict[str, object]:
    """Render the site into `out` (replaced whole); returns the manifest."""
    app = create_app(settings)
    files: dict[str, bytes] = {}
    with TestClient(app) as client:
        queue = [f"/h5/{lang}" for lang in LANGS]
        queue += [f"/h5/{lang}/{kind}" for lang in LANGS for kind in QR_KINDS]
        queue += [f"/h5/{lang}/{page}" for lang in LANGS for page in ("favourites", "faq")]
        queue += [f"/h5/en/qr/{kind}.{ext}" for kind in QR_KINDS for ext in ("svg", "png")]
        seen: set[str] = set()
        while queue:
            url = queue.pop()
            path = static_path(url)
            if path is None or path in seen:
                continue
            seen.add(path)
            r = client.get(url.replace("&amp;", "&"), headers={"Accept-Encoding": "identity"})
            if r.status_code != 200:
                raise SystemExit(f"build_static: {url} answered {r.status_code}")
            if r.headers["content-type"].startswith("text/html"):
                html = r.text
                queue.extend(m.group(2) for m in _LINK.finditer(html))
                files[_file_for(path)] = _rewrite(html).encode()
            else:
                files[_file_for(path)] = r.content
        data_date = app.state.services.directory.directory.list_date()
    manifest = {
        "data_date": data_date,
        "base_url": settings.base_url,
        "files": {
            name: {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            for name, body in sorted(files.items())
        },
    }
    files["manifest.json"] = json.dumps(
        manifest, ensure_ascii=False, indent=1, sort_keys=True
    ).encode()
    staging = Path(tempfile.mkdtemp(prefix=".site-", dir=out.parent))
    for name, body in sorted(files.items()):
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        if name.endswith(COMPRESSED):
            (staging / f"{name}.gz").write_bytes(gzip.compress(body, 9, mtime=0))
            (staging / f"{name}.br").write_bytes(brotli.compress(body, quality=11))
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.build_static", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=Path("var/site"), help="the folder to write")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    manifest = build(from_env(), args.out.resolve())
    files = manifest["files"]
    assert isinstance(files, dict)
    total = sum(f["bytes"] for f in files.values())
    print(
        f"{len(files)} files, {total} bytes (before compression), data of {manifest['data_date']}: {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
