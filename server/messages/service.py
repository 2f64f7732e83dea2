"""Post, list and mark read a member's in-app messages."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from server.db import insert_once
from server.errors import InvalidInput
from server.messages.models import MemberMessage

LANGUAGES = ("zh", "en")
PAGE_MAX = 100
MARK_MAX = 100  # ids in one markMessagesRead


@dataclass(frozen=True, slots=True)
class MessagePage:
    items: list[MemberMessage]
    total: int
    unread: int
    has_next: bool


def post(
    db: Session,
    *,
    account_id: int,
    kind: str,
    subject_type: str,
    subject_id: int,
    language: str,
    title: str,
    body: str,
    dedupe_key: str,
    now: datetime.datetime,
) -> MemberMessage:
    """Add a message in the caller's transaction; the same key twice gives the first one."""
    values = post_values(
        account_id=account_id,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        language=language,
        title=title,
        body=body,
        dedupe_key=dedupe_key,
        now=now,
    )
    row, _ = insert_once(
        db, MemberMessage, "dedupe_key", **{c: values[f"msg_{c}"] for c in _COLUMNS}
    )
    return row


_COLUMNS = (
    "account_id",
    "kind",
    "subject_type",
    "subject_id",
    "language",
    "title",
    "body",
    "created_at",
    "read_at",
    "dedupe_key",
)
_TABLE = cast(Table, MemberMessage.__table__)
# PostgreSQL: `post` as a statement a caller may give CTEs of its own (values: `post_values`)
POST = (
    postgresql.insert(_TABLE)
    .values({c: bindparam(f"msg_{c}", type_=_TABLE.c[c].type) for c in _COLUMNS})
    .on_conflict_do_nothing(index_elements=[_TABLE.c.dedupe_key])
)


def post_values(
    *,
    account_id: int,
    kind: str,
    subject_type: str,
    subject_id: int,
    language: str,
    title: str,
    body: str,
    dedupe_key: str,
    now: datetime.datetime,
) -> dict[str, Any]:
    """`post`'s checks, and the parameters of `POST` (the same key twice writes one row)."""
    if language not in LANGUAGES:
        raise InvalidInput(f"Unknown language {language!r}.", field="language")
    values = {
        "account_id": account_id,
        "kind": kind,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "language": language,
        "title": title[:200],
        "body": body,
        "created_at": now,
        "read_at": None,
        "dedupe_key": dedupe_key,
    }
    return {f"msg_{c}": v for c, v in values.items()}


def page(
    db: Session, account_id: int, *, offset: int, limit: int, unread_only: bool = False
) -> MessagePage:
    """One account's messages, newest first."""
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput(f"'first' must be between 1 and {PAGE_MAX}.", field="first")
    mine = MemberMessage.account_id == account_id
    where = [mine, MemberMessage.read_at.is_(None)] if unread_only else [mine]
    rows = list(
        db.scalars(
            select(MemberMessage)
            .where(*where)
            .order_by(MemberMessage.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
    )
    total = db.scalar(select(func.count()).select_from(MemberMessage).where(*where)) or 0
    return MessagePage(rows[:limit], total, unread_count(db, account_id), len(rows) > limit)


def unread_count(db: Session, account_id: int) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(MemberMessage)
            .where(MemberMessage.account_id == account_id, MemberMessage.read_at.is_(None))
        )
        or 0
    )


def mark_read(
    db: Session, account_id: int, ids: Sequence[int] | None, now: datetime.datetime
) -> int:
    """Mark the given messages (or, with None, all) read; another member's ids change nothing.

    Returns how many were unread and are read now.
    """
    if ids is not None and len(ids) > MARK_MAX:
        raise InvalidInput(f"At most {MARK_MAX} messages at once.", field="ids")
    where = [MemberMessage.account_id == account_id, MemberMessage.read_at.is_(None)]
    if ids is not None:
        if not ids:
            return 0
        where.append(MemberMessage.id.in_(list(ids)))
    result = db.execute(
        update(MemberMessage)
        .where(*where)
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
