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

from h5.i18n import Translator
from h5.qr import QR_KINDS
from h5.templating import STATIC, static_version
from server.app import create_app
from server.directory.directory import Directory
from server.directory.models import Facility
from server.search import analysis
from server.settings import Settings, from_env

LANGS = ("en", "zh")
_LINK = re.compile(r'(href|src)="(/h5/[^"#]*)"')
_PAGE = re.compile(r"^(/h5/(?:en|zh)/[a-z]+)\?page=(\d+)$")
_ASSET = re.compile(r"^/h5/static/([\w.-]+)\?v=([0-9a-f]{6,64})$")
COMPRESSED = (".html", ".css", ".js", ".svg", ".json", ".txt")
_LIST_PAGE = re.compile(r"^/h5/(en|zh)/([a-z]+)/(?:page/\d+/)?$")
SEARCH_SCRIPT = "search.js"
WORKER = "sw.js"


FIRST_ROWS = 200  # rows in a list's search.json itself: all of a small list
SHARD_ROWS = 2500  # rows per further shard (search-1.json, ...), fetched at the first search
WORDS = "h5/search-words.json"


def _latin_words(f: Facility) -> set[str]:
    texts = [f.name_zh, f.name_en, f.address_zh, f.address_en, f.district, f.city, f.grade]
    texts += [d.zh for d in f.departments] + [d.en for d in f.departments] + list(f.tags)
    texts += list(analysis.CATEGORY_LABELS[f.category])
    return {
        m.group(2)
        for t in texts
        for m in analysis._RUNS.finditer(analysis.normalise(t))
        if m.group(2)
    }


def search_rows(directory: Directory, lang: str, kind: str | None) -> list[list[object]]:
    """One list's rows (every list's with kind None): per facility its id, names, district,
    point, the line shown, and the server's index terms and characters."""
    rows: list[list[object]] = []
    for f in directory.facilities:
        if kind is not None and f.kind.value != kind:
            continue
        doc = analysis.document(f)
        name, other = (
            (f.name_en or f.name_zh, f.name_zh) if lang == "en" else (f.name_zh, f.name_en)
        )
        terms = " ".join(dict.fromkeys(" ".join(doc[k] for k in analysis.TEXT_FIELDS).split()))
        grams = " ".join(dict.fromkeys(doc[analysis.GRAM].split()))
        shown = (f.address_en or f.address_zh) if lang == "en" else f.address_zh
        rows.append(
            [
                f.id,
                name,
                other if other != name else "",
                f.district,
                round(f.lat, 6),
                round(f.lng, 6),
                shown,
                terms,
                grams,
            ]
        )
    return rows


def search_files(
    rows: list[list[object]],
    lang: str,
    first_rows: int = FIRST_ROWS,
    shard_rows: int = SHARD_ROWS,
) -> dict[str, dict[str, object]]:
    """A list's compact index as files (names relative to the list's folder): search.json
    with what the page needs, the first `first_rows` rows and the names of the other shards
    (`shard_rows` rows each), which the page fetches at its first search. Rows are written
    as columns (`cols`: ids, names, ...), which compress better than rows."""
    t = Translator(lang)
    rest = rows[first_rows:]
    shards: dict[str, dict[str, object]] = {
        f"search-{i + 1}.json": {"cols": columns(rest[start : start + shard_rows])}
        for i, start in enumerate(range(0, len(rest), shard_rows))
    }
    head: dict[str, object] = {
        "base": f"/h5/{lang}/",
        "count": t.count("results.count", 987654).replace("987654", "{n}"),
        "driver": t("facility.driver"),
        "cols": columns(rows[:first_rows]),
        "shards": list(shards),
        "total": len(rows),
    }
    return {"search.json": head, **shards}


def columns(rows: list[list[object]]) -> list[list[object]]:
    return [list(column) for column in zip(*rows, strict=True)]


def search_words(directory: Directory) -> dict[str, object]:
    """What the browser needs to read a query as the server does, for every list: the
    index's lexicon (its Latin terms and how many facilities hold each: completions and
    one-typo neighbours), the stems of the directory's and the synonym table's English
    words, each synonym's terms, and the dictionary words (with jieba's frequencies) and
    characters of the directory's Chinese, to cut a query as jieba cuts it."""
    analysis.initialize()
    docs = [analysis.document(f) for f in directory.facilities]
    lexicon = analysis.lexicon_counts(docs)
    latin: set[str] = set(lexicon)  # a pinyin term typed is stemmed as English is
    for f in directory.facilities:
        latin |= _latin_words(f)
    synonyms: dict[str, list[str]] = {}
    han: set[str] = set()
    for group in analysis.synonym_groups():
        for word in group:
            if analysis._HAN_RUN.fullmatch(word):
                han.add(word)
            else:
                latin.update(m.group(2) for m in analysis._RUNS.finditer(word) if m.group(2))
            synonyms[analysis._synonym_key(word)] = list(analysis._synonym_forms(word, ()))
    stems = {w: analysis._latin_term(w) for w in latin}
    for doc in docs:
        for field in analysis.TEXT_FIELDS:
            han.update(t for t in doc[field].split() if analysis._HAN_RUN.fullmatch(t))
        han.update(doc[analysis.GRAM].split())
    freq = analysis._tokenizer.FREQ
    chars = {c for w in han for c in w}
    words = {w: freq[w] for w in han | chars if freq.get(w, 0) > 0}
    return {
        "dict": dict(sorted(words.items())),
        "lexicon": dict(sorted(lexicon.items())),
        "stems": {w: s for w, s in sorted(stems.items()) if s != w},
        "synonyms": dict(sorted(synonyms.items())),
        "total": analysis._tokenizer.total,
    }


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _dress(path: str, html: str, script: str) -> str:
    """Mark a built page as the static site's and give it the search script."""
    attrs = ' data-site="/h5/"'
    if m := _LIST_PAGE.match(path):
        attrs += f' data-index="/h5/{m.group(1)}/{m.group(2)}/search.json"'
    html = re.sub(r"<html ([^>]*)>", lambda m: f"<html {m.group(1)}{attrs}>", html, count=1)
    return html.replace("</head>", f'<script src="{script}" defer></script>\n</head>', 1)


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


def build(
    settings: Settings, out: Path, first_rows: int = FIRST_ROWS, shard_rows: int = SHARD_ROWS
) -> dict[str, object]:
    """Render the site into `out` (replaced whole); returns the manifest. `first_rows` and
    `shard_rows`: how a list's index is split (see `search_files`)."""
    app = create_app(settings)
    files: dict[str, bytes] = {}
    script = static_path(f"/h5/static/{SEARCH_SCRIPT}?v={static_version(SEARCH_SCRIPT)}")
    assert script is not None
    files[_file_for(script)] = (STATIC / SEARCH_SCRIPT).read_bytes()
    files[f"h5/{WORKER}"] = (STATIC / WORKER).read_bytes()
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
                files[_file_for(path)] = _dress(path, _rewrite(html), script).encode()
            else:
                files[_file_for(path)] = r.content
        directory = app.state.services.directory.directory
        data_date = directory.list_date()
        files[WORDS] = _json(search_words(directory))
        for lang in LANGS:
            for kind in QR_KINDS:
                rows = search_rows(directory, lang, kind)
                for name, part in search_files(rows, lang, first_rows, shard_rows).items():
                    files[f"h5/{lang}/{kind}/{name}"] = _json(part)
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
