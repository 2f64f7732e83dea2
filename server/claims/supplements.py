"""The supplement lifecycle (补材): an adjuster asks for documents, the claimant sends them.

Asking moves the claim to pending supplement and queues the seed's SMS and e-mail in the
same transaction, so the claim never waits for documents nobody was told about. The link
in them carries a random token; only its hash is stored and it stops working at the end
of the deadline day (China time), once answered, or when the claim is decided meanwhile.
Answering (in the app or on the H5 page) needs at least one new file per requested
category, puts the claim back under review, and tells the adjuster by e-mail; the queue
shows the claim first until the adjuster opens it.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.claims import announcements, core
from server.claims.adjusters import email_of
from server.claims.core import ClaimContext
from server.claims.errors import ClaimRuleBroken, SupplementLinkInvalid, WrongClaimState
from server.claims.models import (
    Actor,
    Adjuster,
    Channel,
    Claim,
    ClaimDocument,
    ClaimStatus,
    SupplementRequest,
)
from server.claims.review import mark_supplement_seen
from server.crypto import token_hash
from server.errors import FieldProblem, ValidationFailed
from server.notify import outbox, templates
from server.workdays import CHINA_TZ

INSTRUCTIONS_MAX = 500
REMARK_MAX = 500
MAX_CATEGORIES = 10
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,200}$")
_CLAIM_NO = re.compile(r"^[A-Z0-9]{4,40}$")


class DocumentsMissing(ClaimRuleBroken):
    """A requested category has no new file yet; `missing` lists their codes."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            "DOCUMENTS_MISSING",
            "Add at least one file for each requested category: " + ", ".join(missing) + ".",
            field="documents",
        )
        self.missing = missing


def categories_of(request: SupplementRequest) -> list[str]:
    codes = json.loads(request.categories)
    return [str(c) for c in codes]


def link_expiry(deadline: datetime.date) -> datetime.datetime:
    """The end of the deadline day in China, as a UTC instant (the link works before it)."""
    end = datetime.datetime.combine(deadline + datetime.timedelta(days=1), datetime.time.min)
    return end.replace(tzinfo=CHINA_TZ).astimezone(datetime.UTC)


# --- asking ----------------------------------------------------------------------------------


def _allowed_categories(cx: ClaimContext, claim: Claim) -> tuple[str, ...]:
    rules = cx.rules.get(claim.plan_rules)
    claim_type = rules.claim_type(claim.claim_type) if claim.claim_type else None
    if claim_type is None:  # not expected for a submitted claim; any category of the plan
        return tuple(c.code for c in rules.categories)
    return claim_type.categories


def _check_request(
    cx: ClaimContext, claim: Claim, categories: Sequence[str], instructions: str
) -> list[str]:
    codes = list(dict.fromkeys(c.strip() for c in categories))
    problems: list[FieldProblem] = []
    if not codes or any(not c for c in codes):
        problems.append(
            FieldProblem("categories", "Choose the missing document categories.", "REQUIRED")
        )
    elif len(codes) > MAX_CATEGORIES:
        problems.append(
            FieldProblem("categories", f"At most {MAX_CATEGORIES} categories.", "TOO_MANY")
        )
    if not instructions:
        problems.append(FieldProblem("instructions", "Say what is missing or wrong.", "REQUIRED"))
    elif len(instructions) > INSTRUCTIONS_MAX:
        problems.append(
            FieldProblem("instructions", f"At most {INSTRUCTIONS_MAX} characters.", "TOO_LONG")
        )
    if problems:
        raise ValidationFailed(problems)
    allowed = _allowed_categories(cx, claim)
    wrong = [c for c in codes if c not in allowed]
    if wrong:
        raise ClaimRuleBroken(
            "CATEGORY_NOT_ALLOWED",
            f"Not a document category of this claim type: {', '.join(wrong)}.",
            field="categories",
        )
    return codes


def request_supplement(
    db: Session,
    cx: ClaimContext,
    adjuster: Adjuster,
    claim: Claim,
    categories: Sequence[str],
    instructions: str,
) -> tuple[SupplementRequest, str]:
    """Ask the claimant for documents; returns the request and the link's token.

    The token is returned only so tests (and nothing else) can follow the link; it is
    sent in the SMS and the e-mail and stored as a hash.
    """
    core.lock_claim(db, claim)
    if claim.status not in (ClaimStatus.SUBMITTED, ClaimStatus.UNDER_REVIEW):
        raise WrongClaimState(
            "Documents can be requested for a submitted claim or one under review "
            f"(this one is {claim.status.value.replace('_', ' ')})."
        )
    text = instructions.strip()
    codes = _check_request(cx, claim, categories, text)
    now = cx.now()
    deadline = templates.supplement_deadline(now)
    token = secrets.token_urlsafe(32)
    request = SupplementRequest(
        claim_id=claim.id,
        requested_by=adjuster.id,
        requested_at=now,
        categories=json.dumps(codes),
        instructions=text,
        deadline=deadline,
        token_hash=token_hash(token),
        expires_at=link_expiry(deadline),
    )
    # a savepoint: should a message be refused, the claim is not left waiting unannounced
    with db.begin_nested():
        db.add(request)
        db.flush()
        core.transition(
            db,
            claim,
            ClaimStatus.PENDING_SUPPLEMENT,
            "SUPPLEMENT_REQUESTED",
            actor=Actor.ADJUSTER,
            actor_id=adjuster.id,
            now=now,
            note=text,
        )
        mark_supplement_seen(db, claim, now)
        _notify_claimant(db, cx, claim, request, token, now)
    return request, token


def _notify_claimant(
    db: Session,
    cx: ClaimContext,
    claim: Claim,
    request: SupplementRequest,
    token: str,
    now: datetime.datetime,
) -> None:
    """The seed's SMS to the applicant's mobile and e-mail to the contact address, if any."""
    assert claim.claim_no is not None  # a submitted claim has its number
    rules = cx.rules.get(claim.plan_rules)
    claim_type = rules.claim_type(claim.claim_type) if claim.claim_type else None
    to = announcements.recipient(db, cx, claim)  # a paper claim's contact too (seed §5.2 1))
    lang = to.language
    notice = templates.SupplementNotice(
        claimant_name=cx.vault.decrypt(claim.insured.name_enc),
        claim_no=claim.claim_no,
        instructions=request.instructions,
        deadline=request.deadline,
        link=templates.supplement_link(cx.settings.base_url, token, lang),
        claim_type=(claim_type.name if claim_type and lang == "zh" else ""),
    )
    # the in-app message beside the seed's SMS and e-mail
    announcements.announce(
        db,
        cx,
        claim,
        announcements.Event.SUPPLEMENT_REQUESTED,
        now,
        key=str(request.id),
        deadline=request.deadline,
    )
    if to.phone:
        outbox.enqueue(
            db,
            outbox.Channel.SMS,
            to.phone,
            "",
            templates.supplement_sms(notice, lang=lang),
            f"supplement:{request.id}:sms",
            vault=cx.vault,
            now=now,
        )
    if to.email:
        mail = templates.supplement_email(notice, lang=lang)
        outbox.enqueue(
            db,
            outbox.Channel.EMAIL,
            to.email,
            mail.subject,
            mail.body,
            f"supplement:{request.id}:email",
            vault=cx.vault,
            now=now,
        )


# --- the link and the claim number ---------------------------------------------------------


def claim_for_token(db: Session, cx: ClaimContext, token: str) -> tuple[Claim, SupplementRequest]:
    """The claim and open request a link's token stands for, or SupplementLinkInvalid.

    The error's `reason` lets the page say what happened: UNKNOWN, ANSWERED, CLOSED
    (decided or withdrawn meanwhile) or EXPIRED.
    """
    request = (
        db.scalar(
            select(SupplementRequest).where(SupplementRequest.token_hash == token_hash(token))
        )
        if isinstance(token, str) and _TOKEN.match(token)
        else None
    )
    if request is None:
        raise SupplementLinkInvalid(
            "This supplement link is not valid.", reason=SupplementLinkInvalid.UNKNOWN
        )
    claim = db.get(Claim, request.claim_id)
    assert claim is not None  # foreign key
    if request.fulfilled_at is not None:
        raise SupplementLinkInvalid(
            "The documents for this request have been received.",
            reason=SupplementLinkInvalid.ANSWERED,
        )
    if claim.status is not ClaimStatus.PENDING_SUPPLEMENT:
        raise SupplementLinkInvalid(
            "This claim no longer waits for documents.", reason=SupplementLinkInvalid.CLOSED
        )
    if cx.now() >= request.expires_at:
        raise SupplementLinkInvalid(
            "The deadline of this supplement request has passed.",
            reason=SupplementLinkInvalid.EXPIRED,
        )
    return claim, request


def claim_for_number(
    db: Session, cx: ClaimContext, claim_no: str
) -> tuple[Claim, SupplementRequest] | None:
    """For a claimant who lost the link: a claim waiting for documents, by its number.

    None for anything else (unknown number, not pending, request expired), so the page
    can answer every case alike.
    """
    number = "".join(claim_no.split()).upper() if isinstance(claim_no, str) else ""
    if not _CLAIM_NO.match(number):
        return None
    claim = db.scalar(select(Claim).where(Claim.claim_no == number))
    if claim is None or claim.status is not ClaimStatus.PENDING_SUPPLEMENT:
        return None
    request = core.open_supplement(db, claim)
    if request is None or cx.now() >= request.expires_at:
        return None
    return claim, request


# --- answering -------------------------------------------------------------------------------


def supplement_documents(db: Session, request: SupplementRequest) -> list[ClaimDocument]:
    """The files sent for this request (removed ones left out)."""
    return list(
        db.scalars(
            select(ClaimDocument)
            .where(
                ClaimDocument.supplement_id == request.id,
                ClaimDocument.removed_at.is_(None),
            )
            .order_by(ClaimDocument.id)
        )
    )


def _latest(db: Session, claim: Claim) -> SupplementRequest | None:
    return db.scalar(
        select(SupplementRequest)
        .where(SupplementRequest.claim_id == claim.id)
        .order_by(SupplementRequest.id.desc())
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def fulfil(
    db: Session,
    cx: ClaimContext,
    claim: Claim,
    *,
    remark: str,
    channel: Channel,
    actor: Actor,
    actor_id: int | None,
) -> SupplementRequest:
    """Send the supplement: the claim goes back under review and the adjuster is told.

    Idempotent: when the latest request was answered already (a double submit, a
    retried request), nothing changes and that request is returned.
    """
    text = (remark or "").strip()
    if len(text) > REMARK_MAX:
        raise ValidationFailed(
            [FieldProblem("remark", f"At most {REMARK_MAX} characters.", "TOO_LONG")]
        )
    core.lock_claim(db, claim)
    request = _latest(db, claim)
    if request is not None and request.fulfilled_at is not None:
        return request
    if claim.status is not ClaimStatus.PENDING_SUPPLEMENT or request is None:
        raise WrongClaimState("This claim does not wait for documents.")
    have = {d.category for d in supplement_documents(db, request)}
    missing = [c for c in categories_of(request) if c not in have]
    if missing:
        raise DocumentsMissing(missing)
    now = cx.now()
    with db.begin_nested():
        request.fulfilled_at = now
        request.fulfilled_via = channel
        request.remark = text
        request.seen_at = None
        core.transition(
            db,
            claim,
            ClaimStatus.UNDER_REVIEW,
            "SUPPLEMENT_RECEIVED",
            actor=actor,
            actor_id=actor_id,
            now=now,
            note=text,
            channel=channel,
        )
        claim.waiting_since = now
        _notify_adjuster(db, cx, claim, request, now)
        announcements.announce(
            db, cx, claim, announcements.Event.SUPPLEMENT_RECEIVED, now, key=str(request.id)
        )
    return request


def _notify_adjuster(
    db: Session,
    cx: ClaimContext,
    claim: Claim,
    request: SupplementRequest,
    now: datetime.datetime,
) -> None:
    adjuster = db.get(Adjuster, request.requested_by)
    address = email_of(cx.vault, adjuster) if adjuster is not None and adjuster.active else None
    if not address or claim.claim_no is None:
        return  # the queue still shows the claim first
    mail = templates.adjuster_supplement_arrived_email(claim.claim_no, received_at=now)
    outbox.enqueue(
        db,
        outbox.Channel.EMAIL,
        address,
        mail.subject,
        mail.body,
        f"supplement:{request.id}:arrived",
        vault=cx.vault,
        now=now,
    )
