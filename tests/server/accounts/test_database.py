from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.accounts.sms_codes import Purpose
from server.accounts.wiring import MemberServices
from server.claims.adjusters import load_demo_adjuster
from server.crypto import vault_for
from server.db import alembic_config, make_engine, make_sessionmaker, migrate, unit_of_work
from server.models import metadata
from server.policies.demo import load_demo
from server.policies.models import Policy
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


def test_no_demo_persons_name_is_stored_in_plain_text(
    db_session: Session, members: MemberServices
) -> None:
    # given the whole demo data set and the demo adjuster
    data = load_demo(db_session, members.vault)
    load_demo_adjuster(db_session, members.vault)
    db_session.flush()
    names = {p.name for p in data.people.values()} | {"张伟", "刘洋", "演示审核员"}
    # when every column of every table is read raw
    raw = " ".join(
        str(v)
        for table in metadata.sorted_tables
        for row in db_session.connection().execute(text(f"SELECT * FROM {table.name}"))
        for v in row
    )
    # then no person's name appears, as policyholder, insured, adjuster or anything else
    assert len(names) >= 6
    assert [n for n in names if n in raw] == []
    # and they are still read back where they are shown
    policy = db_session.scalar(select(Policy).where(Policy.policy_no == "DEMO-I-8001"))
    assert policy is not None and members.policies.holder_name(policy) == "张伟"


def test_the_migration_encrypts_names_already_stored(tmp_path: Path) -> None:
    # given a database at the revision before names were encrypted, holding plain names
    engine = make_engine(f"sqlite:///{tmp_path}/old.sqlite3")
    vault = vault_for("migration-test-secret")
    command.upgrade(alembic_config(engine, vault), "0005")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO person (id, id_type, id_number_enc, id_number_hash, name_enc,"
                " name_hash, birth_date, gender) VALUES (1, 'ID_CARD', 'x', 'h', 'x', 'h',"
                " '1980-01-01', 'M')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO policy (id, policy_no, kind, product_name, product_name_en,"
                " holder_name, insured_id, relation, status, start_date, end_date, high_end,"
                " sum_insured) VALUES (1, 'P1', 'INDIVIDUAL', 'p', 'p', '王小明', 1, 'SELF',"
                " 'IN_FORCE', '2026-01-01', '2026-12-31', 0, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO adjuster (id, username, display_name, password_hash, active,"
                " created_at) VALUES (1, 'wang', '王审核', 'x', 1, '2026-01-01 00:00:00')"
            )
        )
        # an adjuster session points at the adjuster: SQLite's table rebuild must keep it
        conn.execute(
            text(
                "INSERT INTO adjuster_session (id, adjuster_id, token_hash, created_at,"
                " last_seen_at, expires_at) VALUES (1, 1, 'h', '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00', '2099-01-01 00:00:00')"
            )
        )
    # when it is migrated
    migrate(engine, vault)
    # then the names are encrypted, readable with the key, and gone from the raw rows
    with engine.connect() as conn:
        holder = conn.execute(text("SELECT * FROM policy")).one()._mapping
        adjuster = conn.execute(text("SELECT * FROM adjuster")).one()._mapping
    assert "holder_name" not in holder and "display_name" not in adjuster
    assert vault.decrypt(holder["holder_name_enc"]) == "王小明"
    assert vault.decrypt(adjuster["display_name_enc"]) == "王审核"
    assert "王" not in " ".join(map(str, [*holder.values(), *adjuster.values()]))
    engine.dispose()
