"""A memory-mapped directory answers every search as the directory it was written from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.directory import store
from server.directory.directory import Directory
from server.directory.service import DirectoryService, FacilityQuery, Sort
from server.search.factory import build_engine

QUERIES = [
    FacilityQuery(text="仁济"),
    FacilityQuery(text="renji hospital"),
    FacilityQuery(text="医院", near=(31.23, 121.47), sort=Sort.DISTANCE, limit=7),
    FacilityQuery(near=(31.20, 121.50), sort=Sort.DISTANCE, limit=50),
    FacilityQuery(near=(31.20, 121.50), max_distance_km=5.0),
    FacilityQuery(department="Cardiology", district="Pudong"),
    FacilityQuery(grade="Grade 3A", ownership=None, offset=3, limit=4),
    FacilityQuery(network="test-group-plan"),
    FacilityQuery(kind=None, city="北京"),
]


@pytest.fixture(scope="module")
def stored(directory: Directory, tmp_path_factory: pytest.TempPathFactory) -> Directory:
    folder = tmp_path_factory.mktemp("store") / "d"
    store.write(directory, folder)
    opened = store.open_store(folder)
    assert opened is not None
    return opened


@pytest.fixture(scope="module", params=["whoosh", "tantivy"])
def services(
    request: pytest.FixtureRequest,
    directory: Directory,
    stored: Directory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[DirectoryService, DirectoryService]]:
    tmp = tmp_path_factory.mktemp(request.param)
    # each directory with an index built from it: the stored one from its memory map
    memory = build_engine(request.param, directory, tmp / "memory")
    mapped = build_engine(request.param, stored, tmp / "mapped")
    yield DirectoryService(directory, memory), DirectoryService(stored, mapped)
    memory.close()
    mapped.close()


def test_the_stored_rows_are_the_loaded_ones(directory: Directory, stored: Directory) -> None:
    assert list(stored.facilities) == list(directory.facilities)
    assert [stored.facilities[i] for i in range(len(directory))] == list(directory.facilities)
    assert stored.facilities[-1] == directory.facilities[-1]
    assert list(stored.facilities[2:5]) == list(directory.facilities[2:5])
    with pytest.raises(IndexError):
        stored.facilities[len(directory)]
    assert (stored.districts, stored.networks) == (directory.districts, directory.networks)
    assert (stored.content_hash, stored.attribution) == (
        directory.content_hash,
        directory.attribution,
    )
    assert (stored.lat_rad == directory.lat_rad).all()
    assert (stored.lng_rad == directory.lng_rad).all()


def test_ids_find_the_same_rows(directory: Directory, stored: Directory) -> None:
    for i, f in enumerate(directory.facilities):
        assert stored.ordinal(f.id) == i
        assert stored.get(f.id) == f
    for unknown in ("", "nope", "x" * 500, "f1\0", "仁济"):
        assert stored.get(unknown) is None
    assert stored.department("cardiology") == directory.department("cardiology")


def test_the_arrays_are_memory_mapped(stored: Directory) -> None:
    import numpy as np

    for array in (stored.lat_rad, stored.columns.district_code, stored.columns.department_row):
        assert isinstance(array, np.memmap)
        assert not array.flags.writeable


def test_same_search_results_as_the_in_memory_load(
    services: tuple[DirectoryService, DirectoryService],
) -> None:
    memory, mapped = services
    for q in QUERIES:
        a, b = memory.search(q), mapped.search(q)
        assert [r.facility for r in b.results] == [r.facility for r in a.results], q
        assert [r.distance_km for r in b.results] == [r.distance_km for r in a.results], q
        assert (b.total, b.has_next) == (a.total, a.has_next), q


def test_same_facets_as_the_in_memory_load(
    services: tuple[DirectoryService, DirectoryService],
) -> None:
    memory, mapped = services
    for kind_city in [(None, None), (None, "北京"), (None, "Shanghai")]:
        assert mapped.facets(*kind_city) == memory.facets(*kind_city)


def test_an_empty_directory_can_be_stored(tmp_path: Path) -> None:
    from server.directory.directory import make_directory

    store.write(make_directory([], content_hash="empty"), tmp_path / "d")
    opened = store.open_store(tmp_path / "d")
    assert opened is not None and len(opened) == 0 and opened.get("x") is None
