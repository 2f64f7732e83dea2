"""Directory search: text and filters from the engine, distance from numpy."""

from __future__ import annotations

import dataclasses
import enum
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from server.directory.directory import Directory
from server.directory.geo import display_kms, in_china
from server.directory.models import Facility, FacilityKind, Ownership
from server.directory.places import Gazetteer, Place
from server.errors import InvalidInput
from server.search import SearchEngine, SearchFilters, nearby

MAX_PAGE = 100
MAX_TEXT = 100
# Distance sort ranks by band first: within one band, facilities whose point is only an
# estimate come after those whose building is known, since their distance may be off by
# about this much. A directory with both kinds fetches rows past the page too, so that an
# exact row just past it can move up (all-exact or all-estimate directories pay nothing).
DISTANCE_BAND_KM = 2.0
_BAND_SLACK = 20


class Sort(enum.Enum):
    RELEVANCE = "relevance"  # 综合排序
    DISTANCE = "distance"  # 离我最近


@dataclass(frozen=True, slots=True)
class FacilityQuery:
    text: str | None = None
    kind: FacilityKind | None = None
    city: str | None = None
    district: str | None = None
    ownership: Ownership | None = None
    grade: str | None = None
    department: str | None = None
    network: str | None = None
    near: tuple[float, float] | None = None  # (lat, lng), WGS-84
    place: str | None = None  # a typed place, resolved to ``near`` (see places.py)
    max_distance_km: float | None = None
    sort: Sort = Sort.RELEVANCE
    offset: int = 0
    limit: int = 20


class _PageDistances:
    """The display km of a page's rows, computed together the first time one is shown:
    a page that does not show distances (or a client that does not ask for them) does
    not pay for them, and one that does pays one vectorised call, not one per row."""

    __slots__ = ("_km", "_lats", "_lngs", "near")

    def __init__(self, near: tuple[float, float], facilities: list[Facility]) -> None:
        self.near = near
        self._lats = np.fromiter((f.lat for f in facilities), np.float64, len(facilities))
        self._lngs = np.fromiter((f.lng for f in facilities), np.float64, len(facilities))
        self._km: list[float] | None = None

    def km(self, row: int) -> float:
        if self._km is None:
            self._km = display_kms(self.near, self._lats, self._lngs)
        return self._km[row]


@dataclass(frozen=True, slots=True)
class FacilityResult:
    facility: Facility
    near: tuple[float, float] | None  # the point distances are measured from
    _distances: _PageDistances | None = field(default=None, repr=False, compare=False)
    _row: int = field(default=0, repr=False, compare=False)

    @property
    def distance_km(self) -> float | None:
        """Geodesic km with one decimal, computed when shown (with the page's other rows).
        None for a facility whose point is an estimate: a precise km would mislead."""
        if self.near is None or self.facility.approximate:
            return None
        if self._distances is None or self._distances.near != self.near:
            return display_kms(
                self.near, np.array([self.facility.lat]), np.array([self.facility.lng])
            )[0]
        return self._distances.km(self._row)


@dataclass(frozen=True, slots=True)
class FacilityPage:
    results: list[FacilityResult]
    total: int
    offset: int
    place: Place | None = None  # what a typed place was taken to be

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.results) < self.total


@dataclass(frozen=True, slots=True)
class ListCount:
    """How many facilities of another list the same words find."""

    kind: FacilityKind
    count: int


@dataclass(frozen=True, slots=True)
class FacetCount:
    value: str
    label_en: str
    count: int


@dataclass(frozen=True, slots=True)
class Facets:
    districts: list[FacetCount]
    grades: list[FacetCount]
    departments: list[FacetCount]
    total: int


class DirectoryService:
    def __init__(
        self, directory: Directory, engine: SearchEngine, places: Gazetteer | None = None
    ) -> None:
        self.directory = directory
        self.engine = engine
        self.places = places if places is not None else Gazetteer([])

    def find_places(self, text: str, limit: int = 5) -> list[Place]:
        """The places a typed place most likely names (a district, street, landmark,
        station or hotel, or a pasted Chinese address), best first."""
        return self.places.find(text, limit)

    def resolve_place(self, q: FacilityQuery) -> tuple[FacilityQuery, Place | None]:
        """The query with its typed place turned into the point distances are measured from."""
        if not q.place or not q.place.strip():
            return q, None
        if q.near is not None:
            raise InvalidInput("Give either 'near' or 'place', not both.", field="place")
        found = self.find_places(q.place, 1)
        if not found:
            raise InvalidInput(
                "No district, street or landmark of that name is known; try a district "
                "(Pudong, 徐汇), a street (山东中路), a hospital, or paste a Chinese address.",
                field="place",
            )
        p = found[0]
        return dataclasses.replace(q, near=(p.lat, p.lng), place=None), p

    def get(self, facility_id: str) -> Facility | None:
        return self.directory.get(facility_id)

    def search(self, q: FacilityQuery) -> FacilityPage:
        q, place = self.resolve_place(q)
        self._check(q)
        text = (q.text or "").strip() or None
        filters = self._filters(q)
        if filters is None:  # a filter value that names nothing we know matches nothing
            return FacilityPage([], 0, q.offset, place)

        if q.near is not None and q.sort is Sort.DISTANCE:
            # only the matches around the point are measured, not every match in the city
            mixed = self.directory.mixed_precision
            near = nearby.nearest(
                self.engine,
                self.directory,
                text,
                filters,
                *q.near,
                k=q.offset + q.limit + (_BAND_SLACK if mixed else 0),
                max_km=q.max_distance_km,
            )
            ordinals = self._exact_first_in_band(near) if mixed else near.ordinals
            total = near.total
        elif q.near is not None and q.max_distance_km is not None:
            near = nearby.within(
                self.engine, self.directory, text, filters, *q.near, q.max_distance_km
            )
            ordinals, total = near.ordinals, near.total
        else:
            hits = self.engine.search(text, filters, q.offset + q.limit)
            ordinals, total = hits.ordinals, hits.total

        page = ordinals[q.offset : q.offset + q.limit]
        facilities = [self.directory.facilities[int(i)] for i in page]
        if q.near is None:
            results = [FacilityResult(f, None) for f in facilities]
        else:
            distances = _PageDistances(q.near, facilities)
            results = [
                FacilityResult(f, q.near, distances, row) for row, f in enumerate(facilities)
            ]
        return FacilityPage(results, total, q.offset, place)

    def other_lists(self, q: FacilityQuery) -> list[ListCount]:
        """The other lists where the query's words find facilities, with their counts:
        ``dental`` typed on the medical list points to the dental list. Only the words
        count (not the district or the point), as the other list's page starts afresh."""
        text = (q.text or "").strip()
        if not text or q.kind is None or len(text) > MAX_TEXT:
            return []
        counts = [
            ListCount(kind, self.engine.search(text, SearchFilters(kind=kind), 0).total)
            for kind in FacilityKind
            if kind is not q.kind
        ]
        return [c for c in counts if c.count]

    def _exact_first_in_band(self, near: nearby.NearbyHits) -> np.ndarray:
        if len(near.ordinals) == 0:
            return near.ordinals
        idx = np.asarray(near.ordinals, dtype=np.int64)
        km = np.asarray(near.distances_km, dtype=np.float64)
        approx = self.directory.approximate[idx]
        band = np.floor(km / DISTANCE_BAND_KM)
        order = np.lexsort((km, approx, band))  # last key sorts first
        return idx[order]

    def facets(self, kind: FacilityKind | None = None, city: str | None = None) -> Facets:
        hits = self.engine.search(None, SearchFilters(kind=kind, city=city), None)
        c = self.directory.columns
        ordinals = hits.ordinals
        districts = _counted(c.district_vocab, c.district_code[ordinals])
        grades = _counted(c.grade_vocab, c.grade_code[ordinals])
        grades.pop("", None)
        chosen = np.zeros(len(self.directory), dtype=bool)
        chosen[ordinals] = True
        per_department = np.bincount(
            c.department_code[chosen[c.department_row]], minlength=len(c.department_vocab)
        )
        departments = Counter(
            {c.department_vocab[i][0]: int(n) for i, n in enumerate(per_department) if n}
        )
        dept_en = dict(c.department_vocab)
        district_en = {d.zh: d.en for d in self.directory.districts}
        return Facets(
            districts=[FacetCount(k, district_en.get(k, k), n) for k, n in _ranked(districts)],
            grades=[FacetCount(k, grade_en(k), n) for k, n in _ranked(grades)],
            departments=[FacetCount(k, dept_en[k], n) for k, n in _ranked(departments)],
            total=hits.total,
        )

    def _check(self, q: FacilityQuery) -> None:
        if q.place is not None and len(q.place) > MAX_TEXT:
            raise InvalidInput(f"A place is limited to {MAX_TEXT} characters.", field="place")
        if q.text is not None and len(q.text) > MAX_TEXT:
            raise InvalidInput(f"Search text is limited to {MAX_TEXT} characters.", field="text")
        if not 1 <= q.limit <= MAX_PAGE:
            raise InvalidInput(f"'first' must be between 1 and {MAX_PAGE}.", field="first")
        if q.offset < 0:
            raise InvalidInput("The cursor is not valid.", field="after")
        if q.near is not None:
            lat, lng = q.near
            if (
                not (-90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0)
                or not np.isfinite([lat, lng]).all()
            ):
                raise InvalidInput(
                    "'near' needs a latitude between -90 and 90 and a longitude between -180 and 180.",
                    field="near",
                )
            if not in_china(lat, lng):
                raise InvalidInput(
                    "'near' is outside mainland China; every facility in this directory is inside it.",
                    field="near",
                )
        if q.sort is Sort.DISTANCE and q.near is None:
            raise InvalidInput("Sorting by DISTANCE needs 'near' (your location).", field="near")
        if q.max_distance_km is not None:
            if q.near is None:
                raise InvalidInput(
                    "'maxDistanceKm' needs 'near' (your location).", field="maxDistanceKm"
                )
            if not (0 < q.max_distance_km <= 5000) or not np.isfinite(q.max_distance_km):
                raise InvalidInput(
                    "'maxDistanceKm' must be above 0 and at most 5000.", field="maxDistanceKm"
                )

    def _filters(self, q: FacilityQuery) -> SearchFilters | None:
        district = None
        if q.district:
            d = self.directory.district(q.district)
            if d is None:
                return None
            district = d.zh
        department = None
        if q.department:
            department = self.directory.department(q.department)
            if department is None:
                return None
        grade = None
        if q.grade:
            grade = grade_zh(q.grade)
        city = None
        if q.city:
            city = _city_zh(q.city, self.directory)
        return SearchFilters(
            kind=q.kind,
            city=city,
            district=district,
            ownership=q.ownership,
            grade=grade,
            department=department,
            network=q.network or None,
        )


_GRADES = {
    "三甲": "Grade 3A",
    "三乙": "Grade 3B",
    "二甲": "Grade 2A",
    "二乙": "Grade 2B",
    "一级": "Grade 1",
}


def grade_en(zh: str) -> str:
    return _GRADES.get(zh, zh)


def grade_zh(value: str) -> str:
    v = value.strip()
    for zh, en in _GRADES.items():
        if v.casefold() in {en.casefold(), en.casefold().removeprefix("grade ")}:
            return zh
    return v


def _city_zh(value: str, directory: Directory) -> str:
    v = value.strip().casefold()
    for d in directory.districts:
        if v in {d.city.casefold(), d.city_en.casefold()}:
            return d.city
    return value.strip()


def _counted(vocab: tuple[str, ...], codes: np.ndarray) -> Counter[str]:
    counts = np.bincount(codes, minlength=len(vocab))
    return Counter({vocab[i]: int(n) for i, n in enumerate(counts) if n})


def _ranked(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
