"""What the supplement pages show of the signed-in claim: the requested categories with
the files sent so far, signed same-origin links to them, dates in Beijing time."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from server.claims import links, supplements
from server.claims.core import ClaimContext
from server.claims.models import Claim, ClaimDocument, SupplementRequest
from server.storage.uploads import PDF
from server.workdays import CHINA_TZ


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


def china_date(day: datetime.date, lang: str) -> str:
    if lang == "en":
        return f"{day.day} {day:%B} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def china_time(at: datetime.datetime, lang: str) -> str:
    local = at.astimezone(CHINA_TZ)
    suffix = " (Beijing time)" if lang == "en" else "（北京时间）"
    return f"{local:%Y-%m-%d %H:%M}{suffix}"
