"""Issue, find and revoke partner keys; each request's rate and cost budget.

A key is `pk_` and 43 random URL-safe characters; the table keeps its SHA-256 only. A
request with a key counts one try under the key's rate policy before it runs (refused:
nothing runs) and, after it ran, its query cost in units of `COST_UNIT` points under the
key's cost policy, whose exhaustion refuses the key's next requests until the window ends.
Both are server/limits policies: the database or Redis, atomic under concurrency. Requests
without a key pay under the one anonymous budget of server/api_budget.py (per client
address, GRAPHQL_ANONYMOUS_BUDGET), lower than a key's.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clock import Clock
from server.crypto import token_hash
from server.errors import DomainError
from server.limits import Decision, Limiter, Policy
from server.metrics import client_label
from server.partners.models import PartnerKey

PREFIX = "pk_"
WINDOW = datetime.timedelta(minutes=1)
COST_UNIT = 1000  # query-cost points per count of a cost policy
UNKNOWN = "PARTNER_KEY_UNKNOWN"
REVOKED = "PARTNER_KEY_REVOKED"


class PartnerKeyUnknown(DomainError):
    code = UNKNOWN


class PartnerKeyRevoked(DomainError):
    code = REVOKED

    def __init__(self, message: str, client: str) -> None:
        super().__init__(message)
        self.client = client  # the key's metrics label: who still sends it


@dataclass(frozen=True, slots=True)
class Budget:
    """A partner key's budgets, as its requests are counted."""

    subject: str  # a limit key: 64 hex digits
    label: str  # the key's id and partner's name (metrics; never the key)
    rate_per_minute: int
    cost_per_minute: int

    @property
    def rate(self) -> Policy:
        return Policy("partner-rate", WINDOW, self.rate_per_minute)

    @property
    def cost(self) -> Policy:
        return Policy("partner-cost", WINDOW, max(1, math.ceil(self.cost_per_minute / COST_UNIT)))


def issue(
    db: Session,
    clock: Clock,
    name: str,
    *,
    rate_per_minute: int,
    cost_per_minute: int,
) -> tuple[PartnerKey, str]:
    """A new key: (its row, the key itself, shown once and never stored)."""
    name = name.strip()
    if not name or len(name) > 80:
        raise ValueError("a partner name of 1 to 80 characters")
    if rate_per_minute < 1 or cost_per_minute < 1:
        raise ValueError("budgets of at least 1")
    raw = PREFIX + secrets.token_urlsafe(32)
    row = PartnerKey(
        name=name,
        key_hash=token_hash(raw),
        prefix=raw[:10],
        rate_per_minute=rate_per_minute,
        cost_per_minute=cost_per_minute,
        created_at=clock(),
    )
    db.add(row)
    db.flush()
    return row, raw


def revoke(db: Session, clock: Clock, key_id: int) -> PartnerKey | None:
    row = db.get(PartnerKey, key_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock()
        db.flush()
    return row


def find(db: Session, raw: str) -> PartnerKey:
    """The live key sent with a request; PartnerKeyUnknown or PartnerKeyRevoked otherwise."""
    row = None
    if raw.startswith(PREFIX) and len(raw) <= 100:
        row = db.scalars(select(PartnerKey).where(PartnerKey.key_hash == token_hash(raw))).first()
    if row is None:
        raise PartnerKeyUnknown("This API key is not known. Ask for a key, or send none.")
    if row.revoked_at is not None:
        raise PartnerKeyRevoked(
            "This API key was revoked. Ask for a new key, or send none.",
            client_label(row.id, row.name),
        )
    return row


def partner_budget(row: PartnerKey) -> Budget:
    subject = hashlib.sha256(f"partner-key:{row.id}".encode()).hexdigest()
    return Budget(subject, client_label(row.id, row.name), row.rate_per_minute, row.cost_per_minute)


def admit(limiter: Limiter, db: Session | None, budget: Budget) -> Decision:
    """Count one request under the rate policy unless its cost budget is spent."""
    return limiter.hit_all(
        db, [(budget.rate, budget.subject)], unless=[(budget.cost, budget.subject)]
    )


def charge(limiter: Limiter, db: Session | None, budget: Budget, cost: int) -> None:
    """Count a request's cost (it ran): one count per started COST_UNIT points."""
    for _ in range(max(1, math.ceil(cost / COST_UNIT))):
        limiter.record_failure(db, budget.cost, budget.subject)
