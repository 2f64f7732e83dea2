"""Log-in tries of the supplement portal, on the limiter (server/limits).

Tries are counted per claim number AND client address, before the captcha and the name
are checked, and a right log-in forgets them: after FREE_FAILURES, each further try from
that address waits, twice as long each time (30 s, 1 min, 2 min ... at most 15 min), and
TRIES_A_DAY in a day stop that address on that claim until the day is over. Failures
from other addresses never make the claimant wait: whoever guesses, from wherever, locks
only themselves out. BLOCK_FAILURES failures within BLOCK_WINDOW from one address, on
any claims, block everything from it (HTTP 429), right answers included, until the
window closes.

A claim number that does not exist is counted like one that does: the answers must not
tell them apart.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.crypto import Vault
from server.limits import Limiter, Policy, key_of

FREE_FAILURES = 5
FIRST_WAIT = datetime.timedelta(seconds=30)
MAX_WAIT = datetime.timedelta(minutes=15)
# tries on a claim from an address keep making the wait grow for this long (a success
# forgets them)
CLAIM_MEMORY = datetime.timedelta(hours=24)
TRIES_A_DAY = 30
BLOCK_FAILURES = 30
BLOCK_WINDOW = datetime.timedelta(minutes=15)

CLAIM_TRIES = Policy(
    "portal-claim",
    window=CLAIM_MEMORY,
    limit=TRIES_A_DAY,
    delay_after=FREE_FAILURES,
    delay=FIRST_WAIT,
    delay_max=MAX_WAIT,
)
CLIENT_FAILURES = Policy("portal-client", window=BLOCK_WINDOW, limit=BLOCK_FAILURES)


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


def try_key(vault: Vault, claim: str, client: str) -> str:
    """The key of one claim number tried from one address."""
    return key_of(vault, "supplement-try", claim, client)


def wait_after(failures: int) -> datetime.timedelta:
    """The wait before the next try once a claim has `failures` recent failures."""
    return CLAIM_TRIES.wait(failures)


def check(limiter: Limiter, db: Session, *, tried: str, client: str) -> Verdict:
    """May a log-in be tried now (`tried` is the claim and address's try_key)? Counts the
    try when it may, unless the address is blocked."""
    decision = limiter.hit_all(db, [(CLAIM_TRIES, tried)], unless=[(CLIENT_FAILURES, client)])
    if decision.allowed:
        return Verdict.ok()
    # blocked address, or the day's tries on the claim spent: no short wait helps
    blocked = decision.policy == CLIENT_FAILURES.name or decision.count >= CLAIM_TRIES.limit
    return Verdict(False, blocked, decision.retry_after_seconds)


def fail(limiter: Limiter, db: Session, *, client: str) -> None:
    """A failed log-in, counted against the address (the claim's try is counted already)."""
    limiter.record_failure(db, CLIENT_FAILURES, client)


def succeed(limiter: Limiter, db: Session, *, tried: str) -> None:
    """A right log-in forgets the tries on the claim from this address (the address keeps
    its failures)."""
    limiter.reset(db, CLAIM_TRIES, tried)
