"""An immutable, loaded directory: facilities plus the reference lists they point to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from server.directory.models import Facility, FacilityKind


@dataclass(frozen=True, slots=True)
class District:
    city: str  # 上海
    city_en: str  # Shanghai
    zh: str  # 浦东新区
    en: str  # Pudong New Area
    adcode: str


@dataclass(frozen=True, slots=True)
class Network:
    id: str
    name_zh: str
    name_en: str
    source: str


@dataclass(frozen=True)
class Directory:
    facilities: tuple[Facility, ...]
    districts: tuple[District, ...]
    networks: tuple[Network, ...]
    content_hash: str  # changes whenever any source file changes; keys the search index
    attribution: str = ""  # e.g. "© OpenStreetMap contributors" for the OSM corpus
    # True for public map data (the OSM corpus): not the insurer's lists, never shown as them
    public_corpus: bool = False
    _by_id: dict[str, int] = field(init=False, repr=False)
    _departments: dict[str, str] = field(init=False, repr=False)
    _list_dates: dict[FacilityKind | None, str] = field(init=False, repr=False)
    lat_rad: np.ndarray = field(init=False, repr=False)
    lng_rad: np.ndarray = field(init=False, repr=False)
    approximate: np.ndarray = field(init=False, repr=False)  # bool per facility
    mixed_precision: bool = field(init=False, repr=False)  # some exact points, some estimates

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {f.id: i for i, f in enumerate(self.facilities)})
        departments: dict[str, str] = {}
        for f in self.facilities:
            for d in f.departments:
                departments.setdefault(d.zh.casefold(), d.zh)
                departments.setdefault(d.en.casefold(), d.zh)
        object.__setattr__(self, "_departments", departments)
        newest: dict[FacilityKind | None, date] = {}
        for f in self.facilities:
            for key in (f.kind, None):
                if key not in newest or f.verified_on > newest[key]:
                    newest[key] = f.verified_on
        object.__setattr__(self, "_list_dates", {k: d.isoformat() for k, d in newest.items()})
        lat = np.fromiter((f.lat for f in self.facilities), dtype=np.float64)
        lng = np.fromiter((f.lng for f in self.facilities), dtype=np.float64)
        object.__setattr__(self, "lat_rad", np.radians(lat))
        object.__setattr__(self, "lng_rad", np.radians(lng))
        approximate = np.fromiter((f.approximate for f in self.facilities), dtype=bool)
        object.__setattr__(self, "approximate", approximate)
        mixed = bool(approximate.any()) and not bool(approximate.all())
        object.__setattr__(self, "mixed_precision", mixed)

    def __len__(self) -> int:
        return len(self.facilities)

    def ordinal(self, facility_id: str) -> int | None:
        return self._by_id.get(facility_id)

    def get(self, facility_id: str) -> Facility | None:
        i = self._by_id.get(facility_id)
        return None if i is None else self.facilities[i]

    def department(self, name: str) -> str | None:
        """The Chinese name of a department given in Chinese or English."""
        return self._departments.get(name.strip().casefold())

    def list_date(self, kind: FacilityKind | None = None) -> str:
        """When the list (of ``kind``, or all lists) was last checked: its newest
        ``verified_on`` as YYYY-MM-DD; empty when it has no facility."""
        return self._list_dates.get(kind, "")

    def district(self, name: str) -> District | None:
        """Find a district by its Chinese or English name (case-insensitive)."""
        key = name.strip().casefold()
        for d in self.districts:
            if key in {d.zh.casefold(), d.en.casefold(), d.en.casefold().removesuffix(" district")}:
                return d
        return None


def make_directory(
    facilities: Sequence[Facility],
    districts: Sequence[District] = (),
    networks: Sequence[Network] = (),
    content_hash: str = "",
    attribution: str = "",
    public_corpus: bool = False,
) -> Directory:
    return Directory(
        tuple(facilities),
        tuple(districts),
        tuple(networks),
        content_hash,
        attribution,
        public_corpus,
    )
