"""Where uploaded files live: a small storage interface, a local directory and S3.

Keys are generated here (a random id plus a fixed extension) and checked against one
pattern before they become a path or an object name, so nothing a client sends can
point outside the storage. A file becomes visible under its key only when it is
complete: locally by `os.replace` from a temporary file on the same filesystem, on S3
because an object exists only once its upload has finished. A crash therefore leaves
at most a temporary file behind.

Files being received live in a temporary folder of their own process (`tmp/p<pid>-…`),
which that process holds an advisory lock on (flock) for as long as it lives. A process
killed mid-upload leaves its folder unlocked, and the next storage opened on the same
root (the server's next start, another worker, the clean-up script) removes every such
folder at once: no live process owns them. `cleanup_orphans` also removes stored files
that no record refers to.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import logging
import os
import re
import shutil
import tempfile
import uuid
import weakref
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from server.errors import NotFound
from server.storage.errors import InvalidKey

if TYPE_CHECKING:
    from collections.abc import Iterable

log = logging.getLogger("storage")

KEY_PATTERN = re.compile(r"[0-9a-f]{32}(?:\.thumb)?\.(?:jpg|png|pdf)")
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}
TEMP_PREFIX = "upload-"
CHUNK_SIZE = 64 * 1024
# a process's own folder for files being received, under the storage's `tmp`
PROCESS_PREFIX = "p"
# loose temporary files (from before folders per process) go once they are this old
LOOSE_TEMP_AGE = datetime.timedelta(hours=1)


def new_key(extension: str) -> str:
    if extension not in CONTENT_TYPES:
        raise ValueError(f"no stored type for extension {extension!r}")
    return f"{uuid.uuid4().hex}.{extension}"


def thumbnail_key(key: str) -> str:
    check_key(key)
    return f"{key.split('.', 1)[0]}.thumb.jpg"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise InvalidKey()
    return key


def content_type_of(key: str) -> str:
    return CONTENT_TYPES[check_key(key).rsplit(".", 1)[1]]


class ReadStream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class Storage(Protocol):
    @property
    def temp_dir(self) -> Path:
        """A local directory for files being received; `put_file` takes them from here."""
        ...

    def put_file(self, key: str, source: Path) -> None:
        """Store the complete file at `source` under `key`; `source` is consumed."""
        ...

    def open(self, key: str) -> ReadStream: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def keys_older_than(self, when: datetime.datetime) -> Iterator[str]: ...


def new_temp_file(storage: Storage, suffix: str = ".part") -> Path:
    """An empty temporary file (mode 0600) that the caller must remove or hand to `put_file`."""
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=storage.temp_dir)
    os.close(fd)
    return Path(name)


def iter_chunks(storage: Storage, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The stored bytes in chunks, for a streaming response."""
    stream = storage.open(key)
    try:
        while chunk := stream.read(chunk_size):
            yield chunk
    finally:
        stream.close()


def _try_lock(path: Path) -> int | None:
    """An open descriptor of the folder `path` holding its exclusive lock, or None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def sweep_temp(parent: Path, now: datetime.datetime | None = None) -> list[str]:
    """Remove the temporary folders under `parent` that no live process holds, and loose
    temporary files older than LOOSE_TEMP_AGE; the names removed."""
    removed: list[str] = []
    cutoff = ((now or datetime.datetime.now(datetime.UTC)) - LOOSE_TEMP_AGE).timestamp()
    for path in sorted(parent.iterdir()):
        with contextlib.suppress(FileNotFoundError):
            if path.is_dir() and path.name.startswith(PROCESS_PREFIX):
                fd = _try_lock(path)
                if fd is None:
                    continue  # a live process receives files there
                try:
                    shutil.rmtree(path, ignore_errors=True)
                finally:
                    os.close(fd)
                removed.append(path.name)
            elif path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path.name)
    if removed:
        log.info("removed %d temporary leftover(s) of ended processes in %s", len(removed), parent)
    return removed


class ProcessTemp:
    """This process's own folder under `parent`, locked while the object lives."""

    def __init__(self, parent: Path) -> None:
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        sweep_temp(parent)
        while True:
            path = Path(tempfile.mkdtemp(prefix=f"{PROCESS_PREFIX}{os.getpid()}-", dir=parent))
            fd = _try_lock(path)
            # another process's sweep may have taken it between its making and its lock
            if fd is not None and path.is_dir():
                break
            if fd is not None:
                os.close(fd)
        self.path = path
        # the lock goes with the descriptor: when this object goes, or the process ends
        weakref.finalize(self, os.close, fd)


@dataclass
class CleanupReport:
    temp_files: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)


def cleanup_orphans(
    storage: Storage, known_keys: Collection[str], older_than: datetime.datetime
) -> CleanupReport:
    """Remove temporary leftovers and stored files no record refers to.

    Only files older than `older_than` go, so an upload still being received or a record
    not yet committed is left alone. A thumbnail is kept while its image is known.
    """
    report = CleanupReport()
    cutoff = older_than.timestamp()
    temp_root = getattr(storage, "temp_root", None)  # where the processes' folders are
    if isinstance(temp_root, Path):
        report.temp_files.extend(sweep_temp(temp_root))
    for path in storage.temp_dir.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                report.temp_files.append(path.name)
    known = set(known_keys)
    known_stems = {k.split(".", 1)[0] for k in known if KEY_PATTERN.fullmatch(k)}
    for key in list(storage.keys_older_than(older_than)):
        stem = key.split(".", 1)[0]
        if key in known or (".thumb." in key and stem in known_stems):
            continue
        storage.delete(key)
        report.orphans.append(key)
    return report


class LocalStorage:
    """Files under `root/objects/ab/cd/<key>`; `root` must not be served by any web server."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self._objects = self.root / "objects"
        for directory in (self.root, self._objects):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._process_temp = ProcessTemp(self.root / "tmp")
        self._temp = self._process_temp.path

    @property
    def temp_dir(self) -> Path:
        return self._temp

    @property
    def temp_root(self) -> Path:
        return self._temp.parent

    def path_of(self, key: str) -> Path:
        check_key(key)
        # Two levels of 256 folders keep directories small with millions of files.
        return self._objects / key[0:2] / key[2:4] / key

    def put_file(self, key: str, source: Path) -> None:
        destination = self.path_of(key)
        destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        source = Path(source)
        if source.resolve().parent != self._temp:
            # A file from elsewhere may sit on another filesystem, where a rename is not
            # atomic: copy it next to the destination first.
            staged = new_temp_file(self)
            try:
                shutil.copyfile(source, staged)
            except BaseException:
                staged.unlink(missing_ok=True)
                raise
            source.unlink()
            source = staged
        try:
            _fsync(source)
            os.replace(source, destination)
        except BaseException:
            source.unlink(missing_ok=True)
            raise
        _fsync(destination.parent)

    def open(self, key: str) -> ReadStream:
        try:
            return self.path_of(key).open("rb")
        except FileNotFoundError:
            raise NotFound("The stored file does not exist.") from None

    def delete(self, key: str) -> None:
        self.path_of(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()

    def keys_older_than(self, when: datetime.datetime) -> Iterator[str]:
        cutoff = when.timestamp()
        for dirpath, _dirs, files in os.walk(self._objects):
            for name in files:
                if not KEY_PATTERN.fullmatch(name):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    if os.stat(os.path.join(dirpath, name)).st_mtime < cutoff:
                        yield name

    def cleanup_orphans(
        self, known_keys: Collection[str], older_than: datetime.datetime
    ) -> CleanupReport:
        return cleanup_orphans(self, known_keys, older_than)


class S3Storage:
    """Objects in an S3-compatible bucket, for several application servers.

    Files are received into a local temporary directory first (the size, type and image
    checks need the whole file) and uploaded once accepted; S3 makes an object visible
    only after its upload has completed, so there is never half an object.
    """

    def __init__(
        self,
        bucket: str,
        *,
        temp_dir: Path | str,
        prefix: str = "uploads/",
        client: Any = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
    ) -> None:
        if client is None:
            import boto3  # only needed when S3 is configured

            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region_name)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self._process_temp = ProcessTemp(Path(temp_dir).resolve())
        self._temp = self._process_temp.path

    @property
    def temp_dir(self) -> Path:
        return self._temp

    @property
    def temp_root(self) -> Path:
        return self._temp.parent

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put_file(self, key: str, source: Path) -> None:
        name = self._name(key)
        try:
            self.client.upload_file(
                str(source),
                self.bucket,
                name,
                ExtraArgs={"ContentType": content_type_of(key)},
            )
        finally:
            Path(source).unlink(missing_ok=True)

    def open(self, key: str) -> ReadStream:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except Exception as exc:
            if _is_missing(exc):
                raise NotFound("The stored file does not exist.") from None
            raise
        body: ReadStream = response["Body"]
        return body

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except Exception as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    def keys_older_than(self, when: datetime.datetime) -> Iterator[str]:
        cutoff = when.timestamp()
        pages: Iterable[dict[str, Any]] = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                if KEY_PATTERN.fullmatch(key) and item["LastModified"].timestamp() < cutoff:
                    yield key

    def cleanup_orphans(
        self, known_keys: Collection[str], older_than: datetime.datetime
    ) -> CleanupReport:
        return cleanup_orphans(self, known_keys, older_than)


def _is_missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


def _fsync(path: Path) -> None:
    # Without this a power cut after the rename can leave an empty file under the key.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
