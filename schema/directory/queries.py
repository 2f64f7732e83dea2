"""Public directory queries: no sign-in needed."""

from __future__ import annotations

import strawberry
from strawberry import relay

from schema.context import Info
from schema.directory.types import (
    FacilityConnection,
    FacilityFacets,
    FacilityKind,
    FacilitySort,
    FacilityType,
    GeoPointInput,
    Ownership,
    connection_type,
    facets_type,
    facility_type,
)
from schema.paging import cursor_offset
from server.directory import models
from server.directory.service import FacilityQuery, Sort


@strawberry.type
class DirectoryQuery:
    @strawberry.field(
        description="Search the directory: text in Chinese, English or pinyin, filters, and sort by relevance or distance."
    )
    def facilities(
        self,
        info: Info,
        kind: FacilityKind | None = None,  # type: ignore[valid-type]
        text: str | None = strawberry.UNSET,
        near: GeoPointInput | None = None,
        max_distance_km: float | None = None,
        city: str | None = None,
        district: str | None = None,
        ownership: Ownership | None = None,  # type: ignore[valid-type]
        grade: str | None = None,
        department: str | None = None,
        network: strawberry.ID | None = None,
        sort: FacilitySort = Sort.RELEVANCE,  # type: ignore[valid-type, assignment]
        first: int = 20,
        after: str | None = None,
    ) -> FacilityConnection:
        service = info.context.services.directory
        page = service.search(
            FacilityQuery(
                text=text or None,
                kind=kind,
                city=city,
                district=district,
                ownership=ownership,
                grade=grade,
                department=department,
                network=network,
                near=None if near is None else (near.lat, near.lng),
                max_distance_km=max_distance_km,
                sort=sort,
                offset=cursor_offset(after),
                limit=first,
            )
        )
        return connection_type(page, service.directory)

    @strawberry.field(description="One facility by its global id, or null when there is none.")
    def facility(self, info: Info, id: strawberry.ID) -> FacilityType | None:
        service = info.context.services.directory
        try:
            gid = relay.GlobalID.from_id(id)
            type_name, raw = gid.type_name, gid.node_id
        except relay.GlobalIDValueError:
            type_name, raw = "Facility", str(id)  # plain directory ids are accepted too
        if type_name != "Facility":
            return None
        f = service.get(raw)
        return None if f is None else facility_type(f, service.directory)

    @strawberry.field(
        description="Districts, grades and departments with counts, for filter menus."
    )
    def facility_facets(
        self,
        info: Info,
        kind: FacilityKind | None = None,  # type: ignore[valid-type]
        city: str | None = None,
    ) -> FacilityFacets:
        service = info.context.services.directory
        kind_value: models.FacilityKind | None = kind
        return facets_type(service.facets(kind_value, city))
