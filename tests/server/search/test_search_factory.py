from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from server.directory.directory import Directory, make_directory
from server.search import SearchFilters, factory, whoosh_engine
from server.search.factory import (
    MARKER,
    UnknownEngine,
    build_engine,
    index_info,
    index_key,
    open_engine,
)
from server.search.tantivy_engine import TantivyEngine
from server.search.whoosh_engine import WhooshEngine
from server.settings import Settings, SettingsError


def settings(tmp_path: Path, engine: str = "whoosh") -> Settings:
    return Settings(environment="test", var_dir=tmp_path / "var", search_engine=engine)


def rehashed(directory: Directory, content_hash: str, drop: int = 0) -> Directory:
    return make_directory(
        directory.facilities[drop:], directory.districts, directory.networks, content_hash
    )


def entries(path: Path) -> set[str]:
    return {p.name for p in path.iterdir()}


@pytest.mark.parametrize(("name", "cls"), [("whoosh", WhooshEngine), ("tantivy", TantivyEngine)])
def test_open_engine_builds_the_configured_engine_under_the_content_hash(
    tmp_path: Path, directory: Directory, name: str, cls: type
) -> None:
    s = settings(tmp_path, name)
    engine = open_engine(s, directory)
    try:
        assert isinstance(engine, cls)
        assert engine.name == name
        assert s.index_dir == tmp_path / "var" / "index" / name
        assert entries(s.index_dir) == {"test-corpus-1", factory.LOCK}
        info = index_info(s.index_dir / "test-corpus-1")
        assert info is not None
        assert info["engine"] == name
        assert info["facilities"] == len(directory)
        assert engine.search("仁济", SearchFilters(), None).total == 5
    finally:
        engine.close()


def test_a_complete_index_is_reused(tmp_path: Path, directory: Directory) -> None:
    s = settings(tmp_path)
    open_engine(s, directory).close()
    marker = s.index_dir / "test-corpus-1" / MARKER
    built = marker.stat().st_mtime_ns

    engine = open_engine(s, directory)
    try:
        assert marker.stat().st_mtime_ns == built
        assert engine.search("和睦家", SearchFilters(), None).total == 5
    finally:
        engine.close()


def test_new_content_hash_rebuilds_and_drops_the_old_index(
    tmp_path: Path, directory: Directory
) -> None:
    s = settings(tmp_path)
    open_engine(s, directory).close()

    smaller = rehashed(directory, "test-corpus-2", drop=1)
    engine = open_engine(s, smaller)
    try:
        assert entries(s.index_dir) == {"test-corpus-2", factory.LOCK}
        assert engine.search(None, SearchFilters(), None).total == len(directory) - 1
        # ordinals point into the new directory, whose rows have moved up by one
        (top,) = engine.search("仁济 特约门诊", SearchFilters(), None).ordinals.tolist()
        assert smaller.facilities[top].id == "t002"
        assert engine.search("特诊部 曙光", SearchFilters(), None).total == 0
    finally:
        engine.close()


def test_an_index_without_its_marker_is_rebuilt(tmp_path: Path, directory: Directory) -> None:
    s = settings(tmp_path)
    open_engine(s, directory).close()
    folder = s.index_dir / "test-corpus-1"
    (folder / MARKER).unlink()

    open_engine(s, directory).close()
    assert index_info(folder) is not None


def test_an_index_from_another_analysis_is_rebuilt(tmp_path: Path, directory: Directory) -> None:
    s = settings(tmp_path)
    open_engine(s, directory).close()
    marker = s.index_dir / "test-corpus-1" / MARKER
    info = json.loads(marker.read_text())
    marker.write_text(json.dumps({**info, "analysis": "0000000000000000"}))

    open_engine(s, directory).close()
    assert index_info(marker.parent)["analysis"] == info["analysis"]  # type: ignore[index]


def test_a_failed_build_leaves_no_index_behind(
    tmp_path: Path, directory: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = settings(tmp_path)
    real_build = whoosh_engine.build

    def crash(d: Directory, path: Path) -> None:
        real_build(d, path)  # the files are written ...
        raise OSError("disk full")  # ... but the build never completes

    monkeypatch.setitem(
        factory.ENGINES,
        "whoosh",
        factory.EngineKind(crash, WhooshEngine.open, whoosh_engine.StaleIndex),
    )
    with pytest.raises(OSError, match="disk full"):
        open_engine(s, directory)
    assert entries(s.index_dir) == {factory.LOCK}

    monkeypatch.undo()
    engine = open_engine(s, directory)
    engine.close()
    assert entries(s.index_dir) == {"test-corpus-1", factory.LOCK}


def test_leftovers_of_a_crashed_build_are_removed(tmp_path: Path, directory: Directory) -> None:
    s = settings(tmp_path)
    leftover = s.index_dir / ".build-test-corpus-1-deadbeef"
    leftover.mkdir(parents=True)
    (leftover / "half-written").write_text("x")
    open_engine(s, directory).close()
    assert entries(s.index_dir) == {"test-corpus-1", factory.LOCK}


def test_unknown_engine_is_a_clear_error(tmp_path: Path, directory: Directory) -> None:
    with pytest.raises(SettingsError, match=r"SEARCH_ENGINE: .*'whoosh' or 'tantivy'"):
        settings(tmp_path, "lucene")
    # the factory still refuses a name that did not come through validated settings
    unchecked = settings(tmp_path).model_copy(update={"search_engine": "lucene"})
    with pytest.raises(UnknownEngine, match=r"'lucene'.*whoosh, tantivy"):
        open_engine(unchecked, directory)
    with pytest.raises(UnknownEngine):
        build_engine("lucene", directory, tmp_path / "x")
    assert not (tmp_path / "var").exists()


def test_build_engine_wants_an_empty_folder(tmp_path: Path, directory: Directory) -> None:
    target = tmp_path / "bench"
    engine = build_engine("tantivy", directory, target)
    engine.close()
    assert index_info(target) is not None
    with pytest.raises(FileExistsError):
        build_engine("tantivy", directory, target)


def test_a_directory_without_a_hash_is_keyed_by_its_rows(directory: Directory) -> None:
    unhashed = rehashed(directory, "")
    key = index_key(unhashed)
    assert key == index_key(rehashed(directory, ""))
    assert key != index_key(rehashed(directory, "", drop=1))
    assert index_key(rehashed(directory, "../../etc")) not in {"../../etc", ""}
    assert os.sep not in index_key(rehashed(directory, "../../etc"))


def test_an_empty_directory_has_an_index(tmp_path: Path, directory: Directory) -> None:
    empty = rehashed(directory, "empty", drop=len(directory))
    for name in ("whoosh", "tantivy"):
        engine = open_engine(settings(tmp_path, name), empty)
        try:
            assert engine.search(None, SearchFilters(), None).total == 0
            assert engine.search("仁济", SearchFilters(), None).total == 0
            assert engine.search("仁济", SearchFilters(), 5).total == 0
        finally:
            engine.close()


def test_an_index_missing_a_file_is_rebuilt(tmp_path: Path, directory: Directory) -> None:
    s = settings(tmp_path)
    open_engine(s, directory).close()
    folder = s.index_dir / "test-corpus-1"
    (folder / whoosh_engine.POINTS_FILE).unlink()

    engine = open_engine(s, directory)
    try:
        assert (folder / whoosh_engine.POINTS_FILE).exists()
        assert engine.search("renji", SearchFilters(), None).total == 5
    finally:
        engine.close()


# whoosh leaves the unreadable table-of-contents file open when it fails to parse it
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("name", ["whoosh", "tantivy"])
def test_a_corrupt_index_is_rebuilt(tmp_path: Path, directory: Directory, name: str) -> None:
    s = settings(tmp_path, name)
    open_engine(s, directory).close()
    folder = s.index_dir / "test-corpus-1"
    for f in folder.iterdir():
        if f.name != MARKER and f.is_file():
            f.write_bytes(b"\0garbage")

    engine = open_engine(s, directory)
    try:
        assert engine.search("hemujia", SearchFilters(), None).total == 5
    finally:
        engine.close()
