"""Behaviour every engine must have, run against whoosh and tantivy alike."""

from __future__ import annotations

import numpy as np
import pytest

from server.directory.directory import Directory
from server.directory.models import Category, FacilityKind, Ownership
from server.search import SearchEngine, SearchFilters
from server.search.memory import MemoryEngine, passes

NONE = SearchFilters()


def found(
    engine: SearchEngine, directory: Directory, text: str | None, **filters: object
) -> list[str]:
    hits = engine.search(text, SearchFilters(**filters), None)  # type: ignore[arg-type]
    assert hits.ordinals.dtype == np.int64
    assert hits.total == len(hits.ordinals)
    return [directory.facilities[int(i)].id for i in hits.ordinals]


def named(directory: Directory, part: str) -> set[str]:
    return {f.id for f in directory.facilities if part in f.name_zh}


def test_renji_in_chinese_finds_every_renji_facility(
    engine: SearchEngine, directory: Directory
) -> None:
    ids = found(engine, directory, "仁济")
    assert "t005" in ids  # 上海交通大学医学院附属仁济医院
    assert set(ids) == named(directory, "仁济")


@pytest.mark.parametrize("text", ["Renji", "renji", "RENJI"])
def test_renji_in_english_or_pinyin(engine: SearchEngine, directory: Directory, text: str) -> None:
    ids = set(found(engine, directory, text))
    assert "t005" in ids  # English name "Renji Hospital, ..."
    assert "t023" in ids  # 仁济医院北院: no English name, found by pinyin
    assert ids == named(directory, "仁济")


def test_hemujia_finds_united_family(engine: SearchEngine, directory: Directory) -> None:
    ids = found(engine, directory, "hemujia")
    assert "t041" in ids  # 上海和睦家医院
    assert set(ids) == named(directory, "和睦家")


def test_stemming_hospitals_finds_hospital(engine: SearchEngine, directory: Directory) -> None:
    ids = set(found(engine, directory, "hospitals"))
    assert "t009" in ids  # Shanghai East Hospital
    assert ids == {f.id for f in directory.facilities if "hospital" in f.name_en.casefold()}


def test_chike_with_kind_dental_finds_only_dental(
    engine: SearchEngine, directory: Directory
) -> None:
    ids = found(engine, directory, "齿科", kind=FacilityKind.DENTAL)
    kinds = {directory.get(i).kind for i in ids}  # type: ignore[union-attr]
    assert kinds == {FacilityKind.DENTAL}
    assert set(ids) == {f.id for f in directory.facilities if f.category is Category.DENTAL}


def test_english_department_names_are_searchable(
    engine: SearchEngine, directory: Directory
) -> None:
    ids = set(found(engine, directory, "cardiology"))
    assert ids == {
        f.id for f in directory.facilities if any(d.zh == "心内科" for d in f.departments)
    }


def test_every_word_must_match(engine: SearchEngine, directory: Directory) -> None:
    ids = set(found(engine, directory, "仁济 浦东"))
    assert ids == {"t002", "t003", "t023"}
    assert set(found(engine, directory, "renji pudong")) == {"t002", "t003", "t023"}
    assert found(engine, directory, "仁济 和睦家") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # t042's address (自由贸易试验区) leaves out its district
        ("浦东新区", {"t001", "t002", "t003", "t004", "t007", "t009", "t015", "t022", "t023", "t031", "t032", "t033", "t034", "t035", "t042"}),
        ("特需部", {"t003"}),
        ("华山医院", {"t006", "t007"}),
        ("瑞尔", {"t031", "t032", "t033", "t034", "t035"}),
        ("北园路", {"t002", "t003"}),
    ],
)  # fmt: skip
def test_chinese_text_is_found_however_it_was_cut(
    engine: SearchEngine, directory: Directory, text: str, expected: set[str]
) -> None:
    assert set(found(engine, directory, text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "仁济",
        "和睦家",
        "浦东新区",
        "特诊部",
        "瑞尔",
        "hospital",
        "clinic",
        "东方",
        "口腔",
        "528号",
        "门诊部",
        "济医",
        "中心",
    ],
)
def test_finds_at_least_what_plain_substring_search_finds(
    engine: SearchEngine, directory: Directory, text: str
) -> None:
    reference = MemoryEngine(directory).search(text, NONE, None)
    expected = {directory.facilities[int(i)].id for i in reference.ordinals}
    assert expected
    assert expected <= set(found(engine, directory, text))


def test_names_outrank_addresses(engine: SearchEngine, directory: Directory) -> None:
    ids = found(engine, directory, "东方")
    # 上海东方医院 (in the name) before 上海儿童医学中心 (东方路 in the address)
    assert ids.index("t009") < ids.index("t015")


@pytest.mark.parametrize(
    "filters",
    [
        SearchFilters(kind=FacilityKind.MEDICAL),
        SearchFilters(kind=FacilityKind.DENTAL),
        SearchFilters(kind=FacilityKind.DESIGNATED),
        SearchFilters(city="上海"),
        SearchFilters(city="北京"),
        SearchFilters(district="浦东新区"),
        SearchFilters(district="徐汇区"),
        SearchFilters(ownership=Ownership.PUBLIC),
        SearchFilters(ownership=Ownership.PRIVATE),
        SearchFilters(grade="三甲"),
        SearchFilters(grade="一级"),
        SearchFilters(department="心内科"),
        SearchFilters(department="齿科"),
        SearchFilters(network="test-group-plan"),
        SearchFilters(network="test-other-plan"),
        SearchFilters(kind=FacilityKind.MEDICAL, district="浦东新区", network="test-group-plan"),
        SearchFilters(kind=FacilityKind.DESIGNATED, department="儿科", city="上海"),
    ],
)
def test_each_filter_lists_exactly_the_passing_facilities_in_directory_order(
    engine: SearchEngine, directory: Directory, filters: SearchFilters
) -> None:
    expected = [i for i, f in enumerate(directory.facilities) if passes(f, filters)]
    assert expected
    hits = engine.search(None, filters, None)
    assert hits.ordinals.tolist() == expected
    assert hits.total == len(expected)


@pytest.mark.parametrize(
    ("text", "filters"),
    [
        ("全科", SearchFilters(kind=FacilityKind.DESIGNATED)),
        ("hospital", SearchFilters(district="徐汇区")),
        ("医院", SearchFilters(ownership=Ownership.PRIVATE)),
        ("united family", SearchFilters(city="上海")),
        ("医院", SearchFilters(grade="三甲", department="急诊科")),
        ("clinic", SearchFilters(network="test-group-plan")),
    ],
)
def test_filters_narrow_text_matches(
    engine: SearchEngine, directory: Directory, text: str, filters: SearchFilters
) -> None:
    unfiltered = set(found(engine, directory, text))
    filtered = engine.search(text, filters, None)
    ids = {directory.facilities[int(i)].id for i in filtered.ordinals}
    assert ids
    assert ids == {i for i in unfiltered if passes(directory.get(i), filters)}  # type: ignore[arg-type]


def test_unknown_filter_values_match_nothing(engine: SearchEngine, directory: Directory) -> None:
    for filters in (
        SearchFilters(district="不存在区"),
        SearchFilters(network="no-such-plan"),
        SearchFilters(department="不存在科"),
    ):
        assert engine.search(None, filters, None).total == 0
        hits = engine.search("医院", filters, 10)
        assert hits.total == 0
        assert hits.ordinals.size == 0


def test_no_text_lists_everything_in_directory_order(
    engine: SearchEngine, directory: Directory
) -> None:
    for text in (None, "", "   "):
        hits = engine.search(text, NONE, None)
        assert hits.ordinals.tolist() == list(range(len(directory)))
        assert hits.total == len(directory)


def test_limit_cuts_the_list_but_not_the_total(engine: SearchEngine, directory: Directory) -> None:
    everything = engine.search("医院", NONE, None)
    assert everything.total > 5
    first = engine.search("医院", NONE, 5)
    assert first.ordinals.size == 5
    assert first.total == everything.total
    assert set(first.ordinals.tolist()) <= set(everything.ordinals.tolist())

    listing = engine.search(None, SearchFilters(kind=FacilityKind.DENTAL), 3)
    assert (
        listing.ordinals.tolist()
        == [i for i, f in enumerate(directory.facilities) if f.kind is FacilityKind.DENTAL][:3]
    )
    assert listing.total == 7

    more = engine.search("瑞尔", NONE, 100)
    assert more.ordinals.size == more.total == 5

    none = engine.search("医院", NONE, 0)
    assert none.ordinals.size == 0
    assert none.total == everything.total


def test_limited_results_are_the_best_ones(engine: SearchEngine, directory: Directory) -> None:
    everything = engine.search("仁济 医院", NONE, None)
    top = engine.search("仁济 医院", NONE, 2)
    assert top.ordinals.tolist() == everything.ordinals[:2].tolist()


def test_text_without_searchable_words_matches_nothing(engine: SearchEngine) -> None:
    hits = engine.search("！？", NONE, None)
    assert hits.total == 0
    assert hits.ordinals.size == 0


def test_words_nobody_has_match_nothing(engine: SearchEngine) -> None:
    assert engine.search("xyzzy", NONE, None).total == 0
    assert engine.search("火星医院", NONE, 10).total == 0
