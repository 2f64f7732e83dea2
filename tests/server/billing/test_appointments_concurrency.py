"""Two taps at once: one appointment per insured person, facility and day holds when the
requests race (SQLite and PostgreSQL, committed transactions)."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.billing import appointments as booking
from server.billing.errors import AppointmentRuleBroken
from server.billing.models import Appointment, FacilityNature, Liability, VisitTime
from server.claims.core import ClaimContext
from server.services import Services
from tests.db import run_together


def test_racing_bookings_of_one_slot_make_one_appointment(
    committed: tuple[sessionmaker[Session], Any], claims: ClaimContext, services: Services
) -> None:
    factory, data = committed
    directory = services.directory.directory

    def book(_: int) -> int:
        with factory() as db:
            account = db.scalar(
                select(Account).where(Account.person_id == data.people["main"].person_id)
            )
            assert account is not None
            a = booking.book(
                db,
                claims,
                directory,
                account,
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
            db.commit()
            return a.id

    results = run_together(4, book)
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
