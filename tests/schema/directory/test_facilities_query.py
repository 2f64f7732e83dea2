from __future__ import annotations

from typing import Any

import pytest
from geopy.distance import geodesic
from starlette.testclient import TestClient

from server.app import create_app
from server.services import Services
from server.settings import Settings
from tests.conftest import GraphQLClient, error_codes

SEARCH = """
query Search($text: String, $kind: FacilityKind, $near: GeoPointInput, $sort: FacilitySort = RELEVANCE,
             $first: Int = 20, $after: String, $district: String, $department: String,
             $ownership: Ownership, $grade: String, $network: ID, $maxDistanceKm: Float, $city: String) {
  facilities(text: $text, kind: $kind, near: $near, sort: $sort, first: $first, after: $after,
             district: $district, department: $department, ownership: $ownership, grade: $grade,
             network: $network, maxDistanceKm: $maxDistanceKm, city: $city) {
    totalCount
    attribution
    pageInfo { hasNextPage endCursor }
    edges { cursor distanceKm node { id sourceId kind nameZh nameEn addressZh district districtEn
            location { lat lng approximate } ownership grade gradeEn category
            departments { zh en } networks { id nameZh } verifiedOn source sourceZh
            locationPrecision area areaZh note noteEn listNotes { zh en } sourceId } }
  }
}
"""

PEOPLE_SQUARE = {"lat": 31.2317, "lng": 121.4726}  # 人民广场, WGS-84


def search(gql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    body = gql(SEARCH, variables)
    assert "errors" not in body, body
    return body["data"]["facilities"]


def names(conn: dict[str, Any]) -> list[str]:
    return [e["node"]["nameZh"] for e in conn["edges"]]


def test_chinese_text_finds_renji(gql: GraphQLClient) -> None:
    conn = search(gql, text="仁济")
    assert conn["totalCount"] >= 2
    assert all("仁济" in n for n in names(conn))


@pytest.mark.parametrize("text", ["Renji", "renji", "RENJI hospital"])
def test_english_and_pinyin_find_renji(gql: GraphQLClient, text: str) -> None:
    assert any("仁济" in n for n in names(search(gql, text=text)))


def test_pinyin_finds_united_family(gql: GraphQLClient) -> None:
    found = names(search(gql, text="hemujia"))
    assert found and all("和睦家" in n for n in found)


def test_dental_kind_returns_only_dental(gql: GraphQLClient) -> None:
    conn = search(gql, kind="DENTAL")
    assert conn["totalCount"] == 5
    assert {e["node"]["kind"] for e in conn["edges"]} == {"DENTAL"}
    assert {e["node"]["category"] for e in conn["edges"]} == {"DENTAL"}


def test_every_row_traces_to_a_source_and_a_verified_date(gql: GraphQLClient) -> None:
    conn = search(gql, first=100)
    assert conn["totalCount"] == len(conn["edges"]) == 15
    for e in conn["edges"]:
        assert e["node"]["source"] and e["node"]["verifiedOn"]
    assert "OpenStreetMap" in conn["attribution"]


def test_distance_sort_is_nearest_first_and_matches_geodesic(gql: GraphQLClient) -> None:
    conn = search(gql, near=PEOPLE_SQUARE, sort="DISTANCE", first=100)
    exact = [e for e in conn["edges"] if e["node"]["locationPrecision"] == "EXACT"]
    distances = [e["distanceKm"] for e in exact]
    assert len(exact) >= 3  # United Family's hospital, Tomorrow Square, Shuguang East
    assert distances == sorted(distances)
    for e in exact:
        loc = e["node"]["location"]
        expected = geodesic(
            (PEOPLE_SQUARE["lat"], PEOPLE_SQUARE["lng"]), (loc["lat"], loc["lng"])
        ).km
        assert e["distanceKm"] == pytest.approx(round(expected, 1), abs=0.05)


def test_max_distance_keeps_only_close_facilities(gql: GraphQLClient) -> None:
    everything = search(gql, near=PEOPLE_SQUARE, sort="DISTANCE", first=100)
    close = search(gql, near=PEOPLE_SQUARE, sort="DISTANCE", maxDistanceKm=8.0, first=100)
    assert 0 < close["totalCount"] < everything["totalCount"]
    assert all(e["distanceKm"] <= 8.05 for e in close["edges"] if e["distanceKm"] is not None)


def test_relevance_with_near_still_shows_distance(gql: GraphQLClient) -> None:
    conn = search(gql, text="瑞尔", near=PEOPLE_SQUARE)
    assert conn["edges"]
    for e in conn["edges"]:
        exact = e["node"]["locationPrecision"] == "EXACT"
        assert (e["distanceKm"] is not None) is exact


def test_an_approximate_facility_has_its_area_instead_of_a_distance(gql: GraphQLClient) -> None:
    conn = search(gql, text="碧云", near=PEOPLE_SQUARE, sort="DISTANCE")
    (edge,) = conn["edges"]
    assert edge["distanceKm"] is None
    assert edge["node"]["locationPrecision"] == "APPROXIMATE"
    assert edge["node"]["area"] == "Pudong, exact location not confirmed"
    assert edge["node"]["areaZh"] == "浦东新区，具体位置未确认"


def test_approximate_points_sort_after_exact_ones_in_the_same_band(gql: GraphQLClient) -> None:
    # given: a point 0.9 km from the Jing'an district centre (the Shanghai Centre clinic's
    # approximate point) and 1.2 km from Tomorrow Square (the Gleneagles centre's
    # building): one 2 km band
    near = {"lat": 31.2310, "lng": 121.4520}

    conn = search(gql, near=near, sort="DISTANCE", first=3)

    ids = [e["node"]["sourceId"] for e in conn["edges"]]
    # then: the exact building comes first although the estimate is nearer
    assert ids[:2] == ["des-parkway-ruikang", "des-parkway-ruixin"]
    assert conn["edges"][0]["distanceKm"] == pytest.approx(1.2, abs=0.1)
    assert conn["edges"][1]["distanceKm"] is None


def test_designated_facilities_carry_the_list_s_two_notes(gql: GraphQLClient) -> None:
    conn = search(gql, kind="DESIGNATED")
    for e in conn["edges"]:
        node = e["node"]
        assert "特定医疗机构赔付比例根据每个客户的计划不同" in node["note"]
        assert "Reimbursement ratios at designated facilities" in node["noteEn"]
        assert len(node["listNotes"]) == 2


def test_the_source_is_a_plain_line_not_curation_notes(gql: GraphQLClient) -> None:
    conn = search(gql, text="Tomorrow Square")
    node = conn["edges"][0]["node"]
    assert (
        node["source"]
        == "Insurer's list, checked against Wikipedia and the operator's website, 2026-11"
    )
    assert node["sourceZh"].startswith("保险公司清单，已与维基百科、机构官网核对")
    assert "§" not in node["source"]


def test_without_near_there_is_no_distance(gql: GraphQLClient) -> None:
    assert all(e["distanceKm"] is None for e in search(gql)["edges"])


def test_paging_walks_every_row_once(gql: GraphQLClient) -> None:
    seen: list[str] = []
    after = None
    while True:
        conn = search(gql, first=4, after=after)
        seen += [e["node"]["id"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == conn["totalCount"] == 15


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"district": "浦东新区"}, lambda n: n["district"] == "浦东新区"),
        ({"district": "Pudong"}, lambda n: n["district"] == "浦东新区"),
        (
            {"department": "内分泌科"},
            lambda n: any(d["zh"] == "内分泌科" for d in n["departments"]),
        ),
        (
            {"department": "endocrinology"},
            lambda n: any(d["zh"] == "内分泌科" for d in n["departments"]),
        ),
        ({"ownership": "PUBLIC"}, lambda n: n["ownership"] == "PUBLIC"),
        ({"grade": "三甲"}, lambda n: n["grade"] == "三甲"),
        ({"grade": "Grade 3A"}, lambda n: n["grade"] == "三甲"),
        (
            {"network": "group-comprehensive"},
            lambda n: "group-comprehensive" in [x["id"] for x in n["networks"]],
        ),
        ({"city": "Shanghai"}, lambda n: True),
    ],
)
def test_filters(gql: GraphQLClient, variables: dict[str, Any], expected: Any) -> None:
    conn = search(gql, first=100, **variables)
    assert conn["totalCount"] > 0
    assert all(expected(e["node"]) for e in conn["edges"])


def test_unknown_district_matches_nothing(gql: GraphQLClient) -> None:
    assert search(gql, district="Atlantis")["totalCount"] == 0


def test_designated_facilities_are_in_no_network(gql: GraphQLClient) -> None:
    conn = search(gql, kind="DESIGNATED", first=100)
    assert conn["totalCount"] == 6
    assert all(e["node"]["networks"] == [] for e in conn["edges"])


def test_facility_by_global_and_plain_id(gql: GraphQLClient) -> None:
    node = search(gql, text="仁济", first=1)["edges"][0]["node"]
    q = "query($id: ID!) { facility(id: $id) { id nameZh } node(id: $id) { id } }"
    by_global = gql(q, {"id": node["id"]})["data"]
    assert by_global["facility"]["nameZh"] == node["nameZh"]
    assert by_global["node"]["id"] == node["id"]
    by_plain = gql("query($id: ID!) { facility(id: $id) { id } }", {"id": node["sourceId"]})
    assert by_plain["data"]["facility"]["id"] == node["id"]
    assert gql('{ facility(id: "nope") { id } }')["data"]["facility"] is None


def test_facets_count_districts_and_departments(gql: GraphQLClient) -> None:
    body = gql(
        "{ facilityFacets(kind: MEDICAL) { totalCount districts { value labelEn count } "
        "grades { value labelEn count } departments { value labelEn count } } }"
    )
    facets = body["data"]["facilityFacets"]
    assert facets["totalCount"] == 4
    assert {"value": "浦东新区", "labelEn": "Pudong", "count": 4} in facets["districts"]
    assert any(d["value"] == "内分泌科" and d["labelEn"] for d in facets["departments"])
    assert facets["grades"][0]["value"] == "三甲" and facets["grades"][0]["labelEn"] == "Grade 3A"


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        ("{ facilities(sort: DISTANCE) { totalCount } }", None, "near"),
        ("{ facilities(first: 0) { totalCount } }", None, "first"),
        ("{ facilities(first: 101) { totalCount } }", None, "first"),
        ('{ facilities(after: "not-a-cursor") { totalCount } }', None, "after"),
        ("{ facilities(near: {lat: 95, lng: 121}) { totalCount } }", None, "near"),
        ("{ facilities(near: {lat: 48.85, lng: 2.35}) { totalCount } }", None, "near"),
        ("{ facilities(maxDistanceKm: 5) { totalCount } }", None, "maxDistanceKm"),
        (
            "{ facilities(near: {lat: 31.2, lng: 121.4}, maxDistanceKm: -1) { totalCount } }",
            None,
            "maxDistanceKm",
        ),
        ("query($t: String) { facilities(text: $t) { totalCount } }", {"t": "仁" * 101}, "text"),
    ],
)
def test_bad_input_is_a_coded_error(
    gql: GraphQLClient, query: str, variables: dict[str, Any] | None, field: str
) -> None:
    body = gql(query, variables)
    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field
    assert "Traceback" not in str(body)


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ facilities(kind: HOSPITAL) { totalCount } }", None, "BAD_USER_INPUT"),
        (
            "query($k: FacilityKind) { facilities(kind: $k) { totalCount } }",
            {"k": "X"},
            "BAD_USER_INPUT",
        ),
        ('{ facilities(first: "ten") { totalCount } }', None, "BAD_USER_INPUT"),
        ("{ facilities { totalCount ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ facilities { nope } }", None, "GRAPHQL_VALIDATION_FAILED"),
    ],
)
def test_malformed_requests_are_coded_errors(
    gql: GraphQLClient, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    body = gql(query, variables)
    assert error_codes(body) == [code]


def test_alias_and_token_limits(gql: GraphQLClient) -> None:
    aliases = " ".join(f"a{i}: facilities {{ totalCount }}" for i in range(20))
    assert error_codes(gql("{ " + aliases + " }")) == ["QUERY_TOO_COMPLEX"]
    many = "{ facilities { totalCount " + "totalCount " * 2100 + "} }"
    assert error_codes(gql(many)) == ["QUERY_TOO_COMPLEX"]


def test_depth_limit(settings: Settings, services: Services) -> None:
    # the public schema has no cycles deeper than the default limit, so lower it to see it bite
    app = create_app(settings.with_(graphql_max_depth=3), services=services)
    with TestClient(app) as client:
        deep = "{ facilities { edges { node { location { lat } } } } }"
        shallow = "{ facilities { totalCount } }"
        assert error_codes(GraphQLClient(client)(deep)) == ["QUERY_TOO_COMPLEX"]
        assert "errors" not in GraphQLClient(client)(shallow)


OTHER_LISTS = """
query Other($text: String, $kind: FacilityKind) {
  facilities(text: $text, kind: $kind, first: 5) { totalCount otherLists { kind count } }
}
"""


def test_words_of_another_list_point_to_it_with_its_count(gql: GraphQLClient) -> None:
    # given: "dental" searched on the medical list
    dental = search(gql, text="dental", kind="DENTAL")["totalCount"]
    assert dental > 0
    # when
    body = gql(OTHER_LISTS, {"text": "dental", "kind": "MEDICAL"})
    # then
    assert "errors" not in body, body
    others = body["data"]["facilities"]["otherLists"]
    assert {"kind": "DENTAL", "count": dental} in others
    assert all(o["kind"] != "MEDICAL" and o["count"] > 0 for o in others)


@pytest.mark.parametrize("variables", [{"kind": "MEDICAL"}, {"text": "dental"}])
def test_other_lists_need_both_text_and_kind(gql: GraphQLClient, variables: dict[str, str]) -> None:
    body = gql(OTHER_LISTS, variables)
    assert body["data"]["facilities"]["otherLists"] == []


@pytest.mark.parametrize("text", ["renj", "Rengi", "ren ji"])
def test_forgiving_text_finds_renji(gql: GraphQLClient, text: str) -> None:
    assert {n for n in names(search(gql, text=text)) if "仁济" in n} == {
        n for n in names(search(gql, text="Renji"))
    }


PLACES = """
query Places($query: String!, $first: Int) {
  places(query: $query, first: $first) { id kind nameZh nameEn pinyin district location { lat lng approximate } source }
}
"""

NEAR_PLACE = """
query Near($place: String, $near: GeoPointInput, $sort: FacilitySort = DISTANCE) {
  facilities(place: $place, near: $near, sort: $sort, first: 5) {
    totalCount place { kind nameZh location { lat lng } }
    edges { distanceKm node { nameZh } }
  }
}
"""


@pytest.mark.parametrize("typed", ["Pudong", "浦东", "pudong xinqu"])
def test_places_finds_a_district_in_any_script(gql: GraphQLClient, typed: str) -> None:
    body = gql(PLACES, {"query": typed, "first": 3})
    assert "errors" not in body, body
    top = body["data"]["places"][0]
    assert (top["kind"], top["nameZh"], top["nameEn"]) == ("DISTRICT", "浦东新区", "Pudong")
    assert top["location"]["approximate"] is True
    assert "OpenStreetMap" in top["source"]


def test_a_typed_place_sorts_from_its_point(gql: GraphQLClient) -> None:
    # given: the client typed a street instead of sharing a position
    body = gql(NEAR_PLACE, {"place": "Middle Shandong Road"})
    assert "errors" not in body, body
    conn = body["data"]["facilities"]
    point = conn["place"]["location"]
    assert conn["place"]["nameZh"] == "山东中路"
    # then: the same order and distances as from that point given as `near`
    same = gql(NEAR_PLACE, {"near": point})["data"]["facilities"]
    assert conn["edges"] == same["edges"]
    # exact points in order of distance (estimated ones show no km)
    kms = [e["distanceKm"] for e in conn["edges"] if e["distanceKm"] is not None]
    assert kms and kms == sorted(kms)


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"place": "zzzzqqq"}, "place"),
        ({"place": "浦" * 101}, "place"),
        ({"place": "Pudong", "near": PEOPLE_SQUARE}, "place"),
    ],
)
def test_bad_places_are_typed_errors(
    gql: GraphQLClient, variables: dict[str, Any], field: str
) -> None:
    body = gql(NEAR_PLACE, variables)
    assert error_codes(body) == ["BAD_USER_INPUT"]


def test_places_refuses_a_long_query_and_a_bad_count(gql: GraphQLClient) -> None:
    assert error_codes(gql(PLACES, {"query": "x" * 101})) == ["BAD_USER_INPUT"]
    assert error_codes(gql(PLACES, {"query": "pudong", "first": 11})) == ["BAD_USER_INPUT"]
