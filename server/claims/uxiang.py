"""U享赔 (seed 000 §7): visit records fetched from the hospitals, and a claim from one.

Who: a member's own group policy whose plan rules have medical cover (`uxiang = true` in
plans/*.toml), in force. Anyone else gets UXIANG_NOT_AVAILABLE with the usual route.

Order: the member ticks the U享赔客户授权书 (uxiang_authorisation.toml: its version, the
time and the client are recorded) and signs it (the image through the upload pipeline,
api/uxiang_uploads.py). Only a live authorisation (signed, of the current version, not
withdrawn) lets anything be fetched from the records service (server/hospital_records.py).

Records are searched by start and end date (in order, at most a year apart, not in the
future), each look-up counted against the member's and the client address's budgets on
server/limits. Records a claim was made from are marked. "Claim from a record" opens a
claims draft (server/claims/drafts.py) prefilled from it: visit date, hospital, claim
type, amount, invoice number, payee, and the record itself as a PDF among the documents;
then the usual steps (files, signature, SMS code, submit) apply. One claim per record:
the pair (insured, record) is unique, so of racing attempts one wins and the others get
UXIANG_RECORD_CLAIMED; discarding the draft frees the record.
"""

from __future__ import annotations

import datetime
import functools
import io
import json
import logging
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.claims import claimant_input as check
from server.claims import core, drafts
from server.claims.claimant_rules import china_today, member_policy, require_verified, rules_for
from server.claims.claimant_views import contact_of
from server.claims.core import ClaimContext
from server.claims.errors import (
    UxiangAuthorisationNotFound,
    UxiangAuthorisationRequired,
    UxiangNotAvailable,
    UxiangRateLimited,
    UxiangRecordClaimed,
    UxiangRecordNotFound,
)
from server.claims.models import Actor, Channel, Claim, IncidentType
from server.claims.uxiang_models import UxiangAuthorisation, UxiangClaim
from server.crypto import mask_name
from server.errors import FieldProblem, ValidationFailed
from server.fonts import cjk_font
from server.hospital_records import (
    HospitalRecords,
    HospitalRecordsUnavailable,
    Member,
    Visit,
)
from server.limits import Policy as LimitPolicy
from server.limits import key_of
from server.policies.models import Policy, PolicyKind, PolicyStatus
from server.storage.uploads import PDF, StoredUpload, delete_uploads, store_upload

log = logging.getLogger(__name__)

TEXT_FILE = Path(__file__).resolve().parent / "uxiang_authorisation.toml"
USUAL_ROUTE = (
    "U享赔 is for group policies with medical cover. Claim through 自助理赔 (self-service "
    "claims) with your invoices instead (U享赔仅支持健康险团险中涵盖医疗责任的保单，请使用自助理赔申请)."
)
MAX_RANGE = datetime.timedelta(days=366)  # a year, leap day included
DEFAULT_RANGE = datetime.timedelta(days=89)  # what opening U享赔 fetches: about 3 months
WINDOW = datetime.timedelta(hours=1)
MEMBER_LIMIT = 30
CLIENT_LIMIT = 120
PER_MEMBER = LimitPolicy("uxiang-records-member", window=WINDOW, limit=MEMBER_LIMIT)
PER_CLIENT = LimitPolicy("uxiang-records-client", window=WINDOW, limit=CLIENT_LIMIT)
RECORD_CATEGORY = "INVOICE"  # 发票/结算单/费用清单: the record's itemised charges


@dataclass(frozen=True, slots=True)
class AuthorisationText:
    version: str
    text: str
    text_en: str


@functools.cache
def authorisation_text() -> AuthorisationText:
    raw = tomllib.loads(TEXT_FILE.read_text(encoding="utf-8"))
    return AuthorisationText(version=raw["version"], text=raw["text"], text_en=raw["text_en"])


@dataclass(frozen=True, slots=True)
class Client:
    """Where an authorisation was given from (recorded, encrypted)."""

    address: str | None
    user_agent: str | None
    channel: Channel = Channel.APP


@dataclass(frozen=True, slots=True)
class RecordView:
    visit: Visit
    claim_id: int | None  # the claim made from it, when one was


def _problem(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem(field, message, code)])


# --- who may use it ------------------------------------------------------------------------------


def eligible_policy(db: Session, cx: ClaimContext, account: Account, policy_id: int) -> Policy:
    """The member's own in-force group policy with medical cover, or UXIANG_NOT_AVAILABLE."""
    person_id = require_verified(account)
    policy = member_policy(db, person_id, policy_id)
    if policy.kind is not PolicyKind.GROUP or policy.plan is None:
        raise UxiangNotAvailable(USUAL_ROUTE, field="policyId")
    if not rules_for(cx, policy).uxiang:
        raise UxiangNotAvailable(USUAL_ROUTE, field="policyId")
    if policy.insured_id != person_id:
        raise UxiangNotAvailable(
            "U享赔 fetches your own visit records; for a dependant, claim through 自助理赔.",
            field="policyId",
        )
    today = china_today(cx)
    if policy.status is not PolicyStatus.IN_FORCE or not (
        policy.start_date <= today <= policy.end_date
    ):
        raise UxiangNotAvailable(
            "Only a policy in force can use U享赔 (this one is matured, surrendered or not "
            "started).",
            field="policyId",
        )
    return policy


# --- the authorisation ---------------------------------------------------------------------------


def authorise(
    db: Session,
    cx: ClaimContext,
    account: Account,
    *,
    policy_id: int,
    accepted: bool,
    version: str,
    client: Client,
) -> UxiangAuthorisation:
    """勾选 U享赔客户授权书: recorded with its version, the time and the client; signed next."""
    policy = eligible_policy(db, cx, account, policy_id)
    current = authorisation_text()
    if not accepted:
        raise _problem("accepted", "Tick the U享赔客户授权书 first.", "AUTHORISATION_NOT_ACCEPTED")
    if version != current.version:
        raise _problem(
            "version",
            f"The authorisation text has changed (now {current.version}); read it again.",
            "AUTHORISATION_VERSION_OUTDATED",
        )
    who = {
        "address": client.address,
        "userAgent": (client.user_agent or "")[:300],
        "channel": client.channel.value,
    }
    row = UxiangAuthorisation(
        account_id=account.id,
        policy_id=policy.id,
        version=current.version,
        accepted_at=cx.now(),
        client_enc=cx.vault.encrypt(json.dumps(who, ensure_ascii=False)),
    )
    db.add(row)
    db.flush()
    return row


def own_authorisation(
    db: Session, account: Account, authorisation_id: int, *, lock: bool = False
) -> UxiangAuthorisation:
    query = select(UxiangAuthorisation).where(UxiangAuthorisation.id == authorisation_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = db.scalar(query)
    if row is None or row.account_id != account.id:
        raise UxiangAuthorisationNotFound("No such U享赔 authorisation among yours.")
    return row


def signature_target(db: Session, account: Account, authorisation_id: int) -> int:
    """Before the image streams in: the member's authorisation, not withdrawn."""
    require_verified(account)
    row = own_authorisation(db, account, authorisation_id)
    if row.revoked_at is not None:
        raise UxiangAuthorisationNotFound("This authorisation was withdrawn; tick it again.")
    db.commit()  # no connection held while the client sends
    return row.id


def save_signature(
    db: Session, cx: ClaimContext, account: Account, authorisation_id: int, stored: StoredUpload
) -> tuple[UxiangAuthorisation, str | None]:
    """签名授权: the stored image signs it; returns it and the key of a replaced signature."""
    row = own_authorisation(db, account, authorisation_id, lock=True)
    if row.revoked_at is not None:
        raise UxiangAuthorisationNotFound("This authorisation was withdrawn; tick it again.")
    previous = row.signature_key
    row.signature_key = stored.key
    row.signed_at = cx.now()
    db.commit()
    return row, previous


def live_authorisation(db: Session, account: Account) -> UxiangAuthorisation | None:
    """The member's newest authorisation that is signed, of the current text and standing."""
    return db.scalar(
        select(UxiangAuthorisation)
        .where(
            UxiangAuthorisation.account_id == account.id,
            UxiangAuthorisation.version == authorisation_text().version,
            UxiangAuthorisation.signed_at.is_not(None),
            UxiangAuthorisation.revoked_at.is_(None),
        )
        .order_by(UxiangAuthorisation.id.desc())
        .limit(1)
    )


def latest_authorisation(db: Session, account: Account) -> UxiangAuthorisation | None:
    return db.scalar(
        select(UxiangAuthorisation)
        .where(UxiangAuthorisation.account_id == account.id)
        .order_by(UxiangAuthorisation.id.desc())
        .limit(1)
    )


def is_live(row: UxiangAuthorisation) -> bool:
    return (
        row.signed_at is not None
        and row.revoked_at is None
        and row.version == authorisation_text().version
    )


def withdraw(
    db: Session, cx: ClaimContext, account: Account, authorisation_id: int
) -> UxiangAuthorisation:
    """撤回授权: nothing more is fetched under it; claims made already stay. Twice is once."""
    require_verified(account)
    row = own_authorisation(db, account, authorisation_id, lock=True)
    if row.revoked_at is None:
        row.revoked_at = cx.now()
        db.flush()
    return row


def _require_live(db: Session, account: Account) -> UxiangAuthorisation:
    row = live_authorisation(db, account)
    if row is None:
        raise UxiangAuthorisationRequired(
            "Tick and sign the U享赔客户授权书 first: nothing is fetched without it."
        )
    return row


# --- the records -------------------------------------------------------------------------------


def _service(cx: ClaimContext) -> HospitalRecords:
    if cx.hospital_records is None:
        raise HospitalRecordsUnavailable("U享赔 visit records are not available on this server.")
    return cx.hospital_records


def _member(cx: ClaimContext, policy: Policy) -> Member:
    person = policy.insured
    return Member(
        person_id=person.id,
        id_type=person.id_type.value,
        id_number=cx.vault.decrypt(person.id_number_enc),
        name=cx.vault.decrypt(person.name_enc),
    )


def _take_budget(db: Session, cx: ClaimContext, account: Account, client: str | None) -> None:
    keys = [(PER_MEMBER, key_of(cx.vault, "uxiang-member", str(account.id)))]
    if client:
        keys.append((PER_CLIENT, key_of(cx.vault, "uxiang-client", client)))
    decision = cx.limiter.hit_all(db, keys)
    if not decision.allowed:
        raise UxiangRateLimited(
            "Too many visit-record look-ups; try again in "
            f"{max(1, (decision.retry_after_seconds + 59) // 60)} minutes.",
            decision.retry_after_seconds,
        )


def date_range(
    cx: ClaimContext, start: datetime.date | None, end: datetime.date | None
) -> tuple[datetime.date, datetime.date]:
    """【起期】【止期】: in order, at most a year apart, not in the future; by default the
    last three months."""
    today = china_today(cx)
    end = end or today
    if start is None:
        earliest = datetime.date.min + DEFAULT_RANGE
        start = end - DEFAULT_RANGE if end >= earliest else datetime.date.min
    problems = check.Problems()
    if end > today:
        problems.add("endDate", "The end date cannot be in the future.", "DATE_IN_FUTURE")
    if start > end:
        problems.add("startDate", "The start date is after the end date.", "INVALID_PERIOD")
    elif end - start > MAX_RANGE:
        problems.add("startDate", "Search at most one year at a time.", "PERIOD_TOO_LONG")
    problems.raise_any()
    return start, end


def records(
    db: Session,
    cx: ClaimContext,
    account: Account,
    *,
    policy_id: int,
    start: datetime.date | None,
    end: datetime.date | None,
    client: str | None,
) -> tuple[datetime.date, datetime.date, list[RecordView]]:
    """The member's visits in the period, newest first, those claimed already marked."""
    policy = eligible_policy(db, cx, account, policy_id)
    first, last = date_range(cx, start, end)
    _require_live(db, account)
    _take_budget(db, cx, account, client)
    visits = _service(cx).search(_member(cx, policy), first, last)
    claimed = _claimed(db, policy.insured_id, [v.record_id for v in visits])
    views = [RecordView(v, claimed.get(v.record_id)) for v in visits]
    views.sort(key=lambda r: (r.visit.visit_date, r.visit.record_id), reverse=True)
    return first, last, views


def _claimed(db: Session, person_id: int, record_ids: list[str]) -> dict[str, int]:
    if not record_ids:
        return {}
    rows = db.execute(
        select(UxiangClaim.record_id, UxiangClaim.claim_id).where(
            UxiangClaim.person_id == person_id, UxiangClaim.record_id.in_(record_ids)
        )
    )
    return {record_id: claim_id for record_id, claim_id in rows}


def _visit(cx: ClaimContext, policy: Policy, record_id: str) -> Visit:
    visit = _service(cx).get(_member(cx, policy), record_id.strip())
    if visit is None:
        raise UxiangRecordNotFound("No such visit record among yours.", field="recordId")
    return visit


# --- a claim from a record ---------------------------------------------------------------------


def claim_from_record(
    db: Session,
    cx: ClaimContext,
    account: Account,
    *,
    policy_id: int,
    record_id: str,
    notice_accepted: bool,
    payee_id: int | None,
    client: str | None,
    channel: Channel = Channel.APP,
) -> Claim:
    """A claims draft prefilled from the visit; then the usual steps apply."""
    policy = eligible_policy(db, cx, account, policy_id)
    authorisation = _require_live(db, account)
    _take_budget(db, cx, account, client)
    visit = _visit(cx, policy, record_id)
    if _claimed(db, policy.insured_id, [visit.record_id]):
        raise _already()
    stored: StoredUpload | None = None
    savepoint = db.begin_nested()
    try:
        claim = drafts.start_draft(
            db,
            cx,
            account,
            policy_id=policy.id,
            notice_accepted=notice_accepted,
            channel=channel,
        )
        db.add(
            UxiangClaim(
                person_id=policy.insured_id,
                record_id=visit.record_id,
                claim_id=claim.id,
                authorisation_id=authorisation.id,
                visit_date=visit.visit_date,
                record_enc=cx.vault.encrypt(json.dumps(visit.as_json(), ensure_ascii=False)),
                created_at=cx.now(),
            )
        )
        try:
            db.flush()
        except IntegrityError:
            raise _already() from None
        _prefill(db, cx, account, claim, visit, payee_id)
        stored = _store_record(cx, visit, policy)
        rules = cx.rules.get(claim.plan_rules)
        category = RECORD_CATEGORY if rules.category(RECORD_CATEGORY) else rules.categories[0].code
        core.attach_document(db, cx, claim, category, stored, channel=channel)
        core.record(
            db,
            claim,
            "UXIANG_RECORD",
            actor=Actor.CLAIMANT,
            actor_id=account.id,
            now=cx.now(),
            channel=channel,
            note=f"U享赔 {visit.record_id}: {visit.hospital_name}, {visit.visit_date.isoformat()}",
        )
        db.flush()
    except BaseException:
        savepoint.rollback()
        if stored is not None:
            delete_uploads(cx.storage, [stored])
        raise
    savepoint.commit()
    log.info("claim draft %s opened from a U享赔 visit record", claim.id)
    return claim


def _already() -> UxiangRecordClaimed:
    return UxiangRecordClaimed(
        "A claim was made from this visit record already; see it in 进度查询.", field="recordId"
    )


def _prefill(
    db: Session,
    cx: ClaimContext,
    account: Account,
    claim: Claim,
    visit: Visit,
    payee_id: int | None,
) -> None:
    rules = cx.rules.get(claim.plan_rules)
    facility = visit.hospital_name[: check.FACILITY_MAX]
    contact = contact_of(db, account.id)
    if rules.claim_type(visit.visit_type) is not None and contact is not None:
        drafts.update_basics(
            db,
            cx,
            account,
            claim.id,
            address=cx.vault.decrypt(contact.address_enc),
            incident_type=IncidentType.DISEASE,
            incident_date=visit.visit_date,
            claim_type=visit.visit_type,
            facility_name=facility,
        )
    else:  # the plan names its claim types otherwise: the member picks one at 基本信息
        claim.incident_type = IncidentType.DISEASE
        claim.incident_date = visit.visit_date
        claim.facility_name = facility
    drafts.update_amount(
        db,
        cx,
        account,
        claim.id,
        invoice_total=Decimal(visit.amount_fen) / 100,
        invoice_numbers=[visit.invoice_no],
        payee_id=payee_id,
    )


def _store_record(cx: ClaimContext, visit: Visit, policy: Policy) -> StoredUpload:
    name = mask_name(cx.vault.decrypt(policy.insured.name_enc))
    pdf = render_pdf(visit, name)
    return store_upload(
        cx.storage,
        pdf,
        filename=f"U享赔就诊记录-{visit.visit_date.isoformat()}.pdf",
        allowed=frozenset({PDF}),
        max_bytes=cx.max_file_bytes,
    )


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:,.2f}"


def render_pdf(visit: Visit, insured_masked: str) -> bytes:
    """The visit record as the records service gave it, as an A4 page for the adjuster."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=15, leading=22)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text), style)

    width = A4[0] - 36 * mm
    facts = [
        ("记录编号 Record", visit.record_id),
        ("被保险人 Insured", insured_masked),
        ("就诊日期 Visit date", visit.visit_date.isoformat()),
        (
            "就诊类型 Type",
            "住院 Inpatient" if visit.visit_type == "INPATIENT" else "门诊 Outpatient",
        ),
        ("医院 Hospital", f"{visit.hospital_name} ({visit.hospital_id})"),
        ("科室 Department", visit.department),
        ("诊断 Diagnosis", visit.diagnosis),
        ("发票号 Invoice no.", visit.invoice_no),
        ("金额 Amount (CNY)", _yuan(visit.amount_fen)),
    ]
    head = Table([[p(a), p(b)] for a, b in facts], colWidths=[width * 0.3, width * 0.7])
    lines = [[p("项目 Item"), p("类别 Category"), p("数量 Qty"), p("单价 Price"), p("金额 Amount")]]
    lines += [
        [
            p(c.name),
            p(c.category),
            p(str(c.quantity)),
            p(_yuan(c.unit_price_fen)),
            p(_yuan(c.amount_fen)),
        ]
        for c in visit.items
    ]
    charges = Table(lines, colWidths=[width * f for f in (0.4, 0.16, 0.1, 0.17, 0.17)])
    grid = TableStyle(
        [("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    )
    head.setStyle(grid)
    charges.setStyle(grid)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, title="U享赔就诊记录"
    )
    doc.build(
        [
            p("U享赔就诊记录 U-Claim visit record", title),
            Spacer(1, 4 * mm),
            head,
            Spacer(1, 5 * mm),
            p("费用明细 Itemised charges"),
            Spacer(1, 2 * mm),
            charges,
        ]
    )
    return out.getvalue()
