"""Counters in a dictionary of this process, for unit tests (one process, no database)."""

from __future__ import annotations

import dataclasses
import datetime
import threading

from sqlalchemy.orm import Session

from server.limits import Counter, Limits, Policy, counted, judge


class MemoryBackend:
    def __init__(self) -> None:
        self._counters: dict[tuple[str, str], Counter] = {}
        self._lock = threading.Lock()

    def take(
        self,
        db: Session | None,
        limits: Limits,
        checks: Limits,
        now: datetime.datetime,
        amount: int = 1,
    ) -> tuple[bool, list[Counter | None]]:
        with self._lock:
            everything = [*limits, *checks]
            states = [self._counters.get((p.name, k)) for p, k in everything]
            weights = [amount] * len(limits) + [1] * len(checks)
            if not all(
                judge(p, s, now, w).allowed
                for (p, _), s, w in zip(everything, states, weights, strict=True)
            ):
                return False, states
            after: list[Counter | None] = []
            for policy, key in limits:
                state = counted(policy, self._counters.get((policy.name, key)), now, amount)
                self._counters[(policy.name, key)] = state
                after.append(state)
            return True, after

    def count(
        self, db: Session | None, policy: Policy, key: str, now: datetime.datetime
    ) -> Counter:
        with self._lock:
            state = counted(policy, self._counters.get((policy.name, key)), now)
            self._counters[(policy.name, key)] = state
            return state

    def read(self, db: Session | None, policy: Policy, key: str) -> Counter | None:
        with self._lock:
            return self._counters.get((policy.name, key))

    def refund(self, db: Session | None, limits: Limits) -> None:
        with self._lock:
            for policy, key in limits:
                state = self._counters.get((policy.name, key))
                if state is not None and state.count > 0:
                    self._counters[(policy.name, key)] = dataclasses.replace(
                        state, count=state.count - 1
                    )

    def clear(self, db: Session | None, policy: Policy, key: str) -> None:
        with self._lock:
            self._counters.pop((policy.name, key), None)

    def purge(self, db: Session | None, now: datetime.datetime) -> int:
        with self._lock:
            done = [
                k
                for k, s in self._counters.items()
                if s.window_ends <= now
                and (s.next_at is None or s.next_at <= now)
                and (s.locked_until is None or s.locked_until <= now)
            ]
            for k in done:
                del self._counters[k]
            return len(done)
