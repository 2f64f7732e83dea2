"""Sign-in sessions of every role: members, adjusters and the supplement portal.

One table holds them all; the role (`kind`) is part of every look-up, so a member's token
never opens the back office and a portal cookie never acts as a member. The subject is
the account id, the adjuster id, or the claim id of a portal session (whose `scope_id` is
the supplement it answers).

- A token is 32 random bytes; only its SHA-256 (server/crypto.py token_hash) is stored.
- A session ends after `idle` without use, `absolute` after it started, or when revoked.
- Rotation: starting a session with the token held so far (`replacing`) revokes that one;
  `rotate` swaps the token of a live session for a new one.
- Reads do not write: the idle clock (`last_seen_at`) moves only once it is older than
  `touch_every` (a tenth of the idle window, at most a minute), so a run of requests
  costs one UPDATE per interval instead of one each. The price: a session can end up to
  `touch_every` before a full idle window has passed since its last request.
"""

from __future__ import annotations

import datetime
import enum
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Index, Integer, Select, String, Table, bindparam, delete, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Mapper, Session, make_transient_to_detached, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from server.crypto import token_hash
from server.db import Base, UTCDateTime

log = logging.getLogger("sessions")

TOKEN_MAX = 100  # longer input is not a token of ours: no hashing, no query
# rows stay a day past their end (revoked rows until their own end), then are purged
KEEP_AFTER_END = datetime.timedelta(days=1)


T = TypeVar("T")


class SessionKind(enum.StrEnum):
    MEMBER = "member"
    ADJUSTER = "adjuster"
    PORTAL = "portal"
    # the H5 page of documents asked for on a service request (subject: that request
    # for documents, server/service_supplements)
    REQUEST_PORTAL = "request_portal"


class LoginSession(Base):
    """One sign-in of a member, an adjuster or a supplement-portal visitor."""

    __tablename__ = "login_session"
    __table_args__ = (
        Index("ix_login_session_subject", "kind", "subject_id"),
        Index("ix_login_session_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # a SessionKind value
    # account id (member), adjuster id (adjuster) or claim id (portal)
    subject_id: Mapped[int] = mapped_column(Integer)
    # what the session is narrowed to: the supplement request of a portal session
    scope_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))  # app | wechat | back-office | h5
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    # the latest moment the session can live, whatever the activity
    expires_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True, slots=True)
class Lifetime:
    idle: datetime.timedelta
    absolute: datetime.timedelta

    @property
    def touch_every(self) -> datetime.timedelta:
        return min(self.idle / 10, datetime.timedelta(minutes=1))

    @classmethod
    def of(cls, idle_minutes: int, absolute_hours: int) -> Lifetime:
        return cls(
            datetime.timedelta(minutes=idle_minutes), datetime.timedelta(hours=absolute_hours)
        )


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session found live: whose it is and what it opens (no token: that stays secret)."""

    id: int
    kind: SessionKind
    subject_id: int
    scope_id: int | None
    channel: str
    expires_at: datetime.datetime


@dataclass(frozen=True, slots=True)
class Issued:
    token: str
    session: LiveSession

    @property
    def expires_at(self) -> datetime.datetime:
        return self.session.expires_at


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, or None.

    The one parser of the header, for GraphQL and the HTTP endpoints alike.
    """
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


@dataclass(frozen=True, slots=True)
class Opened(Generic[T]):
    """A session found live before its request ran (the API budget's look), with its
    subject row as read then, so that the request need not read them again (`adopt`)."""

    session: LiveSession
    last_seen_at: datetime.datetime
    subject: T | None  # None: the session's subject row is gone


# a Session.info flag: this transaction ended sessions, so what was read before may be stale
_ENDED = "sessions.ended"


def _attached(db: Session, who: T) -> T:
    """`who` (detached, as loaded) in `db`, without a statement; the copy `db` holds
    already when it read that row before in this transaction (as a query would give)."""
    key = sa_inspect(who).key
    present = db.identity_map.get(key) if key is not None else None
    if present is not None:
        return cast(T, present)
    db.add(who)
    return who


def _live_view(row: Any) -> LiveSession:
    return LiveSession(
        row.id, SessionKind(row.kind), row.subject_id, row.scope_id, row.channel, row.expires_at
    )


# the session's own columns, read as plain values (no ORM object, no identity map)
_SESSIONS = cast(Table, LoginSession.__table__)
_COLUMNS = tuple(
    _SESSIONS.c[name]
    for name in (
        "id",
        "kind",
        "subject_id",
        "scope_id",
        "channel",
        "expires_at",
        "last_seen_at",
        "revoked_at",
    )
)
_TOUCH = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("session_id"))
    .values(last_seen_at=bindparam("now"))
)
_BY_TOKEN = (
    _SESSIONS.c.token_hash == bindparam("token_hash"),
    _SESSIONS.c.kind == bindparam("kind"),
)


@dataclass(frozen=True, slots=True)
class _SubjectRead:
    """A session and its subject's row in one Core statement (compiled once, cached with
    it), and how the subject's columns become a model instance."""

    statement: Select[Any]
    keys: tuple[str, ...]  # the subject's attribute names, in the statement's column order

    def subject(self, row: Any, model: type[T]) -> T | None:
        values = row[len(_COLUMNS) :]
        if values[0] is None:  # an outer join that found no subject
            return None
        who = model(**dict(zip(self.keys, values, strict=True)))
        # as if loaded by a query: no pending changes, ready to join a Session unread
        make_transient_to_detached(who)
        return who


def _subject_read(model: type, outer: bool) -> _SubjectRead:
    mapper: Mapper[Any] = sa_inspect(model)
    props = [p for p in mapper.column_attrs if len(p.columns) == 1]
    # the primary key first: its value says whether an outer join found the subject
    props.sort(key=lambda p: not p.columns[0].primary_key)
    table = mapper.local_table
    on = table.c.id == _SESSIONS.c.subject_id
    statement = (
        select(*_COLUMNS, *(p.columns[0] for p in props))
        .select_from(_SESSIONS)
        .join(table, on, isouter=outer)
        .where(*_BY_TOKEN)
    )
    return _SubjectRead(cast("Select[Any]", statement), tuple(p.key for p in props))


class SessionStore:
    def __init__(self, clock: Callable[[], datetime.datetime], lifetime: Lifetime) -> None:
        self.clock = clock
        self.lifetime = lifetime
        # statements built once per subject model (their compiled form is cached with them)
        self._with_subject: dict[tuple[type, bool], _SubjectRead] = {}

    def _subject_read(self, subject: type, outer: bool) -> _SubjectRead:
        known = self._with_subject.get((subject, outer))
        if known is None:
            known = self._with_subject[(subject, outer)] = _subject_read(subject, outer)
        return known

    def _is_live(self, row: Any, now: datetime.datetime) -> bool:
        return (
            row is not None
            and row.revoked_at is None
            and now < row.expires_at
            and now < row.last_seen_at + self.lifetime.idle
        )

    def _row(self, db: Session, kind: SessionKind, token: str | None) -> LoginSession | None:
        if not token or len(token) > TOKEN_MAX:
            return None
        return db.scalar(
            select(LoginSession).where(
                LoginSession.token_hash == token_hash(token), LoginSession.kind == kind.value
            )
        )

    def start(
        self,
        db: Session,
        kind: SessionKind,
        subject_id: int,
        *,
        channel: str,
        scope_id: int | None = None,
        replacing: str | None = None,
    ) -> Issued:
        """A new session; the token it `replaces` (the one held so far) stops working."""
        now = self.clock()
        if replacing:
            self.end(db, kind, replacing)
        self.purge(db)
        token = secrets.token_urlsafe(32)  # 256 bits
        row = LoginSession(
            kind=kind.value,
            subject_id=subject_id,
            scope_id=scope_id,
            channel=channel,
            token_hash=token_hash(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + self.lifetime.absolute,
        )
        db.add(row)
        db.flush()
        return Issued(token, _live_view(row))

    def authenticate(self, db: Session, kind: SessionKind, token: str | None) -> LiveSession | None:
        """The live session of this role the token opens (idle clock moved when due), or None."""
        now = self.clock()
        row = self._row(db, kind, token)
        if row is None or not self._is_live(row, now):
            return None
        if now - row.last_seen_at >= self.lifetime.touch_every:
            self._touch(db, row, now)
        return _live_view(row)

    def _touch(self, db: Session, row: LoginSession, now: datetime.datetime) -> None:
        if self._touch_id(db, row.id, now):
            set_committed_value(row, "last_seen_at", now)

    def _touch_id(self, db: Session, session_id: int, now: datetime.datetime) -> bool:
        """Move the idle clock, in a savepoint of its own: a database that refuses writes
        (a full disk) costs the session a touch, never the request that reads."""
        try:
            with db.begin_nested():
                db.execute(_TOUCH, {"session_id": session_id, "now": now})
        except OperationalError as e:
            log.warning("session idle clock not moved: %s", type(e.orig).__name__)
            return False
        return True

    def authenticate_subject(
        self, db: Session, kind: SessionKind, token: str | None, subject: type[T]
    ) -> tuple[LiveSession, T] | None:
        """As `authenticate`, with the session's subject row (an `id`-keyed model) read in
        the same statement: one round trip for every signed-in request."""
        if not token or len(token) > TOKEN_MAX:
            return None
        now = self.clock()
        read = self._subject_read(subject, outer=False)
        if db.autoflush:
            db.flush()  # as a query through the Session would: it sees this transaction's changes
        found = (
            db.connection()
            .execute(read.statement, {"token_hash": token_hash(token), "kind": kind.value})
            .first()
        )
        if found is None or not self._is_live(found, now):
            return None
        if now - found.last_seen_at >= self.lifetime.touch_every:
            self._touch_id(db, found.id, now)
        who = read.subject(found, subject)
        assert who is not None  # an inner join
        return _live_view(found), _attached(db, who)

    def peek_subject(
        self, db: Session, kind: SessionKind, token: str | None, subject: type[T]
    ) -> Opened[T] | None:
        """`peek` with the session's subject row read in the same statement (None in
        `Opened.subject` when that row is gone): for a look before the request runs whose
        finding the request then takes over (`adopt`) instead of reading it again."""
        if not token or len(token) > TOKEN_MAX:
            return None
        read = self._subject_read(subject, outer=True)
        found = (
            db.connection()
            .execute(read.statement, {"token_hash": token_hash(token), "kind": kind.value})
            .first()
        )
        if found is None or not self._is_live(found, self.clock()):
            return None
        return Opened(_live_view(found), found.last_seen_at, read.subject(found, subject))

    def adopt(self, db: Session, opened: Opened[T]) -> tuple[LiveSession, T] | None:
        """What `authenticate_subject` would give, from a session found live moments ago by
        `peek_subject` (in a session of its own, since closed) for this very request: the
        subject row joins `db` without being read again, and the idle clock moves when due.
        None (read again) when there is no subject, or when `db` has ended sessions since
        (a sign-out, a rotation: what was found may have ended)."""
        who = opened.subject
        if who is None or db.info.get(_ENDED):
            return None
        now = self.clock()
        if not self._is_live_at(opened.session, opened.last_seen_at, now):
            return None
        who = _attached(db, who)
        if now - opened.last_seen_at >= self.lifetime.touch_every:
            self._touch_id(db, opened.session.id, now)
        return opened.session, who

    def _is_live_at(
        self, session: LiveSession, last_seen_at: datetime.datetime, now: datetime.datetime
    ) -> bool:
        return now < session.expires_at and now < last_seen_at + self.lifetime.idle

    def peek(self, db: Session, kind: SessionKind, token: str | None) -> LiveSession | None:
        """The live session of this role the token opens, without counting it as activity
        (for a look before the request runs, as the API budget takes)."""
        row = self._row(db, kind, token)
        return _live_view(row) if row is not None and self._is_live(row, self.clock()) else None

    def find(self, db: Session, session_id: int) -> LiveSession | None:
        """The session with this id if it is still live, without counting it as activity
        (for signed links, which name their session)."""
        row = db.get(LoginSession, session_id)
        return _live_view(row) if row is not None and self._is_live(row, self.clock()) else None

    def rotate(self, db: Session, kind: SessionKind, token: str) -> Issued | None:
        """A new token for the live session `token` opens (same subject, same end); the old
        token stops working. None when there is no such live session."""
        now = self.clock()
        row = self._row(db, kind, token)
        if row is None or not self._is_live(row, now):
            return None
        row.revoked_at = now
        db.info[_ENDED] = True
        fresh = secrets.token_urlsafe(32)
        copy = LoginSession(
            kind=row.kind,
            subject_id=row.subject_id,
            scope_id=row.scope_id,
            channel=row.channel,
            token_hash=token_hash(fresh),
            created_at=now,
            last_seen_at=now,
            expires_at=row.expires_at,  # rotation does not lengthen a session
        )
        db.add(copy)
        db.flush()
        return Issued(fresh, _live_view(copy))

    def end(self, db: Session, kind: SessionKind, token: str | None) -> None:
        """Sign out: the session of this token ends now (nothing happens for an unknown one)."""
        if not token or len(token) > TOKEN_MAX:
            return
        db.info[_ENDED] = True
        db.execute(
            update(LoginSession)
            .where(
                LoginSession.token_hash == token_hash(token),
                LoginSession.kind == kind.value,
                LoginSession.revoked_at.is_(None),
            )
            .values(revoked_at=self.clock())
        )

    def end_all(
        self, db: Session, kind: SessionKind, subject_id: int, *, channel: str | None = None
    ) -> None:
        """Every open session of one subject (of one channel, if given) ends now."""
        q = update(LoginSession).where(
            LoginSession.kind == kind.value,
            LoginSession.subject_id == subject_id,
            LoginSession.revoked_at.is_(None),
        )
        if channel is not None:
            q = q.where(LoginSession.channel == channel)
        db.info[_ENDED] = True
        db.execute(q.values(revoked_at=self.clock()))

    def purge(self, db: Session) -> int:
        """Delete sessions that ended more than a day ago (by their absolute limit)."""
        result = db.execute(
            delete(LoginSession).where(LoginSession.expires_at < self.clock() - KEEP_AFTER_END)
        )
        return int(getattr(result, "rowcount", 0) or 0)
