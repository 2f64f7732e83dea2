"""whoosh and tantivy must find the same facilities for the same query."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.directory.directory import Directory
from server.directory.models import FacilityKind, Ownership
from server.search import BBox, SearchEngine, SearchFilters

NONE = SearchFilters()
DENTAL = SearchFilters(kind=FacilityKind.DENTAL)
DESIGNATED = SearchFilters(kind=FacilityKind.DESIGNATED)
PUDONG = SearchFilters(district="浦东新区")

QUERIES: list[tuple[str | None, SearchFilters]] = [
    # Chinese
    ("仁济", NONE),
    ("仁济医院", NONE),
    ("上海交通大学医学院附属仁济医院", NONE),
    ("华山", NONE),
    ("曙光医院", NONE),
    ("和睦家", NONE),
    ("东方医院", NONE),
    ("特需部", NONE),
    ("特诊部", PUDONG),
    ("齿科", DENTAL),
    ("口腔", NONE),
    ("浦东新区 诊所", NONE),
    ("北园路33号", NONE),
    ("社区卫生服务中心", NONE),
    ("儿科", DESIGNATED),
    ("医院", SearchFilters(ownership=Ownership.PRIVATE)),
    ("医院", SearchFilters(grade="三甲", department="急诊科")),
    # English
    ("Renji", NONE),
    ("hospitals", NONE),
    ("United Family", NONE),
    ("dental clinic", PUDONG),
    ("cardiology", NONE),
    ("Shanghai Children's Medical Center", NONE),
    ("eye ENT", NONE),
    ("clinic", SearchFilters(network="test-group-plan")),
    # pinyin and mixed
    ("renji", NONE),
    ("hemujia", NONE),
    ("huashan", SearchFilters(city="上海")),
    ("ruier", DENTAL),
    ("仁济 pudong", NONE),
    ("和睦家 clinic", DESIGNATED),
    # forgiving: completions, one typo, spaces and apostrophes, synonyms
    ("renj", NONE),
    ("Rengi", NONE),
    ("ren ji", NONE),
    ("ren", NONE),
    ("Jing'an", NONE),
    ("jing an", NONE),
    ("Jingan", PUDONG),
    ("hospitl", NONE),
    ("dentl clinc", NONE),
    ("dental", SearchFilters(kind=FacilityKind.MEDICAL)),
    ("emergency", NONE),
    ("急诊", NONE),
    ("cardiology", DESIGNATED),
    ("心内科", NONE),
    ("teeth", NONE),
    # inside a box (Pudong, then around People's Square)
    ("医院", SearchFilters(within=BBox(31.15, 121.50, 31.30, 121.65))),
    ("clinic", SearchFilters(within=BBox(31.20, 121.44, 31.26, 121.50))),
    (None, SearchFilters(kind=FacilityKind.DENTAL, within=BBox(31.2, 121.5, 31.25, 121.6))),
    # nothing to find
    ("xyzzy", NONE),
    ("！？", NONE),
    # no text
    (None, NONE),
    (None, DENTAL),
    (
        None,
        SearchFilters(kind=FacilityKind.MEDICAL, district="浦东新区", network="test-group-plan"),
    ),
    (None, SearchFilters(city="北京")),
]


@pytest.mark.parametrize(("text", "filters"), QUERIES)
def test_both_engines_find_the_same_facilities(
    whoosh: SearchEngine, tantivy: SearchEngine, text: str | None, filters: SearchFilters
) -> None:
    a = whoosh.search(text, filters, None)
    b = tantivy.search(text, filters, None)
    assert set(a.ordinals.tolist()) == set(b.ordinals.tolist())
    assert a.total == b.total == len(a.ordinals)
    if text is None:  # directory order: defined, so it must be the same
        assert a.ordinals.tolist() == b.ordinals.tolist()
    limited_a, limited_b = whoosh.search(text, filters, 3), tantivy.search(text, filters, 3)
    assert limited_a.total == limited_b.total == a.total
    assert len(limited_a.ordinals) == len(limited_b.ordinals) == min(3, a.total)


def test_the_query_set_finds_something(whoosh: SearchEngine) -> None:
    # the parity above means little if every query found nothing
    found = [whoosh.search(t, f, None).total for t, f in QUERIES]
    # four find nothing on purpose: xyzzy, punctuation, Jingan in Pudong, dental on the medical list
    assert sum(1 for n in found if n > 0) >= len(QUERIES) - 4


def test_tantivy_maps_hits_back_when_the_index_has_several_segments(
    directory: Directory, tantivy: SearchEngine, tmp_path: Path
) -> None:
    # The engine writes one segment, where document ids are ordinals; an index in
    # several segments (documents added in two commits here) must answer the same.
    import tantivy as tv

    from server.search import analysis, tantivy_engine

    ix = tv.Index(tantivy_engine._schema(), path=str(tmp_path), reuse=False)
    tantivy_engine._register(ix)
    writer = ix.writer(heap_size=tantivy_engine.MIN_HEAP, num_threads=1)
    half = len(directory) // 2
    for start, stop in ((half, len(directory)), (0, half)):  # second half first
        for i in range(start, stop):
            f = directory.facilities[i]
            fields: dict[str, object] = dict(analysis.document(f))
            fields.update(analysis.keywords(f))
            fields.update(
                {tantivy_engine.ORDINAL: i, tantivy_engine.LAT: f.lat, tantivy_engine.LNG: f.lng}
            )
            writer.add_document(tv.Document(**fields))
        writer.commit()
    writer.wait_merging_threads()
    documents = (analysis.document(f) for f in directory.facilities)
    analysis.Lexicon(analysis.lexicon_counts(documents)).save(tmp_path)

    split = tantivy_engine.TantivyEngine.open(directory, tmp_path)
    try:
        assert split._ordinals is not None  # the mapping path is in use
        for text, filters in QUERIES:
            a, b = tantivy.search(text, filters, None), split.search(text, filters, None)
            assert set(a.ordinals.tolist()) == set(b.ordinals.tolist())
            assert a.total == b.total
            if text is None:
                assert a.ordinals.tolist() == b.ordinals.tolist()
            assert split.search(text, filters, 2).total == a.total
    finally:
        split.close()
