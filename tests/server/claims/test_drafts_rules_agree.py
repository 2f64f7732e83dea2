"""A rule a step checks and submission checks again gives the same code, field and message.

Each test refuses a bad input at its step, then puts the same value on a complete draft
(as a changed plan, a resubmission or an older draft would) and submits it.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from server.claims import drafts
from server.claims.claimant_rules import china_today
from server.claims.core import ClaimContext
from server.claims.errors import ClaimRuleBroken
from server.claims.models import Claim
from server.errors import DomainError, ValidationFailed
from tests.server.claims.drafts_helpers import (
    MAIN,
    STAFF,
    account_of,
    amount,
    basics,
    contact,
    policy_id,
    ready_draft,
)

Refusal = tuple[str, str | None, str]  # code, field, message


def refused(step: Callable[[], object]) -> list[Refusal]:
    """What a step says when it refuses its input."""
    with pytest.raises(DomainError) as e:
        step()
    if isinstance(e.value, ValidationFailed):
        return [(p.code, p.field, p.message) for p in e.value.problems]
    assert isinstance(e.value, ClaimRuleBroken)
    return [(e.value.code, e.value.field, e.value.message)]


def at_submission(db: Session, cx: ClaimContext, account: Any, claim: Claim) -> list[Refusal]:
    """Every problem submission finds; the first is what submitting the draft raises."""
    found = [(p.code, p.field, p.message) for p in drafts.submission_problems(db, cx, claim)]
    with pytest.raises(ClaimRuleBroken) as e:
        drafts.submit(db, cx, account, claim.id, sms_code="000000", client_key="agree-key-01")
    assert found and (e.value.code, e.value.field, e.value.message) == found[0]
    return found


@pytest.fixture
def main(db_session: Session, claims: ClaimContext, demo: Any) -> Any:
    return account_of(db_session, claims, MAIN)


@pytest.fixture
def ready(db_session: Session, claims: ClaimContext, demo: Any, main: Any) -> Claim:
    return ready_draft(db_session, claims, main, policy_id(demo, "main"))


def _fresh(db: Session, cx: ClaimContext, account: Any, demo: Any, key: str = "main") -> Claim:
    if drafts.contact_of(db, account.id) is None:
        contact(db, cx, account)
    return drafts.start_draft(db, cx, account, policy_id=policy_id(demo, key), notice_accepted=True)


def test_an_incident_date_in_the_future(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any, ready: Claim
) -> None:
    # given an incident date after today (China date)
    tomorrow = china_today(claims) + datetime.timedelta(days=1)
    # when step 2 gets it, and when a draft holding it is submitted
    fresh = _fresh(db_session, claims, main, demo)
    step = refused(lambda: basics(db_session, claims, main, fresh, incident_date=tomorrow))
    ready.incident_date = tomorrow
    submission = at_submission(db_session, claims, main, ready)
    # then both say DATE_IN_FUTURE, and submission does not call it outside the cover
    assert step == [
        ("DATE_IN_FUTURE", "incidentDate", "The incident date cannot be in the future.")
    ]
    assert submission == step
    assert "INCIDENT_OUTSIDE_COVER" not in {code for code, _, _ in submission}


def test_an_incident_date_before_the_cover(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any, ready: Claim
) -> None:
    before = ready.policy.start_date - datetime.timedelta(days=1)
    fresh = _fresh(db_session, claims, main, demo)
    step = refused(lambda: basics(db_session, claims, main, fresh, incident_date=before))
    ready.incident_date = before
    assert [s[:2] for s in step] == [("INCIDENT_OUTSIDE_COVER", "incidentDate")]
    assert at_submission(db_session, claims, main, ready) == step


def test_a_claim_type_that_needs_the_hospital_named(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    # given the university's card-swipe claim type, which excludes its own hospital
    staff = account_of(db_session, claims, STAFF)
    fresh = _fresh(db_session, claims, staff, demo, "staff")
    step = refused(lambda: basics(db_session, claims, staff, fresh, "OUTPATIENT_CARD"))
    claim = ready_draft(
        db_session,
        claims,
        staff,
        policy_id(demo, "staff"),
        claim_type="OUTPATIENT_CARD",
        total="300.00",
        facility_name="天津医科大学总医院",
    )
    claim.facility_name = None
    assert step == [("REQUIRED", "facilityName", "Name the hospital for this claim type.")]
    assert at_submission(db_session, claims, staff, claim) == step


def test_a_plan_that_needs_the_region(
    db_session: Session,
    claims: ClaimContext,
    main: Any,
    ready: Claim,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given the draft's plan starts to need the province and city after step 3 was saved
    rules = claims.rules.get(ready.plan_rules)
    monkeypatch.setitem(
        claims.rules.by_code, rules.code, dataclasses.replace(rules, region_required=True)
    )
    # when step 3 is saved again without them, and when the draft is submitted
    step = refused(lambda: amount(db_session, claims, main, ready, province=" "))
    # then both ask for the same two fields with the same code
    assert [s[:2] for s in step] == [("REQUIRED", "province"), ("REQUIRED", "city")]
    assert at_submission(db_session, claims, main, ready) == step


def test_no_payee_account(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any, ready: Claim
) -> None:
    # given a member with no payee account on file, and a draft that lost its payee
    staff = account_of(db_session, claims, STAFF)
    fresh = _fresh(db_session, claims, staff, demo, "staff")
    basics(db_session, claims, staff, fresh, "INPATIENT", facility_name="天津医院")
    assert drafts.latest_payee(db_session, staff.id) is None
    step = refused(
        lambda: drafts.update_amount(
            db_session, claims, staff, fresh.id, invoice_total=Decimal("8000")
        )
    )
    ready.payee = None
    assert [s[:2] for s in step] == [("PAYEE_REQUIRED", "payee")]
    assert at_submission(db_session, claims, main, ready) == step


def test_no_contact_details(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any, ready: Claim
) -> None:
    contact_row = drafts.contact_of(db_session, main.id)
    db_session.delete(contact_row)
    db_session.flush()
    step = refused(
        lambda: drafts.start_draft(
            db_session, claims, main, policy_id=policy_id(demo, "main"), notice_accepted=True
        )
    )
    assert [s[:2] for s in step] == [("CONTACT_REQUIRED", "contact")]
    assert at_submission(db_session, claims, main, ready) == step


def test_the_notice_not_accepted(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any, ready: Claim
) -> None:
    step = refused(
        lambda: drafts.start_draft(
            db_session, claims, main, policy_id=policy_id(demo, "main"), notice_accepted=False
        )
    )
    ready.notice_accepted_at = None
    assert [s[:2] for s in step] == [("NOTICE_NOT_ACCEPTED", "noticeAccepted")]
    assert at_submission(db_session, claims, main, ready) == step


def test_an_amount_over_the_online_limit(
    db_session: Session, claims: ClaimContext, main: Any, ready: Claim
) -> None:
    step = refused(lambda: amount(db_session, claims, main, ready, "2500.00"))
    ready.invoice_total_fen = 2500_00
    assert [s[:2] for s in step] == [("AMOUNT_OVER_LIMIT", "invoiceTotal")]
    assert at_submission(db_session, claims, main, ready) == step
