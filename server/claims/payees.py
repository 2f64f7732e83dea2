"""A member's payees (收款人, seed 000 §7.1): list, add, change, remove.

A payee is the bank account a claim is paid to, with the holder's relationship to the
member, ID, bank location (province and city, server/divisions), bank (banks.csv, by
CNAPS code), account number (banks.py: 16-19 digits, check digit where the bank's cards
carry one) and social/medical insurance number. Saving needs a SAVE_PAYEE SMS code sent
to the member's own mobile. Everything personal is encrypted; the account number also
has a keyed hash, so the same account cannot be saved twice; views are masked.

Changing a payee that a submitted claim was paid to keeps that row as it was (removed
from the list) and saves the change as a new payee: a decided claim still says where its
money went. A payee on a claim in progress (a draft, or submitted and not decided) cannot
be removed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.accounts.sms_codes import Purpose
from server.accounts.validation import (
    id_number_problem,
    name_problem,
    normalise_id_number,
    sms_code_problem,
)
from server.claims import banks
from server.claims.claimant_input import Problems
from server.claims.claimant_rules import require_verified
from server.claims.claimant_views import mask_bank_account
from server.claims.core import ClaimContext
from server.claims.errors import PayeeDuplicate, PayeeInUse, PayeeLimited, PayeeNotFound
from server.claims.models import Claim, ClaimStatus, PayeeAccount
from server.crypto import mask_id, mask_name
from server.divisions import divisions
from server.limits import Policy, key_of
from server.notify.templates import HOTLINE
from server.policies.models import IdType, Relation

MAX_PAYEES = 20  # saved payees per member: a list to choose from, not a store
# per member: adds, edits and removals a day (adds and edits also spend an SMS code)
CHANGES = Policy("payee-change", window=datetime.timedelta(days=1), limit=20)
_INSURANCE_NO_MAX = 30
# claims whose payee must stay: not decided yet
IN_PROGRESS = (
    ClaimStatus.DRAFT,
    ClaimStatus.SUBMITTED,
    ClaimStatus.UNDER_REVIEW,
    ClaimStatus.PENDING_SUPPLEMENT,
)


@dataclass(frozen=True, slots=True)
class PayeeDetails:
    """What the member enters (§7.1); checked by `_check`."""

    relationship: Relation
    holder_name: str
    id_type: IdType
    id_number: str
    province_code: str
    city_code: str
    bank_code: str
    account_no: str
    insurance_no: str | None = None


@dataclass(frozen=True, slots=True)
class PayeeView:
    """A payee as the member sees it: personal data masked."""

    id: int
    relationship: Relation
    holder_masked: str
    id_type: IdType | None
    id_number_masked: str | None
    province: str | None
    city: str | None
    bank_code: str | None
    bank_name: str
    account_masked: str
    insurance_no_masked: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime | None


def view(cx: ClaimContext, p: PayeeAccount) -> PayeeView:
    regions = divisions()
    province = regions.get(p.province_code) if p.province_code else None
    city = regions.get(p.city_code) if p.city_code else None
    return PayeeView(
        id=p.id,
        relationship=Relation(p.relationship) if p.relationship else Relation.SELF,
        holder_masked=mask_name(cx.vault.decrypt(p.holder_name_enc)),
        id_type=IdType(p.id_type) if p.id_type else None,
        id_number_masked=mask_id(cx.vault.decrypt(p.id_number_enc)) if p.id_number_enc else None,
        province=province.name if province else None,
        city=city.name if city else None,
        bank_code=p.bank_code,
        bank_name=p.bank_name,
        account_masked=mask_bank_account(p.account_no_last4),
        insurance_no_masked=mask_id(cx.vault.decrypt(p.insurance_no_enc))
        if p.insurance_no_enc
        else None,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def _active(db: Session, account_id: int) -> list[PayeeAccount]:
    return list(
        db.scalars(
            select(PayeeAccount)
            .where(PayeeAccount.account_id == account_id, PayeeAccount.removed_at.is_(None))
            .order_by(PayeeAccount.id)
        )
    )


def list_payees(db: Session, cx: ClaimContext, account: Account) -> list[PayeeView]:
    """The member's payees, oldest first (those a claim captured included)."""
    require_verified(account)
    return [view(cx, p) for p in _active(db, account.id)]


def own_payee(db: Session, account: Account, payee_id: int) -> PayeeAccount:
    """One of the member's payees, not removed; anything else is PAYEE_NOT_FOUND."""
    payee = db.get(PayeeAccount, payee_id)
    if payee is None or payee.account_id != account.id or payee.removed_at is not None:
        raise PayeeNotFound("No such payee among yours.", field="payeeId")
    return payee


def _check(details: PayeeDetails, sms_code: str) -> tuple[PayeeDetails, banks.Bank]:
    """Every field checked at once; the details normalised."""
    problems = Problems()
    name = " ".join(details.holder_name.split())
    number = normalise_id_number(details.id_number)
    account_no = banks.normalise_account(details.account_no)
    insurance = "".join((details.insurance_no or "").split()).upper() or None
    problems.include(
        name_problem(name, "holderName"),
        id_number_problem(details.id_type, number, "idNumber"),
        sms_code_problem(sms_code),
    )
    regions = divisions()
    province = regions.get(details.province_code)
    if province is None or province.parent_code is not None:
        problems.add("provinceCode", "Choose a province from the list.", "UNKNOWN_REGION")
    elif regions.city_in(details.province_code, details.city_code) is None:
        problems.add("cityCode", "Choose a city of the chosen province.", "UNKNOWN_REGION")
    bank = banks.banks().get(details.bank_code)
    if bank is None:
        problems.add(
            "bankCode",
            "Choose a bank from the list. City and rural commercial banks are not on it yet: "
            f"for an account at one, call the service hotline {HOTLINE}.",
            "UNKNOWN_BANK",
        )
    else:
        found = banks.account_problem(bank, account_no)
        if found is not None:
            problems.add("accountNo", found[1], found[0])
    if insurance is not None and (
        len(insurance) > _INSURANCE_NO_MAX or not insurance.isalnum() or not insurance.isascii()
    ):
        problems.add(
            "insuranceNo",
            f"A social/medical insurance number has up to {_INSURANCE_NO_MAX} letters and digits.",
            "INVALID_INSURANCE_NO",
        )
    problems.raise_any()
    assert bank is not None
    clean = PayeeDetails(
        relationship=details.relationship,
        holder_name=name,
        id_type=details.id_type,
        id_number=number,
        province_code=details.province_code,
        city_code=details.city_code,
        bank_code=bank.code,
        account_no=account_no,
        insurance_no=insurance,
    )
    return clean, bank


def _lock_member(db: Session, account: Account) -> None:
    # one member's payee changes take turns: the duplicate and count checks hold under races
    db.execute(select(Account.id).where(Account.id == account.id).with_for_update())


def _guard(db: Session, account: Account, digest: str, keep: int | None) -> list[PayeeAccount]:
    active = _active(db, account.id)
    if any(p.account_no_hash == digest and p.id != keep for p in active):
        raise PayeeDuplicate("This account is already among your payees.", field="accountNo")
    return active


def _fill(cx: ClaimContext, p: PayeeAccount, d: PayeeDetails, bank: banks.Bank) -> None:
    v = cx.vault
    p.relationship = d.relationship.value
    p.holder_name_enc = v.encrypt(d.holder_name)
    p.id_type = d.id_type.value
    p.id_number_enc = v.encrypt(d.id_number)
    p.province_code = d.province_code
    p.city_code = d.city_code
    p.bank_code = bank.code
    p.bank_name = bank.name
    p.account_no_enc = v.encrypt(d.account_no)
    p.account_no_hash = v.lookup(d.account_no, kind="bank-account")
    p.account_no_last4 = d.account_no[-4:]
    p.insurance_no_enc = v.encrypt(d.insurance_no) if d.insurance_no else None


def _budget(db: Session, cx: ClaimContext, account: Account) -> None:
    decision = cx.limiter.hit(db, CHANGES, key_of(cx.vault, CHANGES.name, str(account.id)))
    if not decision.allowed:
        wait = decision.retry_after_seconds
        raise PayeeLimited(f"Too many payee changes today; try again in {wait} seconds.", wait)


def _consume(db: Session, cx: ClaimContext, account: Account, sms_code: str) -> None:
    cx.codes.consume(db, cx.vault.decrypt(account.phone_enc), Purpose.SAVE_PAYEE, sms_code)


def add_payee(
    db: Session, cx: ClaimContext, account: Account, details: PayeeDetails, sms_code: str
) -> PayeeView:
    require_verified(account)
    clean, bank = _check(details, sms_code)
    _budget(db, cx, account)
    _lock_member(db, account)
    digest = cx.vault.lookup(clean.account_no, kind="bank-account")
    if len(_guard(db, account, digest, None)) >= MAX_PAYEES:
        raise PayeeDuplicate(
            f"You have {MAX_PAYEES} payees: remove one before adding another.", field="payee"
        )
    _consume(db, cx, account, sms_code)
    now = cx.now()
    payee = PayeeAccount(account_id=account.id, created_at=now, updated_at=now)
    _fill(cx, payee, clean, bank)
    db.add(payee)
    db.flush()
    return view(cx, payee)


def _claims_of(db: Session, payee_id: int, statuses: tuple[ClaimStatus, ...]) -> list[Claim]:
    return list(
        db.scalars(select(Claim).where(Claim.payee_id == payee_id, Claim.status.in_(statuses)))
    )


def update_payee(
    db: Session,
    cx: ClaimContext,
    account: Account,
    payee_id: int,
    details: PayeeDetails,
    sms_code: str,
) -> PayeeView:
    require_verified(account)
    clean, bank = _check(details, sms_code)
    _budget(db, cx, account)
    _lock_member(db, account)
    payee = own_payee(db, account, payee_id)
    _guard(db, account, cx.vault.lookup(clean.account_no, kind="bank-account"), payee.id)
    _consume(db, cx, account, sms_code)
    now = cx.now()
    sent = tuple(s for s in ClaimStatus if s is not ClaimStatus.DRAFT)
    submitted = _claims_of(db, payee.id, sent)
    if submitted:
        # the claims sent keep the account they were sent with; the change is a new payee
        payee.removed_at = now
        changed = PayeeAccount(account_id=account.id, created_at=payee.created_at)
        _fill(cx, changed, clean, bank)
        changed.updated_at = now
        db.add(changed)
        db.flush()
        for draft in _claims_of(db, payee.id, (ClaimStatus.DRAFT,)):
            draft.payee_id = changed.id
        payee = changed
    else:
        _fill(cx, payee, clean, bank)
        payee.updated_at = now
    db.flush()
    return view(cx, payee)


def remove_payee(db: Session, cx: ClaimContext, account: Account, payee_id: int) -> None:
    """Take a payee off the list; refused while a claim in progress is paid to it."""
    require_verified(account)
    _budget(db, cx, account)
    _lock_member(db, account)
    payee = own_payee(db, account, payee_id)
    busy = _claims_of(db, payee.id, IN_PROGRESS)
    if busy:
        which = ", ".join(c.claim_no or "a draft" for c in busy[:3])
        raise PayeeInUse(
            f"This payee is on a claim in progress ({which}): choose another payee there, "
            "or wait for the decision.",
            field="payeeId",
        )
    payee.removed_at = cx.now()
    payee.updated_at = cx.now()
    db.flush()
