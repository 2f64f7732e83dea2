"""Turn the configured directory source into a validated, immutable Directory."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from pathlib import Path

from server.directory import osm, store
from server.directory.directory import Directory, make_directory
from server.directory.validation import FolderData, read_folder, source_files
from server.settings import Settings

log = logging.getLogger(__name__)

CURATED = "curated"
OSM = "osm"


def osm_sources_dir(settings: Settings) -> Path:
    return settings.data_dir / "sources" / "osm_shanghai"


def osm_corpus_dir(settings: Settings) -> Path:
    return settings.var_dir / "osm"


def ensure_osm_corpus(settings: Settings) -> Path:
    """The OSM corpus folder, (re)built from the bundled export when missing or stale."""
    out = osm_corpus_dir(settings)
    sources = osm_sources_dir(settings)
    if not osm.corpus_is_current(out, sources, settings.data_dir):
        report = osm.import_osm(
            sources / osm.HEALTH_FILE, sources / osm.DISTRICTS_FILE, settings.data_dir, out
        )
        log.info("built the OpenStreetMap corpus in %s: %d facilities", out, report.imported)
    return out


def content_hash(files: list[Path]) -> str:
    """sha256 over the names and bytes of a folder's source files."""
    h = hashlib.sha256()
    for path in files:
        h.update(path.name.encode())
        h.update(b"\0")
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def remembered_content_hash(files: list[Path], memo: Path) -> str:
    """`content_hash(files)`, remembered in the file `memo` with each file's path, size,
    modification and change times and inode: a start whose sources did not change finds
    its store without reading them all again (384 MB at a million facilities, about 1.4 s).
    Any change to a file moves its change time (which no tool sets back), so a rewritten
    file is hashed again; an unreadable memo is simply rewritten."""
    signature = []
    for path in files:
        st = path.stat()
        signature.append(
            [str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        )
    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
        if known["files"] == signature and isinstance(known["sha256"], str):
            return known["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    digest = content_hash(files)
    temporary = memo.with_name(f"{memo.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps({"files": signature, "sha256": digest}), "utf-8")
        os.replace(temporary, memo)  # whole or not at all, whoever writes at the same time
    except OSError:
        temporary.unlink(missing_ok=True)  # read-only var: hashed again next time
    return digest


def _attribution(data: FolderData, is_osm: bool) -> str:
    # ODbL asks for credit wherever OSM-derived data is shown; curated rows that took
    # their point or English name from OSM carry an osm_id in their method or source.
    if is_osm or any(
        "OpenStreetMap" in f.coordinate_method or "OpenStreetMap" in f.source
        for f in data.facilities
    ):
        return osm.ATTRIBUTION
    return ""


def load_folder(
    folder: Path, *, allow_synthetic: bool, is_osm: bool = False, curated: bool = False
) -> Directory:
    files = source_files(folder)
    digest = content_hash(files)
    data = read_folder(folder, allow_synthetic=allow_synthetic, require_sources=curated)
    return make_directory(
        data.facilities,
        data.districts,
        data.networks,
        content_hash=digest,
        attribution=_attribution(data, is_osm),
        public_corpus=is_osm,
    )


def store_dir(settings: Settings) -> Path:
    """Where validated directories are kept as memory-mapped files (see ``store.py``)."""
    return settings.var_dir / "index" / "directory"


def sources_memo(settings: Settings) -> Path:
    """Where the content hash of the last sources read is remembered (beside the stores:
    their folder keeps nothing but stores)."""
    return settings.var_dir / "index" / "directory-sources.json"


# the directory the serving parent loaded before its workers forked (server/serving.py):
# the workers use its pages, shared copy-on-write, instead of opening their own
_preloaded: tuple[tuple[object, ...], Directory] | None = None


def _preload_key(settings: Settings) -> tuple[object, ...]:
    return (
        settings.directory_source.strip(),
        str(settings.data_dir),
        str(settings.var_dir),
        settings.environment,
    )


def keep_preloaded(settings: Settings, directory: Directory) -> None:
    """`load_directory(settings)` gives `directory` from now on in this process and in the
    processes it forks (the serving parent, before its workers start)."""
    global _preloaded
    _preloaded = (_preload_key(settings), directory)


def load_directory(settings: Settings) -> Directory:
    """Load the directory named by ``settings.directory_source``.

    "curated" is the reviewed lists in ``settings.data_dir``; "osm" the public
    OpenStreetMap corpus (built under ``settings.var_dir`` on first use); anything else
    is the path of a folder in the same format, e.g. a synthetic benchmark directory.
    Raises ``InvalidDirectoryData`` listing every problem if the folder is not valid.

    The sources are read and validated once per content: the result is kept as a
    memory-mapped store (``store_dir``) that later starts, and every worker, open
    instead of reading the CSV files again.
    """
    if _preloaded is not None and _preloaded[0] == _preload_key(settings):
        return _preloaded[1]
    source = settings.directory_source.strip()
    is_osm = curated = False
    if source == CURATED:
        folder, allow_synthetic, curated = settings.data_dir, False, True
    elif source == OSM:
        folder, allow_synthetic, is_osm = ensure_osm_corpus(settings), False, True
    else:
        # Other folders may be synthetic benchmark data, but never in production.
        folder, allow_synthetic = Path(source), settings.environment != "production"
    digest = remembered_content_hash(source_files(folder), sources_memo(settings))
    return store.shared_directory(
        store_dir(settings),
        digest,
        allow_synthetic,
        lambda: load_folder(
            folder, allow_synthetic=allow_synthetic, is_osm=is_osm, curated=curated
        ),
    )
