"""Claim drafts, step by step: notice and policy, contact, basic information, amount, documents."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.errors import PolicyNotFound, RealNameRequired
from server.claims import drafts
from server.claims.core import ClaimContext
from server.claims.errors import ClaimNotFound, ClaimRuleBroken, WrongClaimState
from server.claims.models import (
    ClaimEvent,
    ClaimInvoice,
    ClaimStatus,
    ContactProfile,
    IncidentType,
    OutpatientYearTotal,
    PayeeAccount,
)
from server.errors import ValidationFailed
from server.policies.models import Person, Relation
from tests.db import TEST_VAULT
from tests.server.claims.drafts_helpers import (
    ACCOUNT_NO,
    MAIN,
    STAFF,
    UNVERIFIED,
    account_of,
    add_document,
    amount,
    basics,
    contact,
    policy_id,
)


@pytest.fixture
def main(db_session: Session, claims: ClaimContext, demo: Any) -> Any:
    return account_of(db_session, claims, MAIN)


def _start(db: Session, cx: ClaimContext, account: Any, pid: int) -> Any:
    return drafts.start_draft(db, cx, account, policy_id=pid, notice_accepted=True)


# --- step 1 --------------------------------------------------------------------------------------


def test_a_first_claim_asks_for_contact_details_first(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    # given a member who never added contact details
    # when they start a claim
    with pytest.raises(ClaimRuleBroken) as e:
        _start(db_session, claims, main, policy_id(demo, "main"))
    # then they are asked for them
    assert e.value.code == "CONTACT_REQUIRED"
    contact(db_session, claims, main)
    claim = _start(db_session, claims, main, policy_id(demo, "main"))
    assert claim.status is ClaimStatus.DRAFT
    assert claim.relation is Relation.SELF and claim.plan_rules == "DEFAULT"
    assert claim.notice_accepted_at == claims.now()
    kinds = db_session.scalars(select(ClaimEvent.kind).where(ClaimEvent.claim_id == claim.id))
    assert list(kinds) == ["CREATED"]


def test_contact_details_are_encrypted_and_shown_masked(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    view = drafts.save_contact(
        db_session,
        claims,
        main,
        address="上海市浦东新区世纪大道1229号",
        email="zhang.wei@example.com",
    )
    assert view.email_masked == "z***@example.com"
    assert view.address_masked == "上海市浦东新****"
    row = db_session.scalar(select(ContactProfile).where(ContactProfile.account_id == main.id))
    assert row is not None
    assert "example.com" not in row.email_enc and "世纪大道" not in row.address_enc
    assert claims.vault.decrypt(row.email_enc) == "zhang.wei@example.com"
    # saving again changes the one profile
    drafts.save_contact(db_session, claims, main, address="天津市南开区卫津路94号", email="a@b.cn")
    count = db_session.scalars(select(ContactProfile).where(ContactProfile.account_id == main.id))
    assert len(list(count)) == 1


@pytest.mark.parametrize(
    ("address", "email", "codes"),
    [
        ("", "a@b.cn", {"address": "REQUIRED"}),
        ("上海市", "not-an-email", {"email": "INVALID_EMAIL"}),
        ("上海市", "", {"email": "REQUIRED"}),
        ("x" * 201, "a@b.cn", {"address": "TOO_LONG"}),
        ("<script>", "a@b.cn", {"address": "INVALID_CHARACTERS"}),
    ],
)
def test_bad_contact_details_are_refused_field_by_field(
    db_session: Session,
    claims: ClaimContext,
    main: Any,
    address: str,
    email: str,
    codes: dict[str, str],
) -> None:
    with pytest.raises(ValidationFailed) as e:
        drafts.save_contact(db_session, claims, main, address=address, email=email)
    assert {p.field: p.code for p in e.value.problems} == codes


def test_the_notice_must_be_accepted(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    contact(db_session, claims, main)
    with pytest.raises(ClaimRuleBroken) as e:
        drafts.start_draft(
            db_session, claims, main, policy_id=policy_id(demo, "main"), notice_accepted=False
        )
    assert e.value.code == "NOTICE_NOT_ACCEPTED"


def test_a_main_insured_claims_for_a_minor_child_but_never_an_adult_dependant(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    contact(db_session, claims, main)
    child = _start(db_session, claims, main, policy_id(demo, "child"))
    assert child.relation is Relation.CHILD
    assert child.insured_id == demo.people["child"].person_id
    assert child.applicant_id == demo.people["main"].person_id
    with pytest.raises(ClaimRuleBroken) as e:
        _start(db_session, claims, main, policy_id(demo, "spouse"))
    assert e.value.code == "ADULT_DEPENDANT"


def test_the_child_turning_18_is_caught_again_at_submission(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    contact(db_session, claims, main)
    claim = _start(db_session, claims, main, policy_id(demo, "child"))
    child = db_session.get(Person, demo.people["child"].person_id)
    assert child is not None
    child.birth_date = datetime.date(2000, 1, 1)
    problems = drafts.submission_problems(db_session, claims, claim)
    assert "ADULT_DEPENDANT" in [p.code for p in problems]


@pytest.mark.parametrize("key", ["main_matured", "main_surrendered"])
def test_only_a_policy_in_force_can_be_claimed_on(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any, key: str
) -> None:
    contact(db_session, claims, main)
    with pytest.raises(ClaimRuleBroken) as e:
        _start(db_session, claims, main, policy_id(demo, key))
    assert e.value.code == "POLICY_NOT_IN_FORCE"


def test_another_members_policy_answers_as_missing(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    contact(db_session, claims, main)
    for pid in (policy_id(demo, "colleague"), 999_999):
        with pytest.raises(PolicyNotFound):
            _start(db_session, claims, main, pid)


def test_an_unverified_member_cannot_claim(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    account = account_of(db_session, claims, UNVERIFIED)
    with pytest.raises(RealNameRequired):
        _start(db_session, claims, account, policy_id(demo, "colleague"))
    with pytest.raises(RealNameRequired):
        drafts.drafts(db_session, account)
    with pytest.raises(RealNameRequired):
        drafts.save_contact(db_session, claims, account, address="上海", email="a@b.cn")


def test_drafts_can_be_resumed_newest_first_and_discarded(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    contact(db_session, claims, main)
    first = _start(db_session, claims, main, policy_id(demo, "main"))
    claims.clock.advance(minutes=1)  # type: ignore[attr-defined]
    second = _start(db_session, claims, main, policy_id(demo, "child"))
    assert [c.id for c in drafts.drafts(db_session, main)] == [second.id, first.id]
    claims.clock.advance(minutes=1)  # type: ignore[attr-defined]
    basics(db_session, claims, main, first)
    assert [c.id for c in drafts.drafts(db_session, main)] == [first.id, second.id]
    doc = add_document(db_session, claims, first, "INVOICE")
    key = doc.storage_key
    assert claims.storage.exists(key)
    drafts.discard_draft(db_session, claims, main, first.id)
    assert [c.id for c in drafts.drafts(db_session, main)] == [second.id]
    assert not claims.storage.exists(key)
    with pytest.raises(ClaimNotFound):
        drafts.discard_draft(db_session, claims, main, first.id)
    # another member sees none of them
    staff = account_of(db_session, claims, STAFF)
    assert drafts.drafts(db_session, staff) == []
    with pytest.raises(ClaimNotFound):
        drafts.discard_draft(db_session, claims, staff, second.id)


# --- step 2: basic information -----------------------------------------------------------------


@pytest.fixture
def draft(db_session: Session, claims: ClaimContext, demo: Any, main: Any) -> Any:
    contact(db_session, claims, main)
    return _start(db_session, claims, main, policy_id(demo, "main"))


def test_basic_information_is_saved_with_the_address_encrypted(
    db_session: Session, claims: ClaimContext, main: Any, draft: Any
) -> None:
    basics(
        db_session,
        claims,
        main,
        draft,
        "INPATIENT",
        incident_type=IncidentType.ACCIDENT,
        facility_name="复旦大学附属华山医院",
    )
    assert draft.claim_type == "INPATIENT" and draft.incident_type is IncidentType.ACCIDENT
    assert draft.facility_name == "复旦大学附属华山医院"
    assert draft.address_enc and "世纪大道" not in draft.address_enc


def test_the_incident_date_must_be_within_cover_and_not_in_the_future(
    db_session: Session, claims: ClaimContext, main: Any, draft: Any
) -> None:
    today = claims.now().date()
    with pytest.raises(ValidationFailed) as v:
        basics(db_session, claims, main, draft, incident_date=today + datetime.timedelta(days=1))
    assert v.value.problems[0].code == "DATE_IN_FUTURE"
    with pytest.raises(ClaimRuleBroken) as e:
        basics(db_session, claims, main, draft, incident_date=datetime.date(today.year - 1, 12, 31))
    assert e.value.code == "INCIDENT_OUTSIDE_COVER"
    basics(db_session, claims, main, draft, incident_date=datetime.date(today.year, 1, 1))


def test_an_unknown_claim_type_is_refused(
    db_session: Session, claims: ClaimContext, main: Any, draft: Any
) -> None:
    with pytest.raises(ClaimRuleBroken) as e:
        basics(
            db_session, claims, main, draft, "OUTPATIENT_CARD"
        )  # the university's, not this plan's
    assert e.value.code == "CLAIM_TYPE_UNKNOWN"


def test_the_relationship_is_asked_when_claiming_for_a_child(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    contact(db_session, claims, main)
    claim = _start(db_session, claims, main, policy_id(demo, "child"))
    with pytest.raises(ValidationFailed) as e:
        basics(db_session, claims, main, claim)
    assert (e.value.problems[0].field, e.value.problems[0].code) == ("relationship", "REQUIRED")
    with pytest.raises(ValidationFailed) as e:
        basics(db_session, claims, main, claim, relationship=Relation.SPOUSE)
    assert e.value.problems[0].code == "RELATIONSHIP_MISMATCH"
    basics(db_session, claims, main, claim, relationship=Relation.CHILD)
    assert claim.claim_type == "OUTPATIENT"


@pytest.fixture
def staff_draft(db_session: Session, claims: ClaimContext, demo: Any) -> Any:
    staff = account_of(db_session, claims, STAFF)
    contact(db_session, claims, staff)
    return staff, _start(db_session, claims, staff, policy_id(demo, "staff"))


@pytest.mark.parametrize(
    "code", ["OUTPATIENT_ADVANCE_BELOW_7500", "EMERGENCY_OBSERVATION", "OUT_OF_TOWN"]
)
def test_office_only_cases_are_refused_with_the_notices_reason(
    db_session: Session, claims: ClaimContext, staff_draft: Any, code: str
) -> None:
    staff, claim = staff_draft
    assert claim.plan_rules == "NKU-STAFF"
    with pytest.raises(ClaimRuleBroken) as e:
        basics(db_session, claims, staff, claim, code)
    assert e.value.code == "OFFICE_ONLY"
    assert "医保办" in e.value.message
    assert claim.claim_type is None


def test_card_swipe_at_the_university_hospital_is_excluded(
    db_session: Session, claims: ClaimContext, staff_draft: Any, demo: Any
) -> None:
    staff, claim = staff_draft
    with pytest.raises(ValidationFailed) as v:
        basics(db_session, claims, staff, claim, "OUTPATIENT_CARD")
    assert (v.value.problems[0].field, v.value.problems[0].code) == ("facilityName", "REQUIRED")
    with pytest.raises(ClaimRuleBroken) as e:
        basics(db_session, claims, staff, claim, "OUTPATIENT_CARD", facility_name="南开大学 医院")
    assert e.value.code == "FACILITY_EXCLUDED" and "医保办" in e.value.message
    basics(db_session, claims, staff, claim, "OUTPATIENT_CARD", facility_name="天津医科大学总医院")
    # the exclusion is the card-swipe type's only (advance payments once the year passed 7,500)
    _year_total(db_session, claims, demo, 8000)
    basics(db_session, claims, staff, claim, "OUTPATIENT_ADVANCE", facility_name="南开大学医院")


# --- step 3: amount ------------------------------------------------------------------------------


def test_the_payee_is_asked_on_the_first_claim_and_reused_after(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any, draft: Any
) -> None:
    basics(db_session, claims, main, draft)
    with pytest.raises(ClaimRuleBroken) as e:
        drafts.update_amount(db_session, claims, main, draft.id, invoice_total=Decimal("200"))
    assert e.value.code == "PAYEE_REQUIRED"
    amount(
        db_session,
        claims,
        main,
        draft,
        "200.50",
        invoice_numbers=["inv-001", "INV-001", " 0002 "],
        other_compensation=Decimal("10.25"),
    )
    assert draft.invoice_total_fen == 20050 and draft.other_compensation_fen == 1025
    payee = draft.payee
    assert payee is not None and payee.account_no_last4 == "6789"
    assert "6217" not in payee.account_no_enc
    assert claims.vault.decrypt(payee.holder_name_enc) == "张伟"
    numbers = db_session.scalars(
        select(ClaimInvoice.invoice_no).where(ClaimInvoice.claim_id == draft.id)
    )
    assert sorted(numbers) == ["0002", "INV-001"]
    # saving the same numbers again is fine (the pair is unique)
    amount(db_session, claims, main, draft, "200.50", invoice_numbers=["INV-001", "0002"])
    # the next claim reuses the account without asking
    second = _start(db_session, claims, main, policy_id(demo, "child"))
    drafts.update_amount(db_session, claims, main, second.id, invoice_total=Decimal("99.9"))
    assert second.payee_id == payee.id
    assert (
        len(
            list(db_session.scalars(select(PayeeAccount).where(PayeeAccount.account_id == main.id)))
        )
        == 1
    )
    _, on_file = drafts.claimant_profile(db_session, claims, main)
    assert on_file is not None and on_file.account_masked == "****6789"
    assert on_file.holder_masked == "张*" and ACCOUNT_NO.replace(" ", "") not in repr(on_file)


@pytest.mark.parametrize(
    ("kw", "field", "code"),
    [
        ({"invoice_total": Decimal("0")}, "invoiceTotal", "INVALID_AMOUNT"),
        ({"invoice_total": Decimal("-5")}, "invoiceTotal", "INVALID_AMOUNT"),
        ({"invoice_total": Decimal("1.005")}, "invoiceTotal", "INVALID_AMOUNT"),
        ({"invoice_total": Decimal("NaN")}, "invoiceTotal", "INVALID_AMOUNT"),
        ({"invoice_total": Decimal("1E+9")}, "invoiceTotal", "INVALID_AMOUNT"),
        ({"other_compensation": Decimal("-1")}, "otherCompensation", "INVALID_AMOUNT"),
        ({"other_compensation": Decimal("600")}, "otherCompensation", "OVER_INVOICE_TOTAL"),
        ({"invoice_numbers": ["发票一"]}, "invoiceNumbers", "INVALID_INVOICE_NO"),
        ({"invoice_numbers": [str(i) for i in range(51)]}, "invoiceNumbers", "TOO_MANY"),
        (
            {"payee_bank": "工商银行", "payee_account_no": "12ab"},
            "payee.accountNo",
            "INVALID_BANK_ACCOUNT",
        ),
        ({"payee_bank": "", "payee_account_no": "621700121001"}, "payee.bankName", "REQUIRED"),
    ],
)
def test_bad_amounts_are_refused_field_by_field(
    db_session: Session,
    claims: ClaimContext,
    main: Any,
    draft: Any,
    kw: dict[str, Any],
    field: str,
    code: str,
) -> None:
    args: dict[str, Any] = {
        "invoice_total": Decimal("500"),
        "payee_bank": "中国建设银行",
        "payee_account_no": ACCOUNT_NO,
    }
    args.update(kw)
    with pytest.raises(ValidationFailed) as e:
        drafts.update_amount(db_session, claims, main, draft.id, **args)
    assert (e.value.problems[0].field, e.value.problems[0].code) == (field, code)


def test_the_default_online_limit_is_2000_unless_raised_for_the_person(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any, draft: Any
) -> None:
    from server.claims.models import Adjuster, ClaimLimitOverride

    basics(db_session, claims, main, draft)
    amount(db_session, claims, main, draft, "2000.00")
    with pytest.raises(ClaimRuleBroken) as e:
        amount(db_session, claims, main, draft, "2000.01")
    assert e.value.code == "AMOUNT_OVER_LIMIT"
    adjuster = Adjuster(
        username="limits", display_name_enc=TEST_VAULT.encrypt("审核员"), password_hash="x"
    )
    db_session.add(adjuster)
    db_session.flush()
    db_session.add(
        ClaimLimitOverride(person_id=draft.insured_id, limit_fen=5000_00, set_by=adjuster.id)
    )
    db_session.flush()
    amount(db_session, claims, main, draft, "4999.99")
    with pytest.raises(ClaimRuleBroken) as e:
        amount(db_session, claims, main, draft, "5000.01")
    assert e.value.code == "AMOUNT_OVER_LIMIT"


def _year_total(
    db: Session, cx: ClaimContext, demo: Any, yuan: int, year: int | None = None
) -> None:
    db.add(
        OutpatientYearTotal(
            person_id=demo.people["staff"].person_id,
            year=year or cx.now().year,
            amount_fen=yuan * 100,
            source="医保办",
            loaded_at=cx.now(),
        )
    )
    db.flush()


def test_university_advance_payments_follow_the_years_outpatient_total(
    db_session: Session, claims: ClaimContext, staff_draft: Any, demo: Any
) -> None:
    # seed 002 三.2(1): "自然年内门诊累计未达到7500元发生的门诊垫付费用" go to the office
    staff, claim = staff_draft
    with pytest.raises(ClaimRuleBroken) as e:
        basics(
            db_session,
            claims,
            staff,
            claim,
            "OUTPATIENT_ADVANCE",
            facility_name="天津医科大学总医院",
        )
    assert e.value.code == "OFFICE_ONLY" and "医保办" in e.value.message
    # 三.1(2) "门诊垫付费用（7500元至11300元）": with 8,000 this year, up to 3,300 more is online
    _year_total(db_session, claims, demo, 8000)
    basics(
        db_session, claims, staff, claim, "OUTPATIENT_ADVANCE", facility_name="天津医科大学总医院"
    )
    for ok in ("0.01", "3000.00", "3300.00"):
        amount(db_session, claims, staff, claim, ok)
        assert claim.invoice_total_fen == int(Decimal(ok) * 100)
    with pytest.raises(ClaimRuleBroken) as e:
        amount(db_session, claims, staff, claim, "3300.01")
    assert e.value.code == "ABOVE_YEAR_BAND"


def test_university_card_swipe_is_online_below_7500_of_the_year_whatever_the_claim(
    db_session: Session, claims: ClaimContext, staff_draft: Any, demo: Any
) -> None:
    # 三.1(1) "门诊刷医保卡费用(7500元以下…)": a 7,600 card-swipe claim in a fresh year is online
    staff, claim = staff_draft
    basics(db_session, claims, staff, claim, "OUTPATIENT_CARD", facility_name="天津医科大学总医院")
    amount(db_session, claims, staff, claim, "7600.00")
    assert claim.invoice_total_fen == 7600_00
    # the previous year's spending does not count (the year boundary)
    _year_total(db_session, claims, demo, 9000, year=claims.now().year - 1)
    amount(db_session, claims, staff, claim, "7600.00")
    # once this year's total has reached 7,500, card-swipe costs are not claimed online
    _year_total(db_session, claims, demo, 7500)
    with pytest.raises(ClaimRuleBroken) as e:
        basics(
            db_session, claims, staff, claim, "OUTPATIENT_CARD", facility_name="天津医科大学总医院"
        )
    assert e.value.code == "YEAR_TOTAL_REACHED"


def test_the_years_total_counts_sent_claims_but_not_withdrawn_or_rejected_ones(
    db_session: Session, claims: ClaimContext, staff_draft: Any, demo: Any
) -> None:
    from server.claims import outpatient_year
    from server.claims.models import ClaimStatus

    staff, claim = staff_draft
    rules = claims.rules.get("NKU-STAFF").outpatient_year
    assert rules is not None
    basics(db_session, claims, staff, claim, "OUTPATIENT_CARD", facility_name="天津医科大学总医院")
    amount(db_session, claims, staff, claim, "4000.00")
    person, year = demo.people["staff"].person_id, claims.now().year

    def total() -> int:
        return outpatient_year.year_total(db_session, rules, person, year).total_fen

    assert total() == 0  # a draft is not spending yet
    for status, counted in (
        (ClaimStatus.SUBMITTED, 4000_00),
        (ClaimStatus.SETTLED, 4000_00),
        (ClaimStatus.WITHDRAWN, 0),
        (ClaimStatus.REJECTED, 0),
    ):
        claim.status = status
        db_session.flush()
        assert total() == counted, status
    # and a claim is never measured against itself
    claim.status = ClaimStatus.SUBMITTED
    db_session.flush()
    assert (
        outpatient_year.year_total(
            db_session, rules, person, year, excluding_claim_id=claim.id
        ).total_fen
        == 0
    )


def test_a_claim_of_the_last_day_of_a_year_counts_in_that_year_not_the_next(
    db_session: Session, claims: ClaimContext, staff_draft: Any, demo: Any
) -> None:
    # seed 002 三.2(1) "自然年内门诊累计": the natural year of the visit decides
    from server.claims import outpatient_year
    from server.claims.models import ClaimStatus

    staff, claim = staff_draft
    rules = claims.rules.get("NKU-STAFF").outpatient_year
    assert rules is not None
    basics(db_session, claims, staff, claim, "OUTPATIENT_CARD", facility_name="天津医科大学总医院")
    amount(db_session, claims, staff, claim, "4000.00")
    person, year = demo.people["staff"].person_id, claims.now().year
    claim.status = ClaimStatus.SUBMITTED
    claim.incident_date = datetime.date(year - 1, 12, 31)
    db_session.flush()

    def total(y: int) -> int:
        return outpatient_year.year_total(db_session, rules, person, y).total_fen

    assert (total(year - 1), total(year)) == (4000_00, 0)
    claim.incident_date = datetime.date(year, 1, 1)
    db_session.flush()
    assert (total(year - 1), total(year)) == (0, 4000_00)


# --- step 4: documents ---------------------------------------------------------------------------


def test_documents_are_listed_by_category_and_can_be_removed(
    db_session: Session, claims: ClaimContext, main: Any, draft: Any
) -> None:
    basics(db_session, claims, main, draft)
    invoice = add_document(db_session, claims, draft, "INVOICE")
    add_document(db_session, claims, draft, "OTHER")
    listing = {
        m.category: (m.required, len(m.documents))
        for m in drafts.materials(db_session, claims, draft)
    }
    assert listing == {
        "MEDICAL_RECORD": (True, 0),
        "INVOICE": (True, 1),
        "ACCIDENT_PROOF": (False, 0),
        "OTHER": (False, 1),
    }
    assert drafts.missing_categories(db_session, claims, draft) == ["MEDICAL_RECORD"]
    drafts.remove_document(db_session, claims, main, invoice.id)
    drafts.remove_document(db_session, claims, main, invoice.id)  # twice: no error
    assert drafts.missing_categories(db_session, claims, draft) == ["MEDICAL_RECORD", "INVOICE"]
    staff = account_of(db_session, claims, STAFF)
    with pytest.raises(ClaimNotFound):
        drafts.remove_document(db_session, claims, staff, invoice.id)
    with pytest.raises(ClaimNotFound):
        drafts.remove_document(db_session, claims, main, 987_654)


def test_a_submitted_claim_cannot_be_edited(
    db_session: Session, claims: ClaimContext, main: Any, draft: Any
) -> None:
    basics(db_session, claims, main, draft)
    doc = add_document(db_session, claims, draft, "INVOICE")
    draft.status = ClaimStatus.SUBMITTED
    db_session.flush()
    with pytest.raises(WrongClaimState):
        basics(db_session, claims, main, draft)
    with pytest.raises(WrongClaimState):
        amount(db_session, claims, main, draft)
    with pytest.raises(WrongClaimState):
        drafts.remove_document(db_session, claims, main, doc.id)
    with pytest.raises(WrongClaimState):
        drafts.discard_draft(db_session, claims, main, draft.id)


def test_the_contact_details_are_read_once_per_database_session(
    db_session: Session, db_connection: Any, claims: ClaimContext, main: Any
) -> None:
    from tests.db import statements

    # given the member's contact details, saved and read in another session
    drafts.save_contact(db_session, claims, main, address="上海市浦东新区", email="a@b.cn")
    db_session.commit()
    db_session.expunge_all()
    db_session.info.clear()
    first = drafts.contact_of(db_session, main.id)
    assert first is not None
    # when they are asked for again in the same session: no statement
    with statements(db_connection) as seen:
        again = drafts.contact_of(db_session, main.id)
    assert again is first and seen == []
    # and once deleted they are gone, not remembered
    db_session.delete(first)
    db_session.flush()
    assert drafts.contact_of(db_session, main.id) is None
