"""Log-in throttling, one rule for members and adjusters.

A short wait after 3 failures, a lock after 5, forgotten after an hour without failures.
Rows are kept per key (a member's phone hash, an adjuster's username under a key kind of
its own) whether or not an account exists, so a lock tells nothing about who is registered.
"""

from __future__ import annotations

import datetime

from sqlalchemy.orm import Session

from server.accounts.errors import LoginLocked
from server.accounts.models import LoginThrottle

THROTTLE_AFTER = 3  # failures before each further try must wait
THROTTLE_WAIT = datetime.timedelta(seconds=30)
LOCK_AFTER = 5
LOCK_FOR = datetime.timedelta(minutes=15)
FAILURE_MEMORY = datetime.timedelta(hours=1)


def _seconds_until(moment: datetime.datetime, now: datetime.datetime) -> int:
    # rounded up, so a client that waits as told is never refused once more
    return int((moment - now).total_seconds() + 0.999)


def check_login_throttle(
    db: Session, key: str, now: datetime.datetime, *, locked_message: str
) -> LoginThrottle | None:
    """The key's throttle row (None without failures); raises LoginLocked while it must wait.

    Checked before the password, so a locked key costs no hashing and reveals nothing.
    """
    throttle = db.get(LoginThrottle, key)
    if throttle is None:
        return None
    if throttle.locked_until is not None and now < throttle.locked_until:
        raise LoginLocked(locked_message, _seconds_until(throttle.locked_until, now))
    if throttle.last_failure_at and now - throttle.last_failure_at > FAILURE_MEMORY:
        throttle.failures = 0
    if (
        throttle.failures >= THROTTLE_AFTER
        and throttle.last_failure_at is not None
        and now < throttle.last_failure_at + THROTTLE_WAIT
    ):
        raise LoginLocked(
            "Too many failed log-ins; wait a moment before trying again.",
            _seconds_until(throttle.last_failure_at + THROTTLE_WAIT, now),
        )
    return throttle


def record_login_failure(
    db: Session, key: str, throttle: LoginThrottle | None, now: datetime.datetime
) -> None:
    """Counts a failed log-in for the key; the fifth in a row locks it for LOCK_FOR."""
    if throttle is None:
        throttle = LoginThrottle(phone_hash=key, failures=0)
        db.add(throttle)
    throttle.failures += 1
    throttle.last_failure_at = now
    if throttle.failures >= LOCK_AFTER:
        throttle.locked_until = now + LOCK_FOR
        throttle.failures = 0
    db.flush()


def clear_login_throttle(db: Session, throttle: LoginThrottle | None) -> None:
    """Forgets the failures once the right password has been given."""
    if throttle is not None:
        db.delete(throttle)
