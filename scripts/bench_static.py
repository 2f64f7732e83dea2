"""The static site's weight and the browser search's speed.

    .venv/bin/python -m scripts.bench_static

Builds the curated site and prints the English list page's first load (page, styles,
scripts, the list's search.json and the shared search-words.json, as br and gzip transfer
them); then, for the curated lists, the public OpenStreetMap corpus and a 10k synthetic
directory, with every facility in one list (the largest a list could be): the size of the
list's search.json (what a page loads), of its shards and of the words file, the time
from opening the page in Chromium to a first answer (search.json and the words) and to
the first whole answer (the shards fetched, from a local `http.server`, uncompressed),
and then the time to search (median of several runs per word).
"""

from __future__ import annotations

import gzip
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import brotli

from h5.templating import STATIC
from scripts.build_static import build, search_files, search_rows, search_words
from server.directory.loader import load_directory
from server.search import analysis
from server.settings import Settings

WORDS = (
    "仁济",
    "renji",
    "dental",
    "浦东",
    "pudong",
    "口腔",
    "hospital",
    "renj",
    "Rengi",
    "ren ji",
    "Jing'an",
)
PAGE = """<!doctype html><html lang="en" data-index="/l/search.json" data-site="/"><head><meta charset="utf-8">
<script src="/search.js" defer></script></head><body><form class="search"><input id="q" name="q">
<select id="district" name="district"><option value=""></option></select></form></body></html>"""


def _sizes(body: bytes) -> tuple[int, int, int]:
    return len(body), len(gzip.compress(body, 9, mtime=0)), len(brotli.compress(body, quality=11))


def first_load(site: Path) -> None:
    page = site / "h5/en/medical/index.html"
    html = page.read_text()
    parts = [page, site / "h5/en/medical/search.json", site / "h5/search-words.json"]
    parts += [site / p.lstrip("/") for p in _refs(html)]
    raw = gz = br = 0
    for p in parts:
        a, b, c = _sizes(p.read_bytes())
        raw, gz, br = raw + a, gz + b, br + c
    print(
        f"English list page, first load ({len(parts)} files): {raw} B raw, {gz} B gzip, {br} B br"
    )


def _refs(html: str) -> list[str]:
    import re

    return re.findall(r'(?:href|src)="(/h5/static/[^"]+)"', html)


def _serve(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/index.html", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, url


def corpus(label: str, settings: Settings, page: object) -> None:
    directory = load_directory(settings)
    words = _json(search_words(directory))
    for lang in ("en", "zh"):
        # one list holding every facility: the largest a list could be
        rows = search_rows(directory, lang, None)
        files = {name: _json(part) for name, part in search_files(rows, lang).items()}
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "index.html").write_text(PAGE)
            (folder / "search-words.json").write_bytes(words)
            (folder / "l").mkdir()
            for name, body in files.items():
                (folder / "l" / name).write_bytes(body)
            shutil.copy(STATIC / "search.js", folder / "search.js")
            proc, url = _serve(folder)
            try:
                page.goto(url + "/index.html")  # type: ignore[attr-defined]
                # from the page's opening (performance.now() counts from navigation) to the
                # first answer (search.json and the words, as the page loads them) and to
                # the first whole answer (the other shards fetched and read)
                first = page.evaluate(  # type: ignore[attr-defined]
                    """async () => { await window.staticSearch('renji', '', true);
                    return performance.now(); }"""
                )
                whole = page.evaluate(  # type: ignore[attr-defined]
                    """async () => { await window.staticSearch('renji');
                    return performance.now(); }"""
                )
                times = []
                for word in WORDS:
                    ms = page.evaluate(  # type: ignore[attr-defined]
                        """async w => { const runs = [];
                        for (let i = 0; i < 5; i++) { const t = performance.now();
                          await window.staticSearch(w); runs.push(performance.now() - t); }
                        runs.sort((a, b) => a - b); return runs[2]; }""",
                        word,
                    )
                    times.append(ms)
            finally:
                proc.terminate()
                proc.wait(10)
        head = _sizes(files["search.json"])
        total = [sum(x) for x in zip(*(_sizes(b) for b in files.values()), strict=True)]
        print(
            f"| {label} | {lang} | {len(rows)} | {head[0] / 1024:.0f} KB / {head[2] / 1024:.0f} KB"
            f" | {len(files) - 1} | {total[0] / 1024:.0f} KB / {total[2] / 1024:.0f} KB"
            f" | {_sizes(words)[2] / 1024:.0f} KB | {first:.0f} ms | {whole:.0f} ms"
            f" | {statistics.median(times):.1f} ms | {max(times):.1f} ms |"
        )


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def main() -> None:
    from playwright.sync_api import sync_playwright

    from tests.h5.browser_helpers import launch_chromium

    var = Path(tempfile.mkdtemp())
    curated = Settings(environment="test", var_dir=var)
    analysis.initialize()
    site = var / "site"
    build(curated, site)
    first_load(site)
    synthetic = var / "synthetic"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.generate_synthetic",
            "--count",
            "10000",
            "--out",
            str(synthetic),
            "--seed",
            "7",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(
        "| directory | language | facilities | search.json raw / br | shards | whole index raw / br"
        " | words br | first answer | first whole answer | search, median word | slowest word |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page()
        corpus("curated", curated, page)
        corpus(
            "OSM corpus", Settings(environment="test", var_dir=var, directory_source="osm"), page
        )
        corpus(
            "synthetic 10k",
            Settings(environment="test", var_dir=var, directory_source=str(synthetic)),
            page,
        )
        browser.close()


if __name__ == "__main__":
    main()
