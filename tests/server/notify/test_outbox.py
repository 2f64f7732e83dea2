from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from server.crypto import Vault
from server.db import make_sessionmaker
from server.errors import InvalidInput
from server.notify.outbox import Channel, Notification, Status, enqueue, recipient_lookup
from tests.db import FakeClock


def _count(s: Session) -> int:
    return int(s.scalar(select(func.count()).select_from(Notification)) or 0)


def test_enqueue_stores_a_pending_message_encrypted(
    db_session: Session, vault: Vault, clock: FakeClock
) -> None:
    # when a message greeting 张三 is queued for his phone
    row = enqueue(
        db_session,
        "sms",
        "13612341560",
        "",
        "尊敬的张三，请补充材料",
        "k-1",
        vault=vault,
        now=clock.now,
    )
    db_session.flush()
    # then it is pending and due at once, findable by the number's keyed hash
    assert row.status is Status.PENDING and row.attempts == 0
    assert row.next_attempt_at == clock.now and row.channel is Channel.SMS
    assert vault.decrypt(row.recipient_enc) == "13612341560"
    assert row.recipient_hash == recipient_lookup(vault, "sms", "13612341560")
    # and the raw table holds neither the number nor the name
    raw = " ".join(
        str(v)
        for r in db_session.connection().execute(text("SELECT * FROM notification_outbox"))
        for v in r
    )
    assert "13612341560" not in raw and "张三" not in raw


def test_enqueue_commits_or_rolls_back_with_the_callers_transaction(
    db_factory: sessionmaker[Session], vault: Vault
) -> None:
    with db_factory() as s:
        enqueue(s, "email", "a@example.com", "主题", "正文", "k-rolled-back", vault=vault)
        s.rollback()
    with db_factory() as s:
        enqueue(s, "email", "a@example.com", "主题", "正文", "k-committed", vault=vault)
        s.commit()
    with db_factory() as s:
        keys = s.scalars(select(Notification.dedupe_key)).all()
    assert keys == ["k-committed"]


def test_the_same_dedupe_key_queues_one_message(
    db_factory: sessionmaker[Session], vault: Vault
) -> None:
    # given a message committed under a key
    with db_factory() as s:
        first = enqueue(s, "email", "A@Example.com", "主题", "正文", "supplement:1", vault=vault)
        s.commit()
    # when the same request is made again in a later transaction
    with db_factory() as s:
        again = enqueue(s, "email", "a@example.com", "主题", "正文", "supplement:1", vault=vault)
        s.commit()
        # then it is the same row and there is one row
        assert again.id == first.id
        assert _count(s) == 1
        # and the e-mail address was kept in one form
        assert vault.decrypt(again.recipient_enc) == "a@example.com"


def test_a_key_taken_in_the_same_session_is_found_too(db_session: Session, vault: Vault) -> None:
    a = enqueue(db_session, "sms", "13612341560", "", "一", "same", vault=vault)
    b = enqueue(db_session, "sms", "13612341560", "", "二", "same", vault=vault)
    assert a is b and _count(db_session) == 1


@pytest.mark.parametrize(
    ("channel", "recipient", "body", "key", "field"),
    [
        ("fax", "1", "x", "k", "channel"),
        ("sms", "  ", "x", "k", "recipient"),
        ("email", "a@example.com", " ", "k", "body"),
        ("email", "a@example.com", "x", "", "dedupe_key"),
        ("email", "a@example.com", "x", "k" * 201, "dedupe_key"),
    ],
)
def test_bad_messages_are_refused_with_the_field(
    db_session: Session, vault: Vault, channel: str, recipient: str, body: str, key: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as e:
        enqueue(db_session, channel, recipient, "", body, key, vault=vault)
    assert e.value.field == field and e.value.code == "BAD_USER_INPUT"
    assert _count(db_session) == 0


@pytest.mark.postgres
def test_a_race_on_the_same_key_keeps_one_message_and_the_losers_changes(
    db_engine: Engine, vault: Vault, caplog: pytest.LogCaptureFixture
) -> None:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("needs two writers at once, which SQLite serialises")
    factory = make_sessionmaker(db_engine)
    key, other = "race:1", "race:loser-own-change"
    inserted, release = threading.Event(), threading.Event()

    def first() -> None:
        with factory() as s:
            enqueue(s, "sms", "13612341560", "", "先", key, vault=vault)
            s.flush()
            inserted.set()
            release.wait(10)
            s.commit()

    winner = threading.Thread(target=first)
    winner.start()
    try:
        assert inserted.wait(10)
        with factory() as s:
            # the loser has its own change in the same transaction
            enqueue(s, "sms", "13612341560", "", "自己的", other, vault=vault)
            # its insert waits on the unique key until the winner commits, then loses
            threading.Timer(1.0, release.set).start()
            with caplog.at_level(logging.INFO, logger="server.notify.outbox"):
                row = enqueue(s, "sms", "13612341560", "", "后", key, vault=vault)
            assert "queued concurrently" in caplog.text
            s.commit()
            assert vault.decrypt(row.body_enc) == "先"
        winner.join(10)
        with factory() as s:
            keys = sorted(
                s.scalars(
                    select(Notification.dedupe_key).where(Notification.dedupe_key.in_([key, other]))
                )
            )
        assert keys == sorted([key, other])
    finally:
        release.set()
        winner.join(10)
        with factory() as s:
            s.execute(delete(Notification).where(Notification.dedupe_key.in_([key, other])))
            s.commit()


def test_enqueue_all_queues_several_messages_in_one_statement_once(
    db_session: Session, vault: Vault, clock: FakeClock
) -> None:
    from server.notify.outbox import enqueue_all
    from tests.db import statements

    messages: list[tuple[Channel | str, str, str, str, str]] = [
        (Channel.SMS, "13612341560", "", "您的理赔已受理", "c-1:sms"),
        (Channel.EMAIL, "Zhang@Example.com", "理赔", "您的理赔已受理", "c-1:email"),
    ]
    # when an SMS and an e-mail are queued together
    with statements(db_session.connection()) as seen:
        enqueue_all(db_session, messages, vault=vault, now=clock.now)
    # then one statement wrote both, pending and encrypted
    assert len(seen) == 1
    rows = db_session.scalars(select(Notification).order_by(Notification.dedupe_key)).all()
    assert [r.dedupe_key for r in rows] == ["c-1:email", "c-1:sms"]
    assert all(r.status is Status.PENDING and r.next_attempt_at == clock.now for r in rows)
    assert vault.decrypt(rows[1].recipient_enc) == "13612341560"
    # and the same keys again (a retried request) add nothing
    enqueue_all(db_session, messages, vault=vault, now=clock.now)
    assert _count(db_session) == 2
    # a message without a recipient is refused before anything is written
    with pytest.raises(InvalidInput):
        enqueue_all(db_session, [(Channel.SMS, " ", "", "x", "c-2:sms")], vault=vault)
    assert _count(db_session) == 2
