"""The message centre's store: once per key, newest first, read marks only one's own."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from server.errors import InvalidInput
from server.messages import service
from tests.server.claims.review_helpers import account_for

NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _post(db: Session, account_id: int, n: int, key: str | None = None) -> int:
    return service.post(
        db,
        account_id=account_id,
        kind="claim.settled",
        subject_type="claim",
        subject_id=n,
        language="zh",
        title=f"t{n}",
        body=f"b{n}",
        dedupe_key=key or f"k{account_id}:{n}",
        now=NOW + datetime.timedelta(minutes=n),
    ).id


def test_messages_page_newest_first_with_counts(db_session: Session, demo: Any) -> None:
    me = account_for(db_session, demo).id
    for n in range(5):
        _post(db_session, me, n)
    first = service.page(db_session, me, offset=0, limit=2)
    assert [m.title for m in first.items] == ["t4", "t3"]
    assert (first.total, first.unread, first.has_next) == (5, 5, True)
    last = service.page(db_session, me, offset=4, limit=2)
    assert [m.title for m in last.items] == ["t0"] and not last.has_next


def test_the_same_key_posts_once(db_session: Session, demo: Any) -> None:
    me = account_for(db_session, demo).id
    assert _post(db_session, me, 1, key="same") == _post(db_session, me, 2, key="same")
    assert service.page(db_session, me, offset=0, limit=10).total == 1


def test_marking_read_touches_only_ones_own(db_session: Session, demo: Any) -> None:
    me = account_for(db_session, demo).id
    other = account_for(db_session, demo, "staff").id  # another member
    mine = [_post(db_session, me, n) for n in range(3)]
    theirs = _post(db_session, other, 9)
    # when I mark two of mine and one of theirs read
    assert service.mark_read(db_session, me, [*mine[:2], theirs], NOW) == 2
    # then only mine changed
    assert service.unread_count(db_session, me) == 1
    assert service.unread_count(db_session, other) == 1
    unread = service.page(db_session, me, offset=0, limit=10, unread_only=True)
    assert [m.id for m in unread.items] == [mine[2]]
    assert service.mark_read(db_session, me, None, NOW) == 1
    assert service.mark_read(db_session, me, [], NOW) == 0


def test_bad_page_sizes_and_too_many_ids_are_refused(db_session: Session, demo: Any) -> None:
    me = account_for(db_session, demo).id
    with pytest.raises(InvalidInput):
        service.page(db_session, me, offset=0, limit=0)
    with pytest.raises(InvalidInput):
        service.page(db_session, me, offset=0, limit=101)
    with pytest.raises(InvalidInput):
        service.mark_read(db_session, me, list(range(101)), NOW)
