"""What the supplement portal does, apart from HTTP: check a log-in, gather the page,
remove a file, send the supplement.

The supplement's life (asking, the link, answering) belongs to server/claims/supplements.py;
this module only adds what the H5 page needs around it.
"""

from __future__ import annotations

import datetime
import hmac
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.claims import links, supplements
from server.claims.core import ClaimContext
from server.claims.models import (
    Actor,
    Channel,
    Claim,
    ClaimDocument,
    ClaimStatus,
    SupplementRequest,
)
from server.crypto import Vault
from server.storage.uploads import PDF
from server.workdays import CHINA_TZ

REMARK_MAX = supplements.REMARK_MAX
CLAIM_NO_MAX = 40
NAME_MAX = 100
# the ways people write the middle dot of a transliterated name (阿卜杜·热合曼)
_DOTS = str.maketrans({"・": "·", "‧": "·", "•": "·", "∙": "·", "⋅": "·", ".": "·"})


def normalise_name(name: str) -> str:
    """A name as compared: NFKC (full-width letters become ASCII), no spaces, one middle dot,
    case folded (for Latin names; Chinese has no case)."""
    text = unicodedata.normalize("NFKC", name or "")[: NAME_MAX * 2]
    return "".join(text.split()).translate(_DOTS).casefold()


def normalise_claim_no(claim_no: str) -> str:
    text = unicodedata.normalize("NFKC", claim_no or "")[: CLAIM_NO_MAX * 2]
    return "".join(text.split()).upper()[:CLAIM_NO_MAX]


def name_matches(vault: Vault, claim: Claim | None, typed: str) -> bool:
    """Is `typed` the insured person's name? With no claim the same work is done (a
    decryption and a comparison) so the time taken does not tell the cases apart."""
    stored = claim.insured.name_enc if claim is not None else vault.encrypt("-")
    expected = normalise_name(vault.decrypt(stored))
    given = normalise_name(typed)
    same = hmac.compare_digest(expected.encode(), given.encode())
    return claim is not None and bool(given) and same


def claim_by_number(db: Session, claim_no: str) -> Claim | None:
    """Any sent claim with this number (whatever its status): the name is checked first."""
    number = normalise_claim_no(claim_no)
    if not number:
        return None
    return db.scalar(select(Claim).where(Claim.claim_no == number))


def is_open(cx: ClaimContext, claim: Claim, supplement: SupplementRequest) -> bool:
    """The supplement still takes files: not sent, claim waiting, deadline not passed."""
    return (
        supplement.fulfilled_at is None
        and claim.status is ClaimStatus.PENDING_SUPPLEMENT
        and cx.now() < supplement.expires_at
    )


@dataclass(frozen=True, slots=True)
class Document:
    id: int
    name: str
    content_type: str
    size: int
    url: str
    thumbnail_url: str | None

    @property
    def is_pdf(self) -> bool:
        return self.content_type == PDF


@dataclass(slots=True)
class Area:
    """One requested category: its label, its hint and the files sent for it so far."""

    code: str
    name: str
    hint: str
    documents: list[Document] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PageData:
    claim_no: str
    instructions: str
    deadline: datetime.date
    areas: list[Area]
    fulfilled_at: datetime.datetime | None
    remark: str

    @property
    def document_count(self) -> int:
        return sum(len(a.documents) for a in self.areas)


def file_url(cx: ClaimContext, app_root: str, kind: str, object_id: int, session_id: int) -> str:
    """A same-origin signed link that opens only while this portal session lives (and only
    files of its claim)."""
    token = links.sign(cx.settings.secret_key, links.Link(kind, object_id, session_id), cx.now())
    return f"{app_root}/claim-files/{token}"


def document_item(cx: ClaimContext, app_root: str, session_id: int, doc: ClaimDocument) -> Document:
    return Document(
        id=doc.id,
        name=doc.display_name,
        content_type=doc.content_type,
        size=doc.size,
        url=file_url(cx, app_root, "doc", doc.id, session_id),
        thumbnail_url=(
            file_url(cx, app_root, "thumb", doc.id, session_id) if doc.thumbnail_key else None
        ),
    )


def page_data(
    db: Session,
    cx: ClaimContext,
    claim: Claim,
    supplement: SupplementRequest,
    *,
    lang: str,
    app_root: str,
    session_id: int,
) -> PageData:
    rules = cx.rules.get(claim.plan_rules)
    areas: list[Area] = []
    for code in supplements.categories_of(supplement):
        category = rules.category(code)
        if category is None:
            areas.append(Area(code, code, ""))
            continue
        en = lang == "en"
        areas.append(
            Area(
                code,
                category.name_en if en else category.name,
                category.hint_en if en else category.hint,
            )
        )
    by_code = {a.code: a for a in areas}
    for doc in supplements.supplement_documents(db, supplement):
        area = by_code.get(doc.category)
        if area is not None:
            area.documents.append(document_item(cx, app_root, session_id, doc))
    return PageData(
        claim_no=claim.claim_no or "",
        instructions=supplement.instructions,
        deadline=supplement.deadline,
        areas=areas,
        fulfilled_at=supplement.fulfilled_at,
        remark=supplement.remark or "",
    )


def remove_document(
    db: Session, cx: ClaimContext, claim: Claim, supplement: SupplementRequest, document_id: int
) -> bool:
    """Take back a file of this open supplement; False when there is no such file here."""
    doc = db.get(ClaimDocument, document_id)
    if (
        doc is None
        or doc.claim_id != claim.id
        or doc.supplement_id != supplement.id
        or doc.removed_at is not None
        or not is_open(cx, claim, supplement)
    ):
        return False
    doc.removed_at = cx.now()
    claim.updated_at = cx.now()
    return True


def submit(db: Session, cx: ClaimContext, claim: Claim, remark: str) -> SupplementRequest:
    """Send the supplement (idempotent: a second submit returns the first's result)."""
    return supplements.fulfil(
        db, cx, claim, remark=remark, channel=Channel.H5, actor=Actor.CLAIMANT, actor_id=None
    )


def china_date(day: datetime.date, lang: str) -> str:
    if lang == "en":
        return f"{day.day} {day:%B} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def china_time(at: datetime.datetime, lang: str) -> str:
    local = at.astimezone(CHINA_TZ)
    suffix = " (Beijing time)" if lang == "en" else "（北京时间）"
    return f"{local:%Y-%m-%d %H:%M}{suffix}"
