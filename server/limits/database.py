"""Counters in the database (the default backend), one upsert per count.

Each count is one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` (PostgreSQL, and
SQLite from 3.35): a new key gets its row, an existing one is raised in place, so two
requests never race to insert the same key. For `hit` the update carries the policy's
rule as its WHERE: a key that must refuse is left as it is and no row comes back, so
checking and counting are one statement. The row it touched stays locked until the
transaction ends: concurrent tries on a key queue on it on PostgreSQL (SQLite has one
writer anyway), and however many arrive at once the limit holds exactly.

Counts are written in the caller's session, not in a transaction of their own. They
commit with the request's work and roll back with it: a budget is spent only when what it
pays for (the SMS in the outbox, the captcha stored) is kept, and a request that fails
unexpectedly leaves no count. So a caller that counts a failure must commit it: GraphQL
commits typed errors (a wrong password answers LoginFailed and the failure stays counted)
and the H5 portal returns its refusals rather than raising them. Several keys at once on
PostgreSQL: one statement locks and reads all their rows in the keys' one order (a
multi-row upsert that changes nothing in a row already there), and, if every one allows
the try, one more counts them all (each key's upsert a data-modifying CTE); a refusal
writes no count and needs no savepoint. On SQLite, and with `unless` keys, the counts
go in a savepoint that a refusal rolls back. One key refused is one statement that wrote
nothing (its row stays locked until the caller's transaction ends). Either way the
caller's transaction stays usable. The cost of locking until commit: requests on one key
take turns for the rest of their transaction; for the overall SMS budget that means SMS
issuing (the gateway call included) goes one at a time. Where that is too slow, set
REDIS_URL (server/limits/redis_store.py counts outside the transaction).
"""

from __future__ import annotations

import datetime
import functools
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    delete,
    false,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db import UTCDateTime
from server.limits import Counter, Limits, Policy, counted, judge
from server.limits.models import RateLimit

_t = RateLimit.__table__.c
_STATE = (_t.count, _t.window_ends, _t.next_at, _t.locked_until)
PURGE_BATCH = 500


def _at(name: str) -> Any:
    """A moment given when the statement runs (the statements are built once per policy)."""
    return bindparam(name, type_=UTCDateTime())


def _moment(moment: datetime.datetime) -> Any:
    return literal(moment, UTCDateTime())


def _big(n: int) -> Any:
    # a limit may pass the counters' 32 bits (a budget of points): bound as a BIGINT
    return literal(n, BigInteger())


def _session(db: Session | None) -> Session:
    if db is None:
        raise ValueError("the database limiter counts in the caller's session")
    return db


def _upsert(
    db: Session, policy: Policy, key: str, now: datetime.datetime, *, checked: bool, amount: int = 1
) -> tuple[Any, dict[str, Any]]:
    """The statement of one count and its parameters."""
    params = _params(policy, key, now, amount)
    return _statement(db.get_bind().dialect.name, policy, checked, amount), params


def _params(
    policy: Policy, key: str, now: datetime.datetime, amount: int, prefix: str = ""
) -> dict[str, Any]:
    """The values of one count's statement, under the names `_statement(prefix=...)` binds."""
    first = counted(policy, None, now, amount)
    params: dict[str, Any] = {
        "key": key,
        "now": now,
        "window_end": now + policy.window,
        "first_count": first.count,
        "first_window_ends": first.window_ends,
        "first_next_at": first.next_at,
        "first_locked_until": first.locked_until,
    }
    if policy.delay_after is not None:
        for i, (_, wait) in enumerate(policy.delay_steps()):
            params[f"step_{i}"] = now + wait
        params["cap_at"] = now + policy.cap
    if policy.lock is not None:
        params["lock_end"] = now + policy.lock
    if not prefix:
        return params
    return {(k if k == "now" else prefix + k): v for k, v in params.items()}


def _allowed(row: Any, policy: Policy, amount: int, now: Any) -> ColumnElement[bool]:
    """The rule of limits.judge, on a counter's columns (`row.count` and the others)."""
    return and_(
        or_(row.locked_until.is_(None), row.locked_until <= now),
        or_(
            row.window_ends <= now,
            and_(
                row.count <= _big(policy.limit - amount),
                or_(row.next_at.is_(None), row.next_at <= now),
            ),
        ),
    )


@functools.lru_cache(maxsize=512)
def _statement(dialect: str, policy: Policy, checked: bool, amount: int, prefix: str = "") -> Any:
    """One count's upsert, built once (its moments and the key are bound parameters, named
    with `prefix` when several counts share a statement)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def at(name: str) -> Any:
        return _at(prefix + name)

    now = _at("now")
    stale = _t.window_ends <= now
    n = case((stale, amount), else_=_t.count + amount)
    locking: ColumnElement[bool] = false()
    if policy.lock is not None:
        locking = n >= _big(policy.limit)
    next_at: Any = null()
    if policy.delay_after is not None:
        steps = [(n == count, at(f"step_{i}")) for i, (count, _) in enumerate(policy.delay_steps())]
        next_at = case((n < policy.delay_after, null()), *steps, else_=at("cap_at"))
    values: dict[str, Any] = {
        "count": n,
        "window_ends": case((stale, at("window_end")), else_=_t.window_ends),
        "next_at": next_at,
        "locked_until": case((_t.locked_until > now, _t.locked_until), else_=null()),
    }
    if policy.lock is not None:
        values = {
            "count": case((locking, 0), else_=values["count"]),
            "window_ends": case((locking, now), else_=values["window_ends"]),
            "next_at": case((locking, null()), else_=values["next_at"]),
            "locked_until": case((locking, at("lock_end")), else_=values["locked_until"]),
        }
    # the rule of limits.judge, on the row as it is
    allowed = _allowed(_t, policy, amount, now)
    first = {
        "policy": literal(policy.name, _t.policy.type),
        "key": bindparam(prefix + "key", type_=_t.key.type),
        "count": bindparam(prefix + "first_count", type_=_t.count.type),
        "window_ends": at("first_window_ends"),
        "next_at": at("first_next_at"),
        "locked_until": at("first_locked_until"),
    }
    return (
        insert(RateLimit)
        .values(**first)
        .on_conflict_do_update(
            index_elements=[_t.policy, _t.key], set_=values, where=allowed if checked else None
        )
        .returning(*_STATE)
    )


@functools.lru_cache(maxsize=256)
def _lock_all(size: int) -> Any:
    """PostgreSQL: the rows of `size` keys (bound as k0_policy, k0_key, ...), locked in the
    order given and read as they are now: one multi-row INSERT of empty counters (a count
    of 0 in a window already over, which counts as no row) whose conflict on a row that
    exists changes nothing in it. A row another request is inserting is waited for."""
    rows = [
        {
            "policy": bindparam(f"k{i}_policy", type_=_t.policy.type),
            "key": bindparam(f"k{i}_key", type_=_t.key.type),
            "count": literal(0, _t.count.type),
            "window_ends": _at("now"),
            "next_at": null(),
            "locked_until": null(),
        }
        for i in range(size)
    ]
    return (
        # the Table (Core): given to an ORM insert, a dict of parameters would be a row
        postgresql.insert(cast(Table, RateLimit.__table__))
        .values(rows)
        .on_conflict_do_update(index_elements=[_t.policy, _t.key], set_={"count": _t.count})
        .returning(_t.policy, _t.key, *_STATE)
    )


@functools.lru_cache(maxsize=256)
def _count_all(policies: tuple[Policy, ...], amount: int) -> Any:
    """PostgreSQL: the counts of several keys as one statement (each key's upsert a
    data-modifying CTE, bound as k0_key, k1_key, ...; read by a UNION ALL in the keys'
    order); a row for each key counted, with its index `i`."""
    parts = []
    for i, policy in enumerate(policies):
        cte = _statement("postgresql", policy, True, amount, f"k{i}_").cte(f"key_{i}")
        parts.append(select(literal(i).label("i"), *(cte.c[c.name] for c in _STATE)))
    return union_all(*parts)


def _counter(row: Any) -> Counter:
    return Counter(row.count, row.window_ends, row.next_at, row.locked_until)


class DatabaseBackend:
    def take(
        self,
        db: Session | None,
        limits: Limits,
        checks: Limits,
        now: datetime.datetime,
        amount: int = 1,
    ) -> tuple[bool, list[Counter | None]]:
        s = _session(db)
        states: list[Counter | None] = [None] * len(limits)
        # one order for every caller, so two requests never wait on each other's rows crosswise
        order = sorted(range(len(limits)), key=lambda i: (limits[i][0].name, limits[i][1]))
        if len(limits) == 1 and not checks:
            # one statement: counted or refused (the rule is its WHERE, nothing written) as a
            # whole, so no savepoint is needed to undo a part
            policy, key = limits[0]
            stmt, params = _upsert(s, policy, key, now, checked=True, amount=amount)
            row = s.execute(stmt, params).one_or_none()
            if row is None:
                return False, [self.read(s, policy, key)]
            return True, [_counter(row)]
        if not checks and s.get_bind().dialect.name == "postgresql":
            return self._take_all(s, limits, order, now, amount)
        savepoint = s.begin_nested()
        try:
            # the writes come first: on SQLite a transaction that has only read may not
            # get the write lock while others wait for it
            refused = False
            for i in order:
                policy, key = limits[i]
                stmt, params = _upsert(s, policy, key, now, checked=True, amount=amount)
                row = s.execute(stmt, params).one_or_none()
                if row is None:
                    refused = True
                    break
                states[i] = _counter(row)
            refused = refused or not all(
                judge(p, self.read(s, p, k), now).allowed for p, k in checks
            )
            if refused:
                savepoint.rollback()
                return False, [self.read(s, p, k) for p, k in [*limits, *checks]]
        except BaseException:
            if savepoint.is_active:
                savepoint.rollback()
            raise
        savepoint.commit()
        return True, states

    def _take_all(
        self, s: Session, limits: Limits, order: list[int], now: datetime.datetime, amount: int
    ) -> tuple[bool, list[Counter | None]]:
        """PostgreSQL, several keys, no savepoint: their rows are locked and read in the
        keys' one order (`_lock_all`, one statement); if every one allows the try, all are
        counted in one more statement, which nothing can refuse in between (the rows stay
        locked until the transaction ends). A refusal writes no count."""
        keys: dict[str, Any] = {"now": now}
        for n, i in enumerate(order):
            keys[f"k{n}_policy"], keys[f"k{n}_key"] = limits[i][0].name, limits[i][1]
        read = {(r.policy, r.key): _counter(r) for r in s.execute(_lock_all(len(order)), keys)}
        before = [read[(p.name, k)] for p, k in limits]
        if not all(
            judge(p, state, now, amount).allowed
            for (p, _), state in zip(limits, before, strict=True)
        ):
            return False, list(before)
        params: dict[str, Any] = {"now": now}
        for n, i in enumerate(order):
            params.update(_params(*limits[i], now, amount, prefix=f"k{n}_"))
        stmt = _count_all(tuple(limits[i][0] for i in order), amount)
        done = {order[r.i]: _counter(r) for r in s.execute(stmt, params)}
        if len(done) == len(limits):
            return True, [done[i] for i in range(len(limits))]
        # the rule in SQL refused what limits.judge allowed: put the others back as read
        for i in sorted(done, key=lambda i: (limits[i][0].name, limits[i][1])):
            policy, key = limits[i]
            self._put_back(s, policy, key, before[i])
        return False, list(before)

    def _put_back(self, s: Session, policy: Policy, key: str, state: Counter) -> None:
        where = (_t.policy == policy.name, _t.key == key)
        s.execute(
            update(RateLimit)
            .where(*where)
            .values(
                count=state.count,
                window_ends=state.window_ends,
                next_at=state.next_at,
                locked_until=state.locked_until,
            )
        )

    def count(
        self, db: Session | None, policy: Policy, key: str, now: datetime.datetime
    ) -> Counter:
        s = _session(db)
        stmt, params = _upsert(s, policy, key, now, checked=False)  # one statement: atomic
        return _counter(s.execute(stmt, params).one())

    def read(self, db: Session | None, policy: Policy, key: str) -> Counter | None:
        row = (
            _session(db)
            .execute(select(*_STATE).where(_t.policy == policy.name, _t.key == key))
            .one_or_none()
        )
        return None if row is None else _counter(row)

    def refund(self, db: Session | None, limits: Limits) -> None:
        s = _session(db)
        for policy, key in sorted(limits, key=lambda pk: (pk[0].name, pk[1])):
            s.execute(
                update(RateLimit)
                .where(_t.policy == policy.name, _t.key == key, _t.count > 0)
                .values(count=_t.count - 1)
            )

    def clear(self, db: Session | None, policy: Policy, key: str) -> None:
        _session(db).execute(delete(RateLimit).where(_t.policy == policy.name, _t.key == key))

    def purge(self, db: Session | None, now: datetime.datetime) -> int:
        """Deletes counters whose window, wait and lock have all passed, a batch at a time,
        skipping rows another transaction holds (it is counting under them right now)."""
        s = _session(db)
        done = and_(
            _t.window_ends <= _moment(now),
            or_(_t.next_at.is_(None), _t.next_at <= _moment(now)),
            or_(_t.locked_until.is_(None), _t.locked_until <= _moment(now)),
        )
        total = 0
        while True:
            batch = s.execute(
                select(_t.policy, _t.key)
                .where(done)
                .limit(PURGE_BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            if not batch:
                return total
            result = s.execute(
                delete(RateLimit).where(
                    tuple_(_t.policy, _t.key).in_([tuple(r) for r in batch]), done
                )
            )
            deleted = int(getattr(result, "rowcount", 0) or 0)
            total += deleted
            if len(batch) < PURGE_BATCH or not deleted:
                return total
