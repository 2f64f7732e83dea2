"""Forty taps at once, each in a transaction of its own (SQLite and PostgreSQL): one
appointment per insured person, facility and day; one answer to a proposed time (accept or
decline, whichever comes first); one card reissue per card on its way; one advance payment
request per SMS code."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.accounts.sms_codes import Purpose
from server.accounts.wiring import MemberServices
from server.billing import advance, desk, reissue
from server.billing import appointments as booking
from server.billing.errors import AppointmentRuleBroken
from server.billing.models import (
    AdvancePayment,
    Appointment,
    AppointmentEvent,
    CardReissue,
    FacilityNature,
    Liability,
    ReissueReason,
    VisitTime,
)
from server.claims.adjusters import create_adjuster
from server.claims.core import ClaimContext
from server.claims.models import Adjuster
from server.errors import DomainError
from server.notify.outbox import Notification
from server.services import Services
from tests.db import last_sms_code, run_together


def _submitted_appointment(db: Session, claims: ClaimContext, services: Services, data: Any) -> int:
    a = booking.book(
        db,
        claims,
        services.directory.directory,
        _main_account(db, data),
        booking.Booking(
            policy_id=data.policy_ids["main_high_end"],
            visit_date=datetime.date(2026, 3, 5),
            liability=Liability.OUTPATIENT,
            province="上海",
            city="上海",
            nature=FacilityNature.PUBLIC,
            facility_id="med-shuguang-east-special",
            visit_time=VisitTime.MORNING,
            department="传统中医科",
            description="胃痛",
        ),
    )
    return a.id


def test_racing_bookings_of_one_slot_make_one_appointment(
    committed: tuple[sessionmaker[Session], Any], claims: ClaimContext, services: Services
) -> None:
    factory, data = committed

    def book(_: int) -> int:
        with factory() as db:
            made = _submitted_appointment(db, claims, services, data)
            db.commit()
            return made

    results = run_together(40, book)
    made = [r for r in results if isinstance(r, int)]
    assert len(made) == 1, [repr(r)[:200] for r in results]
    postgres = factory.kw["bind"].dialect.name == "postgresql"
    for r in results:
        if isinstance(r, int):
            continue
        if isinstance(r, AppointmentRuleBroken):
            assert r.code == "DUPLICATE_APPOINTMENT"
        else:
            # SQLite has one writer: a racing write is refused as busy (the API answers
            # 503 SERVICE_UNAVAILABLE, try again), never a second appointment
            assert not postgres and isinstance(r, OperationalError), repr(r)
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(Appointment)) == 1


def _main_account(db: Session, data: Any) -> Account:
    account = db.scalar(select(Account).where(Account.person_id == data.people["main"].person_id))
    assert account is not None
    return account


def _outcome(r: Any, postgres: bool) -> str:
    """What one racing request got: its code, or BUSY (SQLite's one writer refused it; the
    API answers 503 SERVICE_UNAVAILABLE, try again)."""
    if isinstance(r, int):
        return "MADE"
    if isinstance(r, DomainError):
        return r.code
    assert not postgres and isinstance(r, OperationalError), repr(r)
    return "BUSY"


def test_forty_reissue_requests_for_one_card_make_one(
    committed: tuple[sessionmaker[Session], Any], claims: ClaimContext
) -> None:
    factory, data = committed
    postgres = factory.kw["bind"].dialect.name == "postgresql"

    def ask(_: int) -> int:
        with factory() as db:
            row = reissue.request(
                db,
                claims,
                _main_account(db, data),
                policy_id=data.policy_ids["main_high_end"],
                mobile="13912345678",
                province_code="310000",
                city_code="310100",
                district_code="310104",
                street="漕溪北路1号",
                postcode="200030",
                reason=ReissueReason.LOST,
            )
            db.commit()
            return row.id

    got = [_outcome(r, postgres) for r in run_together(40, ask)]
    assert got.count("MADE") == 1, got
    assert set(got) <= {"MADE", "DUPLICATE_REISSUE", "BUSY"}, got
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(CardReissue)) == 1


def test_forty_advance_requests_with_one_code_make_one(
    committed: tuple[sessionmaker[Session], Any],
    claims: ClaimContext,
    members: MemberServices,
    services: Services,
) -> None:
    factory, data = committed
    postgres = factory.kw["bind"].dialect.name == "postgresql"
    phone = data.people["main"].phone
    with factory() as db:
        claims.codes.issue(
            db, phone, Purpose.CONFIRM_ADVANCE_PAYMENT, account_id=_main_account(db, data).id
        )
        db.commit()
    code = last_sms_code(factory, members, phone)

    def ask(_: int) -> int:
        with factory() as db:
            row = advance.request(
                db,
                claims,
                services.directory.directory,
                _main_account(db, data),
                policy_id=data.policy_ids["main_high_end"],
                facility_id=None,
                hospital_name="某市立医院",
                admission_date=datetime.date(2026, 3, 10),
                description="择期手术住院",
                sms_code=code,
            )
            db.commit()
            return row.id

    got = [_outcome(r, postgres) for r in run_together(40, ask)]
    assert got.count("MADE") == 1, got
    assert set(got) <= {"MADE", "SMS_CODE_INVALID", "BUSY"}, got
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(AdvancePayment)) == 1


def _coordinator(db: Session, claims: ClaimContext) -> int:
    return create_adjuster(
        db,
        claims.vault,
        username="lin.xietiao",
        name="林协调",
        email="",
        password="Desk-2026!x",
        now=claims.now(),
        role="coordinator",
    ).id


def _events(factory: sessionmaker[Session], appointment_id: int) -> list[str]:
    with factory() as db:
        return list(
            db.scalars(
                select(AppointmentEvent.kind)
                .where(AppointmentEvent.appointment_id == appointment_id)
                .order_by(AppointmentEvent.id)
            )
        )


def test_forty_answers_to_one_proposed_time_make_one(
    committed: tuple[sessionmaker[Session], Any], claims: ClaimContext, services: Services
) -> None:
    factory, data = committed
    postgres = factory.kw["bind"].dialect.name == "postgresql"
    with factory() as db:
        appointment_id = _submitted_appointment(db, claims, services, data)
        coordinator = db.get(Adjuster, _coordinator(db, claims))
        assert coordinator is not None
        desk.propose(
            db, claims, coordinator, appointment_id, day=datetime.date(2026, 3, 9), time="14:00"
        )
        db.commit()

    def answer(i: int) -> int:
        with factory() as db:
            done = booking.respond(
                db, claims, _main_account(db, data), appointment_id, accept=i % 2 == 0
            )
            db.commit()
            return done.id

    got = [_outcome(r, postgres) for r in run_together(40, answer)]
    assert got.count("MADE") == 1, got
    assert set(got) <= {"MADE", "APPOINTMENT_STATE_CONFLICT", "BUSY"}, got
    with factory() as db:
        kinds = db.scalars(
            select(AppointmentEvent.kind)
            .where(AppointmentEvent.appointment_id == appointment_id)
            .order_by(AppointmentEvent.id)
        ).all()
    assert kinds[:2] == ["submitted", "time_proposed"] and len(kinds) == 3
    assert kinds[2] in ("proposal_accepted", "proposal_declined")


def test_forty_cancels_confirmations_and_declines_at_once_decide_once(
    committed: tuple[sessionmaker[Session], Any], claims: ClaimContext, services: Services
) -> None:
    # given a submitted appointment, the member cancelling it while the desk confirms and
    # declines it, forty requests at the same moment
    factory, data = committed
    postgres = factory.kw["bind"].dialect.name == "postgresql"
    with factory() as db:
        appointment_id = _submitted_appointment(db, claims, services, data)
        coordinator_id = _coordinator(db, claims)
        db.commit()

    def decide(i: int) -> int:
        with factory() as db:
            coordinator = db.get(Adjuster, coordinator_id)
            assert coordinator is not None
            if i % 3 == 0:
                done = booking.cancel(db, claims, _main_account(db, data), appointment_id)
            elif i % 3 == 1:
                done = desk.confirm(db, claims, coordinator, appointment_id, time="09:30")
            else:
                done = desk.decline(db, claims, coordinator, appointment_id, reason="当日无号")
            db.commit()
            return done.id

    got = [_outcome(r, postgres) for r in run_together(40, decide)]
    # then the steps that went through make one lawful history: one decision, or a
    # confirmation the member then cancelled (a confirmed visit may still be cancelled);
    # every other request is told the state changed
    assert set(got) <= {"MADE", "APPOINTMENT_STATE_CONFLICT", "BUSY"}, got
    kinds = _events(factory, appointment_id)
    assert kinds[0] == "submitted", kinds
    assert kinds[1:] in (["cancelled"], ["confirmed"], ["declined"], ["confirmed", "cancelled"])
    assert got.count("MADE") == len(kinds) - 1, (got, kinds)
    # and the member is told of those steps only, never of a step that lost the race
    with factory() as db:
        told = list(
            db.scalars(
                select(Notification.dedupe_key).where(
                    Notification.dedupe_key.like(f"appointment.%:{appointment_id}:%")
                )
            )
        )
    assert {k.split(":")[0] for k in told} == {f"appointment.{k}" for k in kinds}, told


def test_forty_attended_and_no_show_records_at_once_record_one(
    committed: tuple[sessionmaker[Session], Any], claims: ClaimContext, services: Services
) -> None:
    # given a confirmed appointment whose day has come, and forty desk clicks at once
    factory, data = committed
    postgres = factory.kw["bind"].dialect.name == "postgresql"
    with factory() as db:
        appointment_id = _submitted_appointment(db, claims, services, data)
        coordinator_id = _coordinator(db, claims)
        coordinator = db.get(Adjuster, coordinator_id)
        assert coordinator is not None
        desk.confirm(db, claims, coordinator, appointment_id, time="09:30")
        db.commit()
    claims.clock.advance(days=4)  # type: ignore[attr-defined]

    def record(i: int) -> int:
        with factory() as db:
            coordinator = db.get(Adjuster, coordinator_id)
            assert coordinator is not None
            done = desk.record_outcome(db, claims, coordinator, appointment_id, attended=i % 2 == 0)
            db.commit()
            return done.id

    got = [_outcome(r, postgres) for r in run_together(40, record)]
    # then one outcome is recorded, the others are told it is recorded already
    assert got.count("MADE") == 1, got
    assert set(got) <= {"MADE", "APPOINTMENT_STATE_CONFLICT", "BUSY"}, got
    kinds = _events(factory, appointment_id)
    assert kinds[:2] == ["submitted", "confirmed"] and len(kinds) == 3, kinds
    assert kinds[2] in ("attended", "no_show")
