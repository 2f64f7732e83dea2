"""The `networks` query: every group plan's network of the directory, and a plain note
while its list names no facility yet (the U享赔 list, seed 000 §7「U享赔医院清单，待更新」;
the university plan's designated outpatient hospitals, seed 002 三.1(1)-(2), which its
notice does not list)."""

from __future__ import annotations

from server.claims.rules import rule_book
from tests.conftest import GraphQLClient

NETWORKS = "{ networks { id nameZh nameEn source facilityCount updating note } }"
UNIVERSITY = "nku-staff-outpatient"


def _networks(gql: GraphQLClient) -> dict[str, dict[str, object]]:
    body = gql(NETWORKS)
    assert "errors" not in body, body
    return {n["id"]: n for n in body["data"]["networks"]}


def test_the_university_plans_designated_hospitals_are_a_network_that_says_it_has_no_list(
    gql: GraphQLClient,
) -> None:
    # seed 002 三.1(1)「在南开大学职工商业医疗保险门诊定点医院的门诊刷医保卡费用」: the
    # plan's designated outpatient hospitals are a network of the directory
    out = _networks(gql)[UNIVERSITY]
    assert out["nameZh"] == "南开大学职工商业医疗保险门诊定点医院"
    assert "002" in str(out["source"]) and "三.1(1)-(2)" in str(out["source"])
    # the notice names no hospital: nothing is invented, and the member is told so
    assert out["facilityCount"] == 0 and out["updating"] is True
    assert "待更新" in str(out["note"]) and "being updated" in str(out["note"])
    empty = gql("query($n: ID) { facilities(network: $n) { totalCount } }", {"n": UNIVERSITY})
    assert empty["data"]["facilities"]["totalCount"] == 0


def test_the_network_the_claim_rules_name_is_the_directorys(gql: GraphQLClient) -> None:
    rules = rule_book().get("NKU-STAFF")
    assert rules.designated is not None
    assert rules.designated.network in _networks(gql)


def test_a_network_whose_list_names_facilities_has_no_note(gql: GraphQLClient) -> None:
    networks = _networks(gql)
    plan = networks["group-comprehensive"]
    assert isinstance(plan["facilityCount"], int) and plan["facilityCount"] > 0
    assert plan["updating"] is False and plan["note"] is None
    # the U享赔 list is in the same list, saying the same as uxiangHospitals
    assert networks["uxiang"]["updating"] is True and "待更新" in str(networks["uxiang"]["note"])
