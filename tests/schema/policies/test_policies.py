from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from strawberry import relay

from server.accounts.sms_codes import Purpose
from server.accounts.wiring import MemberServices
from server.policies.models import IdType
from tests.db import Api, FakeClock, last_sms_code
from tests.schema.accounts.helpers import codes, log_in
from tests.schema.accounts.test_real_name import verify

POLICIES = """query($s: PolicyStatus) { viewer { policies(status: $s) {
  __typename
  ... on PolicyList { totalCount policies {
    id policyNo status dependant highEnd kind
    insured { name idNumber relation isMinor isMainInsured }
    plan { code networkId company }
    benefits { name floating detail }
  } }
  ... on Error { code }
} } }"""
ONE = """query($id: ID!) { viewer { policy(id: $id) {
  __typename ... on Policy { policyNo } ... on Error { code } } } }"""


def by_no(body: Any) -> dict[str, Any]:
    return {p["policyNo"]: p for p in body["data"]["viewer"]["policies"]["policies"]}


def test_main_insured_sees_own_and_dependants_policies_tagged(api: Api, demo: Any) -> None:
    token = log_in(api, "13800000001")
    policies = by_no(api(POLICIES, token=token, s="IN_FORCE"))
    assert set(policies) == {"DEMO-G-0001-01", "DEMO-G-0001-02", "DEMO-G-0001-03", "DEMO-I-8001"}
    assert policies["DEMO-G-0001-01"]["dependant"] is False
    spouse, child = policies["DEMO-G-0001-02"], policies["DEMO-G-0001-03"]
    assert spouse["dependant"] is True and child["dependant"] is True
    assert spouse["insured"] == {
        "name": "王*",
        "idNumber": demo.people["spouse"].id_number[:4]
        + "**********"
        + demo.people["spouse"].id_number[-4:],
        "relation": "SPOUSE",
        "isMinor": False,
        "isMainInsured": False,
    }
    assert child["insured"]["isMinor"] is True and child["insured"]["relation"] == "CHILD"
    assert child["insured"]["name"] == "张*明"
    assert policies["DEMO-G-0001-01"]["plan"]["networkId"] == "group-comprehensive"


def test_status_filter(api: Api, demo: Any) -> None:
    token = log_in(api, "13800000001")
    assert set(by_no(api(POLICIES, token=token, s="MATURED"))) == {"DEMO-G-0000-01"}
    assert set(by_no(api(POLICIES, token=token, s="SURRENDERED"))) == {"DEMO-I-7001"}
    assert len(by_no(api(POLICIES, token=token))) == 6


def test_high_end_policies_show_benefits_with_floating_items(api: Api, demo: Any) -> None:
    token = log_in(api, "13800000001")
    policies = by_no(api(POLICIES, token=token))
    high = policies["DEMO-I-8001"]
    assert high["highEnd"] is True and high["kind"] == "INDIVIDUAL"
    floating = [b for b in high["benefits"] if b["floating"]]
    assert [b["name"] for b in floating] == ["特需部及国际部就诊", "齿科保健"]
    assert all(b["detail"] for b in floating)
    assert policies["DEMO-G-0001-01"]["benefits"] == []


def test_a_dependant_sees_only_their_own_policy_untagged(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    # given the adult spouse with an account of her own, verified
    spouse = demo.people["spouse"]
    with db_factory() as s:
        members.accounts.codes.issue(s, spouse.phone, Purpose.REGISTER)
        s.commit()
    code = last_sms_code(db_factory, members, spouse.phone)
    with db_factory() as s:
        signed = members.accounts.register(
            s, mobile=spouse.phone, password="Spouse2026!", sms_code=code, accept_terms=True
        )
        members.identity.verify_real_name(
            s,
            signed.account,
            id_type=IdType.RESIDENT_ID,
            name=spouse.name,
            id_number=spouse.id_number,
            valid_from=datetime.date(2020, 1, 1),
            valid_to=None,
        )
        s.commit()
    # then she sees her own policy, without the dependant tag, and nothing of the family's
    policies = by_no(api(POLICIES, token=signed.token))
    assert set(policies) == {"DEMO-G-0001-02"}
    assert policies["DEMO-G-0001-02"]["dependant"] is False


def test_no_member_reads_another_members_policy_by_id(api: Api, demo: Any) -> None:
    main = log_in(api, "13800000001")
    own_id = by_no(api(POLICIES, token=main))["DEMO-G-0001-01"]["id"]
    assert (
        api(ONE, token=main, id=own_id)["data"]["viewer"]["policy"]["policyNo"] == "DEMO-G-0001-01"
    )
    # the colleague verifies, then guesses the main insured's ids
    colleague = log_in(api, "13800000003")
    assert verify(api, colleague, demo.people["colleague"])["__typename"] == "VerifyRealNameSuccess"
    for pk in [*demo.policy_ids.values(), 999_999]:
        gid = str(relay.GlobalID("Policy", str(pk)))
        one = api(ONE, token=colleague, id=gid)["data"]["viewer"]["policy"]
        if pk == demo.policy_ids["colleague"]:
            assert one["policyNo"] == "DEMO-G-0002-01"
            continue
        assert one == {"__typename": "PolicyNotFoundError", "code": "POLICY_NOT_FOUND"}
        node = api("query($id: ID!) { node(id: $id) { id } }", token=colleague, id=gid)
        assert node["data"]["node"] is None
    assert (
        api(ONE, token=colleague, id="garbage")["data"]["viewer"]["policy"]["code"]
        == "POLICY_NOT_FOUND"
    )
    # and without a token nothing at all
    assert codes(api(ONE, id=own_id)) == ["UNAUTHENTICATED"]


def test_network_from_the_policy_filters_the_directory(api: Api, demo: Any) -> None:
    token = log_in(api, "13800000001")
    nets = api(
        "{ viewer { networks { ... on NetworkList { networks { id nameZh } } } } }", token=token
    )
    networks = nets["data"]["viewer"]["networks"]["networks"]
    assert [n["id"] for n in networks] == ["group-comprehensive"]
    listed = api(
        "query($n: ID!) { facilities(network: $n, first: 100) { totalCount edges { node { networks { id } } } } }",
        n=networks[0]["id"],
    )["data"]["facilities"]
    assert listed["totalCount"] > 0
    assert all(
        any(n["id"] == "group-comprehensive" for n in e["node"]["networks"])
        for e in listed["edges"]
    )
