"""The university plan's out-of-town claims, detected from the hospital, not only declared.

Seed 002 三.2 "必须到医保办进行申报的情况：…（3）异地发生的急诊、住院费用，异地安置职工发生门诊、
门特和住院垫付费用。" and 三.1(4) "天津市医保定点医院住院费用（刷医保卡结算）".
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy.orm import Session

from server.app import facility_place
from server.claims import designated, drafts, out_of_town
from server.claims.core import ClaimContext
from server.claims.errors import ClaimRuleBroken
from server.services import Services
from tests.server.claims.drafts_helpers import STAFF, account_of, basics, contact

OUT_OF_TOWN_REASON = "异地发生的急诊、住院费用"


@pytest.fixture
def staff_claim(db_session: Session, claims: ClaimContext, demo: Any) -> tuple[Any, Any]:
    staff = account_of(db_session, claims, STAFF)
    contact(db_session, claims, staff)
    claim = drafts.start_draft(
        db_session, claims, staff, policy_id=demo.policy_ids["staff"], notice_accepted=True
    )
    return staff, claim


@pytest.mark.parametrize(
    ("name", "out"),
    [
        ("北京协和医院", True),  # the 2-character city prefix
        ("上海交通大学医学院附属仁济医院", True),
        ("中国医学科学院北京协和医院", True),  # the place inside the name
        ("河北省人民医院", True),  # a province, full
        ("石家庄市第一医院", True),  # a city, full
        ("朝阳区中医院", True),  # a district in two provinces, neither of them Tianjin
        ("天津医科大学总医院", False),
        ("天津市河北区医院", False),  # 河北区 is Tianjin's, not 河北省
        ("武清区人民医院", False),  # a Tianjin district alone
        ("协和医院", None),  # no place in the name: not detected
        ("南开大学医院", None),
        ("和平区医院", None),  # 和平区: Tianjin and Shenyang, decides nothing
        ("东方医院", None),  # 东方 is a word here, not 东方市 (not_places in the TOML)
    ],
)
def test_the_place_in_a_hospital_name(name: str, out: bool | None) -> None:
    assert out_of_town.is_out_of_town(name, "天津市", ["东方", "安康"]) is out


def test_beijing_and_shanghai_hospitals_typed_are_office_only(
    db_session: Session, claims: ClaimContext, staff_claim: Any
) -> None:
    # 三.2(3) "异地发生的急诊、住院费用": an inpatient claim at a Beijing hospital is the office's
    staff, claim = staff_claim
    for name in ("北京协和医院", "上海交通大学医学院附属仁济医院"):
        with pytest.raises(ClaimRuleBroken) as e:
            basics(db_session, claims, staff, claim, "INPATIENT", facility_name=name)
        # the same code and reason as the declared case OUT_OF_TOWN
        declared = claims.rules.get("NKU-STAFF").office_case("OUT_OF_TOWN")
        assert declared is not None
        assert (e.value.code, e.value.field) == ("OFFICE_ONLY", "facilityName")
        assert e.value.message == declared.reason and OUT_OF_TOWN_REASON in e.value.message
        assert claim.claim_type is None  # nothing saved
    # an outpatient visit out of town is an emergency or a 异地安置 advance payment: office too
    with pytest.raises(ClaimRuleBroken) as card:
        basics(db_session, claims, staff, claim, "OUTPATIENT_CARD", facility_name="北京朝阳医院")
    assert card.value.code == "OFFICE_ONLY"


def test_a_tianjin_hospital_stays_online(
    db_session: Session, claims: ClaimContext, staff_claim: Any
) -> None:
    # 三.1(4) "天津市医保定点医院住院费用（刷医保卡结算）": online
    staff, claim = staff_claim
    basics(db_session, claims, staff, claim, "INPATIENT", facility_name="天津医科大学总医院")
    assert (claim.claim_type, claim.facility_name) == ("INPATIENT", "天津医科大学总医院")


def test_a_hospital_name_without_a_place_is_not_detected(
    db_session: Session, claims: ClaimContext, staff_claim: Any
) -> None:
    staff, claim = staff_claim
    basics(db_session, claims, staff, claim, "INPATIENT", facility_name="协和医院")
    assert claim.claim_type == "INPATIENT"


def test_the_cases_the_notice_keeps_online_elsewhere_are_not_refused(
    db_session: Session, claims: ClaimContext, staff_claim: Any
) -> None:
    # 三.1(4) "异地安置职工异地联网住院费用" and 三.1(3) "门诊特殊病刷医保卡费用" name no place
    staff, claim = staff_claim
    basics(
        db_session,
        claims,
        staff,
        claim,
        "INPATIENT_RESIDENT_ELSEWHERE",
        facility_name="北京大学第一医院",
    )
    assert claim.claim_type == "INPATIENT_RESIDENT_ELSEWHERE"
    basics(db_session, claims, staff, claim, "SPECIAL_OUTPATIENT", facility_name="北京大学第一医院")
    assert claim.claim_type == "SPECIAL_OUTPATIENT"


def test_submission_checks_the_hospital_again(
    db_session: Session, claims: ClaimContext, staff_claim: Any
) -> None:
    staff, claim = staff_claim
    basics(db_session, claims, staff, claim, "INPATIENT", facility_name="天津医科大学总医院")
    assert "OFFICE_ONLY" not in {
        p.code for p in drafts.submission_problems(db_session, claims, claim)
    }
    claim.facility_name = "北京协和医院"  # e.g. a draft saved before this rule
    db_session.flush()
    problems = drafts.submission_problems(db_session, claims, claim)
    office = [p for p in problems if p.code == "OFFICE_ONLY"]
    assert len(office) == 1 and OUT_OF_TOWN_REASON in office[0].message
    assert office[0].field == "facilityName"


SH_FACILITY = "med-shuguang-east-special"  # directory_data/facilities_medical.csv: 上海 浦东新区
NETWORK = (
    designated.Member("nku-staff-outpatient", SH_FACILITY, "上海中医药大学附属曙光医院", "test"),
    designated.Member("nku-staff-outpatient", "tj-hospital-a", "天津示例医院甲", "test"),
)


def test_a_facility_chosen_by_id_is_placed_by_the_directory(
    db_session: Session,
    claims: ClaimContext,
    staff_claim: Any,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the app's lookup gives the directory facility's city and district
    assert facility_place(services.directory.get, SH_FACILITY) == "上海浦东新区"
    assert facility_place(services.directory.get, "no-such-facility") is None
    monkeypatch.setattr(designated, "load", lambda path=designated.LIST: NETWORK)
    places = {SH_FACILITY: "上海浦东新区", "tj-hospital-a": "天津和平区"}
    cx = dataclasses.replace(claims, facility_place=places.get)
    staff, claim = staff_claim
    with pytest.raises(ClaimRuleBroken) as e:
        basics(db_session, cx, staff, claim, "OUTPATIENT_CARD", facility_id=SH_FACILITY)
    assert (e.value.code, e.value.field) == ("OFFICE_ONLY", "facilityId")
    assert OUT_OF_TOWN_REASON in e.value.message
    # the directory's city decides, not the name (which has no place here)
    basics(db_session, cx, staff, claim, "OUTPATIENT_CARD", facility_id="tj-hospital-a")
    assert claim.facility_id == "tj-hospital-a"
    # and at submission
    claim.facility_id = SH_FACILITY
    db_session.flush()
    codes = {p.code for p in drafts.submission_problems(db_session, cx, claim)}
    assert "OFFICE_ONLY" in codes


def test_emergency_observation_stays_declared(
    db_session: Session, claims: ClaimContext, staff_claim: Any
) -> None:
    # 三.2(2) "天津市急诊留观费用，即在医院发生急诊观察数日，由于病情严重直接办理住院手续":
    # a claim records no emergency stay (one incident date, invoices without dates), so the
    # inpatient claim at a Tianjin hospital is online and the member declares the case
    staff, claim = staff_claim
    basics(db_session, claims, staff, claim, "INPATIENT", facility_name="天津市第一中心医院")
    assert claim.claim_type == "INPATIENT"
    with pytest.raises(ClaimRuleBroken) as e:
        basics(db_session, claims, staff, claim, "EMERGENCY_OBSERVATION")
    assert e.value.code == "OFFICE_ONLY" and "天津市急诊留观费用" in e.value.message
