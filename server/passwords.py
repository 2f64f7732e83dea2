"""Password hashing for members' and staff's log-ins (argon2id, the library's defaults)."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher

hasher = PasswordHasher()


@functools.cache
def dummy_hash() -> str:
    """The hash of no one's password, verified when no account matches, so that an unknown
    mobile or username costs what a wrong password costs. Made at the first such log-in of
    a process rather than at import: an argon2 hash is about half a second of CPU, and every
    start (and each module that needed one) paid it."""
    return hasher.hash(secrets.token_urlsafe(24))
