"""A claim's files as their viewers get them: a document's fields and signed links, and
what a signed link opens once the viewer is checked again.

The API hands out signed links (links.py) so a file opens in a browser or an image tag
without a bearer header. A link is bound to the sign-in session that asked for it:
opening one checks that this session is still live, then again that its holder may still
see the claim. A signed-out or expired session, a member who can no longer see the
claim, a deactivated adjuster or a supplement session of another claim finds nothing,
exactly as with a forged link.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.claims import links, notice
from server.claims.core import ClaimContext, can_see
from server.claims.details_models import DetailsChange, DetailsChangeFile
from server.claims.models import Adjuster, Channel, Claim, ClaimDocument, ClaimStatus
from server.ids import global_id
from server.service_supplements.models import ServiceSupplement, ServiceSupplementDocument
from server.sessions import LiveSession, SessionKind
from server.storage.backend import content_type_of, new_temp_file

log = logging.getLogger(__name__)

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
PDF = "application/pdf"


# --- a document as its viewer sees it ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentFile:
    id: str  # the document's global id
    category: str
    content_type: str
    size: int
    display_name: str
    width: int | None
    height: int | None
    uploaded_at: datetime.datetime
    channel: Channel
    in_supplement: bool
    url: str  # signed link to the file
    thumbnail_url: str | None  # signed link to its preview (none for a PDF)
    problem_reason: str | None


def document_file(cx: ClaimContext, doc: ClaimDocument, session_id: int) -> DocumentFile:
    """The document with links for the viewer signed in with `session_id`."""
    now = cx.now()
    base, secret = cx.settings.base_url, cx.settings.secret_key
    return DocumentFile(
        id=global_id("ClaimDocument", doc.id),
        category=doc.category,
        content_type=doc.content_type,
        size=doc.size,
        display_name=doc.display_name,
        width=doc.width,
        height=doc.height,
        uploaded_at=doc.uploaded_at,
        channel=doc.channel,
        in_supplement=doc.supplement_id is not None,
        url=links.url(base, secret, links.Link("doc", doc.id, session_id), now),
        thumbnail_url=(
            links.url(base, secret, links.Link("thumb", doc.id, session_id), now)
            if doc.thumbnail_key
            else None
        ),
        problem_reason=doc.problem_reason,
    )


# --- what a signed link opens ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    content_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class RenderedFile:
    body: bytes | str  # str: the settlement notice's HTML page
    content_type: str
    filename: str


class FileMissing(Exception):
    """Nothing to serve for this link, for whatever reason; answered as an invalid link."""


class NoSettlementNotice(Exception):
    """The viewer may see the claim, but it is not settled."""


def open_link(db: Session, cx: ClaimContext, link: links.Link) -> StoredFile | RenderedFile:
    """What the link opens, after checking its session lives and its viewer may see it now."""
    session = cx.sessions.find(db, link.session_id)
    if session is None:
        raise FileMissing()  # signed out, or the session ended: so did its links
    if link.kind == "details-file":
        return _details_file(db, session, link.object_id)
    if link.kind in ("request-doc", "request-thumb"):
        return _request_file(db, session, link)
    if link.kind in ("doc", "thumb"):
        doc = db.get(ClaimDocument, link.object_id)
        if doc is None or doc.removed_at is not None:
            raise FileMissing()
        _check_viewer(db, session, doc.claim)
        if link.kind == "doc":
            return StoredFile(
                doc.storage_key, doc.content_type, _named(doc.display_name, doc.content_type)
            )
        if doc.thumbnail_key is None:
            raise FileMissing()  # a PDF has no preview
        stem = doc.display_name.rsplit(".", 1)[0] if "." in doc.display_name else doc.display_name
        return StoredFile(doc.thumbnail_key, "image/jpeg", f"{stem}-preview.jpg")
    claim = db.get(Claim, link.object_id)
    if claim is None:
        raise FileMissing()
    _check_viewer(db, session, claim)
    if link.kind == "sig":
        if not claim.signature_key:
            raise FileMissing()
        kind = content_type_of(claim.signature_key)
        return StoredFile(
            claim.signature_key,
            kind,
            f"signature-{claim.claim_no or claim.id}.{EXTENSIONS[kind]}",
        )
    if claim.status not in (ClaimStatus.SETTLED, ClaimStatus.PAID):
        raise NoSettlementNotice()
    settled = notice.settlement_notice(db, cx, claim)
    if link.kind == "notice-html":
        return RenderedFile(
            notice.render_html(settled), "text/html", notice.file_name(settled, "html")
        )
    return _notice_pdf(cx, claim, settled)


def _notice_pdf(
    cx: ClaimContext, claim: Claim, settled: notice.SettlementNotice
) -> StoredFile | RenderedFile:
    """The notice's PDF as first issued: rendered once, then kept in the storage (the
    bucket, shared by every server) and read back from there."""
    key = notice.stored_key(claim.id, claim.decided_at)
    name = notice.file_name(settled, "pdf")
    try:
        if cx.storage.exists(key):
            return StoredFile(key, PDF, name)
    except Exception:
        log.warning("settlement notice of claim %d: storage unreadable, rendered anew", claim.id)
    body = notice.render_pdf(settled)
    temp = new_temp_file(cx.storage, suffix=".pdf")
    try:
        temp.write_bytes(body)
        cx.storage.put_file(key, temp)
    except Exception:
        # kept or not, the member gets the notice; the next open tries to keep it again
        log.warning("settlement notice of claim %d could not be kept", claim.id)
    finally:
        temp.unlink(missing_ok=True)
    return RenderedFile(body, PDF, name)


def _details_file(db: Session, session: LiveSession, file_id: int) -> StoredFile:
    """A change of personal details' photo or signature: for the back office, and for the
    member whose change it is."""
    row = db.get(DetailsChangeFile, file_id)
    change = db.get(DetailsChange, row.change_id) if row is not None else None
    if row is None or change is None:
        raise FileMissing()
    if session.kind is SessionKind.ADJUSTER:
        adjuster = db.get(Adjuster, session.subject_id)
        if adjuster is None or not adjuster.active:
            raise FileMissing()
    elif session.kind is not SessionKind.MEMBER or session.subject_id != change.account_id:
        raise FileMissing()
    extension = EXTENSIONS.get(row.content_type, "bin")
    return StoredFile(row.storage_key, row.content_type, f"{row.category.lower()}.{extension}")


def _request_file(db: Session, session: LiveSession, link: links.Link) -> StoredFile:
    """A file sent for a service request's documents: to its H5 session, the member whose
    request it is, or back-office staff."""
    doc = db.get(ServiceSupplementDocument, link.object_id)
    ask = db.get(ServiceSupplement, doc.supplement_id) if doc is not None else None
    if doc is None or ask is None or doc.removed_at is not None:
        raise FileMissing()
    if session.kind is SessionKind.REQUEST_PORTAL:
        allowed = session.subject_id == ask.id
    elif session.kind is SessionKind.MEMBER:
        allowed = session.subject_id == ask.account_id
    elif session.kind is SessionKind.ADJUSTER:
        adjuster = db.get(Adjuster, session.subject_id)
        allowed = adjuster is not None and adjuster.active
    else:
        allowed = False
    if not allowed:
        raise FileMissing()
    if link.kind == "request-doc":
        return StoredFile(
            doc.storage_key, doc.content_type, _named(doc.display_name, doc.content_type)
        )
    if doc.thumbnail_key is None:
        raise FileMissing()
    stem = doc.display_name.rsplit(".", 1)[0] if "." in doc.display_name else doc.display_name
    return StoredFile(doc.thumbnail_key, "image/jpeg", f"{stem}-preview.jpg")


def _check_viewer(db: Session, session: LiveSession, claim: Claim) -> None:
    if session.kind is SessionKind.MEMBER:
        account = db.get(Account, session.subject_id)
        if account is None or not can_see(account, claim):
            raise FileMissing()
    elif session.kind is SessionKind.ADJUSTER:
        adjuster = db.get(Adjuster, session.subject_id)
        if adjuster is None or not adjuster.active:
            raise FileMissing()
    elif session.kind is not SessionKind.PORTAL or session.subject_id != claim.id:
        raise FileMissing()


def _named(display_name: str, content_type: str) -> str:
    """The shown name with the extension of what is served (an uploaded HEIC is now a JPEG)."""
    extension = EXTENSIONS.get(content_type, "bin")
    stem, dot, current = display_name.rpartition(".")
    if dot and stem and current.lower() in {extension, "jpeg" if extension == "jpg" else ""}:
        return display_name
    return f"{stem if dot and stem else display_name}.{extension}"
