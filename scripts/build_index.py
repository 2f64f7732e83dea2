"""Build (or confirm) the search index for the current settings.

    .venv/bin/python -m scripts.build_index            # SEARCH_ENGINE, DIRECTORY_SOURCE, VAR_DIR apply

The server builds a missing index itself on start-up; running this first
(``make serve`` does) keeps that time out of the first request and reports it.
An index that is already complete for the data is reused, not rebuilt.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from server.directory.loader import load_directory
from server.directory.validation import InvalidDirectoryData
from server.search import SearchFilters, analysis
from server.search.factory import (
    ENGINES,
    MARKER,
    index_info,
    index_key,
    open_engine,
)
from server.settings import from_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.build_index", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--engine", help="whoosh or tantivy (default: SEARCH_ENGINE, else whoosh)")
    parser.add_argument("--source", help="curated, osm or a folder (default: DIRECTORY_SOURCE)")
    args = parser.parse_args(argv)

    settings = from_env()
    if args.engine:
        settings = settings.with_(search_engine=args.engine)
    if args.source:
        settings = settings.with_(directory_source=args.source)

    if settings.search_engine not in ENGINES:
        print(
            f"error: unknown search engine {settings.search_engine!r}; "
            f"use one of {', '.join(ENGINES)}",
            file=sys.stderr,
        )
        return 2

    started = time.perf_counter()
    analysis.initialize()
    try:
        directory = load_directory(settings)
    except InvalidDirectoryData as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    loaded = time.perf_counter()
    print(
        f"directory {settings.directory_source!r}: {len(directory)} facilities "
        f"loaded in {loaded - started:.2f} s (with the Chinese dictionary)"
    )

    path = settings.index_dir / index_key(directory)
    before = _marker_time(path)
    engine = open_engine(settings, directory)
    try:
        opened = time.perf_counter()
        listed = engine.search(None, SearchFilters(), None).total
        info = index_info(path) or {}
        what = "built" if _marker_time(path) != before else "reused"
        print(
            f"{engine.name} index {what} at {path}: {listed} facilities, "
            f"ready in {opened - loaded:.2f} s (build took {info.get('build_seconds', '?')} s)"
        )
    finally:
        engine.close()
    return 0


def _marker_time(path: Path) -> int | None:
    try:
        return (path / MARKER).stat().st_mtime_ns
    except OSError:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
