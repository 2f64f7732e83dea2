"""Payees (收款人): saved with an SMS code, encrypted, masked, chosen by claims, removed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.errors import RealNameRequired, SmsCodeInvalid
from server.accounts.wiring import MemberServices
from server.claims import drafts, payees
from server.claims.banks import account_problem, banks, luhn_ok
from server.claims.core import ClaimContext
from server.claims.errors import PayeeDuplicate, PayeeInUse, PayeeNotFound
from server.claims.models import ClaimStatus, PayeeAccount
from server.errors import ValidationFailed
from server.policies.models import Relation
from tests.server.claims.drafts_helpers import (
    MAIN,
    STAFF,
    UNVERIFIED,
    account_of,
    code_for,
    policy_id,
    ready_draft,
)
from tests.server.claims.payees_helpers import (
    BAD_CHECK_DIGIT,
    CCB_CARD,
    ICBC_CARD,
    SPOUSE_ID,
    details,
    payee_code,
)

TOTAL = Decimal("500.00")


@pytest.fixture
def main(db_session: Session, claims: ClaimContext, demo: Any) -> Any:
    return account_of(db_session, claims, MAIN)


@pytest.fixture
def code(
    db_session: Session, db_factory: sessionmaker[Session], members: MemberServices, main: Any
) -> Any:
    return lambda account=main, phone=MAIN: payee_code(
        db_session, db_factory, members, account, phone
    )


def _fields(e: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {p.field: p.code for p in e.value.problems}


def test_the_check_digit_rule_follows_the_bank() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    ccb, rcc = banks()["105"], banks()["402"]
    assert account_problem(ccb, "6222021001123456789") is None
    assert account_problem(ccb, BAD_CHECK_DIGIT) is not None
    assert account_problem(ccb, BAD_CHECK_DIGIT)[0] == "BANK_ACCOUNT_CHECK_DIGIT"  # type: ignore[index]
    # rural credit cooperatives' passbook accounts carry no check digit: length only
    assert account_problem(rcc, BAD_CHECK_DIGIT) is None
    assert account_problem(rcc, "123456789012345")[0] == "INVALID_BANK_ACCOUNT"  # type: ignore[index]


def test_a_payee_is_saved_with_an_sms_code_encrypted_and_listed_masked(
    db_session: Session, claims: ClaimContext, main: Any, code: Any
) -> None:
    # given a verified member with a SAVE_PAYEE code
    # when they save their spouse as a payee
    view = payees.add_payee(db_session, claims, main, details(), code())
    # then the list shows it masked, with the bank and region by name
    [listed] = payees.list_payees(db_session, claims, main)
    assert listed == view
    assert view.relationship is Relation.SPOUSE
    assert view.holder_masked == "王*"
    assert view.id_number_masked == "3101**********1238"
    assert view.account_masked == "****6786"
    assert view.bank_name == "中国建设银行" and view.bank_code == "105"
    assert (view.province, view.city) == ("上海市", "上海市")
    assert view.insurance_no_masked == "S*********345"
    # and nothing personal is stored in the clear
    row = db_session.get(PayeeAccount, view.id)
    assert row is not None
    stored = " ".join(
        str(v)
        for v in (row.holder_name_enc, row.id_number_enc, row.account_no_enc, row.insurance_no_enc)
    )
    for plain in ("王芳", SPOUSE_ID, "6217001210019876786", "SB31011512345"):
        assert plain not in stored
    assert claims.vault.decrypt(row.account_no_enc) == "6217001210019876786"


def test_every_bad_field_is_named_and_nothing_is_spent(
    db_session: Session, claims: ClaimContext, main: Any, code: Any
) -> None:
    sms = code()
    bad = details(
        holder_name="",
        id_number="310115198001011239",
        province_code="999999999999",
        bank_code="999",
        insurance_no="<script>",
    )
    with pytest.raises(ValidationFailed) as e:
        payees.add_payee(db_session, claims, main, bad, sms)
    assert _fields(e) == {
        "holderName": "INVALID_NAME",
        "idNumber": "INVALID_ID_NUMBER",
        "provinceCode": "UNKNOWN_REGION",
        "bankCode": "UNKNOWN_BANK",
        "insuranceNo": "INVALID_INSURANCE_NO",
    }
    # a bank not on the list: the message says the list is not complete and what to do
    [unknown] = [p for p in e.value.problems if p.field == "bankCode"]
    assert "not on it yet" in unknown.message and "10108686" in unknown.message
    with pytest.raises(ValidationFailed) as e:
        payees.add_payee(db_session, claims, main, details(account_no=BAD_CHECK_DIGIT), sms)
    assert _fields(e) == {"accountNo": "BANK_ACCOUNT_CHECK_DIGIT"}
    with pytest.raises(ValidationFailed) as e:
        payees.add_payee(db_session, claims, main, details(city_code="320100000000"), sms)
    assert _fields(e) == {"cityCode": "UNKNOWN_REGION"}  # 南京 is not in 上海
    # the code was not used up by the refused attempts
    payees.add_payee(db_session, claims, main, details(), sms)


def test_a_wrong_sms_code_saves_nothing(
    db_session: Session, claims: ClaimContext, main: Any, code: Any
) -> None:
    good = code()
    wrong = "000000" if good != "000000" else "111111"
    with pytest.raises(SmsCodeInvalid):
        payees.add_payee(db_session, claims, main, details(), wrong)
    assert payees.list_payees(db_session, claims, main) == []
    # a code is good once
    payees.add_payee(db_session, claims, main, details(), good)
    with pytest.raises(SmsCodeInvalid):
        payees.add_payee(db_session, claims, main, details(account_no=ICBC_CARD), good)


def test_the_same_account_cannot_be_saved_twice(
    db_session: Session, claims: ClaimContext, main: Any, code: Any
) -> None:
    payees.add_payee(db_session, claims, main, details(), code())
    with pytest.raises(PayeeDuplicate):
        # spaces do not make it another account
        payees.add_payee(
            db_session, claims, main, details(account_no=CCB_CARD.replace(" ", "")), code()
        )


def test_payees_need_real_name_verification(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    unverified = account_of(db_session, claims, UNVERIFIED)
    with pytest.raises(RealNameRequired):
        payees.list_payees(db_session, claims, unverified)


def test_another_members_payee_is_not_found(
    db_session: Session, claims: ClaimContext, main: Any, code: Any
) -> None:
    view = payees.add_payee(db_session, claims, main, details(), code())
    staff = account_of(db_session, claims, STAFF)
    with pytest.raises(PayeeNotFound):
        payees.remove_payee(db_session, claims, staff, view.id)
    with pytest.raises(PayeeNotFound):
        payees.own_payee(db_session, staff, view.id)
    assert payees.list_payees(db_session, claims, staff) == []


def test_a_payee_is_edited_in_place_until_a_claim_is_paid_to_it(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    main: Any,
    code: Any,
) -> None:
    view = payees.add_payee(db_session, claims, main, details(), code())
    edited = payees.update_payee(
        db_session, claims, main, view.id, details(bank_code="102", account_no=ICBC_CARD), code()
    )
    assert edited.id == view.id and edited.bank_name == "中国工商银行"
    assert edited.account_masked == "****6789"
    # a claim is sent to it
    claim = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    drafts.update_amount(db_session, claims, main, claim.id, invoice_total=TOTAL, payee_id=view.id)
    sms = code_for(db_session, db_factory, claims, members, main, claim)
    drafts.submit(db_session, claims, main, claim.id, sms_code=sms, client_key="payee-edit-1")
    # the claim keeps the account it was sent with; the change becomes a new payee
    changed = payees.update_payee(
        db_session, claims, main, view.id, details(account_no=CCB_CARD), code()
    )
    assert changed.id != view.id
    assert claim.payee_id == view.id and claim.payee is not None
    assert claim.payee.account_no_last4 == "6789"
    listed = payees.list_payees(db_session, claims, main)
    assert view.id not in [p.id for p in listed] and changed.id in [p.id for p in listed]


def test_a_payee_on_a_claim_in_progress_cannot_be_removed(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    main: Any,
    code: Any,
) -> None:
    view = payees.add_payee(db_session, claims, main, details(), code())
    claim = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    drafts.update_amount(db_session, claims, main, claim.id, invoice_total=TOTAL, payee_id=view.id)
    with pytest.raises(PayeeInUse):
        payees.remove_payee(db_session, claims, main, view.id)  # the draft
    sms = code_for(db_session, db_factory, claims, members, main, claim)
    drafts.submit(db_session, claims, main, claim.id, sms_code=sms, client_key="payee-rm-1")
    with pytest.raises(PayeeInUse) as e:
        payees.remove_payee(db_session, claims, main, view.id)
    assert claim.claim_no is not None and claim.claim_no in e.value.message
    # once decided it can go
    claim.status = ClaimStatus.SETTLED
    db_session.flush()
    payees.remove_payee(db_session, claims, main, view.id)
    assert payees.list_payees(db_session, claims, main) == [
        p for p in payees.list_payees(db_session, claims, main) if p.id != view.id
    ]
    assert view.id not in [p.id for p in payees.list_payees(db_session, claims, main)]
    # the decided claim still says where the money went
    assert claim.payee is not None and claim.payee.account_no_last4 == "6786"


def test_a_claim_picks_a_saved_payee_and_a_removed_one_is_refused(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any, code: Any
) -> None:
    # given a member whose first claim captured their own account inline
    claim = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    own = claim.payee_id
    assert own is not None
    # and a saved payee for the spouse
    spouse = payees.add_payee(db_session, claims, main, details(), code())
    listed = [p.id for p in payees.list_payees(db_session, claims, main)]
    assert listed == [own, spouse.id]  # the inline account is a payee too
    # when the claim picks the spouse
    drafts.update_amount(
        db_session, claims, main, claim.id, invoice_total=TOTAL, payee_id=spouse.id
    )
    assert claim.payee_id == spouse.id
    # a claim naming none still gets the member's own account, never the relative's
    drafts.update_amount(db_session, claims, main, claim.id, invoice_total=TOTAL)
    assert claim.payee_id == own
    # both at once is refused
    with pytest.raises(ValidationFailed) as e:
        drafts.update_amount(
            db_session,
            claims,
            main,
            claim.id,
            invoice_total=TOTAL,  # type: ignore[operator]
            payee_id=spouse.id,
            payee_bank="中国建设银行",
            payee_account_no=CCB_CARD,
        )
    assert _fields(e) == {"payeeId": "CONFLICT"}
    # a removed payee cannot be picked
    payees.remove_payee(db_session, claims, main, spouse.id)
    with pytest.raises(PayeeNotFound):
        drafts.update_amount(
            db_session, claims, main, claim.id, invoice_total=TOTAL, payee_id=spouse.id
        )
    rows = db_session.scalars(select(PayeeAccount).where(PayeeAccount.account_id == main.id))
    assert spouse.id in [r.id for r in rows]  # kept, marked removed
