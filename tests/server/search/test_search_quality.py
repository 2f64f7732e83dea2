"""Search quality over the real data: the curated lists and the OpenStreetMap corpus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.directory.directory import Directory
from server.directory.loader import load_directory
from server.directory.models import FacilityKind
from server.search import SearchEngine, SearchFilters
from server.search.factory import build_engine
from server.settings import Settings

NONE = SearchFilters()
ENGINES = ("whoosh", "tantivy")


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="module")
def osm(var_dir: Path) -> Directory:
    return load_directory(Settings(environment="test", var_dir=var_dir, directory_source="osm"))


@pytest.fixture(scope="module")
def curated(var_dir: Path) -> Directory:
    return load_directory(Settings(environment="test", var_dir=var_dir, directory_source="curated"))


def _engines(directory: Directory, root: Path) -> Iterator[dict[str, SearchEngine]]:
    engines = {name: build_engine(name, directory, root / name) for name in ENGINES}
    yield engines
    for engine in engines.values():
        engine.close()


@pytest.fixture(scope="module")
def osm_engines(
    osm: Directory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, SearchEngine]]:
    yield from _engines(osm, tmp_path_factory.mktemp("osm-index"))


@pytest.fixture(scope="module")
def curated_engines(
    curated: Directory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, SearchEngine]]:
    yield from _engines(curated, tmp_path_factory.mktemp("curated-index"))


def names(directory: Directory, ordinals: object) -> list[str]:
    return [directory.facilities[int(i)].name_zh for i in ordinals]  # type: ignore[attr-defined]


def with_name(directory: Directory, part: str) -> set[int]:
    return {i for i, f in enumerate(directory.facilities) if part in f.name_zh}


def name_rank(directory: Directory, ordinals: list[int], target: int) -> int:
    """How many differently named facilities come before ``target``."""
    me = directory.facilities[target]
    ahead = {
        (directory.facilities[i].name_zh, directory.facilities[i].name_en)
        for i in ordinals[: ordinals.index(target)]
    }
    return len(ahead - {(me.name_zh, me.name_en)})


@pytest.mark.parametrize("engine_name", ENGINES)
def test_every_osm_facility_is_found_first_by_its_own_name(
    osm: Directory, osm_engines: dict[str, SearchEngine], engine_name: str
) -> None:
    engine = osm_engines[engine_name]
    ranks = []
    for i, f in enumerate(osm.facilities):
        for name in (f.name_zh, f.name_en):
            if name:
                ordinals = engine.search(name, NONE, None).ordinals.tolist()
                assert i in ordinals, name
                ranks.append(name_rank(osm, ordinals, i))
    assert len(ranks) > 400
    assert max(ranks) < 5
    assert sum(r == 0 for r in ranks) / len(ranks) >= 0.95


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("仁济", "仁济"),
        ("renji", "仁济"),
        ("华山医院", "华山医院"),
        ("曙光", "曙光"),
        ("瑞金医院", "瑞金医院"),
        ("口腔", "口腔"),
        ("社区卫生服务中心", "社区卫生服务中心"),
    ],
)
def test_osm_brand_searches_find_every_branch(
    osm: Directory,
    osm_engines: dict[str, SearchEngine],
    engine_name: str,
    text: str,
    part: str,
) -> None:
    expected = with_name(osm, part)
    assert expected
    found = set(osm_engines[engine_name].search(text, NONE, None).ordinals.tolist())
    assert expected <= found
    # and every name match ranks before anything found only elsewhere
    top = osm_engines[engine_name].search(text, NONE, len(expected)).ordinals.tolist()
    assert set(top) == expected


@pytest.mark.parametrize(
    "text",
    ["仁济", "renji", "华山", "huashan", "hospital", "children", "中心医院", "浦东新区", "pudong",
     "妇幼保健院", "精神卫生中心", "中医", "医务室", "xyzzy"],
)  # fmt: skip
def test_engines_agree_on_the_osm_corpus(osm_engines: dict[str, SearchEngine], text: str) -> None:
    a = osm_engines["whoosh"].search(text, NONE, None)
    b = osm_engines["tantivy"].search(text, NONE, None)
    assert set(a.ordinals.tolist()) == set(b.ordinals.tolist())
    assert a.total == b.total


@pytest.mark.parametrize("engine_name", ENGINES)
def test_curated_lists_answer_the_manuals_searches(
    curated: Directory, curated_engines: dict[str, SearchEngine], engine_name: str
) -> None:
    engine = curated_engines[engine_name]

    def find(text: str, kind: FacilityKind | None = None) -> set[str]:
        hits = engine.search(text, SearchFilters(kind=kind), None)
        return {curated.facilities[int(i)].id for i in hits.ordinals}

    renji = {f.id for f in curated.facilities if "仁济" in f.name_zh}
    assert len(renji) == 2
    assert find("仁济") == find("Renji") == find("renji") == renji

    arrail = {f.id for f in curated.facilities if "瑞尔" in f.name_zh}
    assert len(arrail) == 5
    assert find("瑞尔", FacilityKind.DENTAL) == arrail
    assert find("齿科", FacilityKind.DENTAL) == {
        f.id for f in curated.facilities if f.kind is FacilityKind.DENTAL
    }
    assert find("齿科", FacilityKind.MEDICAL) == set()

    united = find("hemujia", FacilityKind.DESIGNATED)
    assert {curated.get(i).name_zh for i in united} >= {"上海和睦家医院"}  # type: ignore[union-attr]
    assert united == find("和睦家") == find("United Family")

    for i, f in enumerate(curated.facilities):
        for name in (f.name_zh, f.name_en):
            if name:
                assert i in engine.search(name, SearchFilters(kind=f.kind), 3).ordinals, name
