"""Failed log-ins, counted per claim number and per client address, in the database.

After FREE_FAILURES failures on a claim, the next try must wait, twice as long each
time (30 s, 1 min, 2 min ... at most 15 min); the wait is the claim's, whoever tries,
so guessing from many addresses gains nothing. BLOCK_FAILURES failures within
BLOCK_WINDOW from one address, or on one claim, block everything (HTTP 429), right
answers included, until the window has moved past them.

A claim number that does not exist is counted like one that does: the answers must not
tell them apart.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server.claims.portal_models import PortalLoginFailure
from server.crypto import Vault

FREE_FAILURES = 5
FIRST_WAIT = datetime.timedelta(seconds=30)
MAX_WAIT = datetime.timedelta(minutes=15)
# failures on a claim keep making the wait grow for this long (a success clears them)
CLAIM_MEMORY = datetime.timedelta(hours=24)
BLOCK_FAILURES = 30
BLOCK_WINDOW = datetime.timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    blocked: bool = False  # HTTP 429: nothing is accepted until the window passes
    retry_after: int = 0  # seconds

    @classmethod
    def ok(cls) -> Verdict:
        return cls(True)


def claim_key(vault: Vault, claim_no: str) -> str:
    return vault.lookup(claim_no.strip().upper()[:40], kind="supplement-claim")


def client_key(vault: Vault, address: str) -> str:
    return vault.lookup(address, kind="supplement-client")


def wait_after(failures: int) -> datetime.timedelta:
    """The wait before the next try once a claim has `failures` recent failures."""
    if failures < FREE_FAILURES:
        return datetime.timedelta(0)
    return min(FIRST_WAIT * 2 ** (failures - FREE_FAILURES), MAX_WAIT)


def _seconds(delta: datetime.timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def check(db: Session, *, claim: str, client: str, now: datetime.datetime) -> Verdict:
    """May a log-in for this claim key from this client key be tried now?"""
    since = now - BLOCK_WINDOW
    for column, key in (
        (PortalLoginFailure.client_key, client),
        (PortalLoginFailure.claim_key, claim),
    ):
        times = db.scalars(
            select(PortalLoginFailure.at)
            .where(column == key, PortalLoginFailure.at > since)
            .order_by(PortalLoginFailure.at.desc())
            .limit(BLOCK_FAILURES)
        ).all()
        if len(times) >= BLOCK_FAILURES:
            # blocked until the oldest of the last BLOCK_FAILURES leaves the window
            return Verdict(False, True, _seconds(times[-1] + BLOCK_WINDOW - now))
    count, last = db.execute(
        select(func.count(), func.max(PortalLoginFailure.at)).where(
            PortalLoginFailure.claim_key == claim, PortalLoginFailure.at > now - CLAIM_MEMORY
        )
    ).one()
    wait = wait_after(int(count))
    if last is not None and wait and now < last + wait:
        return Verdict(False, False, _seconds(last + wait - now))
    return Verdict.ok()


def fail(db: Session, *, claim: str, client: str, now: datetime.datetime) -> None:
    db.add(PortalLoginFailure(claim_key=claim, client_key=client, at=now))
    db.flush()


def succeed(db: Session, *, claim: str) -> None:
    """A right log-in forgets the claim's failures (the address keeps its own)."""
    db.execute(delete(PortalLoginFailure).where(PortalLoginFailure.claim_key == claim))


def purge(db: Session, now: datetime.datetime) -> int:
    """Delete failures too old to count for anything."""
    keep = max(CLAIM_MEMORY, BLOCK_WINDOW)
    result = db.execute(delete(PortalLoginFailure).where(PortalLoginFailure.at < now - keep))
    return int(getattr(result, "rowcount", 0) or 0)
