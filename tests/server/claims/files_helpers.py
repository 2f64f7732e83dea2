"""Claims with documents, signatures and settlements, built directly on the models.

Shared by the files route and settlement notice tests; also a small PDF text reader, so
the tests need no PDF library.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import re
import zlib
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.claims import core, links
from server.claims.core import ClaimContext
from server.claims.models import (
    Actor,
    Channel,
    Claim,
    ClaimDeduction,
    ClaimDocument,
    ClaimStatus,
    IncidentType,
    PayeeAccount,
)
from server.policies.models import Policy, Relation
from server.sessions import SessionKind
from server.storage.uploads import store_upload

ACCOUNT_NO = "6217001210019876789"
HOLDER = "张伟"


def account_of(db: Session, cx: ClaimContext, phone: str) -> Account:
    account = db.scalar(
        select(Account).where(Account.phone_hash == cx.vault.lookup(phone, kind="phone"))
    )
    assert account is not None
    return account


def png(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg(color: tuple[int, int, int] = (30, 30, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 36), color).save(out, "JPEG")
    return out.getvalue()


def small_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, invariant=True)
    pdf.drawString(72, 720, "invoice")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def main_insured_claim(db: Session, demo: Any, **fields: Any) -> Claim:
    """A bare claim of the demo's main insured (13800000001) on the main policy; flushed.

    Only the columns a claim cannot go without, plus `fields`: for tests about files and
    storage, where the claim's content does not matter.
    """
    account = db.scalar(select(Account).where(Account.person_id == demo.people["main"].person_id))
    policy = db.get(Policy, demo.policy_ids["main"])
    assert account is not None and policy is not None
    claim = Claim(
        account_id=account.id,
        applicant_id=policy.insured_id,
        policy_id=policy.id,
        insured_id=policy.insured_id,
        relation=Relation.SELF,
        plan_rules="DEFAULT",
        **fields,
    )
    db.add(claim)
    db.flush()
    return claim


def make_claim(
    db: Session,
    cx: ClaimContext,
    demo: Any,
    *,
    phone: str = "13800000001",
    policy: str = "main",
    relation: Relation = Relation.SELF,
    with_payee: bool = True,
) -> Claim:
    """A draft with its basic information and payee, ready for documents."""
    account = account_of(db, cx, phone)
    row = db.get(Policy, demo.policy_ids[policy])
    assert row is not None
    payee = None
    if with_payee:
        payee = PayeeAccount(
            account_id=account.id,
            holder_name_enc=cx.vault.encrypt(HOLDER),
            bank_name="中国建设银行",
            account_no_enc=cx.vault.encrypt(ACCOUNT_NO),
            account_no_hash=cx.vault.lookup(ACCOUNT_NO, kind="bank_account"),
            account_no_last4=ACCOUNT_NO[-4:],
        )
        db.add(payee)
        db.flush()
    claim = Claim(
        account_id=account.id,
        applicant_id=account.person_id or row.insured_id,
        policy_id=row.id,
        insured_id=row.insured_id,
        relation=relation,
        plan_rules=cx.rules.for_plan(row.plan.code if row.plan else None).code,
        status=ClaimStatus.DRAFT,
        incident_type=IncidentType.DISEASE,
        incident_date=datetime.date(2026, 2, 20),
        claim_type="OUTPATIENT",
        facility_name="上海市第一人民医院",
        invoice_total_fen=123_450,
        other_compensation_fen=20_000,
        payee_id=payee.id if payee else None,
        created_at=cx.now(),
        updated_at=cx.now(),
    )
    db.add(claim)
    db.flush()
    return claim


def add_document(
    db: Session,
    cx: ClaimContext,
    claim: Claim,
    data: bytes,
    filename: str,
    category: str = "INVOICE",
) -> ClaimDocument:
    stored = store_upload(cx.storage, data, filename=filename)
    return core.attach_document(db, cx, claim, category, stored, channel=Channel.APP)


def sign(db: Session, cx: ClaimContext, claim: Claim) -> None:
    stored = store_upload(cx.storage, png((0, 0, 0), (120, 40)), filename="signature.png")
    claim.signature_key = stored.key
    claim.signed_at = cx.now()


def submit(db: Session, cx: ClaimContext, claim: Claim) -> None:
    claim.claim_no = core.next_claim_no(db, cx.now())
    claim.submitted_at = claim.waiting_since = cx.now()
    core.transition(
        db,
        claim,
        ClaimStatus.SUBMITTED,
        "SUBMITTED",
        actor=Actor.CLAIMANT,
        actor_id=None,
        now=cx.now(),
    )


def settle(
    db: Session,
    cx: ClaimContext,
    claim: Claim,
    *,
    approved_fen: int = 103_450,
    paid_fen: int = 103_450,
    deductions: tuple[tuple[int, str], ...] = ((20_000, "自费药品不在保障范围内"),),
    note: str = "已按保单条款核定。",
    decided_at: datetime.datetime | None = None,
) -> None:
    claim.approved_fen = approved_fen
    claim.paid_fen = paid_fen
    claim.decision_reason = note
    claim.decided_at = decided_at
    claim.deductions.extend(ClaimDeduction(amount_fen=a, reason=r) for a, r in deductions)
    core.transition(
        db, claim, ClaimStatus.SETTLED, "SETTLED", actor=Actor.ADJUSTER, actor_id=None, now=cx.now()
    )


VIEWERS = {"member": SessionKind.MEMBER, "adjuster": SessionKind.ADJUSTER, "h5": SessionKind.PORTAL}


def viewer_session(
    factory: sessionmaker[Session], cx: ClaimContext, viewer: str, viewer_id: int
) -> tuple[int, str]:
    """(id, token) of a new sign-in session of a member, an adjuster or (h5) a portal
    visitor of claim `viewer_id`."""
    with factory() as db:
        issued = cx.sessions.start(db, VIEWERS[viewer], viewer_id, channel="test")
        db.commit()
    return issued.session.id, issued.token


def token(
    factory: sessionmaker[Session],
    cx: ClaimContext,
    kind: str,
    object_id: int,
    viewer: str,
    viewer_id: int,
) -> str:
    """A file link made out to a new session of this viewer."""
    session_id, _ = viewer_session(factory, cx, viewer, viewer_id)
    return links.sign(cx.settings.secret_key, links.Link(kind, object_id, session_id), cx.now())


def link_of(
    factory: sessionmaker[Session], cx: ClaimContext, url: str
) -> tuple[links.Link, SessionKind, int]:
    """What a file URL opens, and the kind and subject of the session it is bound to."""
    link = links.read(cx.settings.secret_key, url.rsplit("/claim-files/", 1)[1], cx.now())
    assert link is not None, url
    with factory() as db:
        session = cx.sessions.find(db, link.session_id)
    assert session is not None
    return link, session.kind, session.subject_id


def tampered(token: str, **changes: Any) -> str:
    """The token with its payload changed and its signature kept."""
    payload, _, signature = token.rpartition(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body.update(changes)
    encoded = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode())
    return encoded.decode().rstrip("=") + "." + signature


def pdf_text(data: bytes) -> str:
    """The text of a PDF written with the CJK font only (the settlement notice).

    Its content streams are decompressed and their strings read as UTF-16BE, the CJK
    font's encoding; the claim number then reads as plain text.
    """
    parts: list[str] = []
    for m in re.finditer(rb"<<([^<>]*)>>\s*stream\r?\n(.*?)\r?\n?endstream", data, re.S):
        meta, raw = m.groups()
        if b"/ASCII85Decode" in meta:
            raw = base64.a85decode(raw.strip().removesuffix(b"~>"))
        if b"/FlateDecode" in meta:
            raw = zlib.decompress(raw)
        for s in re.finditer(rb"\(((?:\\.|[^\\)])*)\)", raw, re.S):
            parts.append(_unescape(s.group(1)).decode("utf-16-be", errors="replace"))
    return "".join(parts)


def pages(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", data))


def _unescape(raw: bytes) -> bytes:
    def one(m: re.Match[bytes]) -> bytes:
        escaped = m.group(1)
        if escaped[:1].isdigit():
            return bytes([int(escaped, 8)])
        return {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(
            escaped, escaped
        )

    return re.sub(rb"\\([0-7]{1,3}|.)", one, raw, flags=re.S)
