"""Confirming and submitting a claim: every rule again, the SMS code, idempotency, numbers."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.errors import SmsCodeInvalid, SmsTooSoon
from server.accounts.wiring import MemberServices
from server.claims import drafts
from server.claims.core import ClaimContext
from server.claims.errors import ClaimNotFound, ClaimRuleBroken, WrongClaimState
from server.claims.models import (
    Adjuster,
    ClaimDuplicate,
    ClaimEvent,
    ClaimLimitOverride,
    ClaimStatus,
    OutpatientYearTotal,
)
from server.errors import ValidationFailed
from server.policies.models import Relation
from tests.db import TEST_VAULT, FakeClock
from tests.server.claims.drafts_helpers import (
    MAIN,
    STAFF,
    account_of,
    add_document,
    amount,
    basics,
    code_for,
    contact,
    image,
    policy_id,
    ready_draft,
)


@pytest.fixture
def main(db_session: Session, claims: ClaimContext, demo: Any) -> Any:
    return account_of(db_session, claims, MAIN)


def _kinds(db: Session, claim_id: int) -> list[str]:
    return list(
        db.scalars(
            select(ClaimEvent.kind).where(ClaimEvent.claim_id == claim_id).order_by(ClaimEvent.id)
        )
    )


def test_a_complete_draft_is_submitted_with_a_claim_number(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    main: Any,
) -> None:
    # given a draft with every step done
    claim = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    assert drafts.submission_problems(db_session, claims, claim) == []
    code = code_for(db_session, db_factory, claims, members, main, claim)
    # when it is submitted with the SMS code
    done = drafts.submit(db_session, claims, main, claim.id, sms_code=code, client_key="key-0001")
    # then it has a number of the seed's form, its status and its timeline
    assert done.id == claim.id and done.status is ClaimStatus.SUBMITTED
    china_day = claims.now().astimezone(datetime.timezone(datetime.timedelta(hours=8)))
    assert re.fullmatch(rf"VSHH{china_day:%y%m%d}\d{{5}}", done.claim_no or "")
    assert done.submitted_at == done.waiting_since == claims.now()
    assert done.limit_fen == 2000_00
    assert _kinds(db_session, claim.id) == ["CREATED", "SUBMITTED"]
    assert not done.duplicate_suspected
    # and it is no draft any more
    assert drafts.drafts(db_session, main) == []
    with pytest.raises(WrongClaimState):
        basics(db_session, claims, main, claim)


def test_the_same_client_key_gives_the_same_claim(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    main: Any,
) -> None:
    claim = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    code = code_for(db_session, db_factory, claims, members, main, claim)
    first = drafts.submit(
        db_session, claims, main, claim.id, sms_code=code, client_key="same-key-1"
    )
    number = first.claim_no
    # a retry with the same key and the used code answers with the claim made
    again = drafts.submit(
        db_session, claims, main, claim.id, sms_code=code, client_key="same-key-1"
    )
    assert again.id == first.id and again.claim_no == number
    assert _kinds(db_session, claim.id) == ["CREATED", "SUBMITTED"]
    # a new key for a submitted claim is a state error
    with pytest.raises(WrongClaimState):
        drafts.submit(db_session, claims, main, claim.id, sms_code=code, client_key="other-key-2")
    # the key cannot submit another draft
    second = ready_draft(
        db_session, claims, main, policy_id(demo, "child"), relationship=Relation.CHILD
    )
    with pytest.raises(ValidationFailed) as e:
        drafts.submit(db_session, claims, main, second.id, sms_code=code, client_key="same-key-1")
    assert e.value.problems[0].code == "CLIENT_KEY_REUSED"


def test_a_wrong_or_expired_code_is_refused(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    main: Any,
) -> None:
    clock = claims.clock
    assert isinstance(clock, FakeClock)
    claim = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    code = code_for(db_session, db_factory, claims, members, main, claim)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(SmsCodeInvalid):
        drafts.submit(db_session, claims, main, claim.id, sms_code=wrong, client_key="k-wrong-1")
    with pytest.raises(ValidationFailed) as e:
        drafts.submit(db_session, claims, main, claim.id, sms_code="12ab", client_key="k-wrong-1")
    assert e.value.problems[0].code == "INVALID_SMS_CODE"
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(SmsCodeInvalid):
        drafts.submit(db_session, claims, main, claim.id, sms_code=code, client_key="k-wrong-1")
    assert claim.status is ClaimStatus.DRAFT and claim.claim_no is None
    # a fresh code works, with the key the failed tries wrote on the draft
    fresh = code_for(db_session, db_factory, claims, members, main, claim)
    done = drafts.submit(db_session, claims, main, claim.id, sms_code=fresh, client_key="k-wrong-1")
    assert done.status is ClaimStatus.SUBMITTED


def test_codes_go_to_the_account_mobile_at_most_every_120_seconds(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    main: Any,
) -> None:
    claim = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    sent = drafts.send_confirmation_code(db_session, claims, main, claim.id)
    assert sent.mobile_masked == "138****0001"
    assert sent.sent.expires_in_seconds == 300
    with pytest.raises(SmsTooSoon):
        drafts.send_confirmation_code(db_session, claims, main, claim.id)


def test_an_incomplete_draft_gets_no_code_and_says_what_is_missing(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    contact(db_session, claims, main)
    claim = drafts.start_draft(
        db_session, claims, main, policy_id=policy_id(demo, "main"), notice_accepted=True
    )
    codes = [p.code for p in drafts.submission_problems(db_session, claims, claim)]
    assert codes == ["STEP_INCOMPLETE", "STEP_INCOMPLETE", "SIGNATURE_REQUIRED"]
    with pytest.raises(ClaimRuleBroken) as e:
        drafts.send_confirmation_code(db_session, claims, main, claim.id)
    assert (e.value.code, e.value.field) == ("STEP_INCOMPLETE", "basics")
    basics(db_session, claims, main, claim)
    amount(db_session, claims, main, claim)
    add_document(db_session, claims, claim, "INVOICE")
    view = drafts.confirmation(db_session, claims, main, claim.id)
    assert [p.code for p in view.problems] == ["DOCUMENTS_MISSING", "SIGNATURE_REQUIRED"]
    assert "门急诊/病历/诊断证明" in view.problems[0].message
    assert view.insured.name_masked == "张*" and view.applicant.mobile_masked == "138****0001"
    assert view.applicant.email_masked == "z***@example.com"
    assert view.insured.id_number_masked.startswith("3101") and "*" in view.insured.id_number_masked
    assert view.payee is not None and view.payee.account_masked == "****6789"
    assert view.online_limit_fen == 2000_00


def test_every_rule_is_checked_again_at_submission(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    # given a complete university claim: card-swipe of 7,600 in a year with nothing spent
    staff = account_of(db_session, claims, STAFF)
    claim = ready_draft(
        db_session,
        claims,
        staff,
        policy_id(demo, "staff"),
        claim_type="OUTPATIENT_CARD",
        total="7600.00",
        facility_name="天津医科大学总医院",
    )
    code = code_for(db_session, db_factory, claims, members, staff, claim, STAFF)
    # when the year's outpatient total passes 7,500 meanwhile (the administrator's figures)
    spent = OutpatientYearTotal(
        person_id=demo.people["staff"].person_id,
        year=claim.incident_date.year if claim.incident_date else 2026,
        amount_fen=8000_00,
        source="医保办",
        loaded_at=claims.now(),
    )
    db_session.add(spent)
    db_session.flush()
    # then submission refuses it, and the code stays usable
    version = claims.rules.get("NKU-STAFF").declaration
    assert version is not None
    with pytest.raises(ClaimRuleBroken) as e:
        drafts.submit(
            db_session,
            claims,
            staff,
            claim.id,
            sms_code=code,
            client_key="uni-key-1",
            declaration_version=version.version,
        )
    assert e.value.code == "YEAR_TOTAL_REACHED"
    db_session.delete(spent)
    db_session.flush()
    # documents removed after the code was sent
    for doc in list(claim.documents):
        if doc.category == "INVOICE":
            drafts.remove_document(db_session, claims, staff, doc.id)
    with pytest.raises(ClaimRuleBroken) as e:
        drafts.submit(db_session, claims, staff, claim.id, sms_code=code, client_key="uni-key-1")
    assert e.value.code == "DOCUMENTS_MISSING"
    add_document(db_session, claims, claim, "INVOICE")
    # the signature removed
    claim.signature_key = None
    with pytest.raises(ClaimRuleBroken) as e:
        drafts.submit(db_session, claims, staff, claim.id, sms_code=code, client_key="uni-key-1")
    assert e.value.code == "SIGNATURE_REQUIRED"


def test_the_limit_at_submission_takes_the_persons_override(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    main: Any,
) -> None:
    adjuster = Adjuster(
        username="limit-raiser", display_name_enc=TEST_VAULT.encrypt("审核员"), password_hash="x"
    )
    db_session.add(adjuster)
    db_session.flush()
    override = ClaimLimitOverride(
        person_id=demo.people["main"].person_id, limit_fen=3000_00, set_by=adjuster.id
    )
    db_session.add(override)
    db_session.flush()
    claim = ready_draft(db_session, claims, main, policy_id(demo, "main"), total="2500.00")
    code = code_for(db_session, db_factory, claims, members, main, claim)
    # the override is withdrawn before the claim is sent
    db_session.delete(override)
    db_session.flush()
    with pytest.raises(ClaimRuleBroken) as e:
        drafts.submit(db_session, claims, main, claim.id, sms_code=code, client_key="limit-key")
    assert e.value.code == "AMOUNT_OVER_LIMIT"
    db_session.add(
        ClaimLimitOverride(
            person_id=demo.people["main"].person_id, limit_fen=3000_00, set_by=adjuster.id
        )
    )
    db_session.flush()
    done = drafts.submit(db_session, claims, main, claim.id, sms_code=code, client_key="limit-key")
    assert done.limit_fen == 3000_00


def test_the_same_invoice_in_another_claim_is_flagged(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    main: Any,
) -> None:
    photo = image()
    first = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    add_document(db_session, claims, first, "INVOICE", photo)
    amount(db_session, claims, main, first, invoice_numbers=["NO-123"])
    code = code_for(db_session, db_factory, claims, members, main, first)
    drafts.submit(db_session, claims, main, first.id, sms_code=code, client_key="dup-key-1")
    second = ready_draft(
        db_session, claims, main, policy_id(demo, "child"), relationship=Relation.CHILD
    )
    add_document(db_session, claims, second, "INVOICE", photo)
    amount(db_session, claims, main, second, invoice_numbers=["no-123"])
    code = code_for(db_session, db_factory, claims, members, main, second)
    done = drafts.submit(db_session, claims, main, second.id, sms_code=code, client_key="dup-key-2")
    assert done.duplicate_suspected
    flags = db_session.scalars(select(ClaimDuplicate).where(ClaimDuplicate.claim_id == second.id))
    assert sorted((f.basis, f.other_claim_id) for f in flags) == [
        ("IMAGE", first.id),
        ("INVOICE_NO", first.id),
    ]
    assert _kinds(db_session, second.id)[-1] == "DUPLICATE_SUSPECTED"


def test_another_members_draft_cannot_be_submitted(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    main: Any,
) -> None:
    claim = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    staff = account_of(db_session, claims, STAFF)
    with pytest.raises(ClaimNotFound):
        drafts.submit(
            db_session, claims, staff, claim.id, sms_code="123456", client_key="x-key-123"
        )
    with pytest.raises(ClaimNotFound):
        drafts.send_confirmation_code(db_session, claims, staff, claim.id)
    with pytest.raises(ClaimNotFound):
        drafts.confirmation(db_session, claims, staff, claim.id)


@pytest.mark.parametrize("key", ["short", "has space in it", "x" * 65, "", "ключ-ключ"])
def test_a_malformed_client_key_is_refused(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any, key: str
) -> None:
    claim = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    with pytest.raises(ValidationFailed) as e:
        drafts.submit(db_session, claims, main, claim.id, sms_code="123456", client_key=key)
    assert e.value.problems[0].code == "INVALID_CLIENT_KEY"


def test_a_key_held_by_another_draft_is_refused_by_the_unique_constraint(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    # given a draft whose failed submission (no signature yet) wrote the key on it
    first = ready_draft(db_session, claims, main, policy_id(demo, "main"), signed=False)
    with pytest.raises(ClaimRuleBroken):
        drafts.submit(
            db_session, claims, main, first.id, sms_code="123456", client_key="held-key-1"
        )
    assert first.client_key == "held-key-1"
    # when another draft is submitted with that key
    second = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    with pytest.raises(ValidationFailed) as e:
        drafts.submit(
            db_session, claims, main, second.id, sms_code="123456", client_key="held-key-1"
        )
    # then the constraint refuses it, and the session carries on
    assert e.value.problems[0].code == "CLIENT_KEY_REUSED"
    assert second.client_key is None and second.status is ClaimStatus.DRAFT
    assert drafts.drafts(db_session, main) != []


def test_submission_reads_the_limit_once_and_writes_the_claim_once(
    db_session: Session,
    db_connection: Any,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    main: Any,
) -> None:
    from tests.db import statements

    # given a complete draft and its code
    claim = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    code = code_for(db_session, db_factory, claims, members, main, claim)
    db_session.flush()
    # when it is submitted
    with statements(db_connection) as seen:
        drafts.submit(db_session, claims, main, claim.id, sms_code=code, client_key="key-0042")
    # then the online limit was read once (checked, then written on the claim), and the
    # claim's number, status and limit went out in one UPDATE after its client key
    overrides = [s for s in seen if "claim_limit_override" in s]
    assert len(overrides) == 1  # with the locked draft and the contact
    claim_updates = [s for s in seen if re.search(r"\bUPDATE claim SET", s)]
    assert len(claim_updates) == 2, claim_updates  # the client key, then the submission
    assert "claim_no" in claim_updates[1] and "status" in claim_updates[1]
    if db_session.get_bind().dialect.name == "postgresql":
        # with its timeline event (a CTE), and the message with its SMS and e-mail
        assert "INSERT INTO claim_event" in claim_updates[1]
        assert not [s for s in seen if s.startswith("INSERT INTO claim_event")]
        posted = [s for s in seen if "INSERT INTO member_message" in s]
        assert len(posted) == 1 and "INSERT INTO notification_outbox" in posted[0]
    # and the documents were read once, under the row lock
    assert len([s for s in seen if "claim_document.storage_key" in s]) == 1


def test_the_amount_step_writes_the_claim_in_one_update(
    db_session: Session, db_connection: Any, claims: ClaimContext, demo: Any, main: Any
) -> None:
    from tests.db import statements

    # given a draft with its basic information
    contact(db_session, claims, main)
    claim = drafts.start_draft(
        db_session, claims, main, policy_id=policy_id(demo, "main"), notice_accepted=True
    )
    basics(db_session, claims, main, claim)
    db_session.flush()
    # when the amount, an invoice number and a payee account are entered
    with statements(db_connection) as seen:
        done = amount(db_session, claims, main, claim, "368.50", invoice_numbers=["FP-1"])
    # then the claim is written once, and its payee is the new account
    # (on PostgreSQL with the payee's and the invoice's INSERTs, in one statement)
    claim_updates = [s for s in seen if "UPDATE CLAIM " in s.upper()]
    assert len(claim_updates) == 1, claim_updates
    assert done.payee is not None and done.payee.account_no_last4 == "6789"
    assert [i.invoice_no for i in done.invoices] == ["FP-1"]
