"""The search interface the directory service talks to.

An engine indexes a Directory and answers text + filter queries with the
*ordinals* (positions in ``Directory.facilities``) of matching facilities, in
relevance order. Distance sorting is not the engine's job: the directory
service does it over the candidates with vectorised haversine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from server.directory.models import FacilityKind, Ownership


@dataclass(frozen=True, slots=True)
class BBox:
    """A latitude/longitude box in WGS-84 degrees, edges included."""

    south: float
    west: float
    north: float
    east: float

    def contains(self, lat: float, lng: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lng <= self.east


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Exact-match filters, already normalised to canonical (Chinese) values."""

    kind: FacilityKind | None = None
    city: str | None = None
    district: str | None = None
    ownership: Ownership | None = None
    grade: str | None = None
    department: str | None = None  # Chinese department name
    network: str | None = None  # network id
    # Only facilities whose point lies in this box: lets a distance search ask
    # for the surroundings of a point instead of every match in the city.
    within: BBox | None = None


@dataclass(frozen=True, slots=True)
class SearchHits:
    ordinals: np.ndarray  # int64, relevance order (best first); all matches when limit is None
    total: int  # number of matching facilities, whatever the limit


class SearchEngine(Protocol):
    name: str

    def search(self, text: str | None, filters: SearchFilters, limit: int | None) -> SearchHits:
        """Matching facilities. No text means "every facility passing the filters",
        in directory order. ``limit=None`` returns every match."""
        ...

    def close(self) -> None: ...
