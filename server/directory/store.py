"""The directory written once as memory-mapped files, shared by every worker.

Reading and validating the source CSVs of a large directory takes tens of seconds and a
gigabyte of Python objects in every worker. Once a directory has been validated it is
written under ``VAR_DIR/index/directory/<key>`` (beside the search indexes; the key is
the data's content hash plus this code's fingerprint), as:

- ``rows.bin`` and ``offsets.npy``: each facility as one JSON array, decoded when a row
  is read (and kept in a small per-process cache);
- ``ids.npy`` (sorted ids) and ``id_order.npy``: id -> ordinal by binary search;
- the `Columns` arrays (coordinates, district, grade and department codes) as ``.npy``;
- ``meta.json``, written last: districts, networks, vocabularies, attribution.

Workers open these read-only with ``mmap``: the pages live once in the page cache,
whatever the number of workers, and a warm start reads no CSV at all. A store is written
to a temporary folder and renamed into place, under a lock, as the search indexes are.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import mmap
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, overload

import numpy as np
import orjson

from server.directory.directory import Columns, Directory, District, Network
from server.directory.models import (
    Category,
    CoordinatePrecision,
    Department,
    Facility,
    FacilityKind,
    Ownership,
)

FORMAT = 2  # 2: building, checked_with, approximate, list dates, public corpus
MARKER = "meta.json"  # written last: a folder without it is incomplete
LOCK = ".lock"
_BUILDING = ".build-"
ROW_CACHE = 4096  # decoded facilities kept per process (a page shows 20)
_ARRAYS = (
    "lat_rad",
    "lng_rad",
    "district_code",
    "grade_code",
    "department_code",
    "department_row",
    "approximate",
)


@functools.cache
def code_fingerprint() -> str:
    """Changes whenever the code that reads, validates or writes the rows changes."""
    h = hashlib.sha256(str(FORMAT).encode())
    here = Path(__file__).resolve().parent
    for name in ("models.py", "validation.py", "directory.py", "store.py", "osm.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def store_key(content_hash: str, allow_synthetic: bool) -> str:
    h = hashlib.sha256(f"{content_hash}\0{allow_synthetic}\0{code_fingerprint()}".encode())
    return h.hexdigest()[:32]


def _encode(f: Facility) -> bytes:
    return orjson.dumps(
        [
            f.id,
            f.kind.value,
            f.name_zh,
            f.name_en,
            f.address_zh,
            f.address_en,
            f.city,
            f.district,
            f.lat,
            f.lng,
            f.ownership.value,
            f.grade,
            f.category.value,
            [[d.zh, d.en] for d in f.departments],
            f.phone,
            f.opening_hours,
            list(f.languages),
            list(f.networks),
            f.source,
            f.verified_on.isoformat(),
            f.coordinate_precision.value,
            f.coordinate_method,
            list(f.tags),
            f.note,
            f.building,
            list(f.checked_with),
        ]
    )


def _decode(raw: bytes) -> Facility:
    r = orjson.loads(raw)
    return Facility(
        id=r[0],
        kind=FacilityKind(r[1]),
        name_zh=r[2],
        name_en=r[3],
        address_zh=r[4],
        address_en=r[5],
        city=r[6],
        district=r[7],
        lat=r[8],
        lng=r[9],
        ownership=Ownership(r[10]),
        grade=r[11],
        category=Category(r[12]),
        departments=tuple(Department(zh, en) for zh, en in r[13]),
        phone=r[14],
        opening_hours=r[15],
        languages=tuple(r[16]),
        networks=tuple(r[17]),
        source=r[18],
        verified_on=date.fromisoformat(r[19]),
        coordinate_precision=CoordinatePrecision(r[20]),
        coordinate_method=r[21],
        tags=tuple(r[22]),
        note=r[23],
        building=r[24],
        checked_with=tuple(r[25]),
    )


class FacilityRows(Sequence[Facility]):
    """The facilities of a store, read from the shared mapping as they are asked for."""

    def __init__(self, folder: Path) -> None:
        with (folder / "rows.bin").open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            self._blob = mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_READ) if size else b""
        self._offsets = np.load(folder / "offsets.npy", mmap_mode="r")
        self._ids = np.load(folder / "ids.npy", mmap_mode="r")
        self._id_order = np.load(folder / "id_order.npy", mmap_mode="r")
        if not (
            len(self._offsets) - 1 == len(self._ids) == len(self._id_order)
            and int(self._offsets[-1]) == size
        ):
            raise ValueError(f"the directory store at {folder} is inconsistent")
        self._row = functools.lru_cache(maxsize=ROW_CACHE)(self._read)

    def __len__(self) -> int:
        return len(self._ids)

    def _read(self, i: int) -> Facility:
        start, end = int(self._offsets[i]), int(self._offsets[i + 1])
        return _decode(self._blob[start:end])

    @overload
    def __getitem__(self, i: int) -> Facility: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Facility]: ...
    def __getitem__(self, i: int | slice) -> Facility | Sequence[Facility]:
        if isinstance(i, slice):
            return tuple(self._row(j) for j in range(*i.indices(len(self))))
        n = len(self)
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("facility ordinal out of range")
        return self._row(i)

    def __iter__(self) -> Iterator[Facility]:
        # a walk over every row: decode without filling the cache
        for i in range(len(self)):
            yield self._read(i)

    def ordinal(self, facility_id: str) -> int | None:
        try:
            key = facility_id.encode("utf-8")
        except UnicodeEncodeError:
            return None
        if not key or len(key) > self._ids.dtype.itemsize or key.endswith(b"\0"):
            return None
        at = int(np.searchsorted(self._ids, key))
        if at < len(self._ids) and self._ids[at] == key:
            return int(self._id_order[at])
        return None


def write(directory: Directory, folder: Path) -> None:
    """Write ``directory`` into the new folder ``folder`` (the marker last)."""
    folder.mkdir(parents=True)
    offsets = np.zeros(len(directory) + 1, dtype=np.int64)
    with (folder / "rows.bin").open("wb") as fh:
        position = 0
        for i, f in enumerate(directory.facilities):
            raw = _encode(f)
            fh.write(raw)
            position += len(raw)
            offsets[i + 1] = position
        fh.flush()
        os.fsync(fh.fileno())
    ids = [f.id.encode("utf-8") for f in directory.facilities]
    width = max((len(i) for i in ids), default=1)
    id_array = np.array(ids, dtype=f"S{width}") if ids else np.empty(0, dtype="S1")
    order = np.argsort(id_array, kind="stable")
    c = directory.columns
    arrays: dict[str, np.ndarray] = {
        "offsets": offsets,
        "ids": id_array[order],
        "id_order": order.astype(np.int64),
        **{name: getattr(c, name) for name in _ARRAYS},
    }
    for name, array in arrays.items():
        with (folder / f"{name}.npy").open("wb") as fh:
            np.save(fh, np.ascontiguousarray(array))
            fh.flush()
            os.fsync(fh.fileno())
    meta = {
        "format": FORMAT,
        "facilities": len(directory),
        "content_hash": directory.content_hash,
        "attribution": directory.attribution,
        "districts": [list(_district_fields(d)) for d in directory.districts],
        "networks": [[n.id, n.name_zh, n.name_en, n.source] for n in directory.networks],
        "district_vocab": list(c.district_vocab),
        "grade_vocab": list(c.grade_vocab),
        "department_vocab": [list(d) for d in c.department_vocab],
        "departments": c.departments,
        "list_dates": c.list_dates,
        "public_corpus": directory.public_corpus,
    }
    with (folder / MARKER).open("wb") as fh:
        fh.write(orjson.dumps(meta))
        fh.flush()
        os.fsync(fh.fileno())


def _district_fields(d: District) -> tuple[str, str, str, str, str]:
    return (d.city, d.city_en, d.zh, d.en, d.adcode)


def open_store(folder: Path) -> Directory | None:
    """The directory stored in ``folder``, memory-mapped; None when it is not complete."""
    try:
        meta: dict[str, Any] = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            return None
        rows = FacilityRows(folder)
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
    except (OSError, ValueError, KeyError):
        return None
    n = meta["facilities"]
    if len(rows) != n or any(
        len(arrays[name]) != n for name in ("lat_rad", "lng_rad", "district_code", "grade_code")
    ):
        return None
    columns = Columns(
        district_vocab=tuple(meta["district_vocab"]),
        grade_vocab=tuple(meta["grade_vocab"]),
        department_vocab=tuple((zh, en) for zh, en in meta["department_vocab"]),
        departments=dict(meta["departments"]),
        list_dates=dict(meta["list_dates"]),
        **arrays,
    )
    return Directory(
        rows,
        tuple(District(*d) for d in meta["districts"]),
        tuple(Network(*n) for n in meta["networks"]),
        meta["content_hash"],
        meta["attribution"],
        public_corpus=bool(meta["public_corpus"]),
        columns=columns,
    )


def shared_directory(root: Path, content_hash: str, allow_synthetic: bool, load: Any) -> Directory:
    """The stored directory for this data under ``root``, written first (from ``load()``,
    which reads and validates the sources) when there is none; older stores are removed."""
    root.mkdir(parents=True, exist_ok=True)
    key = store_key(content_hash, allow_synthetic)
    final = root / key
    directory = open_store(final)
    if directory is not None:
        return directory
    with _locked(root / LOCK):
        directory = open_store(final)  # another process may have written it meanwhile
        if directory is None:
            source: Directory = load()
            staging = root / f"{_BUILDING}{key}-{uuid.uuid4().hex[:8]}"
            try:
                write(source, staging)
                if final.exists():
                    shutil.rmtree(final)
                staging.rename(final)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            _fsync_dir(root)
            directory = open_store(final)
            if directory is None:
                raise RuntimeError(f"the directory store just written at {final} cannot be read")
        _remove_stale(root, keep=key)
    return directory


def _remove_stale(root: Path, keep: str) -> None:
    # under the lock; a worker still running on an older store keeps its open mappings
    # (unlinked files stay readable until unmapped)
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
