"""Search that forgives: completions, typos, spaces, apostrophes and synonyms,
the same in both engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.directory.directory import Directory
from server.directory.models import FacilityKind
from server.search import SearchEngine, SearchFilters, analysis

NONE = SearchFilters()


def found(engine: SearchEngine, text: str, filters: SearchFilters = NONE) -> set[int]:
    return set(engine.search(text, filters, None).ordinals.tolist())


def names(directory: Directory, ordinals: set[int]) -> set[str]:
    return {directory.facilities[i].name_zh for i in ordinals}


@pytest.mark.parametrize("typed", ["renj", "Rengi", "ren ji", "REN JI", "Renjii", "rnji"])
def test_renji_half_typed_mistyped_or_spaced_finds_what_renji_finds(
    engine: SearchEngine, directory: Directory, typed: str
) -> None:
    # given
    renji = found(engine, "Renji")
    assert len(names(directory, renji)) >= 4
    # when
    hits = found(engine, typed)
    # then
    assert renji <= hits
    # what was typed ranks the same way: the Renji rows come first
    top = engine.search(typed, NONE, len(renji)).ordinals.tolist()
    assert set(top) == renji


@pytest.mark.parametrize("typed", ["Jing'an", "Jing’an", "jingan", "Jingan", "jing an", "JING-AN"])
def test_jingan_in_every_spelling_finds_what_the_chinese_finds(
    engine: SearchEngine, directory: Directory, typed: str
) -> None:
    jingan = found(engine, "静安")
    assert names(directory, jingan) == {
        "复旦大学附属华山医院",
        "上海市第十人民医院",
        "百汇医疗集团上海瑞新医疗中心",
    }
    assert found(engine, typed) == jingan


@pytest.mark.parametrize(
    ("english", "chinese"),
    [("emergency", "急诊"), ("dental", "齿科"), ("cardiology", "心内科"), ("Teeth", "牙科")],
)
def test_tag_words_find_the_same_in_either_language(
    engine: SearchEngine, english: str, chinese: str
) -> None:
    en, zh = found(engine, english), found(engine, chinese)
    assert en
    assert en == zh


def test_a_synonym_ranks_after_the_word_typed(engine: SearchEngine, directory: Directory) -> None:
    # 口腔 typed: the 口腔 clinic first, dental clinics called 诊所 after it
    ranked = engine.search("口腔", NONE, None).ordinals.tolist()
    assert "口腔" in directory.facilities[ranked[0]].name_zh
    assert len(ranked) > 1


def test_real_words_are_not_stretched_to_their_neighbours(engine: SearchEngine) -> None:
    # "eye" is a word of the index: it is not also read as a prefix or a typo
    clauses = analysis.query("clinic", _lexicon(engine))
    assert clauses[0].near == ()
    assert found(engine, "xyzzy") == set()


def test_short_words_are_completed_but_not_read_as_typos(engine: SearchEngine) -> None:
    lexicon = _lexicon(engine)
    (two,) = analysis.query("re", lexicon)
    assert two.near == ()  # two letters: too short to complete
    (three,) = analysis.query("ren", lexicon)
    assert {t for _, t in three.near} >= {"renji", "renmin"}
    (typo,) = analysis.query("rnji", lexicon)
    assert {t for _, t in typo.near} == {"renji"}


def test_a_typed_word_on_the_wrong_list_still_counts_there(engine: SearchEngine) -> None:
    dental = found(engine, "dental", SearchFilters(kind=FacilityKind.DENTAL))
    assert len(dental) == 7


def test_one_edit() -> None:
    one = analysis._one_edit
    assert one("rengi", "renji") and one("renj", "renji") and one("renjii", "renji")
    assert one("rnej", "renj")  # two neighbours swapped
    assert not one("rengy", "renji")
    assert not one("abc", "abcde")


def test_the_lexicon_is_saved_and_read_back(tmp_path: Path) -> None:
    lexicon = analysis.Lexicon({"renji": 3, "renmin": 2})
    lexicon.save(tmp_path)
    back = analysis.Lexicon.load(tmp_path)
    assert len(back) == 2 and "renji" in back
    assert analysis.query("renj", back)[0].near == analysis.query("renj", lexicon)[0].near


def test_the_synonym_table_is_data(tmp_path: Path) -> None:
    groups = analysis.synonym_groups()
    assert any({"dental", "齿科"} <= set(g) for g in groups)
    assert any({"emergency", "急诊"} <= set(g) for g in groups)
    assert any({"cardiology", "心内科"} <= set(g) for g in groups)
    # its Chinese words are single query words, so each is one term
    for group in groups:
        for word in group:
            if not word.isascii():
                assert len(analysis.query(word)) == 1, word


def _lexicon(engine: SearchEngine) -> analysis.Lexicon:
    lexicon = engine._lexicon  # type: ignore[attr-defined]  # both real engines have one
    assert isinstance(lexicon, analysis.Lexicon)
    return lexicon
