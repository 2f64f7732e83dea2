"""Log-in throttling, one rule for members and adjusters, on the limiter (server/limits).

Every try is counted before the password is checked, so tries sent at once cannot outrun
the rule, and the right password forgets them: three tries are free, then each waits 30 s
after the one before; the fifth locks the key for 15 minutes. A run of tries is forgotten
an hour after its first. Keys are a member's phone hash or an adjuster's username hashed
under a kind of its own, whether or not an account exists, so a lock tells nothing about
who is registered.
"""

from __future__ import annotations

import datetime

from sqlalchemy.orm import Session

from server.accounts.errors import LoginLocked
from server.limits import Limiter, Policy

LOGIN = Policy(
    "login",
    window=datetime.timedelta(hours=1),
    limit=5,
    lock=datetime.timedelta(minutes=15),
    delay_after=3,
    delay=datetime.timedelta(seconds=30),
)


def start_login(limiter: Limiter, db: Session, key: str, *, locked_message: str) -> None:
    """Counts the try, or raises LoginLocked while the key must wait (checked before the
    password, so a locked key costs no hashing and reveals nothing)."""
    decision = limiter.hit(db, LOGIN, key)
    if decision.allowed:
        return
    if decision.locked:
        raise LoginLocked(locked_message, decision.retry_after_seconds)
    raise LoginLocked(
        "Too many failed log-ins; wait a moment before trying again.",
        decision.retry_after_seconds,
    )


def forget_tries(limiter: Limiter, db: Session, key: str) -> None:
    """The right password (or a new one) clears the key's tries, waits and lock."""
    limiter.reset(db, LOGIN, key)
