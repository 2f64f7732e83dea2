"""The static site's weight and the browser search's speed.

    .venv/bin/python -m scripts.bench_static

Builds the curated site and prints the English list page's first load (page, styles,
scripts and the list's index, as br and gzip transfer it); then, for the curated lists,
the public OpenStreetMap corpus and a 10k synthetic directory, the size of each
language's compact index (all lists of that language together) and the time Chromium
takes to search it (median of several runs per word, the index already loaded).
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
from scripts.build_static import build, search_index
from server.directory.loader import load_directory
from server.search import analysis
from server.settings import Settings

WORDS = ("仁济", "renji", "dental", "浦东", "pudong", "口腔", "hospital")
PAGE = """<!doctype html><html lang="en" data-index="/index.json"><head><meta charset="utf-8">
<script src="/search.js" defer></script></head><body><form class="search"><input id="q" name="q">
<select id="district" name="district"><option value=""></option></select></form></body></html>"""


def _sizes(body: bytes) -> tuple[int, int, int]:
    return len(body), len(gzip.compress(body, 9, mtime=0)), len(brotli.compress(body, quality=11))


def first_load(site: Path) -> None:
    page = site / "h5/en/medical/index.html"
    html = page.read_text()
    parts = [page, site / "h5/en/medical/search.json"]
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
    for lang in ("en", "zh"):
        # one index over every list: the largest a list could be
        merged: dict[str, object] = {}
        rows: list[object] = []
        stems: dict[str, str] = {}
        for kind in ("medical", "dental", "designated"):
            index = search_index(directory, lang, kind)
            rows += index["rows"]  # type: ignore[operator]
            stems.update(index["stems"])  # type: ignore[arg-type]
            merged = {**index, "rows": rows, "stems": stems, "pages": []}
        body = json.dumps(
            merged, ensure_ascii=False, separators=(",", ":"), sort_keys=True
        ).encode()
        raw, gz, br = _sizes(body)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "index.html").write_text(PAGE)
            (folder / "index.json").write_bytes(body)
            shutil.copy(STATIC / "search.js", folder / "search.js")
            proc, url = _serve(folder)
            try:
                page.goto(url + "/index.html")  # type: ignore[attr-defined]
                page.evaluate("() => window.staticSearch('')")  # type: ignore[attr-defined]
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
        print(
            f"| {label} | {lang} | {len(rows)} | {raw / 1024:.0f} KB | {gz / 1024:.0f} KB | {br / 1024:.0f} KB |"
            f" {statistics.median(times):.1f} ms | {max(times):.1f} ms |"
        )


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
        "| directory | language | facilities | index | gzip | br | search, median word | slowest word |"
    )
    print("|---|---|---|---|---|---|---|---|")
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
