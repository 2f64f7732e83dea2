"""Building claimant drafts for the tests: demo accounts, real images, complete drafts."""

from __future__ import annotations

import datetime
import io
import itertools
from decimal import Decimal
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.accounts.wiring import MemberServices
from server.claims import core, drafts
from server.claims.core import ClaimContext
from server.claims.models import Channel, Claim, ClaimDocument, IncidentType
from server.storage.uploads import store_upload
from tests.db import last_sms_code

MAIN = "13800000001"  # 张伟: main insured, DEMO-GP-A (DEFAULT rules, 2,000 limit)
STAFF = "13800000005"  # 赵静: university plan (bands)
UNVERIFIED = "13800000003"  # 李娜
ACCOUNT_NO = "6217 0012 1001 9876 789"
_colours = itertools.count(1)


def account_of(db: Session, cx: ClaimContext, phone: str) -> Account:
    account = db.scalar(
        select(Account).where(Account.phone_hash == cx.vault.lookup(phone, kind="phone"))
    )
    assert account is not None
    return account


def image(colour: int | None = None, size: tuple[int, int] = (48, 36)) -> bytes:
    """A small real PNG; every call a different colour, so a different content hash."""
    n = next(_colours) if colour is None else colour
    out = io.BytesIO()
    Image.new("RGB", size, (n * 37 % 256, n * 91 % 256, n * 53 % 256)).save(out, "PNG")
    return out.getvalue()


def add_document(
    db: Session, cx: ClaimContext, claim: Claim, category: str, data: bytes | None = None
) -> ClaimDocument:
    stored = store_upload(cx.storage, data or image(), filename=f"{category.lower()}.png")
    return core.attach_document(db, cx, claim, category, stored, channel=Channel.APP)


def sign(db: Session, cx: ClaimContext, claim: Claim) -> None:
    """What the signature endpoint does: a stored image and the time."""
    stored = store_upload(cx.storage, image(size=(120, 40)), filename="signature.png")
    claim.signature_key = stored.key
    claim.signed_at = cx.now()
    db.flush()


def contact(db: Session, cx: ClaimContext, account: Account) -> None:
    drafts.save_contact(
        db, cx, account, address="上海市浦东新区世纪大道1229号", email="zw@example.com"
    )


def basics(
    db: Session,
    cx: ClaimContext,
    account: Account,
    claim: Claim,
    claim_type: str = "OUTPATIENT",
    **kw: Any,
) -> Claim:
    args: dict[str, Any] = {
        "address": "上海市浦东新区世纪大道1229号",
        "incident_type": IncidentType.DISEASE,
        "incident_date": cx.now().date() - datetime.timedelta(days=3),
        "claim_type": claim_type,
    }
    args.update(kw)
    return drafts.update_basics(db, cx, account, claim.id, **args)


def amount(
    db: Session,
    cx: ClaimContext,
    account: Account,
    claim: Claim,
    total: str = "500.00",
    **kw: Any,
) -> Claim:
    args: dict[str, Any] = {"invoice_total": Decimal(total), "invoice_numbers": []}
    if drafts.latest_payee(db, account.id) is None:
        args.update(payee_bank="中国建设银行", payee_account_no=ACCOUNT_NO)
    args.update(kw)
    return drafts.update_amount(db, cx, account, claim.id, **args)


def ready_draft(
    db: Session,
    cx: ClaimContext,
    account: Account,
    policy_id: int,
    *,
    claim_type: str = "OUTPATIENT",
    total: str = "500.00",
    documents: bool = True,
    signed: bool = True,
    **basics_kw: Any,
) -> Claim:
    """A draft with every step done: ready for the SMS code."""
    if drafts.contact_of(db, account.id) is None:
        contact(db, cx, account)
    claim = drafts.start_draft(db, cx, account, policy_id=policy_id, notice_accepted=True)
    basics(db, cx, account, claim, claim_type, **basics_kw)
    amount(db, cx, account, claim, total)
    if documents:
        rules = cx.rules.get(claim.plan_rules)
        ctype = rules.claim_type(claim_type)
        assert ctype is not None
        for category in ctype.required:
            add_document(db, cx, claim, category)
    if signed:
        sign(db, cx, claim)
    return claim


def code_for(
    db: Session,
    factory: sessionmaker[Session],
    cx: ClaimContext,
    members: MemberServices,
    account: Account,
    claim: Claim,
    phone: str = MAIN,
) -> str:
    # codes may be sent every 120 s and 5 an hour: move the test clock past both
    cx.clock.advance(minutes=13)  # type: ignore[attr-defined]
    drafts.send_confirmation_code(db, cx, account, claim.id)
    db.flush()
    return last_sms_code(factory, members, phone)


def policy_id(demo: Any, key: str) -> int:
    return int(demo.policy_ids[key])
