"""Loading the directory through its memory-mapped store (server/directory/store.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from server.directory import loader, store
from server.directory.loader import load_directory, store_dir
from server.directory.validation import InvalidDirectoryData
from server.settings import Settings

if TYPE_CHECKING:
    from tests.server.directory.conftest import Csv

MEDICAL = "facilities_medical.csv"


def _settings(data_dir: Path, tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=data_dir, var_dir=tmp_path / "var")


def _stores(settings: Settings) -> list[str]:
    return sorted(p.name for p in store_dir(settings).iterdir() if p.is_dir())


def test_a_warm_start_reads_no_csv(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a directory loaded once (read, validated and stored)
    settings = _settings(data_dir, tmp_path)
    first = load_directory(settings)
    assert isinstance(first.facilities, store.FacilityRows)

    # when it is loaded again, with reading the sources made impossible
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the CSV files were read again")

    monkeypatch.setattr(loader, "read_folder", refuse)
    again = load_directory(settings)
    # then the store answers, with the same rows
    assert list(again.facilities) == list(first.facilities)
    assert again.content_hash == first.content_hash
    assert len(_stores(settings)) == 1


def test_changed_data_rebuilds_the_store(data_dir: Path, tmp_path: Path, table: type[Csv]) -> None:
    # given a stored directory
    settings = _settings(data_dir, tmp_path)
    before = load_directory(settings)
    old_stores = _stores(settings)
    first_id = table.read(data_dir / MEDICAL)[0]["id"]
    # when a source file changes
    table.edit(data_dir / MEDICAL, 0, name_en="Renamed Clinic")
    after = load_directory(settings)
    # then the store is written anew from the new data, and the old one removed
    assert after.content_hash != before.content_hash
    facility = after.get(first_id)
    assert facility is not None and facility.name_en == "Renamed Clinic"
    new_stores = _stores(settings)
    assert len(new_stores) == 1 and new_stores != old_stores


def test_an_incomplete_store_is_written_again(data_dir: Path, tmp_path: Path) -> None:
    settings = _settings(data_dir, tmp_path)
    first = load_directory(settings)
    folder = store_dir(settings) / _stores(settings)[0]
    (folder / store.MARKER).unlink()  # as a crash while writing would leave it
    assert store.open_store(folder) is None
    again = load_directory(settings)
    assert list(again.facilities) == list(first.facilities)
    assert (folder / store.MARKER).exists()


def test_invalid_data_is_refused_and_nothing_stored(
    data_dir: Path, tmp_path: Path, table: type[Csv]
) -> None:
    settings = _settings(data_dir, tmp_path)
    table.edit(data_dir / MEDICAL, 0, district="火星区")
    with pytest.raises(InvalidDirectoryData):
        load_directory(settings)
    assert _stores(settings) == []


def test_the_key_changes_with_the_data_and_the_synthetic_permission() -> None:
    keys = {
        store.store_key("a", False),
        store.store_key("b", False),
        store.store_key("a", True),
    }
    assert len(keys) == 3


def test_a_truncated_store_is_written_again(data_dir: Path, tmp_path: Path) -> None:
    settings = _settings(data_dir, tmp_path)
    expected = list(load_directory(settings).facilities)
    folder = store_dir(settings) / _stores(settings)[0]
    rows = folder / "rows.bin"
    rows.write_bytes(rows.read_bytes()[:-10])  # as a full disk might leave it
    assert store.open_store(folder) is None
    again = load_directory(settings)
    assert list(again.facilities) == expected
