from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, bindparam, inspect, select, text
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.crypto import token_hash
from server.db import UTCDateTime, alembic_config, make_engine
from server.sessions import (
    Lifetime,
    LoginSession,
    SessionKind,
    SessionStore,
    bearer_token,
)
from tests.db import FakeClock, statements, writes

MEMBER, ADJUSTER, PORTAL = SessionKind.MEMBER, SessionKind.ADJUSTER, SessionKind.PORTAL


@pytest.fixture
def store(clock: FakeClock) -> SessionStore:
    return SessionStore(clock, Lifetime.of(idle_minutes=30, absolute_hours=12))


def test_a_session_opens_for_its_role_and_keeps_only_the_token_hash(
    db_session: Session, store: SessionStore
) -> None:
    # when a member signs in
    issued = store.start(db_session, MEMBER, 41, channel="app")
    # then the token opens that member's session
    live = store.authenticate(db_session, MEMBER, issued.token)
    assert live is not None and (live.kind, live.subject_id, live.channel) == (MEMBER, 41, "app")
    assert live.id == issued.session.id
    # and only its hash is kept
    assert len(issued.token) >= 43
    row = db_session.scalar(select(LoginSession))
    assert row is not None and row.token_hash == token_hash(issued.token)
    assert issued.token not in row.token_hash


def test_a_token_opens_only_sessions_of_its_own_role(
    db_session: Session, store: SessionStore
) -> None:
    member = store.start(db_session, MEMBER, 1, channel="app").token
    adjuster = store.start(db_session, ADJUSTER, 1, channel="back-office").token
    portal = store.start(db_session, PORTAL, 1, channel="h5", scope_id=5).token
    # a member's token is no adjuster's or portal token, and the other way round
    assert store.authenticate(db_session, ADJUSTER, member) is None
    assert store.authenticate(db_session, PORTAL, member) is None
    assert store.authenticate(db_session, MEMBER, adjuster) is None
    assert store.authenticate(db_session, MEMBER, portal) is None
    live = store.authenticate(db_session, PORTAL, portal)
    assert live is not None and live.scope_id == 5
    # signing out as the wrong role ends nothing
    store.end(db_session, ADJUSTER, member)
    assert store.authenticate(db_session, MEMBER, member) is not None


def test_a_session_ends_after_the_idle_time(
    db_session: Session, store: SessionStore, clock: FakeClock
) -> None:
    token = store.start(db_session, MEMBER, 1, channel="app").token
    clock.advance(minutes=29)
    assert store.authenticate(db_session, MEMBER, token) is not None  # activity restarts it
    clock.advance(minutes=29)
    assert store.authenticate(db_session, MEMBER, token) is not None
    clock.advance(minutes=30)
    assert store.authenticate(db_session, MEMBER, token) is None


def test_a_busy_session_ends_at_its_absolute_limit(
    db_session: Session, store: SessionStore, clock: FakeClock
) -> None:
    issued = store.start(db_session, ADJUSTER, 1, channel="back-office")
    assert issued.expires_at == clock.now + datetime.timedelta(hours=12)
    for _ in range(35):  # 11 h 40 min of a request every 20 minutes
        clock.advance(minutes=20)
        assert store.authenticate(db_session, ADJUSTER, issued.token) is not None
    clock.advance(minutes=20)
    assert store.authenticate(db_session, ADJUSTER, issued.token) is None
    assert store.find(db_session, issued.session.id) is None


def test_signing_in_again_revokes_the_token_held_so_far(
    db_session: Session, store: SessionStore
) -> None:
    first = store.start(db_session, MEMBER, 1, channel="app")
    second = store.start(db_session, MEMBER, 1, channel="app", replacing=first.token)
    assert second.token != first.token
    assert store.authenticate(db_session, MEMBER, first.token) is None
    assert store.find(db_session, first.session.id) is None
    assert store.authenticate(db_session, MEMBER, second.token) is not None


def test_rotation_swaps_the_token_and_keeps_the_end(
    db_session: Session, store: SessionStore, clock: FakeClock
) -> None:
    old = store.start(db_session, PORTAL, 9, channel="h5", scope_id=3)
    clock.advance(minutes=20)
    new = store.rotate(db_session, PORTAL, old.token)
    assert new is not None and new.token != old.token
    assert store.authenticate(db_session, PORTAL, old.token) is None
    live = store.authenticate(db_session, PORTAL, new.token)
    assert live is not None and (live.subject_id, live.scope_id) == (9, 3)
    assert new.expires_at == old.expires_at  # a rotation does not lengthen the session
    # an ended or unknown token cannot be rotated into a live one
    assert store.rotate(db_session, PORTAL, old.token) is None
    assert store.rotate(db_session, PORTAL, "unknown-token") is None


def test_signing_out_ends_one_session_and_end_all_every_one(
    db_session: Session, store: SessionStore
) -> None:
    app = store.start(db_session, MEMBER, 1, channel="app")
    wechat = store.start(db_session, MEMBER, 1, channel="wechat")
    other = store.start(db_session, MEMBER, 2, channel="wechat")
    store.end(db_session, MEMBER, app.token)
    assert store.authenticate(db_session, MEMBER, app.token) is None
    assert store.find(db_session, app.session.id) is None
    assert store.authenticate(db_session, MEMBER, wechat.token) is not None
    # all of one channel of one member
    store.end_all(db_session, MEMBER, 1, channel="wechat")
    assert store.authenticate(db_session, MEMBER, wechat.token) is None
    assert store.authenticate(db_session, MEMBER, other.token) is not None
    # every session of one member
    store.end_all(db_session, MEMBER, 2)
    assert store.authenticate(db_session, MEMBER, other.token) is None


def test_nonsense_tokens_are_no_one(db_session: Session, store: SessionStore) -> None:
    for token in [None, "", "x" * 43, "x" * 5000]:
        assert store.authenticate(db_session, MEMBER, token) is None
        store.end(db_session, MEMBER, token)  # and signing them out is harmless


def test_reads_write_nothing_until_the_idle_clock_is_due(
    db_session: Session, db_connection: Connection, store: SessionStore, clock: FakeClock
) -> None:
    # given a session (touched at most once a minute with a 30-minute idle window)
    token = store.start(db_session, MEMBER, 1, channel="app").token
    db_session.commit()
    assert store.lifetime.touch_every == datetime.timedelta(minutes=1)
    # when it is used 20 times within 50 seconds
    with statements(db_connection) as seen:
        for _ in range(20):
            clock.advance(seconds=2.5)
            assert store.authenticate(db_session, MEMBER, token) is not None
            db_session.commit()
    # then nothing was written
    assert seen and writes(seen) == []
    # and once the minute has passed, one use writes the new time, once
    clock.advance(seconds=10)
    with statements(db_connection) as seen:
        for _ in range(3):
            assert store.authenticate(db_session, MEMBER, token) is not None
            db_session.commit()
    updates = writes(seen)
    assert len(updates) == 1 and updates[0].lstrip().upper().startswith("UPDATE LOGIN_SESSION")
    row = db_session.scalar(select(LoginSession))
    assert row is not None and row.last_seen_at == clock.now


def test_a_short_idle_window_is_touched_at_a_tenth_of_it() -> None:
    assert Lifetime.of(5, 1).touch_every == datetime.timedelta(seconds=30)
    assert Lifetime.of(30, 12).touch_every == datetime.timedelta(minutes=1)


def test_finding_a_session_by_id_is_no_activity(
    db_session: Session, db_connection: Connection, store: SessionStore, clock: FakeClock
) -> None:
    issued = store.start(db_session, MEMBER, 1, channel="app")
    db_session.commit()
    clock.advance(minutes=20)
    with statements(db_connection) as seen:
        assert store.find(db_session, issued.session.id) is not None
        db_session.commit()
    assert writes(seen) == []
    clock.advance(minutes=10)  # 30 minutes since the last use: a link does not keep it alive
    assert store.find(db_session, issued.session.id) is None


def test_sessions_long_ended_are_purged_at_the_next_sign_in(
    db_session: Session, store: SessionStore, clock: FakeClock
) -> None:
    old = store.start(db_session, MEMBER, 1, channel="app")
    clock.advance(hours=12 + 23)
    recent = store.start(db_session, MEMBER, 2, channel="app")
    assert db_session.get(LoginSession, old.session.id) is not None  # within its day of grace
    clock.advance(hours=2)
    store.start(db_session, MEMBER, 3, channel="app")
    db_session.expire_all()
    assert db_session.get(LoginSession, old.session.id) is None
    assert db_session.get(LoginSession, recent.session.id) is not None


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("BEARER abc", "abc"),
        ("Bearer", None),
        ("Bearer ", None),
        ("Basic dXNlcjpwYXNz", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_the_bearer_header_is_read_in_one_place(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_the_migration_moves_live_sessions_into_the_one_table(tmp_path: Path) -> None:
    from alembic import command

    # given a database one step before the one session table, with live and ended sessions
    engine = make_engine(f"sqlite:///{tmp_path}/move.sqlite3")
    config = alembic_config(engine)
    command.upgrade(config, "0008-1")
    now = datetime.datetime.now(datetime.UTC)
    soon, gone = now + datetime.timedelta(hours=1), now - datetime.timedelta(hours=1)

    def insert(sql: str, **values: object) -> None:
        times = [bindparam(k, type_=UTCDateTime()) for k in ("now", "end", "revoked") if k in sql]
        conn.execute(text(sql).bindparams(*times), values)

    with engine.begin() as conn:
        # the account and adjuster columns of that revision (later ones add more)
        insert(
            "INSERT INTO account (id, phone_hash, phone_enc, created_at) VALUES (1, 'p', 'e', :now)",
            now=now,
        )
        insert(
            "INSERT INTO adjuster (id, username, display_name_enc, password_hash, active,"
            " created_at) VALUES (2, 'wang', 'n', 'h', 1, :now)",
            now=now,
        )
        for i, (revoked, end) in enumerate([(None, soon), (now, soon), (None, gone)]):
            insert(
                "INSERT INTO auth_session (account_id, token_hash, channel, created_at,"
                " last_seen_at, expires_at, revoked_at)"
                " VALUES (1, :t, 'wechat', :now, :now, :end, :revoked)",
                t=f"m{i}",
                now=now,
                end=end,
                revoked=revoked,
            )
            insert(
                "INSERT INTO adjuster_session (adjuster_id, token_hash, created_at,"
                " last_seen_at, expires_at, revoked_at)"
                " VALUES (2, :t, :now, :now, :end, :revoked)",
                t=f"a{i}",
                now=now,
                end=end,
                revoked=revoked,
            )
    # when the migrations run on to the one session table
    command.upgrade(config, "0008")
    # then only the live sessions are in it, by kind, subject and channel, clocks kept
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                LoginSession.kind,
                LoginSession.subject_id,
                LoginSession.channel,
                LoginSession.token_hash,
                LoginSession.expires_at,
            ).order_by(LoginSession.kind)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("adjuster", 2, "back-office", "a0", soon),
        ("member", 1, "wechat", "m0", soon),
    ]
    tables = set(inspect(engine).get_table_names())
    assert "login_session" in tables
    assert not tables & {"auth_session", "adjuster_session", "supplement_session"}
    # and a step back gives them back
    command.downgrade(config, "-1")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT token_hash FROM auth_session")).scalars().all() == ["m0"]
        assert conn.execute(text("SELECT token_hash FROM adjuster_session")).scalars().all() == [
            "a0"
        ]
    engine.dispose()


def test_the_session_and_its_subject_come_in_one_statement(
    db_session: Session, db_connection: Connection, store: SessionStore, clock: FakeClock
) -> None:
    # given a member's account and session
    account = Account(phone_hash="h-one", phone_enc="e", password_hash="p")
    db_session.add(account)
    db_session.flush()
    token = store.start(db_session, MEMBER, account.id, channel="app").token
    db_session.commit()
    db_session.expunge_all()
    # when the token is checked
    with statements(db_connection) as seen:
        found = store.authenticate_subject(db_session, MEMBER, token, Account)
    # then one SELECT gave both
    assert found is not None
    live, who = found
    assert (live.subject_id, who.id, who.phone_hash) == (account.id, account.id, "h-one")
    # (the fixture's transactions are savepoints: not counted)
    assert [s for s in seen if "SAVEPOINT" not in s.upper()] == [seen[-1]]
    assert seen[-1].lstrip().upper().startswith("SELECT")
    # and the same rules hold: another role's token, an idle session, nonsense: no one
    assert store.authenticate_subject(db_session, ADJUSTER, token, Account) is None
    assert store.authenticate_subject(db_session, MEMBER, "x" * 5000, Account) is None
    clock.advance(minutes=31)
    assert store.authenticate_subject(db_session, MEMBER, token, Account) is None
