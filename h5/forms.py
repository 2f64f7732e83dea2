"""The list pages' GET form: query-string parsing and checks with messages to show.

Every check here names the field and a translation key, so a bad link renders the
page with a sentence saying what to fix (HTTP 400) instead of a stack trace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from server.directory.directory import Directory
from server.directory.geo import in_china
from server.directory.models import FacilityKind
from server.directory.places import Gazetteer, Place
from server.directory.service import MAX_TEXT, FacilityQuery, Sort

DEFAULT_SIZE = 20
MAX_SIZE = 50
# Far beyond any real list; keeps offset arithmetic and echoed links small.
MAX_PAGE = 100_000
# Three decimals is ~100 m: enough to rank nearby facilities, and a coarser trace of
# where a visitor stands in links, history and access logs.
COORD_DECIMALS = 3


@dataclass(frozen=True, slots=True)
class FieldError:
    name: str  # the form field to mark, e.g. "q", "lat"
    key: str  # translation key
    values: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class ListForm:
    q: str = ""
    district: str = ""  # Chinese district name, canonical
    sort: Sort = Sort.RELEVANCE
    lat: float | None = None
    lng: float | None = None
    place: str = ""  # a typed place; when found, lat/lng are its point
    place_found: Place | None = None
    place_others: list[Place] = field(default_factory=list)  # other places it may mean
    page: int = 1
    size: int = DEFAULT_SIZE
    errors: list[FieldError] = field(default_factory=list)

    @property
    def near(self) -> tuple[float, float] | None:
        if self.lat is None or self.lng is None:
            return None
        return (self.lat, self.lng)

    def error_for(self, name: str) -> FieldError | None:
        return next((e for e in self.errors if e.name == name), None)

    def to_query(self, kind: FacilityKind) -> FacilityQuery:
        return FacilityQuery(
            text=self.q or None,
            kind=kind,
            district=self.district or None,
            near=self.near,
            sort=self.sort,
            offset=(self.page - 1) * self.size,
            limit=self.size,
        )

    def params(self, **changes: object) -> dict[str, str]:
        """The non-default values as query parameters, for links that keep the search."""
        values: dict[str, object] = {
            "q": self.q,
            "district": self.district,
            "sort": self.sort.value,
            "place": self.place,
            # a typed place stands for its point: the link keeps the words, not coordinates
            "lat": "" if self.place else _coord(self.lat),
            "lng": "" if self.place else _coord(self.lng),
            "page": self.page,
            "size": self.size,
        }
        values.update(changes)
        defaults = {"sort": Sort.RELEVANCE.value, "page": 1, "size": DEFAULT_SIZE}
        return {
            k: str(v) for k, v in values.items() if v not in ("", None) and defaults.get(k, "") != v
        }

    def url(self, path: str, **changes: object) -> str:
        params = self.params(**changes)
        return f"{path}?{urlencode(params)}" if params else path


def _coord(value: float | None) -> str:
    return "" if value is None else f"{value:.{COORD_DECIMALS}f}"


def parse_list_form(
    params: QueryParams, directory: Directory, places: Gazetteer | None = None
) -> ListForm:
    form = ListForm()
    errors = form.errors

    q = params.get("q", "").strip()
    if len(q) > MAX_TEXT:
        errors.append(FieldError("q", "error.q_too_long", {"max": MAX_TEXT}))
        q = q[:MAX_TEXT]  # echo a bounded value back into the box
    form.q = q

    district = params.get("district", "").strip()
    if district:
        found = directory.district(district)
        if found is None:
            errors.append(FieldError("district", "error.district"))
        else:
            form.district = found.zh

    lat = _number(params.get("lat", ""), -90.0, 90.0, "lat", "error.lat", errors)
    lng = _number(params.get("lng", ""), -180.0, 180.0, "lng", "error.lng", errors)
    has_lat, has_lng = bool(params.get("lat", "").strip()), bool(params.get("lng", "").strip())
    if has_lat != has_lng:
        errors.append(FieldError("lat" if not has_lat else "lng", "error.latlng_pair"))
    elif lat is not None and lng is not None:
        if in_china(lat, lng):
            form.lat = round(lat, COORD_DECIMALS)
            form.lng = round(lng, COORD_DECIMALS)
        else:
            errors.append(FieldError("lat", "error.outside_china"))

    _parse_place(params.get("place", ""), places, form)

    sort = params.get("sort", "").strip().lower()
    if form.place_found is not None:
        form.sort = Sort.DISTANCE  # a place is typed to sort from it
    elif sort in ("", Sort.RELEVANCE.value):
        form.sort = Sort.RELEVANCE
    elif sort == Sort.DISTANCE.value:
        if form.near is not None:
            form.sort = Sort.DISTANCE
        elif not any(e.name in ("lat", "lng") for e in errors):
            errors.append(FieldError("sort", "error.distance_needs_location"))
    else:
        errors.append(FieldError("sort", "error.sort"))

    page = _whole(params.get("page", ""), 1, MAX_PAGE)
    if page is None:
        errors.append(FieldError("page", "error.page"))
    else:
        form.page = page
    size = _whole(params.get("size", ""), 1, MAX_SIZE, default=DEFAULT_SIZE)
    if size is None:
        errors.append(FieldError("size", "error.size", {"max": MAX_SIZE}))
    else:
        form.size = size
    return form


def _parse_place(raw: str, places: Gazetteer | None, form: ListForm) -> None:
    place = raw.strip()
    if not place:
        return
    if len(place) > MAX_TEXT:
        form.errors.append(FieldError("place", "error.place_too_long", {"max": MAX_TEXT}))
        form.place = place[:MAX_TEXT]
        return
    form.place = place
    found = places.find(place, 4) if places is not None else []
    if not found:
        form.errors.append(FieldError("place", "error.place_unknown"))
        return
    form.place_found, form.place_others = found[0], found[1:]
    # the place's point, rounded as a shared position is: the place stands for it
    form.lat = round(found[0].lat, COORD_DECIMALS)
    form.lng = round(found[0].lng, COORD_DECIMALS)


def _number(
    raw: str, low: float, high: float, name: str, key: str, errors: list[FieldError]
) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        errors.append(FieldError(name, key))
        return None
    return value


def _whole(raw: str, low: int, high: int, default: int = 1) -> int | None:
    raw = raw.strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    value = int(raw)
    return value if low <= value <= high else None
