from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.accounts.sms_codes import Purpose
from server.accounts.wiring import MemberServices
from server.db import make_engine, make_sessionmaker, migrate, unit_of_work
from server.models import metadata
from server.policies.records import add_person, resident_id


def test_migrations_build_exactly_the_models(db_engine: Engine) -> None:
    # given the database the migrations built
    with db_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    # then nothing in the models is missing from it (a new model needs a new migration)
    assert diff == []


def test_migrating_twice_changes_nothing(db_engine: Engine) -> None:
    migrate(db_engine)
    assert "account" in inspect(db_engine).get_table_names()


def test_unit_of_work_commits_or_rolls_back_as_a_whole(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/uow.sqlite3")
    migrate(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as s:
        s.add(Account(phone_hash="a" * 64, phone_enc="x"))
    with pytest.raises(RuntimeError), unit_of_work(factory) as s:
        s.add(Account(phone_hash="b" * 64, phone_enc="x"))
        s.flush()
        raise RuntimeError("boom")
    with factory() as s:
        assert s.scalars(select(Account.phone_hash)).all() == ["a" * 64]
    engine.dispose()


def test_the_raw_tables_hold_no_plain_personal_data(
    db_session: Session, members: MemberServices
) -> None:
    # given an insured person, an account and an SMS
    number = resident_id("130503", datetime.date(1980, 5, 17), "151")
    add_person(
        db_session,
        members.vault,
        name="张三",
        id_number=number,
        birth_date=datetime.date(1980, 5, 17),
        gender="M",
        phone="13612341560",
    )
    members.accounts.send_code(db_session, "13612341560", Purpose.REGISTER)
    db_session.flush()
    # when every text column of every table is read raw
    dump = []
    conn = db_session.connection()
    for table in metadata.sorted_tables:
        for row in conn.execute(text(f"SELECT * FROM {table.name}")):
            dump.extend(str(v) for v in row)
    raw = " ".join(dump)
    # then neither the ID number, the name nor the phone appears
    assert number not in raw and "张三" not in raw and "13612341560" not in raw
    assert "1360****" not in raw  # no masked variants stored either: masking is for output


def test_sqlite_has_foreign_keys_on() -> None:
    engine = make_engine("sqlite://")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
