"""Signed links: what a URL opens, for which sign-in session, until when.

Every signed link of the product goes through here (claim files, settlement notices,
certificates). A token is an itsdangerous URL-safe serializer's output, keyed with the
server secret and salted with the link's purpose, so a token made for one purpose never
reads as another. Inside: the subject (what it opens), the id of the sign-in session that
asked for it and the expiry; the route that serves it must still find that session live
(see server/sessions.py), so signing out ends the links too.

Reading is strict: the token must be exactly what `sign` produced. itsdangerous alone
would accept the signature with extra base64 padding or other spare bits set; a token is
therefore signed again from what it says and compared whole, in constant time.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

LINK_LIFETIME = datetime.timedelta(minutes=10)
# URL-safe base64 payload (a leading "." marks a compressed one), a dot, the signature
_SHAPE = re.compile(r"\.?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_TOKEN_MAX = 400

SubjectPart = str | int
Subject = tuple[SubjectPart, ...]


@dataclass(frozen=True, slots=True)
class SignedLink:
    subject: Subject
    session_id: int
    expires_at: datetime.datetime


@functools.lru_cache(maxsize=32)
def _serializer(secret: str, purpose: str) -> URLSafeSerializer:
    if not secret or not purpose:
        raise ValueError("a signed link needs a secret and a purpose")
    return URLSafeSerializer(
        secret, salt=f"signed-link:{purpose}", signer_kwargs={"digest_method": hashlib.sha256}
    )


def _is_part(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def sign(
    secret: str,
    purpose: str,
    subject: Subject,
    *,
    session_id: int,
    now: datetime.datetime,
    lifetime: datetime.timedelta = LINK_LIFETIME,
) -> str:
    """A token for `subject`, good for `purpose` while `session_id` lives, until now + lifetime."""
    if not subject or not all(_is_part(p) for p in subject):
        raise ValueError("a subject is a non-empty tuple of strings and integers")
    expires = int((now + lifetime).timestamp())
    token = _serializer(secret, purpose).dumps({"s": list(subject), "i": session_id, "e": expires})
    return str(token)


def read(secret: str, purpose: str, token: str, *, now: datetime.datetime) -> SignedLink | None:
    """What a token signed for `purpose` says, or None when forged, altered, of another
    purpose or expired."""
    if not isinstance(token, str) or len(token) > _TOKEN_MAX or not _SHAPE.fullmatch(token):
        return None
    serializer = _serializer(secret, purpose)
    try:
        payload = serializer.loads(token)
    except BadData:
        return None
    # only the exact bytes `sign` produced count (no padding, no spare bits changed)
    if not secrets.compare_digest(str(serializer.dumps(payload)), token):
        return None
    if not isinstance(payload, dict) or set(payload) != {"s", "i", "e"}:
        return None
    subject, session_id, expires = payload["s"], payload["i"], payload["e"]
    if not (isinstance(subject, list) and subject and all(_is_part(p) for p in subject)):
        return None
    if not (_is_part(session_id) and isinstance(session_id, int)):
        return None
    if not (_is_part(expires) and isinstance(expires, int)) or now.timestamp() >= expires:
        return None
    return SignedLink(
        tuple(subject), session_id, datetime.datetime.fromtimestamp(expires, datetime.UTC)
    )
