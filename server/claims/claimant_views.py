"""What a claimant is shown of a claim's personal data: always masked.

The claimant typed these details themselves; showing them back in full would only
put them on more screens and in more logs. Masked forms are enough to recognise them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.claims import announcements
from server.claims.core import ClaimContext, contact_of
from server.claims.models import Claim, ContactProfile, PayeeAccount
from server.crypto import mask_email, mask_id, mask_name, mask_phone
from server.policies.models import Person, Relation


def mask_address(address: str) -> str:
    """上海市浦东新区****: the first six characters (city and district) stay."""
    a = address.strip()
    keep = min(6, max(len(a) // 2, 1))
    return a[:keep] + "****"


def mask_bank_account(last4: str) -> str:
    return f"****{last4}"


@dataclass(frozen=True, slots=True)
class ContactView:
    address_masked: str
    email_masked: str


@dataclass(frozen=True, slots=True)
class PayeeView:
    holder_masked: str
    bank_name: str
    account_masked: str


@dataclass(frozen=True, slots=True)
class PersonSummary:
    name_masked: str
    id_type: str
    id_number_masked: str
    relation: Relation  # to the applicant
    mobile_masked: str | None
    email_masked: str | None


def latest_payee(db: Session, account_id: int) -> PayeeAccount | None:
    """The member's own account most recently saved: what a claim uses when it names none
    (a payee saved for a relative is used only when a claim picks it)."""
    return db.scalar(
        select(PayeeAccount)
        .where(
            PayeeAccount.account_id == account_id,
            PayeeAccount.removed_at.is_(None),
            or_(PayeeAccount.relationship.is_(None), PayeeAccount.relationship == "self"),
        )
        .order_by(PayeeAccount.id.desc())
        .limit(1)
    )


def contact_view(cx: ClaimContext, contact: ContactProfile | None) -> ContactView | None:
    if contact is None:
        return None
    return ContactView(
        address_masked=mask_address(cx.vault.decrypt(contact.address_enc)),
        email_masked=mask_email(cx.vault.decrypt(contact.email_enc)),
    )


def payee_view(cx: ClaimContext, payee: PayeeAccount | None) -> PayeeView | None:
    if payee is None:
        return None
    return PayeeView(
        holder_masked=mask_name(cx.vault.decrypt(payee.holder_name_enc)),
        bank_name=payee.bank_name,
        account_masked=mask_bank_account(payee.account_no_last4),
    )


def person_summary(
    cx: ClaimContext,
    person: Person,
    relation: Relation,
    *,
    mobile: str | None,
    email: str | None,
) -> PersonSummary:
    return PersonSummary(
        name_masked=mask_name(cx.vault.decrypt(person.name_enc)),
        id_type=person.id_type.name,
        id_number_masked=mask_id(cx.vault.decrypt(person.id_number_enc)),
        relation=relation,
        mobile_masked=mask_phone(mobile) if mobile else None,
        email_masked=mask_email(email) if email else None,
    )


def parties(db: Session, cx: ClaimContext, claim: Claim) -> tuple[PersonSummary, PersonSummary]:
    """The insured person (出险人) and the applicant (申请人) as the confirm step shows them."""
    if claim.account_id is None:  # a paper claim the office entered: its own contact
        to = announcements.recipient(db, cx, claim)
        mobile, email = to.phone or None, to.email or None
    else:
        account = db.get(Account, claim.account_id)
        contact = contact_of(db, claim.account_id)
        email = cx.vault.decrypt(contact.email_enc) if contact is not None else None
        mobile = cx.vault.decrypt(account.phone_enc) if account is not None else None
    applicant = person_summary(cx, claim.applicant, Relation.SELF, mobile=mobile, email=email)
    if claim.insured_id == claim.applicant_id:
        return applicant, applicant
    insured_mobile = cx.vault.decrypt(claim.insured.phone_enc) if claim.insured.phone_enc else None
    insured = person_summary(cx, claim.insured, claim.relation, mobile=insured_mobile, email=None)
    return insured, applicant
