"""What an engine keeps per worker stays within its bounds."""

from __future__ import annotations

import pytest

from server.directory.models import FacilityKind
from server.search import SearchEngine, SearchFilters, whoosh_engine


def test_whoosh_keeps_filter_results_within_a_byte_bound(
    whoosh: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(whoosh, whoosh_engine.WhooshEngine)
    monkeypatch.setattr(whoosh_engine, "FILTER_CACHE_BYTES", 200)
    combos = [
        SearchFilters(kind=kind, city=city)
        for kind in FacilityKind
        for city in ("上海", "北京", None)
    ]
    expected = [whoosh.search(None, f, None).total for f in combos]
    # searched again (from the cache or not), the answers are the same
    assert [whoosh.search(None, f, None).total for f in combos] == expected
    kept = whoosh._filters
    assert 1 <= len(kept) < len(combos)
    assert whoosh._filter_bytes == sum(a.mask.nbytes + a.ordinals.nbytes for a in kept.values())
    assert whoosh._filter_bytes <= 200 or len(kept) == 1
