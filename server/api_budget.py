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

Points are taken from the store in leases (1/`LEASE_SHARE` of the budget, at most
`LEASE_MAX`, or the request's cost if more) and spent from them in memory, so that most
requests write nothing: a process never spends a point it has not taken from the store,
so the budget holds across processes and however many requests arrive at once. When a
lease is refused, just what the request lacks is asked for; a refused request gives back what it held. What a process
holds unspent counts as spent for others (at most one lease per process and client);
points held past their lease's window are spent in the next one (at most one lease per
process and window). Which session a token opens is remembered for `PAYER_SECONDS`, so
an ended session's bearer may pay under that session's budget for that long.

When the budget has to look a token up, it reads the session's subject row with it (for
the kinds given in `subjects`: a member's account) and hands that finding to the request
(`spend_opening`), which takes it over instead of reading the session again
(server/sessions.py `adopt`): the first request of a session reads it once.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from server.crypto import Vault, token_hash
from server.limits import Decision, Limiter, Policy, key_of
from server.sessions import Opened, SessionKind, SessionStore
from server.settings import Settings

ANONYMOUS = "graphql.anonymous"
SIGNED_IN = "graphql.signed-in"
_SIGNED_IN_KINDS = (SessionKind.MEMBER, SessionKind.ADJUSTER)
LEASE_SHARE = 50  # a lease is 1/50 of the budget
LEASE_MAX = 1_000_000  # and no more (the counters are 32-bit integers)
PAYER_SECONDS = 15
_PAYERS_MAX = 10_000


@dataclass(slots=True)
class _Held:
    points: int
    until: datetime.datetime


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
        subjects: Mapping[SessionKind, type] | None = None,
    ) -> None:
        window = datetime.timedelta(seconds=settings.graphql_budget_window_seconds)
        self.anonymous = Policy(ANONYMOUS, window=window, limit=settings.graphql_anonymous_budget)
        self.signed_in = Policy(SIGNED_IN, window=window, limit=settings.graphql_signed_in_budget)
        self.limiter = limiter
        self.vault = vault
        self.sessions = sessions
        self.db = db
        # the subject row read along with a session of these kinds (`spend_opening`)
        self.subjects = dict(subjects or {})
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str], _Held] = {}
        # token hash -> (the session's limit key, remembered until)
        self._payers: dict[str, tuple[str, datetime.datetime]] = {}
        self._addresses: dict[str, str] = {}  # client address -> its limit key

    def spend(self, caller: Caller, cost: int) -> Decision:
        """Charge `cost` points to whoever pays for the caller's requests; refused (nothing
        charged) when that would go over the budget. Blocking: call it off the event loop."""
        return self.spend_opening(caller, cost)[0]

    def spend_opening(self, caller: Caller, cost: int) -> tuple[Decision, Opened[Any] | None]:
        """`spend`, and the session the caller's token opened when it had to be looked up
        (with its subject row, for the kinds in `subjects`), else None."""
        if cost < 1:
            return Decision(True), None
        policy, key, opened = self._payer(caller)
        return self._spend(policy, key, cost), opened

    def _spend(self, policy: Policy, key: str, cost: int) -> Decision:
        cost = min(cost, policy.limit)
        now = self.limiter.clock()
        with self._lock:
            held = self._held.pop((policy.name, key), None)
            if held is not None and held.until <= now:
                held = None
            if held is not None and held.points >= cost:
                held.points -= cost
                self._held[(policy.name, key)] = held
                return Decision(True, policy=policy.name)
        have = held.points if held is not None else 0
        need = cost - have
        lease = min(max(need, min(policy.limit // LEASE_SHARE, LEASE_MAX)), policy.limit)
        try:
            decision = self._take(policy, key, lease)
            if not decision.allowed and lease > need:
                lease = need
                decision = self._take(policy, key, need)
        except BaseException:
            self._give_back(policy, key, held)
            raise
        if not decision.allowed:
            self._give_back(policy, key, held)
            return decision
        self._give_back(policy, key, _Held(lease - need, now + policy.window))
        return decision

    def spend_held(self, caller: Caller, cost: int) -> Decision | None:
        """`spend` where it needs neither the store nor the database: the payer is known
        (an address, or a token seen in the last `PAYER_SECONDS`) and this process holds
        enough of its leased points. None: call `spend` (off the event loop). Never blocks:
        the event loop may call it."""
        if cost < 1:
            return Decision(True)
        payer = self._known_payer(caller)
        if payer is None:
            return None
        policy, key = payer
        cost = min(cost, policy.limit)
        now = self.limiter.clock()
        with self._lock:
            held = self._held.get((policy.name, key))
            if held is None or held.until <= now or held.points < cost:
                return None
            held.points -= cost
        return Decision(True, policy=policy.name)

    def _take(self, policy: Policy, key: str, amount: int) -> Decision:
        # the count is the transaction's first statement: on SQLite a transaction that has
        # read first may not get the write lock while others hold it
        with self.db() as db, db.begin():
            return self.limiter.hit_all(db, [(policy, key)], amount=amount)

    def _give_back(self, policy: Policy, key: str, held: _Held | None) -> None:
        if held is None or held.points <= 0:
            return
        with self._lock:
            mine = self._held.get((policy.name, key))
            if mine is None:
                if len(self._held) >= _PAYERS_MAX:  # many clients: forget (they count as spent)
                    self._held.clear()
                self._held[(policy.name, key)] = held
            else:
                mine.points += held.points
                mine.until = min(mine.until, held.until)

    def _known_payer(self, caller: Caller) -> tuple[Policy, str] | None:
        """Who pays, where that needs no database: an address, or a remembered token."""
        if not caller.token:
            return self.anonymous, self._address_key(caller.address or "unknown")
        known = self._payers.get(token_hash(caller.token))
        if known is not None and self.limiter.clock() < known[1]:
            return self.signed_in, known[0]
        return None

    def _address_key(self, address: str) -> str:
        key = self._addresses.get(address)
        if key is None:
            key = key_of(self.vault, ANONYMOUS, address)
            if len(self._addresses) >= _PAYERS_MAX:
                self._addresses.clear()
            self._addresses[address] = key
        return key

    def _payer(self, caller: Caller) -> tuple[Policy, str, Opened[Any] | None]:
        known_payer = self._known_payer(caller)
        if known_payer is not None:
            return *known_payer, None
        if caller.token:
            now = self.limiter.clock()
            hashed = token_hash(caller.token)
            with self.db() as db:
                for kind in _SIGNED_IN_KINDS:
                    opened: Opened[Any] | None = None
                    subject = self.subjects.get(kind)
                    if subject is not None:
                        opened = self.sessions.peek_subject(db, kind, caller.token, subject)
                        session = opened.session if opened is not None else None
                    else:
                        session = self.sessions.peek(db, kind, caller.token)
                    if session is not None:
                        key = key_of(self.vault, SIGNED_IN, str(session.id))
                        until = min(
                            now + datetime.timedelta(seconds=PAYER_SECONDS), session.expires_at
                        )
                        with self._lock:
                            if len(self._payers) >= _PAYERS_MAX:
                                self._payers.clear()
                            self._payers[hashed] = (key, until)
                        return self.signed_in, key, opened
        return self.anonymous, self._address_key(caller.address or "unknown"), None
