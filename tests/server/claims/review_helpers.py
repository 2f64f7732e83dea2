"""Sent claims and adjusters built directly on the models, for the back-office tests."""

from __future__ import annotations

import datetime
import io
import itertools
from collections.abc import Sequence
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.claims import adjusters, core
from server.claims.core import ClaimContext
from server.claims.models import (
    Adjuster,
    Channel,
    Claim,
    ClaimDocument,
    ClaimStatus,
    ContactProfile,
    IncidentType,
    PayeeAccount,
)
from server.policies.models import Policy, Relation
from server.storage.uploads import store_upload

ADJUSTER_PASSWORD = "Review-2026!"
CONTACT_EMAIL = "zhang.wei@example.com"
ACCOUNT_NO = "6222020200112233445"
_colours = itertools.count(1)


def png(colour: int | None = None) -> bytes:
    """A small PNG; each call without a colour gives different bytes (no duplicate flags)."""
    c = next(_colours) if colour is None else colour
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (c * 37 % 256, c * 71 % 256, c * 13 % 256)).save(out, "PNG")
    return out.getvalue()


def make_adjuster(
    db: Session,
    cx: ClaimContext,
    username: str = "wang.fang",
    *,
    email: str = "wang.fang@insurer.example",
    name: str = "王芳",
) -> Adjuster:
    return adjusters.create_adjuster(
        db,
        cx.vault,
        username=username,
        name=name,
        email=email,
        password=ADJUSTER_PASSWORD,
        now=cx.now(),
    )


def account_for(db: Session, demo: Any, key: str = "main") -> Account:
    account = db.scalar(select(Account).where(Account.person_id == demo.people[key].person_id))
    assert account is not None
    return account


def set_contact(db: Session, cx: ClaimContext, account: Account, email: str) -> None:
    row = db.scalar(select(ContactProfile).where(ContactProfile.account_id == account.id))
    if row is None:
        row = ContactProfile(account_id=account.id, address_enc=cx.vault.encrypt("上海市示例路1号"))
        db.add(row)
    row.email_enc = cx.vault.encrypt(email)
    db.flush()


def attach(
    db: Session, cx: ClaimContext, claim: Claim, category: str, colour: int | None = None
) -> ClaimDocument:
    stored = store_upload(cx.storage, png(colour), filename=f"{category.lower()}.png")
    return core.attach_document(db, cx, claim, category, stored, channel=Channel.APP)


def make_claim(
    db: Session,
    cx: ClaimContext,
    demo: Any,
    *,
    key: str = "main",
    claim_type: str = "OUTPATIENT",
    plan_rules: str = "DEFAULT",
    amount_fen: int = 1200_00,
    other_fen: int = 0,
    status: ClaimStatus = ClaimStatus.SUBMITTED,
    waiting_since: datetime.datetime | None = None,
    categories: Sequence[str] = ("MEDICAL_RECORD", "INVOICE"),
    email: str | None = CONTACT_EMAIL,
    duplicate: bool = False,
) -> Claim:
    """A sent claim of the demo member `key` with one file per category."""
    account = account_for(db, demo, key)
    policy = db.get(Policy, demo.policy_ids[key])
    assert policy is not None
    now = cx.now()
    if email is not None:
        set_contact(db, cx, account, email)
    payee = PayeeAccount(
        account_id=account.id,
        holder_name_enc=cx.vault.encrypt("张伟"),
        bank_name="中国工商银行",
        account_no_enc=cx.vault.encrypt(ACCOUNT_NO),
        account_no_hash=cx.vault.lookup(ACCOUNT_NO, kind="bank"),
        account_no_last4=ACCOUNT_NO[-4:],
    )
    db.add(payee)
    db.flush()
    claim = Claim(
        account_id=account.id,
        applicant_id=policy.insured_id,
        policy_id=policy.id,
        insured_id=policy.insured_id,
        relation=Relation.SELF,
        plan_rules=plan_rules,
        status=ClaimStatus.DRAFT,
        channel=Channel.APP,
        incident_type=IncidentType.DISEASE,
        incident_date=now.date() - datetime.timedelta(days=3),
        claim_type=claim_type,
        facility_name="上海市第一人民医院",
        invoice_total_fen=amount_fen,
        other_compensation_fen=other_fen,
        payee_id=payee.id,
        limit_fen=2000_00,
        created_at=now,
        updated_at=now,
    )
    db.add(claim)
    db.flush()
    for category in categories:
        attach(db, cx, claim, category)
    if status is not ClaimStatus.DRAFT:
        claim.status = status
        claim.claim_no = core.next_claim_no(db, now)
        claim.submitted_at = waiting_since or now
        claim.waiting_since = waiting_since or now
    claim.duplicate_suspected = duplicate
    db.flush()
    return claim
