"""Public directory queries: no sign-in needed."""

from __future__ import annotations

from typing import Annotated

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
    PlaceType,
    PlanNetwork,
    connection_type,
    facets_type,
    facility_type,
    place_type,
    plan_networks,
)
from schema.paging import cursor_offset
from server.directory.service import FacilityQuery, Sort

KindArg = Annotated[
    FacilityKind | None,  # type: ignore[valid-type]
    strawberry.argument(description="Only this list."),
]


@strawberry.type
class DirectoryQuery:
    @strawberry.field(
        description="Search the directory: text in Chinese, English or pinyin, filters, and sort by relevance or distance."
    )
    def facilities(
        self,
        info: Info,
        kind: KindArg = None,
        text: Annotated[
            str | None,
            strawberry.argument(
                description="Words to find in names, addresses and departments: Chinese (仁济), English (Renji hospital) or pinyin (renji). At most 100 characters."
            ),
        ] = None,
        near: Annotated[
            GeoPointInput | None,
            strawberry.argument(
                description="The client's position; fills `distanceKm` and enables DISTANCE."
            ),
        ] = None,
        place: Annotated[
            str | None,
            strawberry.argument(
                description="Where the client is, typed instead of `near`: a district (Pudong, 徐汇), a street (Middle Shandong Road, 北园路), a hospital or a pasted Chinese address; resolved offline (see `places`) and used as `near`. At most 100 characters."
            ),
        ] = None,
        max_distance_km: Annotated[
            float | None,
            strawberry.argument(
                description="Only facilities within this many km of `near` (needs `near`)."
            ),
        ] = None,
        city: Annotated[
            str | None,
            strawberry.argument(description="City, Chinese or English (上海 / Shanghai)."),
        ] = None,
        district: Annotated[
            str | None,
            strawberry.argument(description="District, Chinese or English (浦东新区 / Pudong)."),
        ] = None,
        ownership: Annotated[
            Ownership | None,  # type: ignore[valid-type]
            strawberry.argument(description="Public (公立) or private (非公立)."),
        ] = None,
        grade: Annotated[
            str | None, strawberry.argument(description="Hospital grade, 三甲 or Grade 3A.")
        ] = None,
        department: Annotated[
            str | None,
            strawberry.argument(
                description="Department, Chinese or English (内分泌科 / Endocrinology)."
            ),
        ] = None,
        network: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only facilities in this group plan's network."),
        ] = None,
        sort: Annotated[
            FacilitySort,  # type: ignore[valid-type]
            strawberry.argument(description="RELEVANCE (default) or DISTANCE (needs `near`)."),
        ] = Sort.RELEVANCE,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 100.")] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="Continue after this cursor (`pageInfo.endCursor`)."),
        ] = None,
    ) -> FacilityConnection:
        service = info.context.services.directory
        query = FacilityQuery(
            text=text or None,
            kind=kind,
            city=city,
            district=district,
            ownership=ownership,
            grade=grade,
            department=department,
            network=network,
            near=None if near is None else (near.lat, near.lng),
            place=place,
            max_distance_km=max_distance_km,
            sort=sort,
            offset=cursor_offset(after),
            limit=first,
        )
        page = service.search(query)
        return connection_type(page, service.directory, service, query)

    @strawberry.field(
        description="Places matching what a client typed (district, street, landmark, station, hotel, or a pasted Chinese address), best first, from an offline gazetteer of public names. Pass one's name as `facilities(place:)` or its location as `near`."
    )
    def places(
        self,
        info: Info,
        query: Annotated[
            str,
            strawberry.argument(description="Chinese, English or pinyin; at most 100 characters."),
        ],
        first: Annotated[int, strawberry.argument(description="How many, 1 to 10.")] = 5,
    ) -> list[PlaceType]:
        service = info.context.services.directory
        return [place_type(p) for p in service.find_places(query, first)]

    @strawberry.field(description="One facility by its global id, or null when there is none.")
    def facility(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Global id (`Facility.id`) or the plain `sourceId`."),
        ],
    ) -> FacilityType | None:
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
        description="The group plans' networks of the directory (public): each with its "
        "facility count, and a note while its list names no facility yet (待更新), as for "
        "the U享赔 list and the university plan's designated outpatient hospitals."
    )
    def networks(self, info: Info) -> list[PlanNetwork]:
        return plan_networks(info.context.services.directory.directory)

    @strawberry.field(
        description="Districts, grades and departments with counts, for filter menus."
    )
    def facility_facets(
        self,
        info: Info,
        kind: KindArg = None,
        city: Annotated[
            str | None, strawberry.argument(description="Only this city (上海 / Shanghai).")
        ] = None,
    ) -> FacilityFacets:
        service = info.context.services.directory
        return facets_type(service.facets(kind, city))
