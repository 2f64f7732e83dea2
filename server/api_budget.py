"""Cost budgets of the GraphQL API: how many points of query cost a client may spend per
window, on the one limiter (server/limits).

Every request is charged its cost (schema/limits.py) before it runs, as one weighted count
(`Limiter.hit_all(amount=cost)`): check and spend are one atomic step on every backend, so
however many requests arrive at once a client never spends more than its budget. The
charge is made in a transaction of its own and committed at once, not in the request's:
the work is done whatever becomes of the request, and no row stays locked while it runs.

Who pays:

- a request without a live sign-in session: its client address (`graphql.anonymous`,
  GRAPHQL_ANONYMOUS_BUDGET);
- a request whose bearer token opens a live member or adjuster session: that session
  (`graphql.signed-in`, GRAPHQL_SIGNED_IN_BUDGET, the larger one). A made-up token opens
  nothing and pays as anonymous, so tokens cannot be invented for budget.

The anonymous budget is the only one for requests without a partner key, persisted-query
GETs included; a request with a key is not charged here but under the key's own budgets
(server/partners, the app's `_admit`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from server.crypto import Vault
from server.limits import Decision, Limiter, Policy, key_of
from server.sessions import SessionKind, SessionStore
from server.settings import Settings

ANONYMOUS = "graphql.anonymous"
SIGNED_IN = "graphql.signed-in"
_SIGNED_IN_KINDS = (SessionKind.MEMBER, SessionKind.ADJUSTER)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sends a request, as the HTTP layer sees it."""

    address: str | None
    token: str | None = None  # the bearer token, unchecked


class ApiBudget:
    def __init__(
        self,
        settings: Settings,
        limiter: Limiter,
        vault: Vault,
        sessions: SessionStore,
        db: sessionmaker[Session],
    ) -> None:
        window = datetime.timedelta(seconds=settings.graphql_budget_window_seconds)
        self.anonymous = Policy(ANONYMOUS, window=window, limit=settings.graphql_anonymous_budget)
        self.signed_in = Policy(SIGNED_IN, window=window, limit=settings.graphql_signed_in_budget)
        self.limiter = limiter
        self.vault = vault
        self.sessions = sessions
        self.db = db

    def spend(self, caller: Caller, cost: int) -> Decision:
        """Charge `cost` points to whoever pays for the caller's requests; refused (nothing
        charged) when that would go over the budget. Blocking: call it off the event loop."""
        if cost < 1:
            return Decision(True)
        policy, key = self._payer(caller)
        # the count is the transaction's first statement: on SQLite a transaction that has
        # read first may not get the write lock while others hold it
        with self.db() as db, db.begin():
            return self.limiter.hit_all(db, [(policy, key)], amount=min(cost, policy.limit))

    def _payer(self, caller: Caller) -> tuple[Policy, str]:
        if caller.token:
            with self.db() as db:
                for kind in _SIGNED_IN_KINDS:
                    session = self.sessions.peek(db, kind, caller.token)
                    if session is not None:
                        return self.signed_in, key_of(self.vault, SIGNED_IN, str(session.id))
        return self.anonymous, key_of(self.vault, ANONYMOUS, caller.address or "unknown")
