"""One limiter for every throttle, budget and lock-out: named policies over counters.

A policy counts under a key within a fixed window that opens with the first count and
closes `window` later (the next count after it opens a new one). Within a window it
refuses once `limit` counts are in; with `lock` set, the count that reaches the limit
locks the key for that long instead, and the counting starts afresh after the lock. With
`delay_after` set, each count from that one on makes the next try wait `delay`, doubled
with every further count and capped at `delay_max`.

Two ways to count, both atomic:

- `hit`: check and count as one step, refused tries not counted. For budgets (SMS codes,
  captcha images) and for tries that must not outrun the limit however many arrive at
  once (a log-in counts the try before the password is checked and `reset`s on success).
  `hit_all` takes several policies and keys at once: all are counted or none. A count
  can weigh more than one (`amount`, e.g. a GraphQL request's cost against a budget of
  points); such a count is allowed while the window's total stays within the limit, and
  only on policies without lock or delay.
- `peek` before the work and `record_failure` after it: only failures count, and a
  locked key is refused at `peek`. A `hit_all` can look at such a key in its own step
  (`unless`), so that a try is counted only when no lock-out stands in its way.

Keys are keyed hashes the caller makes (`key_of`, or a look-up hash it has already, such
as an account's phone hash); a key that is not one is refused, so no phone number or
address reaches the table or Redis in clear. `GLOBAL` is the one key of an overall budget.

Backends: the database (server/limits/database.py, the default), Redis when REDIS_URL is
set (server/limits/redis_store.py), memory for unit tests (server/limits/memory.py);
server/limits/factory.py picks one from the settings.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from server import metrics
from server.clock import Clock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from server.crypto import Vault

GLOBAL = "all"
_KEY = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")
ZERO = datetime.timedelta(0)


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    window: datetime.timedelta
    limit: int
    lock: datetime.timedelta | None = None
    delay_after: int | None = None
    delay: datetime.timedelta = ZERO
    delay_max: datetime.timedelta | None = None  # None: the wait stays `delay`

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"policy name {self.name!r}: lower-case letters, digits, _ . -")
        if self.window <= ZERO or self.limit < 1:
            raise ValueError(f"policy {self.name}: a window and a limit of at least 1")
        if self.lock is not None and self.lock <= ZERO:
            raise ValueError(f"policy {self.name}: a lock must last")
        if self.delay_after is not None and (self.delay_after < 1 or self.delay <= ZERO):
            raise ValueError(f"policy {self.name}: a delay needs delay_after >= 1 and a wait")
        if self.delay_max is not None and self.delay_max < self.delay:
            raise ValueError(f"policy {self.name}: delay_max below delay")

    @property
    def cap(self) -> datetime.timedelta:
        return self.delay_max if self.delay_max is not None else self.delay

    def wait(self, count: int) -> datetime.timedelta:
        """The wait before the next try once `count` tries are in the window."""
        if self.delay_after is None or count < self.delay_after:
            return ZERO
        wait = self.delay
        for _ in range(count - self.delay_after):
            if wait >= self.cap:
                break
            wait *= 2
        return min(wait, self.cap)

    def delay_steps(self) -> list[tuple[int, datetime.timedelta]]:
        """(count, wait) for every count whose wait is below the cap; later counts wait the cap."""
        if self.delay_after is None:
            return []
        steps = []
        count = self.delay_after
        while (wait := self.wait(count)) < self.cap:
            steps.append((count, wait))
            count += 1
        return steps


@dataclass(frozen=True, slots=True)
class Counter:
    """What a backend keeps per policy and key."""

    count: int
    window_ends: datetime.datetime
    next_at: datetime.datetime | None = None  # the next try waits until then
    locked_until: datetime.datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after_seconds: int = 0  # when refused: at least 1, rounded up
    count: int = 0  # tries counted in the window (after this one, when it was counted)
    policy: str = ""  # when refused: the policy that refused (the longest wait)
    locked: bool = False  # refused because of a lock, not a full window or a wait


Limits = Sequence[tuple[Policy, str]]


def counted(
    policy: Policy, state: Counter | None, now: datetime.datetime, amount: int = 1
) -> Counter:
    """The counter after one more count (the rule the SQL and the Lua script repeat)."""
    if state is None or state.window_ends <= now:
        count, ends = amount, now + policy.window
    else:
        count, ends = state.count + amount, state.window_ends
    if policy.lock is not None and count >= policy.limit:
        return Counter(0, now, None, now + policy.lock)
    locked = (
        state.locked_until if state and state.locked_until and state.locked_until > now else None
    )
    wait = policy.wait(count)
    return Counter(count, ends, now + wait if wait else None, locked)


def reached(policy: Policy, state: Counter) -> int:
    """The count a counted try reached (a lock starts the count afresh at 0)."""
    return state.count if state.count or state.locked_until is None else policy.limit


def _seconds(delta: datetime.timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def judge(
    policy: Policy, state: Counter | None, now: datetime.datetime, amount: int = 1
) -> Decision:
    """May one more try (weighing `amount`) be made now?"""
    if state is None:
        return Decision(True, policy=policy.name)
    if state.locked_until is not None and now < state.locked_until:
        return Decision(False, _seconds(state.locked_until - now), 0, policy.name, locked=True)
    if state.window_ends <= now:
        return Decision(True, policy=policy.name)
    if state.count + amount > policy.limit:
        return Decision(False, _seconds(state.window_ends - now), state.count, policy.name)
    if state.next_at is not None and now < state.next_at:
        return Decision(False, _seconds(state.next_at - now), state.count, policy.name)
    return Decision(True, 0, state.count, policy.name)


class Backend(Protocol):
    """Where counters live. `db` is the caller's session (unused by Redis and memory)."""

    def take(
        self,
        db: Session | None,
        limits: Limits,
        checks: Limits,
        now: datetime.datetime,
        amount: int = 1,
    ) -> tuple[bool, list[Counter | None]]:
        """Count `amount` under every key of `limits` if each of them and of `checks` (only
        looked at, as for a count of 1) allows it, else under none: (True, the counters of
        `limits` after) or (False, the counters of `limits` and then of `checks` as they
        are)."""
        ...

    def count(
        self, db: Session | None, policy: Policy, key: str, now: datetime.datetime
    ) -> Counter: ...

    def read(self, db: Session | None, policy: Policy, key: str) -> Counter | None: ...

    def refund(self, db: Session | None, limits: Limits) -> None: ...

    def clear(self, db: Session | None, policy: Policy, key: str) -> None: ...

    def purge(self, db: Session | None, now: datetime.datetime) -> int: ...


def check_key(key: str) -> str:
    if key != GLOBAL and not _KEY.fullmatch(key):
        raise ValueError("a limit key is a keyed hash (64 hex digits) or GLOBAL")
    return key


def _check_amount(policy: Policy, amount: int) -> None:
    if amount < 1:
        raise ValueError("a count weighs at least 1")
    if policy.lock is not None or policy.delay_after is not None:
        raise ValueError(f"policy {policy.name}: only a plain budget takes counts above 1")
    if amount > policy.limit:
        raise ValueError(f"policy {policy.name}: a count of {amount} is over the whole limit")


def key_of(vault: Vault, kind: str, *parts: str) -> str:
    """A limit key for identifiers (a phone number, an address, a claim number...)."""
    return vault.lookup("\x1f".join(parts), kind=f"limit:{kind}")


class Limiter:
    def __init__(self, backend: Backend, clock: Clock) -> None:
        self.backend = backend
        self.clock = clock

    def hit(self, db: Session | None, policy: Policy, key: str) -> Decision:
        """Check and count one try as one step; a refused try is not counted."""
        return self.hit_all(db, [(policy, key)])

    def hit_all(
        self, db: Session | None, limits: Limits, *, unless: Limits = (), amount: int = 1
    ) -> Decision:
        """One try under several policies and keys: counted under all or, refused, none.

        `unless` are limits only looked at in the same step: a refusal there refuses the
        try (a lock-out kept by failures elsewhere, say). Allowed: `count` is the first
        limit's. Refused: the longest wait among the refusing limits. A try weighing
        `amount` > 1 is allowed while each window's total stays within its limit."""
        if not limits:
            raise ValueError("nothing to count")
        for _, key in [*limits, *unless]:
            check_key(key)
        if amount != 1:
            for policy, _ in limits:
                _check_amount(policy, amount)
        now = self.clock()
        ok, states = self.backend.take(db, limits, unless, now, amount)
        if ok:
            policy, state = limits[0][0], states[0]
            assert state is not None
            return Decision(True, 0, reached(policy, state), policy.name)
        weights = [amount] * len(limits) + [1] * len(unless)
        refusals = [
            d
            for (policy, _), state, weight in zip([*limits, *unless], states, weights, strict=True)
            if not (d := judge(policy, state, now, weight)).allowed
        ]
        if not refusals:  # counted in between by another request; refuse all the same
            refusals = [Decision(False, 1, 0, limits[0][0].name)]
        refusal = max(refusals, key=lambda d: d.retry_after_seconds)
        metrics.refused(refusal.policy)
        return refusal

    def peek(self, db: Session | None, policy: Policy, key: str) -> Decision:
        """Would a try be allowed now? Counts nothing."""
        decision = judge(policy, self.backend.read(db, policy, check_key(key)), self.clock())
        if not decision.allowed:
            metrics.refused(policy.name)
        return decision

    def record_failure(self, db: Session | None, policy: Policy, key: str) -> Decision:
        """Count a failed try whatever the counter says; returns what the next try meets."""
        now = self.clock()
        state = self.backend.count(db, policy, check_key(key), now)
        decision = judge(policy, state, now)
        return Decision(
            decision.allowed,
            decision.retry_after_seconds,
            reached(policy, state),
            policy.name,
            decision.locked,
        )

    def refund(self, db: Session | None, limits: Limits) -> None:
        """Give back one counted try under each key (the work it paid for did not happen)."""
        for _, key in limits:
            check_key(key)
        self.backend.refund(db, limits)

    def reset(self, db: Session | None, policy: Policy, key: str) -> None:
        """Forget the key's counter: waits, locks and counts."""
        self.backend.clear(db, policy, check_key(key))

    def purge(self, db: Session | None) -> int:
        """Delete counters that no longer count for anything (Redis expires its own)."""
        return self.backend.purge(db, self.clock())
