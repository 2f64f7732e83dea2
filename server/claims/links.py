"""Short-lived signed links to a claim's files and settlement notice.

GraphQL returns these URLs instead of file bytes. A link names what it opens and who
asked (a member account or an adjuster); the route that serves it checks the
signature, the expiry and, again, that this viewer may still see the claim.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from dataclasses import dataclass

LINK_LIFETIME = datetime.timedelta(minutes=30)
# what a link can open
KINDS = frozenset({"doc", "thumb", "sig", "notice-html", "notice-pdf"})
VIEWERS = frozenset({"member", "adjuster", "h5"})


@dataclass(frozen=True, slots=True)
class Link:
    kind: str  # doc | thumb | sig | notice-html | notice-pdf
    object_id: int  # document id, or claim id for sig and notices
    viewer: str  # member | adjuster | h5 (the supplement portal's one-claim session)
    viewer_id: int  # account id, adjuster id, or claim id for h5


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"claim-file-link:" + secret.encode()).digest()


def _mac(secret: str, payload: str) -> str:
    digest = hmac.new(_key(secret), payload.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: str, link: Link, now: datetime.datetime) -> str:
    if link.kind not in KINDS or link.viewer not in VIEWERS:
        raise ValueError("unknown link kind or viewer")
    expires = int((now + LINK_LIFETIME).timestamp())
    payload = f"{link.kind}.{link.object_id}.{link.viewer}.{link.viewer_id}.{expires}"
    return f"{payload}.{_mac(secret, payload)}"


def read(secret: str, token: str, now: datetime.datetime) -> Link | None:
    """The link a token stands for, or None when forged, damaged or expired."""
    try:
        kind, object_id, viewer, viewer_id, expires, mac = token.split(".")
        payload = f"{kind}.{object_id}.{viewer}.{viewer_id}.{expires}"
        if not hmac.compare_digest(_mac(secret, payload), mac):
            return None
        if now.timestamp() > int(expires) or kind not in KINDS or viewer not in VIEWERS:
            return None
        return Link(kind, int(object_id), viewer, int(viewer_id))
    except (ValueError, TypeError):
        return None


def url(base_url: str, secret: str, link: Link, now: datetime.datetime) -> str:
    """The absolute URL of a signed link; the files route lives at /claim-files/<token>."""
    return f"{base_url.rstrip('/')}/claim-files/{sign(secret, link, now)}"
