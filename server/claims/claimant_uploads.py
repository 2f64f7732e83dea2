"""The claimant's files for a claim, as the upload endpoints record them: which claim takes
which category now, the per-claim cap, recording the stored documents, the signature.

The endpoints (api/claim_uploads.py) check the claim before the body streams in (`*_target`,
which end their transaction so no connection is held while the client sends), store the
files, then record them here in a new transaction that locks the claim's row.
"""

from __future__ import annotations

import datetime
import functools
import json
import logging
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.claims import core, links
from server.claims.core import ClaimContext
from server.claims.errors import ClaimNotFound, ClaimRuleBroken, WrongClaimState
from server.claims.files import DocumentFile, document_file
from server.claims.models import Actor, Channel, Claim, ClaimStatus
from server.db import write_first
from server.storage.backend import Storage, thumbnail_key
from server.storage.errors import QuotaExceeded
from server.storage.uploads import StoredUpload

log = logging.getLogger("claims.uploads")


@dataclass(frozen=True, slots=True)
class UploadTarget:
    account_id: int
    claim_id: int
    used_bytes: int
    session_id: int  # the member's sign-in session: the links returned are bound to it
    # the claim as the checks before the body found it: recording the files re-checks
    # them in the same statement as the lock while the claim is still so
    status: ClaimStatus | None = None
    plan_rules: str | None = None
    claim_type: str | None = None


@dataclass(frozen=True, slots=True)
class Signature:
    url: str  # signed link for the member
    signed_at: datetime.datetime
    content_type: str
    width: int | None
    height: int | None


def check_upload_category(db: Session, cx: ClaimContext, claim: Claim, category: str) -> None:
    """The claim takes files of `category` now: its status, its rules, the supplement asked."""
    core.check_can_add_documents(db, cx, claim, category)
    rules = cx.rules.get(claim.plan_rules)
    claim_type = rules.claim_type(claim.claim_type) if claim.claim_type else None
    if claim_type is not None and category not in claim_type.categories:
        raise ClaimRuleBroken(
            "CATEGORY_NOT_ALLOWED",
            f"A {claim_type.name_en.lower()} claim takes no {category} documents; "
            f"its categories: {', '.join(claim_type.categories)}.",
            field="category",
        )
    if claim.status is ClaimStatus.PENDING_SUPPLEMENT:
        supplement = core.open_supplement(db, claim)
        requested = json.loads(supplement.categories) if supplement is not None else []
        if category not in requested:
            raise ClaimRuleBroken(
                "CATEGORY_NOT_ALLOWED",
                f"The supplement asks for {', '.join(requested) or 'nothing'}, not {category}.",
                field="category",
            )


# --- documents -------------------------------------------------------------------------------


def documents_target(
    db: Session, cx: ClaimContext, account: Account, session_id: int, claim_id: int, category: str
) -> UploadTarget:
    """The member's claim that takes files of `category`, with the bytes it already holds."""
    found = core.claim_with_used_bytes(db, claim_id)
    if found is None or not core.can_see(account, found[0]):
        raise ClaimNotFound("No such claim among yours.")
    claim, used = found
    check_upload_category(db, cx, claim, category)
    if used >= cx.claim_cap_bytes:  # full already: refuse before any byte arrives
        full = QuotaExceeded(used, 0, cx.claim_cap_bytes)
        full.message = (
            f"The files of one claim may total at most {cx.settings.claim_upload_cap_mb} MB, "
            "and this claim's files already do."
        )
        raise full
    target = UploadTarget(
        account.id,
        claim.id,
        used,
        session_id,
        status=claim.status,
        plan_rules=claim.plan_rules,
        claim_type=claim.claim_type,
    )
    # ended before the body streams in: no connection is held while the client sends
    # (committed: the sign-in session's idle clock may have moved)
    db.commit()
    return target


def attach_documents(
    db: Session,
    cx: ClaimContext,
    target: UploadTarget,
    category: str,
    stored: list[StoredUpload],
) -> list[DocumentFile]:
    """Record the stored files on the claim (checked again, its row locked) and commit."""
    write_first(db)
    # locked (by writing its updated_at): two uploads to one claim cannot both pass the
    # per-claim cap; a refusal below rolls the write back with the transaction
    if (
        db.get_bind().dialect.name == "postgresql"
        and target.status is ClaimStatus.DRAFT
        and target.plan_rules is not None
    ):
        # a draft found so before the body: the lock, the checks and the documents in
        # one statement while it is still so; else it is locked and read, as below
        docs = core.attach_to_draft(
            db,
            target.claim_id,
            account_id=target.account_id,
            plan_rules=target.plan_rules,
            claim_type=target.claim_type,
            category=category,
            stored=stored,
            cap=cx.claim_cap_bytes,
            channel=Channel.APP,
            now=cx.now(),
        )
        if docs:
            out = [document_file(cx, d, target.session_id) for d in docs]
            db.commit()
            return out
    found = core.claim_with_used_bytes(db, target.claim_id, touch=cx.now())
    if found is None or not _still_visible(db, target, found[0]):
        raise ClaimNotFound("No such claim among yours.")
    claim, used = found
    check_upload_category(db, cx, claim, category)
    docs = []
    for s in stored:
        docs.append(
            core.attach_document(
                db, cx, claim, category, s, channel=Channel.APP, used=used, touched=True
            )
        )
        used += s.size
    out = [document_file(cx, d, target.session_id) for d in docs]
    db.commit()
    return out


def _still_visible(db: Session, target: UploadTarget, claim: Claim) -> bool:
    """The member may still see the claim: their own, or (read afresh) one about them."""
    if claim.account_id == target.account_id:
        return True
    account = db.get(Account, target.account_id, populate_existing=True)
    return account is not None and core.can_see(account, claim)


# --- signature -------------------------------------------------------------------------------


def signature_target(db: Session, account: Account, session_id: int, claim_id: int) -> UploadTarget:
    """The member's own draft, which takes a signature."""
    claim = core.member_claim(db, account, claim_id)
    if claim.account_id != account.id:
        raise ClaimNotFound("No such claim among yours.")  # only its maker signs a claim
    if claim.status is not ClaimStatus.DRAFT:
        raise WrongClaimState("Only a draft is signed; this claim has been sent.")
    target = UploadTarget(account.id, claim.id, 0, session_id)
    db.commit()  # before the body streams in (see documents_target)
    return target


def save_signature(
    db: Session, cx: ClaimContext, target: UploadTarget, stored: StoredUpload
) -> tuple[Signature, str | None]:
    """Record the signature and commit; returns it and the key of the one it replaced."""
    write_first(db)
    now = cx.now()
    if db.get_bind().dialect.name == "postgresql":
        previous = _sign_in_one_statement(db, target, stored.key, now)
    else:
        claim = db.get(Claim, target.claim_id, with_for_update=True, populate_existing=True)
        if claim is None or claim.account_id != target.account_id:
            raise ClaimNotFound("No such claim among yours.")
        if claim.status is not ClaimStatus.DRAFT:
            raise WrongClaimState("Only a draft is signed; this claim has been sent.")
        previous = claim.signature_key
        claim.signature_key = stored.key
        claim.signed_at = now
        core.record(
            db,
            claim,
            "SIGNED",
            actor=Actor.CLAIMANT,
            actor_id=target.account_id,
            now=now,
            channel=Channel.APP,
        )
    db.commit()
    link = links.Link("sig", target.claim_id, target.session_id)
    signature = Signature(
        url=links.url(cx.settings.base_url, cx.settings.secret_key, link, now),
        signed_at=now,
        content_type=stored.content_type,
        width=stored.width,
        height=stored.height,
    )
    return signature, previous


def _sign_in_one_statement(
    db: Session, target: UploadTarget, key: str, now: datetime.datetime
) -> str | None:
    """PostgreSQL: the claim's row locked and read (`locked`, the newest version: what the
    checks and the replaced key need), the signature written if the row is the member's
    draft, and the SIGNED event recorded, in one statement; returns the replaced key."""
    # (no parameter is named as a column: an UPDATE would take it as a value to write)
    params = {
        "sig_claim_id": target.claim_id,
        "sig_account_id": target.account_id,
        "sig_key": key,
    }
    params |= core.record_params(
        "SIGNED", actor=Actor.CLAIMANT, actor_id=target.account_id, now=now, channel=Channel.APP
    )
    row = db.execute(_sign_statement(), params).first()
    if row is None or row.account_id != target.account_id:
        raise ClaimNotFound("No such claim among yours.")
    if row.status is not ClaimStatus.DRAFT:
        raise WrongClaimState("Only a draft is signed; this claim has been sent.")
    previous: str | None = row.signature_key
    return previous


@functools.cache
def _sign_statement() -> Select[tuple[int | None, ClaimStatus, str | None]]:
    """`_sign_in_one_statement`'s statement, built once (its values are bound)."""
    claim = core.CLAIM_TABLE
    locked = (
        select(claim.c.id, claim.c.account_id, claim.c.status, claim.c.signature_key)
        .where(claim.c.id == bindparam("sig_claim_id"))
        .with_for_update()
        .cte("locked")
    )
    signed = (
        update(claim)
        .where(
            claim.c.id == locked.c.id,
            locked.c.account_id == bindparam("sig_account_id"),
            locked.c.status == ClaimStatus.DRAFT,
        )
        .values(
            signature_key=bindparam("sig_key", type_=claim.c.signature_key.type),
            signed_at=bindparam("event_at", type_=claim.c.signed_at.type),
            updated_at=bindparam("event_at", type_=claim.c.updated_at.type),
        )
        .returning(claim.c.id)
        .cte("signed")
    )
    return select(locked.c.account_id, locked.c.status, locked.c.signature_key).add_cte(
        signed, core.record_of(signed.c.id).cte("signed_event")
    )


def delete_replaced_signature(storage: Storage, key: str) -> None:
    for k in (key, thumbnail_key(key)):
        try:
            storage.delete(k)
        except Exception:
            log.exception("could not delete a replaced signature %s", k)
