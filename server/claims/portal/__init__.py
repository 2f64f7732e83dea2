"""The H5 supplement portal's service: who may open which claim, and what they may do there.

    captchas.py   the log-in's captcha challenges (hashed answers, one guess each) and
                  their budgets per address and browser page (server/limits)
    throttle.py   log-in tries per claim number and address, failures per address; waits
                  and lock-outs (server/limits)
    sessions.py   one-claim sessions
    here          the claim lookup (number and the insured person's name), the signed-in
                  claim of a session, removing a file, sending the supplement

The supplement's life (asking, the link, answering) belongs to server/claims/supplements.py;
the portal's tables to server/claims/portal_models.py; the pages to h5/supplement/.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.claims import core, supplements
from server.claims.core import ClaimContext
from server.claims.errors import ClaimRuleBroken, WrongClaimState
from server.claims.models import (
    Actor,
    Channel,
    Claim,
    ClaimDocument,
    ClaimStatus,
    SupplementRequest,
)
from server.claims.portal import sessions
from server.crypto import Vault
from server.sessions import LiveSession
from server.storage.uploads import StoredUpload, check_quota

REMARK_MAX = supplements.REMARK_MAX
CLAIM_NO_MAX = 40
NAME_MAX = 100
# words of a Latin name: separated by spaces, commas or a middle dot; letters (accents too),
# apostrophes and hyphens inside a word
_NAME_WORDS = re.compile(r"[\s,·・•]+")
_LATIN_WORD = re.compile(r"[a-z\u00c0-\u024f'’-]+")
# the ways people write the middle dot of a transliterated name (阿卜杜·热合曼)
_DOTS = str.maketrans({"・": "·", "‧": "·", "•": "·", "∙": "·", "⋅": "·", ".": "·"})


# --- the claim lookup ----------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """A name as compared: NFKC (full-width letters become ASCII), no spaces, one middle dot,
    case folded (for Latin names; Chinese has no case)."""
    text = unicodedata.normalize("NFKC", name or "")[: NAME_MAX * 2]
    return "".join(text.split()).translate(_DOTS).casefold()


def normalise_claim_no(claim_no: str) -> str:
    text = unicodedata.normalize("NFKC", claim_no or "")[: CLAIM_NO_MAX * 2]
    return "".join(text.split()).upper()[:CLAIM_NO_MAX]


def latin_name_key(name: str) -> str:
    """A Latin-script name's words in a fixed order ("SMITH John" and "John Smith" give the
    same key), or "" for a name with other scripts (Chinese order is not free)."""
    text = unicodedata.normalize("NFKC", name or "")[: NAME_MAX * 2].casefold()
    words = [w for w in _NAME_WORDS.split(text) if w]
    if len(words) < 2 or not all(_LATIN_WORD.fullmatch(w) for w in words):
        return ""
    return " ".join(sorted(words))


def name_matches(vault: Vault, claim: Claim | None, typed: str) -> bool:
    """Is `typed` the insured person's name? A Latin name matches with its words in any
    order (family name first or last). With no claim the same work is done (a decryption
    and the comparisons) so the time taken does not tell the cases apart."""
    return stored_name_matches(vault, claim.insured.name_enc if claim is not None else None, typed)


def stored_name_matches(vault: Vault, name_enc: str | None, typed: str) -> bool:
    """Is `typed` the name encrypted in `name_enc` (None: nobody, with the same work done)?"""
    stored = name_enc if name_enc is not None else vault.encrypt("-")
    plain = vault.decrypt(stored)
    expected, given = normalise_name(plain), normalise_name(typed)
    same = hmac.compare_digest(expected.encode(), given.encode())
    latin_expected, latin_given = latin_name_key(plain), latin_name_key(typed)
    reordered = hmac.compare_digest(latin_expected.encode(), latin_given.encode())
    same = same or (bool(latin_given) and reordered)
    return name_enc is not None and bool(given) and same


def claim_by_number(db: Session, claim_no: str) -> Claim | None:
    """Any sent claim with this number (whatever its status): the name is checked first."""
    number = normalise_claim_no(claim_no)
    if not number:
        return None
    return db.scalar(select(Claim).where(Claim.claim_no == number))


# --- the signed-in claim -------------------------------------------------------------------------


@dataclass
class Signed:
    """A live portal session with the claim and the supplement it opens."""

    session: LiveSession
    claim: Claim
    supplement: SupplementRequest
    token: str


def signed_in(db: Session, cx: ClaimContext, token: str | None) -> Signed | None:
    """The claim the session of this token opens, or None (no, ended or broken session)."""
    row = sessions.load(db, cx.sessions, token)
    if row is None or token is None or row.scope_id is None:
        return None
    claim = db.get(Claim, row.subject_id)
    supplement = db.get(SupplementRequest, row.scope_id)
    if claim is None or supplement is None or supplement.claim_id != claim.id:
        return None
    return Signed(row, claim, supplement, token)


def is_open(cx: ClaimContext, claim: Claim, supplement: SupplementRequest) -> bool:
    """The supplement still takes files: not sent, claim waiting, deadline not passed."""
    return (
        supplement.fulfilled_at is None
        and claim.status is ClaimStatus.PENDING_SUPPLEMENT
        and cx.now() < supplement.expires_at
    )


def not_open_reason(cx: ClaimContext, signed: Signed) -> str | None:
    """Why the signed-in supplement takes no more files (ANSWERED, CLOSED, EXPIRED), or
    None while it does."""
    if signed.supplement.fulfilled_at is not None:
        return "ANSWERED"
    if signed.claim.status is not ClaimStatus.PENDING_SUPPLEMENT:
        return "CLOSED"
    if cx.now() >= signed.supplement.expires_at:
        return "EXPIRED"
    return None


# --- what the claimant does there ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadTarget:
    claim_id: int
    supplement_id: int
    used_bytes: int
    session_id: int  # the portal session: the file links returned are bound to it


def upload_target(db: Session, cx: ClaimContext, signed: Signed, category: str) -> UploadTarget:
    """Where files of `category` for the signed-in supplement go; a DomainError (its code
    says why) when it takes none now, before any byte is stored."""
    if category not in supplements.categories_of(signed.supplement):
        raise ClaimRuleBroken(
            "CATEGORY_NOT_ALLOWED", "The supplement does not ask for these files.", field="category"
        )
    core.check_can_add_documents(db, cx, signed.claim, category)
    used = core.used_bytes(db, signed.claim)
    check_quota(used, 1, cx.claim_cap_bytes)
    return UploadTarget(signed.claim.id, signed.supplement.id, used, signed.session.id)


def attach_file(
    db: Session, cx: ClaimContext, target: UploadTarget, category: str, stored: StoredUpload
) -> tuple[Claim, ClaimDocument]:
    """Record one stored file on the claim's open supplement (its row locked)."""
    claim = db.get(Claim, target.claim_id, with_for_update=True, populate_existing=True)
    supplement = db.get(SupplementRequest, target.supplement_id)
    if claim is None or supplement is None or not is_open(cx, claim, supplement):
        raise WrongClaimState("The supplement no longer takes files.")
    doc = core.attach_document(db, cx, claim, category, stored, channel=Channel.H5)
    if doc.supplement_id != target.supplement_id:
        raise WrongClaimState("The supplement no longer takes files.")
    return claim, doc


def remove_document(
    db: Session, cx: ClaimContext, claim: Claim, supplement: SupplementRequest, document_id: int
) -> ClaimDocument | None:
    """Take back a file of this open supplement; None when there is no such file here."""
    doc = db.get(ClaimDocument, document_id)
    if (
        doc is None
        or doc.claim_id != claim.id
        or doc.supplement_id != supplement.id
        or doc.removed_at is not None
        or not is_open(cx, claim, supplement)
    ):
        return None
    doc.removed_at = cx.now()
    claim.updated_at = cx.now()
    return doc


def submit(db: Session, cx: ClaimContext, claim: Claim, remark: str) -> SupplementRequest:
    """Send the supplement (idempotent: a second submit returns the first's result)."""
    return supplements.fulfil(
        db, cx, claim, remark=remark, channel=Channel.H5, actor=Actor.CLAIMANT, actor_id=None
    )
