"""GraphQL types of the public facility directory."""

from __future__ import annotations

import datetime
import weakref
from collections.abc import Iterable
from operator import attrgetter
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types.base import get_object_definition

from schema.context import Info
from schema.execution import pure_view
from schema.paging import PageInfo, offset_cursor
from server.directory import models, provenance
from server.directory.directory import Directory
from server.directory.places import Place, PlaceKind
from server.directory.service import (
    DirectoryService,
    Facets,
    FacilityPage,
    FacilityQuery,
    FacilityResult,
    Sort,
    grade_en,
)
from server.search.factory import index_key

FacilityKind = strawberry.enum(
    models.FacilityKind,
    name="FacilityKind",
    description="Which list a facility belongs to: direct-billing medical (直付医疗机构), direct-billing dental (直付齿科机构), or designated (特定医疗机构).",
)
Ownership = strawberry.enum(
    models.Ownership,
    name="Ownership",
    description="公立 public, 非公立 private, or UNKNOWN when the source does not say.",
)
Category = strawberry.enum(
    models.Category,
    name="FacilityCategory",
    description="综合 general, 专科 specialist, 中医 traditional Chinese medicine, 齿科 dental.",
)
LocationPrecision = strawberry.enum(
    models.CoordinatePrecision,
    name="LocationPrecision",
    description="EXACT: the point is the facility's own building (a mapped feature or the building's published point); APPROXIMATE: only its area is known, so no distance is given and it sorts after exact points at a similar distance.",
)
FacilitySort = strawberry.enum(
    Sort,
    name="FacilitySort",
    description="RELEVANCE (综合排序) ranks by how well the text matches; DISTANCE (离我最近) sorts nearest first and needs `near`.",
)


@strawberry.input(description="A point on the WGS-84 datum (what a phone's GPS gives).")
class GeoPointInput:
    lat: float = strawberry.field(description="Latitude in degrees, -90..90.")
    lng: float = strawberry.field(description="Longitude in degrees, -180..180.")


@strawberry.type(description="A point on the WGS-84 datum.")
class GeoPoint:
    lat: float = strawberry.field(description="Latitude in degrees.")
    lng: float = strawberry.field(description="Longitude in degrees.")
    approximate: bool = strawberry.field(
        description="True when the point is an estimate (see `Facility.coordinateMethod`), so distances to it are approximate too."
    )


@strawberry.type(description="A note a list carries for each of its facilities, in both languages.")
class FacilityNote:
    zh: str = strawberry.field(description="The note as the list gives it (Chinese).")
    en: str = strawberry.field(description="The note in English.")


@strawberry.type(description="A clinical department or specialty, in both languages.")
class Department:
    zh: str = strawberry.field(description="Chinese name, e.g. 内分泌科.")
    en: str = strawberry.field(description="English name, e.g. Endocrinology.")


@strawberry.type(
    description="A group plan's network of facilities (a client sees the list of their own plan)."
)
class Network:
    id: strawberry.ID = strawberry.field(
        description="Stable network id, usable as `facilities(network:)`."
    )
    name_zh: str = strawberry.field(description="Chinese name of the plan's network.")
    name_en: str = strawberry.field(description="English name of the plan's network.")


@strawberry.type(
    description="A group plan's network with what the directory knows of its list: how many "
    "facilities it names and, while it names none, a note saying so (待更新)."
)
class PlanNetwork:
    id: strawberry.ID = strawberry.field(
        description="Stable network id, usable as `facilities(network:)`."
    )
    name_zh: str = strawberry.field(description="Chinese name of the plan's network.")
    name_en: str = strawberry.field(description="English name of the plan's network.")
    source: str = strawberry.field(description="Where the list comes from (the seed section).")
    facility_count: int = strawberry.field(description="Facilities the list names.")
    updating: bool = strawberry.field(
        description="True while the list names no facility (no public list yet)."
    )
    note: str | None = strawberry.field(
        description="What to tell the member while the list names no facility (zh and en); "
        "null once it names some."
    )


def updating_note(name_zh: str, name_en: str) -> str:
    """The public note of a network whose list names no facility yet."""
    return f"{name_zh}名单待更新。The list of {name_en} is being updated."


def plan_networks(directory: Directory) -> list[PlanNetwork]:
    counts: dict[str, int] = {}
    for f in directory.facilities:
        for nid in f.networks:
            counts[nid] = counts.get(nid, 0) + 1
    out = []
    for n in directory.networks:
        count = counts.get(n.id, 0)
        out.append(
            PlanNetwork(
                id=strawberry.ID(n.id),
                name_zh=n.name_zh,
                name_en=n.name_en,
                source=n.source,
                facility_count=count,
                updating=count == 0,
                note=None if count else updating_note(n.name_zh, n.name_en),
            )
        )
    return out


@strawberry.type(
    name="Facility", description="A hospital, clinic or dental practice in the directory."
)
class FacilityType(relay.Node):
    # Relay's `id`, stored instead of resolved: the object is built once per facility (see
    # `facility_type`), while relay's resolver would rebuild the id for every row shown.
    _id: relay.GlobalID = strawberry.field(
        name="id", description="The Globally Unique ID of this object"
    )
    directory_id: relay.NodeID[str] = strawberry.field(
        description="The facility's stable id in the directory source files."
    )
    source_id: str = strawberry.field(
        description="The same stable id as plain text (what `directory_data/` files and H5 links use)."
    )
    kind: FacilityKind = strawberry.field(description="Which list the facility is on.")  # type: ignore[valid-type]
    name_zh: str = strawberry.field(description="Chinese name.")
    name_en: str = strawberry.field(description="English name (empty when no source gives one).")
    address_zh: str = strawberry.field(description="Chinese address.")
    address_en: str = strawberry.field(description="English address.")
    city: str = strawberry.field(description="City, Chinese (e.g. 上海).")
    city_en: str = strawberry.field(description="City, English (e.g. Shanghai).")
    district: str = strawberry.field(
        description="District, Chinese (e.g. 浦东新区); empty when unknown."
    )
    district_en: str = strawberry.field(description="District, English.")
    location: GeoPoint = strawberry.field(description="Where the facility is (WGS-84).")
    location_precision: LocationPrecision = strawberry.field(  # type: ignore[valid-type]
        description="Whether the point is the facility's building (EXACT) or only its area (APPROXIMATE)."
    )
    area: str | None = strawberry.field(
        description="For an APPROXIMATE point, where the facility is in words (English), e.g. 'Pudong, exact location not confirmed'; null when the point is exact."
    )
    area_zh: str | None = strawberry.field(
        description="The same in Chinese, e.g. '浦东新区，具体位置未确认'; null when the point is exact."
    )
    ownership: Ownership = strawberry.field(description="Public or private.")  # type: ignore[valid-type]
    grade: str = strawberry.field(
        description="Hospital grade in Chinese (e.g. 三甲); empty when none."
    )
    grade_en: str = strawberry.field(description="Hospital grade in English (e.g. Grade 3A).")
    category: Category = strawberry.field(description="General, specialist, TCM or dental.")  # type: ignore[valid-type]
    departments: list[Department] = strawberry.field(description="Departments and specialties.")
    phone: str = strawberry.field(description="Phone number for appointments; empty when unknown.")
    opening_hours: str = strawberry.field(
        description="Opening hours as published; empty when unknown."
    )
    languages: list[str] = strawberry.field(
        description="Languages served (ISO 639-1 codes, e.g. en)."
    )
    networks: list[Network] = strawberry.field(
        description="Group-plan networks whose list names this facility."
    )
    tags: list[str] = strawberry.field(description="Labels shown in lists, e.g. 特需部.")
    note: str = strawberry.field(
        description="A note for clients in Chinese, e.g. the plan-dependent ratio of designated facilities (the notes of the facility's list, then its own)."
    )
    note_en: str = strawberry.field(description="The same note in English.")
    list_notes: list[FacilityNote] = strawberry.field(
        description="The notes the facility's list carries (e.g. the designated list's two notes), in both languages."
    )
    coordinate_method: str = strawberry.field(description="How the location was obtained.")
    source: str = strawberry.field(
        description='Where this entry comes from, in plain English, e.g. "Insurer\'s list, checked against OpenStreetMap, 2026-11".'
    )
    source_zh: str = strawberry.field(description="The same in Chinese.")
    verified_on: datetime.date = strawberry.field(
        description="When this entry was last checked against its source."
    )
    # (facility id, data version): the key of this facility's completed views, reused
    # across requests by the executor (schema/execution.py `pure_view`)
    view_key: strawberry.Private[tuple[str, str]]

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # narrower Info than the generic base
        cls,
        *,
        info: Info,
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[FacilityType | None]:
        directory = info.context.services.directory
        out: list[FacilityType | None] = []
        for node_id in node_ids:
            f = directory.get(node_id)
            out.append(None if f is None else facility_type(f, directory.directory))
        return out


# A page shows 20; a large directory's facilities would otherwise pile up in every worker.
_MEMO_LIMIT = 5_000
_FACILITY = get_object_definition(FacilityType, strict=True).name  # the type name in global ids
# The API views of each loaded directory's facilities, by facility id, with the
# directory's data version: a directory is immutable, so each view is built once. Keyed by
# the directory's identity and dropped with it (a directory's own equality compares every
# facility).
_memos: dict[int, tuple[str, dict[str, FacilityType]]] = {}


def _memo_of(directory: Directory) -> tuple[str, dict[str, FacilityType]]:
    memo = _memos.get(id(directory))
    if memo is None:
        memo = _memos[id(directory)] = (index_key(directory), {})
        weakref.finalize(directory, _memos.pop, id(directory), None)
    return memo


def facility_type(f: models.Facility, directory: Directory) -> FacilityType:
    """The API view of a facility, built once per directory (the data is immutable)."""
    version, memo = _memo_of(directory)
    cached = memo.get(f.id)
    if cached is None:
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        cached = memo[f.id] = _facility_type(f, directory, version)
    return cached


def _facility_type(f: models.Facility, directory: Directory, version: str) -> FacilityType:
    district = directory.district(f.district) if f.district else None
    networks = {n.id: n for n in directory.networks}
    notes = provenance.list_notes(f.kind)
    note_zh = "\n".join([n.zh for n in notes] + ([f.note] if f.note else []))
    note_en = "\n".join([n.en for n in notes] + ([f.note] if f.note else []))
    corpus = directory.public_corpus
    return FacilityType(
        _id=relay.GlobalID(_FACILITY, f.id),
        directory_id=f.id,
        source_id=f.id,
        kind=f.kind,
        name_zh=f.name_zh,
        name_en=f.name_en,
        address_zh=f.address_zh,
        address_en=f.address_en,
        city=f.city,
        city_en=district.city_en if district else "",
        district=f.district,
        district_en=district.en if district else "",
        location=GeoPoint(
            lat=f.lat,
            lng=f.lng,
            approximate=f.coordinate_precision is models.CoordinatePrecision.APPROXIMATE,
        ),
        location_precision=f.coordinate_precision,
        area=provenance.area_label(f, district.en if district else "", "en")
        if f.approximate
        else None,
        area_zh=provenance.area_label(f, "", "zh") if f.approximate else None,
        ownership=f.ownership,
        grade=f.grade,
        grade_en=grade_en(f.grade) if f.grade else "",
        category=f.category,
        departments=[Department(zh=d.zh, en=d.en) for d in f.departments],
        phone=f.phone,
        opening_hours=f.opening_hours,
        languages=list(f.languages),
        networks=[
            Network(id=strawberry.ID(n), name_zh=networks[n].name_zh, name_en=networks[n].name_en)
            for n in f.networks
            if n in networks
        ],
        tags=list(f.tags),
        note=note_zh,
        note_en=note_en,
        list_notes=[FacilityNote(zh=n.zh, en=n.en) for n in notes],
        coordinate_method=f.coordinate_method,
        source=provenance.source_line(f, "en", public_corpus=corpus),
        source_zh=provenance.source_line(f, "zh", public_corpus=corpus),
        verified_on=f.verified_on,
        view_key=(f.id, version),
    )


# A facility's fields, and those of the objects it holds, depend only on its record: its
# completed views are reused across requests, keyed by facility id and data version.
for _cls in (GeoPoint, Department, Network, FacilityNote):
    pure_view(_cls)
pure_view(FacilityType, key=attrgetter("view_key"))


PlaceKindType = strawberry.enum(
    PlaceKind,
    name="PlaceKind",
    description="What a typed place is: a DISTRICT (its centre), a STREET (a known address on it), a LANDMARK (a hospital, clinic or sight), a metro or railway STATION, or a HOTEL.",
)


@strawberry.type(
    name="Place",
    description="A place a client typed, from the offline gazetteer of public names (OpenStreetMap, administrative divisions, metro stations).",
)
class PlaceType:
    id: str = strawberry.field(description="Stable id, e.g. `district:relation/398348`.")
    kind: PlaceKindType = strawberry.field(description="What the place is.")  # type: ignore[valid-type]
    name_zh: str = strawberry.field(description="Chinese name.")
    name_en: str = strawberry.field(description="English name; empty when no source gives one.")
    pinyin: str = strawberry.field(description="Tone-less pinyin of the Chinese name.")
    district: str = strawberry.field(description="Chinese district name; empty when not known.")
    location: GeoPoint = strawberry.field(
        description="The point distances are measured from; `approximate` for a district (its centre) or a street (a known address on it)."
    )
    source: str = strawberry.field(description="Where the name and point come from.")


def place_type(p: Place) -> PlaceType:
    return PlaceType(
        id=p.id,
        kind=p.kind,
        name_zh=p.name_zh,
        name_en=p.name_en,
        pinyin=p.pinyin,
        district=p.district,
        location=GeoPoint(lat=p.lat, lng=p.lng, approximate=p.approximate),
        source=p.source,
    )


@strawberry.type(description="One facility in a result list.")
class FacilityEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this row.")
    node: FacilityType = strawberry.field(description="The facility.")
    result: strawberry.Private[FacilityResult]

    @strawberry.field(
        description="Geodesic distance from `near` in km, one decimal; null without `near`, and null when the facility's point is APPROXIMATE (see `node.area`)."
    )
    def distance_km(self) -> float | None:
        return self.result.distance_km  # computed only when asked for


@strawberry.type(description="A page of facilities.")
class FacilityConnection:
    edges: list[FacilityEdge] = strawberry.field(description="The rows of this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many facilities match, over all pages.")
    attribution: str = strawberry.field(
        description="Credit the data requires wherever it is shown (e.g. © OpenStreetMap contributors)."
    )
    place: PlaceType | None = strawberry.field(
        default=None,
        description="What the `place` argument was taken to be (distances are measured from it); null without `place`.",
    )
    service: strawberry.Private[DirectoryService | None] = None
    query: strawberry.Private[FacilityQuery | None] = None

    @strawberry.field(
        description="Other lists where the same `text` finds facilities, with their counts (e.g. `dental` searched on the MEDICAL list points to DENTAL). Empty without `kind` and `text`."
    )
    def other_lists(self) -> list[OtherList]:
        if self.service is None or self.query is None:
            return []
        return [OtherList(kind=c.kind, count=c.count) for c in self.service.other_lists(self.query)]


@strawberry.type(description="Another list and how many of its facilities the same words find.")
class OtherList:
    kind: FacilityKind = strawberry.field(description="The other list.")  # type: ignore[valid-type]
    count: int = strawberry.field(description="Facilities there that match the same text.")


@strawberry.type(description="A filter value with how many facilities have it.")
class FacetCount:
    value: str = strawberry.field(description="The value to pass to the filter (Chinese).")
    label_en: str = strawberry.field(description="English label.")
    count: int = strawberry.field(description="Facilities with this value.")


@strawberry.type(description="Values to filter by, with counts, for building a filter UI.")
class FacilityFacets:
    total_count: int = strawberry.field(description="Facilities in scope.")
    districts: list[FacetCount] = strawberry.field(description="Districts, most facilities first.")
    grades: list[FacetCount] = strawberry.field(description="Grades, most facilities first.")
    departments: list[FacetCount] = strawberry.field(
        description="Departments, most facilities first."
    )


def _counts(items: list[Any]) -> list[FacetCount]:
    return [FacetCount(value=c.value, label_en=c.label_en, count=c.count) for c in items]


def facets_type(f: Facets) -> FacilityFacets:
    return FacilityFacets(
        total_count=f.total,
        districts=_counts(f.districts),
        grades=_counts(f.grades),
        departments=_counts(f.departments),
    )


def connection_type(
    page: FacilityPage,
    directory: Directory,
    service: DirectoryService | None = None,
    query: FacilityQuery | None = None,
) -> FacilityConnection:
    edges = [
        FacilityEdge(
            cursor=offset_cursor(page.offset + i),
            result=r,
            node=facility_type(r.facility, directory),
        )
        for i, r in enumerate(page.results)
    ]
    return FacilityConnection(
        edges=edges,
        page_info=PageInfo.of(edges, has_next=page.has_next),
        total_count=page.total,
        attribution=directory.attribution,
        place=None if page.place is None else place_type(page.place),
        service=service,
        query=query,
    )
