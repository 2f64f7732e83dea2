"""Choosing, building and reopening search indexes.

An index lives in ``settings.index_dir / <content hash>`` and is reused for as
long as the directory data (and the analysis) stay the same. A new one is
written to a temporary folder and renamed into place only once complete, so a
crash never leaves half an index to be served; indexes for older data are
deleted once the new one is in place. A lock file keeps two starting servers
from building the same index at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from server.directory.directory import Directory
from server.search import SearchEngine, analysis, tantivy_engine, whoosh_engine
from server.settings import Settings

MARKER = "index.json"  # written last: an index folder without it is incomplete
LOCK = ".lock"
_BUILDING = ".build-"


class UnknownEngine(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class EngineKind:
    build: Callable[[Directory, Path], None]
    open: Callable[[Directory, Path], SearchEngine]
    stale: type[Exception]


ENGINES: dict[str, EngineKind] = {
    "whoosh": EngineKind(
        whoosh_engine.build, whoosh_engine.WhooshEngine.open, whoosh_engine.StaleIndex
    ),
    "tantivy": EngineKind(
        tantivy_engine.build, tantivy_engine.TantivyEngine.open, tantivy_engine.StaleIndex
    ),
}


def _kind(name: str) -> EngineKind:
    kind = ENGINES.get(name)
    if kind is None:
        raise UnknownEngine(
            f"Unknown search engine {name!r} (SEARCH_ENGINE): use one of {', '.join(ENGINES)}."
        )
    return kind


def index_key(directory: Directory) -> str:
    """The directory's content hash, or one made from its rows when it has none."""
    h = directory.content_hash
    if h and h.replace("-", "").replace("_", "").isalnum() and h.isascii() and len(h) <= 128:
        return h
    if h:  # not safe as a folder name as it is
        return hashlib.sha256(h.encode()).hexdigest()[:32]
    return hashlib.sha256(repr(directory.facilities).encode()).hexdigest()[:32]


def open_engine(settings: Settings, directory: Directory) -> SearchEngine:
    """The engine ``settings.search_engine`` over ``directory``, building its index
    under ``settings.index_dir`` first when there is no complete one for this data."""
    name = settings.search_engine
    kind = _kind(name)
    analysis.initialize()
    root = settings.index_dir
    root.mkdir(parents=True, exist_ok=True)
    key = index_key(directory)
    with _locked(root / LOCK):
        final = root / key
        engine = _reopen(name, kind, directory, final)
        if engine is None:
            staging = root / f"{_BUILDING}{key}-{uuid.uuid4().hex[:8]}"
            try:
                _build(name, kind, directory, staging)
                if final.exists():
                    shutil.rmtree(final)
                staging.rename(final)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            _fsync_dir(root)
            engine = kind.open(directory, final)
        _remove_stale(root, keep=key)
    return engine


def build_engine(name: str, directory: Directory, path: Path) -> SearchEngine:
    """Build a fresh index of ``directory`` at ``path`` (absent or empty) and open it."""
    kind = _kind(name)
    if path.exists() and any(path.iterdir()):
        raise FileExistsError(f"{path} is not empty; an index is built into an empty folder.")
    _build(name, kind, directory, path)
    return kind.open(directory, path)


def index_info(path: Path) -> dict[str, object] | None:
    """What the marker of a complete index says, or None for an incomplete one."""
    try:
        info = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _build(name: str, kind: EngineKind, directory: Directory, path: Path) -> None:
    started = time.perf_counter()
    kind.build(directory, path)
    info = {
        "engine": name,
        "key": index_key(directory),
        "analysis": analysis.fingerprint(),
        "facilities": len(directory),
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    marker = path / MARKER
    with marker.open("w", encoding="utf-8") as fh:
        json.dump(info, fh)
        fh.flush()
        os.fsync(fh.fileno())


def _reopen(name: str, kind: EngineKind, directory: Directory, path: Path) -> SearchEngine | None:
    info = index_info(path)
    if info is None:
        return None
    expected = {
        "engine": name,
        "key": index_key(directory),
        "analysis": analysis.fingerprint(),
        "facilities": len(directory),
    }
    if any(info.get(k) != v for k, v in expected.items()):
        return None
    try:
        return kind.open(directory, path)
    except kind.stale:
        return None


def _remove_stale(root: Path, keep: str) -> None:
    # Only ever called under the lock, so no other build is in progress here.
    for entry in root.iterdir():
        if entry.name in {keep, LOCK}:
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
