from __future__ import annotations

from typing import Any

from strawberry import relay

from tests.db import Api
from tests.schema.accounts.helpers import codes, log_in

ADD = """mutation($id: ID!) { addFavouriteFacility(input: {facilityId: $id}) {
  __typename ... on FavouritesSuccess { viewer { favouriteFacilities { sourceId } } }
  ... on Error { code } } }"""
REMOVE = """mutation($id: ID!) { removeFavouriteFacility(input: {facilityId: $id}) {
  __typename ... on FavouritesSuccess { viewer { favouriteFacilities { sourceId } } }
  ... on Error { code } } }"""
LIST = "{ viewer { favouriteFacilities { sourceId } } }"


def ids(body: Any) -> list[str]:
    return [f["sourceId"] for f in body]


def test_favourites_are_stored_per_member(api: Api, demo: Any) -> None:
    main = log_in(api, "13800000001")
    colleague = log_in(api, "13800000003")
    # global and plain ids both work; adding twice is harmless
    out = api(ADD, token=main, id=str(relay.GlobalID("Facility", "den-arrail-biyun")))
    assert ids(out["data"]["addFavouriteFacility"]["viewer"]["favouriteFacilities"]) == [
        "den-arrail-biyun"
    ]
    api(ADD, token=main, id="den-arrail-shidai")
    api(ADD, token=main, id="den-arrail-shidai")
    assert sorted(ids(api(LIST, token=main)["data"]["viewer"]["favouriteFacilities"])) == [
        "den-arrail-biyun",
        "den-arrail-shidai",
    ]
    # the other member's list is their own
    assert api(LIST, token=colleague)["data"]["viewer"]["favouriteFacilities"] == []
    assert (
        api(REMOVE, token=colleague, id="den-arrail-biyun")["data"]["removeFavouriteFacility"][
            "code"
        ]
        == "FACILITY_NOT_FOUND"
    )
    # removing
    out = api(REMOVE, token=main, id="den-arrail-biyun")["data"]["removeFavouriteFacility"]
    assert ids(out["viewer"]["favouriteFacilities"]) == ["den-arrail-shidai"]


def test_unknown_facilities_and_anonymous_callers_are_refused(api: Api, demo: Any) -> None:
    main = log_in(api, "13800000001")
    for bad in ("no-such-facility", str(relay.GlobalID("Policy", "1")), "x" * 500):
        assert (
            api(ADD, token=main, id=bad)["data"]["addFavouriteFacility"]["code"]
            == "FACILITY_NOT_FOUND"
        )
    assert codes(api(ADD, id="den-arrail-biyun")) == ["UNAUTHENTICATED"]
    assert codes(api(LIST)) == ["UNAUTHENTICATED"]


def test_the_number_of_favourites_is_capped(api: Api, demo: Any, monkeypatch: Any) -> None:
    import server.policies.service as service

    monkeypatch.setattr(service, "MAX_FAVOURITES", 1)
    main = log_in(api, "13800000001")
    api(ADD, token=main, id="den-arrail-biyun")
    query = ADD.replace(
        "... on Error { code }", "... on ValidationError { code fieldErrors { field code } }"
    )
    out = api(query, token=main, id="den-arrail-shidai")["data"]["addFavouriteFacility"]
    assert out == {
        "__typename": "ValidationError",
        "code": "VALIDATION_FAILED",
        "fieldErrors": [{"field": "facilityId", "code": "TOO_MANY_FAVOURITES"}],
    }
