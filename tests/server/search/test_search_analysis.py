from __future__ import annotations

import pytest

from server.directory.directory import Directory
from server.directory.models import FacilityKind, Ownership
from server.search import SearchFilters, analysis
from server.search.analysis import ADDRESS, EXTRA, GRAM, NAME


def words(text: str) -> list[str]:
    return [c.word for c in analysis.query(text)]


@pytest.mark.parametrize(
    "part", ["仁济", "华山", "曙光", "和睦家", "瑞尔", "特需部", "特诊部", "齿科"]
)
def test_facility_name_parts_are_single_query_terms(part: str) -> None:
    assert words(part) == [part]


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("上海交通大学医学院附属仁济医院", "仁济"),
        ("复旦大学附属华山医院", "华山"),
        ("上海中医药大学附属曙光医院(东部)特诊部", "曙光"),
        ("上海和睦家新城医院", "和睦家"),
        ("上海瑞尔碧云诊所", "瑞尔"),
    ],
)
def test_names_are_indexed_with_their_parts_whole(name: str, part: str) -> None:
    terms = analysis.terms(name)
    assert part in terms
    # the part is not only reachable as single characters
    assert part[0] not in terms


def test_a_name_is_cut_into_its_parts() -> None:
    assert words("上海交通大学医学院附属仁济医院") == [
        "上海交通大学",
        "医学院",
        "附属",
        "仁济",
        "医院",
    ]


def test_dictionary_words_inside_longer_words_are_indexed() -> None:
    terms = analysis.terms("上海市浦东新区北园路33号")
    assert {"上海", "上海市", "浦东", "新区", "33"} <= set(terms)


@pytest.mark.parametrize(
    ("text", "pinyin"),
    [("仁济医院", "renji"), ("上海和睦家医院", "hemujia"), ("复旦大学附属华山医院", "huashan")],
)
def test_chinese_words_are_indexed_with_their_pinyin(text: str, pinyin: str) -> None:
    assert pinyin in analysis.terms(text)


def test_single_characters_get_no_pinyin() -> None:
    # "lu" for 路 would match half the addresses in a city
    assert "lu" not in analysis.terms("张衡路")
    assert "hao" not in analysis.terms("528号")


def test_english_is_case_folded_and_stemmed() -> None:
    assert analysis.terms("Hospitals") == analysis.terms("hospital") == ("hospit",)
    assert analysis.terms("Renji Hospital") == ("renji", "hospit")


def test_full_width_letters_are_folded() -> None:
    assert analysis.terms("ＲＥＮＪＩ １２３") == ("renji", "123")


def test_an_english_query_word_looks_for_its_stem_and_for_pinyin_as_typed() -> None:
    (clause,) = analysis.query("Hospitals")
    assert clause.word == "hospitals"
    assert {t for _, t in clause.terms} == {"hospit", "hospitals"}
    assert {f for f, _ in clause.terms} == set(analysis.TEXT_FIELDS)
    assert clause.grams == ()


def test_dictionary_words_are_indexed_across_jiebas_cuts() -> None:
    # jieba cuts 特需门诊/部, so 门诊部 is only found by looking at every dictionary word
    assert "门诊部" not in analysis._cut("特需门诊部")
    assert "门诊部" in analysis.terms("特需门诊部")
    assert "浦东新区" in analysis.terms("上海市浦东新区北园路")


def test_single_characters_are_looked_up_among_characters() -> None:
    (word,) = analysis.query("浦东新区")
    assert word.grams == ()
    (single,) = analysis.query("楼")
    assert single.grams == ("楼",)
    assert analysis.grams("仁济(浦东)") == ("仁", "济", "浦", "东")


def test_mixed_queries_split_into_words_and_repeat_words_count_once() -> None:
    assert words("仁济hospital 仁济") == ["仁济", "hospital"]


@pytest.mark.parametrize("text", ["", "   ", "！？。", "---"])
def test_text_without_searchable_words_gives_no_clauses(text: str) -> None:
    assert analysis.query(text) == ()


def test_documents_fill_every_field(directory: Directory) -> None:
    shuguang = directory.facilities[0]
    assert shuguang.name_zh == "上海中医药大学附属曙光医院(东部)特诊部"
    doc = analysis.document(shuguang)
    assert set(doc) == {NAME, ADDRESS, EXTRA, GRAM}
    assert "曙光" in doc[NAME].split()
    assert "shuguang" in doc[NAME].split()
    assert "张衡" in doc[ADDRESS].split()
    assert "endocrinolog" in doc[EXTRA].split()
    assert "特" in doc[GRAM].split()


def test_filters_become_terms() -> None:
    filters = SearchFilters(
        kind=FacilityKind.DENTAL,
        city="上海",
        district="浦东新区",
        ownership=Ownership.PRIVATE,
        grade="",
        department="齿科",
        network="plan-a",
    )
    assert analysis.filter_terms(filters) == [
        ("kind", "=dental"),
        ("city", "=上海"),
        ("district", "=浦东新区"),
        ("ownership", "=private"),
        ("grade", "="),
        ("dept", "=齿科"),
        ("network", "=plan-a"),
    ]
    assert analysis.filter_terms(SearchFilters()) == []


def test_fingerprint_is_stable() -> None:
    assert analysis.fingerprint() == analysis.fingerprint()
    assert len(analysis.fingerprint()) == 16
