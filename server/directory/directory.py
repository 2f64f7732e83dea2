"""An immutable, loaded directory: facilities plus the reference lists they point to.

The facilities are a sequence: a tuple when read from the source files, or the rows of a
memory-mapped store (`store.py`) that every worker of a server shares. What searches,
distances and facets need of all facilities at once is kept in numpy arrays
(`Columns`), memory-mapped too in the second case.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


@dataclass(frozen=True, slots=True, eq=False)
class Columns:
    """Per-facility arrays (ordinal order) and the vocabularies their codes point into."""

    lat_rad: np.ndarray  # float64
    lng_rad: np.ndarray  # float64
    district_vocab: tuple[str, ...]  # Chinese district names ("" for unknown)
    district_code: np.ndarray  # int32, index into district_vocab
    grade_vocab: tuple[str, ...]  # ("" for none)
    grade_code: np.ndarray  # int32
    department_vocab: tuple[tuple[str, str], ...]  # (zh, en as first seen)
    department_code: np.ndarray  # int32, one per (facility, department)
    department_row: np.ndarray  # int32, the facility of each department_code entry
    departments: dict[str, str]  # casefolded zh or en name -> zh
    approximate: np.ndarray  # bool: the point is an estimate (never ranked as exact)
    list_dates: dict[str, str]  # kind value ("" for all lists) -> newest verified_on, ISO


def columns_of(facilities: Sequence[Facility]) -> Columns:
    n = len(facilities)
    lat = np.fromiter((f.lat for f in facilities), dtype=np.float64, count=n)
    lng = np.fromiter((f.lng for f in facilities), dtype=np.float64, count=n)
    districts: dict[str, int] = {}
    grades: dict[str, int] = {}
    department_ids: dict[str, int] = {}
    department_vocab: list[tuple[str, str]] = []
    departments: dict[str, str] = {}
    district_code = np.empty(n, dtype=np.int32)
    grade_code = np.empty(n, dtype=np.int32)
    codes: list[int] = []
    rows: list[int] = []
    approximate = np.empty(n, dtype=bool)
    newest: dict[str, date] = {}
    for i, f in enumerate(facilities):
        approximate[i] = f.approximate
        for key in (f.kind.value, ""):
            if key not in newest or f.verified_on > newest[key]:
                newest[key] = f.verified_on
        district_code[i] = districts.setdefault(f.district, len(districts))
        grade_code[i] = grades.setdefault(f.grade, len(grades))
        for d in f.departments:
            code = department_ids.get(d.zh)
            if code is None:
                code = department_ids[d.zh] = len(department_vocab)
                department_vocab.append((d.zh, d.en))
            codes.append(code)
            rows.append(i)
            departments.setdefault(d.zh.casefold(), d.zh)
            departments.setdefault(d.en.casefold(), d.zh)
    return Columns(
        lat_rad=np.radians(lat),
        lng_rad=np.radians(lng),
        district_vocab=tuple(districts),
        district_code=district_code,
        grade_vocab=tuple(grades),
        grade_code=grade_code,
        department_vocab=tuple(department_vocab),
        department_code=np.array(codes, dtype=np.int32),
        department_row=np.array(rows, dtype=np.int32),
        departments=departments,
        approximate=approximate,
        list_dates={k: d.isoformat() for k, d in newest.items()},
    )


@dataclass(frozen=True)
class Directory:
    facilities: Sequence[Facility]
    districts: tuple[District, ...]
    networks: tuple[Network, ...]
    content_hash: str  # changes whenever any source file changes; keys the search index
    attribution: str = ""  # e.g. "© OpenStreetMap contributors" for the OSM corpus
    # True for public map data (the OSM corpus): not the insurer's lists, never shown as them
    public_corpus: bool = False
    # computed from the facilities unless given (a memory-mapped store gives its own)
    columns: Columns = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    _ordinal: Callable[[str], int | None] = field(init=False, repr=False, compare=False)
    lat_rad: np.ndarray = field(init=False, repr=False, compare=False)
    lng_rad: np.ndarray = field(init=False, repr=False, compare=False)
    approximate: np.ndarray = field(init=False, repr=False, compare=False)  # bool per facility
    mixed_precision: bool = field(init=False, repr=False, compare=False)  # exact and estimates

    def __post_init__(self) -> None:
        if self.columns is None:
            object.__setattr__(self, "columns", columns_of(self.facilities))
        ordinal = getattr(self.facilities, "ordinal", None)
        if ordinal is None:  # a tuple: a dict of its ids
            ordinal = {f.id: i for i, f in enumerate(self.facilities)}.get
        object.__setattr__(self, "_ordinal", ordinal)
        object.__setattr__(self, "lat_rad", self.columns.lat_rad)
        object.__setattr__(self, "lng_rad", self.columns.lng_rad)
        approximate = self.columns.approximate
        object.__setattr__(self, "approximate", approximate)
        mixed = bool(approximate.any()) and not bool(approximate.all())
        object.__setattr__(self, "mixed_precision", mixed)

    def __len__(self) -> int:
        return len(self.facilities)

    def ordinal(self, facility_id: str) -> int | None:
        return self._ordinal(facility_id)

    def get(self, facility_id: str) -> Facility | None:
        i = self._ordinal(facility_id)
        return None if i is None else self.facilities[i]

    def department(self, name: str) -> str | None:
        """The Chinese name of a department given in Chinese or English."""
        return self.columns.departments.get(name.strip().casefold())

    def list_date(self, kind: FacilityKind | None = None) -> str:
        """When the list (of ``kind``, or all lists) was last checked: its newest
        ``verified_on`` as YYYY-MM-DD; empty when it has no facility."""
        return self.columns.list_dates.get(kind.value if kind else "", "")

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
