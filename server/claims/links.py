"""Short-lived signed links to a claim's files and settlement notice.

GraphQL and the supplement page return these URLs instead of file bytes. A link names
what it opens and the sign-in session that asked for it (a member's, an adjuster's or a
supplement-portal one); server/signing.py signs it. The route that serves it checks the
signature and the expiry, that the session is still live (signing out ends its links)
and, again, that the session's holder may still see the claim.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from server import signing

PURPOSE = "claim-file"
# what a link can open
# details-file: a change of personal details' photo or signature (details_change.py)
# request-doc and request-thumb: a file sent for a service request's documents
# (server/service_supplements)
KINDS = frozenset(
    {
        "doc",
        "thumb",
        "sig",
        "notice-html",
        "notice-pdf",
        "details-file",
        "request-doc",
        "request-thumb",
    }
)


@dataclass(frozen=True, slots=True)
class Link:
    kind: str  # doc | thumb | sig | notice-html | notice-pdf | details-file
    object_id: int  # document id, claim id for sig and notices, details_change_file id
    session_id: int  # the sign-in session (server/sessions.py) the link was made for


def sign(secret: str, link: Link, now: datetime.datetime) -> str:
    if link.kind not in KINDS:
        raise ValueError("unknown link kind")
    return signing.sign(
        secret, PURPOSE, (link.kind, link.object_id), session_id=link.session_id, now=now
    )


def read(secret: str, token: str, now: datetime.datetime) -> Link | None:
    """The link a token stands for, or None when forged, altered or expired."""
    found = signing.read(secret, PURPOSE, token, now=now)
    if found is None or len(found.subject) != 2:
        return None
    kind, object_id = found.subject
    if kind not in KINDS or not isinstance(object_id, int):
        return None
    return Link(str(kind), object_id, found.session_id)


def url(base_url: str, secret: str, link: Link, now: datetime.datetime) -> str:
    """The absolute URL of a signed link; the files route lives at /claim-files/<token>."""
    return f"{base_url.rstrip('/')}/claim-files/{sign(secret, link, now)}"
