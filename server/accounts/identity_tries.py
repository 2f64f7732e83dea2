"""Real-name tries (实名认证): a daily budget per member, per client address and per identity
aimed at, so that a name, a birth date and a region cannot be walked through the ID numbers.

Every look-up of an identity (verifyRealName, bindWechat) first takes one try from each of
its keys, all or none. Each key's count is raised by one upsert that changes the row only
while it is under the limit and returns the new count; no row back means the key is spent.
The rows stay locked until the request's transaction ends, so concurrent calls queue on
them on PostgreSQL (SQLite has one writer anyway): however many arrive at once, exactly
the limit gets through. A refused call takes nothing from any key and looks nothing up.
A key whose window has passed starts a new one with its next try (the row is reused).

Keys are keyed hashes (nothing personal is readable in the table):
- member: the account's mobile, MEMBER_LIMIT a window; a verification that succeeds
  gives the member a fresh budget;
- client: the client address Starlette reports (uvicorn --proxy-headers puts the real one
  there), CLIENT_LIMIT a window: families and offices share addresses;
- id: the document tried, IDENTITY_LIMIT a window, whoever tries;
- aim: the name with the document number less its last 4 characters (for a resident ID:
  the region and the birth date), IDENTITY_LIMIT a window: what someone knows who guesses
  the serial and check digit of a named person, from however many accounts and addresses.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import case, delete, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.accounts.errors import RealNameLocked
from server.accounts.models import IdentityTry
from server.crypto import Vault
from server.db import UTCDateTime
from server.notify.templates import HOTLINE
from server.policies.models import IdType
from server.workdays import CHINA_TZ

MEMBER_LIMIT = 5
CLIENT_LIMIT = 20
IDENTITY_LIMIT = 5
WINDOW = datetime.timedelta(hours=24)
# characters of the document number an attacker is assumed not to know
GUESSED_TAIL = 4


@dataclass(frozen=True, slots=True)
class TryKey:
    key: str
    limit: int


def member_key(phone_hash: str) -> TryKey:
    return TryKey(f"member:{phone_hash}", MEMBER_LIMIT)


def try_keys(
    vault: Vault,
    *,
    member_phone_hash: str,
    client: str | None,
    id_type: IdType,
    name: str,
    number: str,
) -> list[TryKey]:
    """The keys one try is counted under; `name` and `number` normalised by the caller."""
    keys = [
        member_key(member_phone_hash),
        TryKey(
            "id:" + vault.lookup(f"{id_type.value}:{number}", kind="identity-try"),
            IDENTITY_LIMIT,
        ),
        TryKey(
            "aim:"
            + vault.lookup(
                f"{id_type.value}:{name}:{number[:-GUESSED_TAIL]}", kind="identity-try-aim"
            ),
            IDENTITY_LIMIT,
        ),
    ]
    if client:
        keys.append(TryKey("client:" + vault.lookup(client, kind="identity-client"), CLIENT_LIMIT))
    return keys


def _count(db: Session, key: TryKey, now: datetime.datetime) -> int | None:
    """One more try under the key, or None (and no change) when its window is spent."""
    row = IdentityTry
    stale = row.window_start <= now - WINDOW
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    upsert = (
        insert(row)
        .values(key=key.key, tries=1, window_start=now)
        .on_conflict_do_update(
            index_elements=[row.key],
            set_={
                "tries": case((stale, 1), else_=row.tries + 1),
                "window_start": case((stale, literal(now, UTCDateTime())), else_=row.window_start),
            },
            where=or_(stale, row.tries < key.limit),
        )
        .returning(row.tries)
    )
    return db.execute(upsert).scalar_one_or_none()


def take_try(db: Session, keys: list[TryKey], now: datetime.datetime) -> None:
    """Counts one try under every key, or raises RealNameLocked having counted none."""
    # one order for every caller, so two calls never wait on each other's rows crosswise
    ordered = sorted(keys, key=lambda k: k.key)
    savepoint = db.begin_nested()
    for key in ordered:
        if _count(db, key, now) is None:
            savepoint.rollback()
            _locked(db, ordered, now)
    savepoint.commit()


def _locked(db: Session, keys: list[TryKey], now: datetime.datetime) -> None:
    limits = {k.key: k.limit for k in keys}
    rows = db.execute(
        select(IdentityTry.key, IdentityTry.tries, IdentityTry.window_start).where(
            IdentityTry.key.in_(limits), IdentityTry.window_start > now - WINDOW
        )
    ).all()
    ends = [start + WINDOW for key, tries, start in rows if tries >= limits[key]]
    until = max(ends, default=now + WINDOW)
    seconds = int((until - now).total_seconds() + 0.999)
    raise RealNameLocked(
        "Too many real-name verification tries. Try again after "
        f"{until.astimezone(CHINA_TZ):%Y-%m-%d %H:%M} (Beijing time), in about "
        f"{_hours(seconds)}, or call the service hotline {HOTLINE}.",
        seconds,
    )


def _hours(seconds: int) -> str:
    if seconds < 3600:
        minutes = max(1, (seconds + 59) // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = (seconds + 3599) // 3600
    return f"{hours} hour{'s' if hours != 1 else ''}"


def forget(db: Session, key: TryKey) -> None:
    """Gives the key a fresh budget (a member who has just verified)."""
    db.execute(delete(IdentityTry).where(IdentityTry.key == key.key))
