from __future__ import annotations

import datetime
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.errors import NotFound
from server.storage import InvalidKey, LocalStorage, iter_chunks, store_upload
from server.storage.backend import new_key, new_temp_file, thumbnail_key
from server.storage.errors import StorageFull

ROOT = Path(__file__).resolve().parents[3]


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def make_old(path: Path, seconds: float = 3600) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def put_bytes(storage: LocalStorage, key: str, data: bytes) -> None:
    temp = new_temp_file(storage)
    temp.write_bytes(data)
    storage.put_file(key, temp)


def test_put_open_delete(storage):
    key = new_key("pdf")
    temp = new_temp_file(storage)
    temp.write_bytes(b"%PDF-1.4 hello")

    storage.put_file(key, temp)

    assert not temp.exists(), "the temporary file is renamed, not copied"
    assert storage.exists(key)
    path = storage.path_of(key)
    assert path.relative_to(storage.root / "objects").parts == (key[0:2], key[2:4], key)
    assert b"".join(iter_chunks(storage, key, 4)) == b"%PDF-1.4 hello"
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # deleting twice is harmless


def test_put_from_another_directory_copies_then_renames(tmp_path, storage):
    outside = tmp_path / "elsewhere.bin"
    outside.write_bytes(b"data")
    key = new_key("png")
    storage.put_file(key, outside)
    assert not outside.exists()
    assert storage.path_of(key).read_bytes() == b"data"
    assert list(storage.temp_dir.iterdir()) == []


def test_open_missing_is_not_found(storage):
    with pytest.raises(NotFound):
        storage.open(new_key("jpg"))


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "0123456789abcdef0123456789abcdef.exe",
        "0123456789abcdef0123456789abcdef.jpg/../x",
        "0123456789ABCDEF0123456789ABCDEF.jpg",
        "",
    ],
)
def test_keys_not_made_here_are_refused(storage, key):
    for call in (storage.exists, storage.open, storage.delete, storage.path_of):
        with pytest.raises(InvalidKey) as caught:
            call(key)
        assert caught.value.code == "INVALID_STORAGE_KEY"


def test_thumbnail_key_pairs_with_its_image():
    key = new_key("png")
    assert thumbnail_key(key) == key.split(".")[0] + ".thumb.jpg"
    with pytest.raises(ValueError):
        new_key("exe")


def test_keys_older_than(storage):
    old, new = new_key("jpg"), new_key("pdf")
    put_bytes(storage, old, b"a")
    put_bytes(storage, new, b"b")
    make_old(storage.path_of(old))
    cutoff = now() - datetime.timedelta(minutes=10)
    assert list(storage.keys_older_than(cutoff)) == [old]


def test_cleanup_removes_leftovers_and_unreferenced_files_only(storage):
    # given a referenced image with its thumbnail, an unreferenced file, a fresh
    # unreferenced file (its record may not be committed yet) and two temporary files
    known = new_key("jpg")
    orphan = new_key("pdf")
    fresh = new_key("png")
    for key in (known, thumbnail_key(known), orphan, fresh):
        put_bytes(storage, key, b"x")
    for key in (known, thumbnail_key(known), orphan):
        make_old(storage.path_of(key))
    stale_temp = new_temp_file(storage)
    make_old(stale_temp)
    busy_temp = new_temp_file(storage)

    # when
    report = storage.cleanup_orphans({known}, older_than=now() - datetime.timedelta(minutes=10))

    # then
    assert report.orphans == [orphan]
    assert report.temp_files == [stale_temp.name]
    assert storage.exists(known) and storage.exists(thumbnail_key(known))
    assert storage.exists(fresh)
    assert not storage.exists(orphan)
    assert busy_temp.exists() and not stale_temp.exists()


def test_exception_mid_stream_leaves_no_file(storage, samples, stored_files):
    def broken() -> Iterator[bytes]:
        yield samples.pdf()[:100]
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store_upload(storage, broken())
    assert stored_files(storage.root) == []


def test_failure_during_rename_leaves_no_file(storage, samples, stored_files, monkeypatch):
    def fail(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(StorageFull):  # a full disk is the server's trouble, with its own code
        store_upload(storage, samples.pdf())
    monkeypatch.undo()
    assert stored_files(storage.root) == []


def test_process_killed_mid_write_leaves_a_temp_file_that_the_next_start_removes(
    tmp_path, stored_files
):
    # given a server process that dies abruptly (no clean-up code runs) mid-upload
    root = tmp_path / "store"
    script = textwrap.dedent(
        f"""
        import os
        from server.storage import LocalStorage, store_upload

        def stream():
            yield b"%PDF-1.4\\n" + b"x" * 100_000
            yield b"y" * 100_000
            os._exit(3)

        store_upload(LocalStorage({str(root)!r}), stream())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 3, result.stderr.decode()

    # then only a partial temporary file is left, under no key, in the dead process's folder
    leftovers = stored_files(root)
    assert len(leftovers) == 1 and leftovers[0].parent.parent == root / "tmp"
    assert 0 < leftovers[0].stat().st_size <= 200_009

    # and the next storage opened on the root (the server's next start) removes it,
    # as no live process holds its folder
    storage = LocalStorage(root)
    assert list(storage.keys_older_than(now() + datetime.timedelta(days=1))) == []
    assert stored_files(root) == []


def test_a_live_process_keeps_its_temporary_folder(tmp_path, stored_files):
    # given a storage receiving a file (its process alive)
    root = tmp_path / "store"
    receiving = LocalStorage(root)
    partial = receiving.temp_dir / "upload-x.part"
    partial.write_bytes(b"%PDF-1.4 half")

    # when another storage opens on the same root (another worker, the clean-up script)
    other = LocalStorage(root)

    # then the live one's folder and file stay; each has its own folder
    assert partial.exists() and other.temp_dir != receiving.temp_dir
    report = other.cleanup_orphans(set(), older_than=now() + datetime.timedelta(days=1))
    assert partial.exists() and receiving.temp_dir.name not in report.temp_files


def test_old_loose_temporary_files_go_at_start(tmp_path):
    # given loose temporary files in tmp/ (as kept before folders per process), one old
    temp = tmp_path / "store" / "tmp"
    temp.mkdir(parents=True)
    old, recent = temp / "upload-old.part", temp / "upload-new.part"
    old.write_bytes(b"x")
    recent.write_bytes(b"y")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))

    LocalStorage(tmp_path / "store")

    assert not old.exists() and recent.exists()
