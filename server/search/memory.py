"""A tiny engine over substrings, for unit tests of the layers above search.

It is exact and obvious, which makes it a reference for what the real engines
must at least find; it is not meant for more than a few thousand rows.
"""

from __future__ import annotations

import numpy as np

from server.directory.directory import Directory
from server.directory.models import Facility
from server.search import SearchFilters, SearchHits


def passes(f: Facility, filters: SearchFilters) -> bool:
    return (
        (filters.kind is None or f.kind is filters.kind)
        and (filters.city is None or f.city == filters.city)
        and (filters.district is None or f.district == filters.district)
        and (filters.ownership is None or f.ownership is filters.ownership)
        and (filters.grade is None or f.grade == filters.grade)
        and (filters.department is None or any(d.zh == filters.department for d in f.departments))
        and (filters.network is None or filters.network in f.networks)
        and (filters.within is None or filters.within.contains(f.lat, f.lng))
    )


class MemoryEngine:
    name = "memory"

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._haystacks = [
            " ".join(
                [f.name_zh, f.name_en, f.address_zh, f.address_en]
                + [d.zh for d in f.departments]
                + [d.en for d in f.departments]
            ).casefold()
            for f in directory.facilities
        ]

    def search(self, text: str | None, filters: SearchFilters, limit: int | None) -> SearchHits:
        words = (text or "").casefold().split()
        matches = [
            i
            for i, f in enumerate(self.directory.facilities)
            if passes(f, filters) and all(w in self._haystacks[i] for w in words)
        ]
        arr = np.asarray(matches, dtype=np.int64)
        return SearchHits(arr if limit is None else arr[:limit], len(matches))

    def close(self) -> None:
        pass
