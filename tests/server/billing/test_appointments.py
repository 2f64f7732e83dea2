"""Booking rules, progress, the coordinator's decisions and what the member is told."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.errors import PolicyNotFound
from server.accounts.models import Account
from server.billing import appointments as booking
from server.billing import desk, services
from server.billing.errors import (
    AppointmentNotFound,
    AppointmentRuleBroken,
    AppointmentStateConflict,
    HighEndRequired,
)
from server.billing.models import FacilityNature, Liability, VisitTime
from server.claims.adjusters import create_adjuster
from server.claims.core import ClaimContext
from server.claims.errors import AdjusterUnauthenticated
from server.claims.models import ContactProfile
from server.errors import ValidationFailed
from server.messages.models import MemberMessage
from server.notify.outbox import Notification
from server.policies.models import Person, Policy, PolicyStatus, Relation
from server.policies.records import add_plan, add_policy
from server.services import Services
from tests.db import FakeClock

SHUGUANG = "med-shuguang-east-special"  # public, 上海, group network, 传统中医科 among others
DESIGNATED = "des-ufh-hospital"  # 特定医疗机构: not a direct-billing list


def account_of(db: Session, person_id: int) -> Account:
    account = db.scalar(select(Account).where(Account.person_id == person_id))
    assert account is not None
    return account


def request(policy_id: int, **changes: Any) -> booking.Booking:
    values: dict[str, Any] = {
        "policy_id": policy_id,
        "visit_date": datetime.date(2026, 3, 5),
        "liability": Liability.OUTPATIENT,
        "province": "上海",
        "city": "上海市",
        "nature": FacilityNature.PUBLIC,
        "facility_id": SHUGUANG,
        "visit_time": VisitTime.MORNING,
        "department": "传统中医科",
        "description": "反复胃痛两周，希望看中医消化方向",
        **changes,
    }
    return booking.Booking(**values)


@pytest.fixture
def env(db_session: Session, demo: Any, claims: ClaimContext, services: Services) -> Any:
    class Env:
        db = db_session
        cx = claims
        directory = services.directory.directory
        main = account_of(db_session, demo.people["main"].person_id)
        staff = account_of(db_session, demo.people["staff"].person_id)
        high_end = demo.policy_ids["main_high_end"]

        def book(self, **changes: Any) -> Any:
            return booking.book(
                self.db, self.cx, self.directory, self.main, request(self.high_end, **changes)
            )

    return Env()


@pytest.fixture
def coordinator(env: Any) -> Any:
    return create_adjuster(
        env.db,
        env.cx.vault,
        username="chen.xietiao",
        name="陈协调",
        email="",
        password="Desk-2026!x",
        now=env.cx.now(),
        role="coordinator",
    )


# --- the services list -------------------------------------------------------------------------


def test_the_services_list_says_what_a_member_may_use_and_why_not(env: Any) -> None:
    # given a high-end member and a member of a university plan
    url = "https://outpatient.example/"
    today = datetime.date(2026, 3, 2)
    # when
    mine = services.service_list(env.db, env.main, today, internet_outpatient_url=url)
    theirs = services.service_list(env.db, env.staff, today, internet_outpatient_url=url)
    # then
    assert [(e.code, e.available) for e in mine] == [
        ("APPOINTMENT", True),
        ("APPOINTMENT_PROGRESS", True),
        ("INTERNET_OUTPATIENT", True),
        ("E_CARD", True),
        ("CARD_REISSUE", True),
        ("ADVANCE_PAYMENT", True),
    ]
    high_end_only = [
        "APPOINTMENT",
        "APPOINTMENT_PROGRESS",
        "E_CARD",
        "CARD_REISSUE",
        "ADVANCE_PAYMENT",
    ]
    assert [
        (e.code, e.available, e.reason_code, e.offline_route)
        for e in theirs
        if e.code != "INTERNET_OUTPATIENT"
    ] == [(code, False, "HIGH_END_REQUIRED", "1010-8686") for code in high_end_only]
    outpatient = theirs[2]
    assert (outpatient.code, outpatient.available, outpatient.reason_code) == (
        "INTERNET_OUTPATIENT",
        True,
        None,
    )
    assert (outpatient.link, outpatient.provider_zh) == (url, "微医")
    # an account not yet verified by real name: that is the reason, the link-out stays open
    unverified = services.service_list(
        env.db, Account(person_id=None), today, internet_outpatient_url=url
    )
    assert {(e.code, e.available, e.reason_code) for e in unverified} == {
        (code, False, "REAL_NAME_REQUIRED") for code in high_end_only
    } | {("INTERNET_OUTPATIENT", True, None)}


# --- booking rules -----------------------------------------------------------------------------


def test_a_booking_is_submitted_with_the_applicant_from_the_record(env: Any) -> None:
    a = env.book(applicant_mobile="139 1234 5678")
    assert (a.status, a.visit_date, a.department, a.province, a.city) == (
        "submitted",
        datetime.date(2026, 3, 5),
        "传统中医科",
        "上海",
        "上海",
    )
    assert env.cx.vault.decrypt(a.applicant_mobile_enc) == "13912345678"
    assert env.cx.vault.decrypt(a.applicant_name_enc) == "张伟"
    assert "胃痛" not in a.description_enc  # encrypted at rest
    assert [e.kind for e in a.events] == ["submitted"]


def test_a_member_without_a_high_end_policy_gets_the_offline_route(env: Any, demo: Any) -> None:
    assert booking.direct_billing_policies(env.db, env.staff, datetime.date(2026, 3, 2)) == []
    with pytest.raises(HighEndRequired) as e:
        booking.book(env.db, env.cx, env.directory, env.staff, request(demo.policy_ids["staff"]))
    assert (e.value.code, e.value.booking_line) == ("HIGH_END_REQUIRED", "1010-8686")


def test_someone_elses_policy_answers_as_a_missing_one(env: Any, demo: Any) -> None:
    with pytest.raises(PolicyNotFound):
        booking.book(env.db, env.cx, env.directory, env.staff, request(env.high_end))


def test_the_visit_date_is_two_working_days_ahead(env: Any) -> None:
    # Monday 2 March: Tuesday and Wednesday are the two working days
    with pytest.raises(AppointmentRuleBroken) as e:
        env.book(visit_date=datetime.date(2026, 3, 3))
    assert (e.value.code, e.value.field) == ("DATE_TOO_SOON", "visitDate")
    assert env.book(visit_date=datetime.date(2026, 3, 4)).status == "submitted"


def test_the_two_working_days_skip_the_national_day_holiday(env: Any, clock: FakeClock) -> None:
    # Tuesday 29 September: the 30th is a working day, 1-7 October are the holiday
    clock.now = datetime.datetime(2026, 9, 29, 2, 0, tzinfo=datetime.UTC)
    assert booking.earliest_visit_date(datetime.date(2026, 9, 29)) == datetime.date(2026, 10, 8)
    with pytest.raises(AppointmentRuleBroken) as e:
        env.book(visit_date=datetime.date(2026, 10, 7))
    assert e.value.code == "DATE_TOO_SOON"
    assert env.book(visit_date=datetime.date(2026, 10, 8)).status == "submitted"


def test_the_visit_date_is_within_the_cover(env: Any, clock: FakeClock) -> None:
    clock.now = datetime.datetime(2026, 12, 1, 2, 0, tzinfo=datetime.UTC)
    with pytest.raises(AppointmentRuleBroken) as e:
        env.book(visit_date=datetime.date(2027, 1, 4))
    assert e.value.code == "DATE_OUTSIDE_COVER"


def test_the_visit_date_is_at_most_ninety_days_ahead(env: Any) -> None:
    # Monday 2 March 2026: 31 May is the 90th day
    with pytest.raises(AppointmentRuleBroken) as e:
        env.book(visit_date=datetime.date(2026, 6, 1))
    assert (e.value.code, e.value.field) == ("DATE_TOO_FAR", "visitDate")
    assert env.book(visit_date=datetime.date(2026, 5, 29)).status == "submitted"


def test_the_liability_is_one_the_benefits_list(env: Any) -> None:
    # a high-end policy whose benefits list names inpatient care only
    inpatient_only = add_policy(
        env.db,
        env.cx.vault,
        policy_no="HE-INPATIENT-01",
        insured=env.main.person,
        plan=env.db.get(Policy, env.high_end).plan,
        high_end=True,
        start=datetime.date(2026, 1, 1),
        end=datetime.date(2026, 12, 31),
        benefits=[{"name": "住院医疗", "name_en": "Inpatient care", "limit_yuan": 1_000_000}],
    )
    assert booking.liabilities(inpatient_only) == [Liability.INPATIENT]
    with pytest.raises(AppointmentRuleBroken) as e:
        booking.book(env.db, env.cx, env.directory, env.main, request(inpatient_only.id))
    assert (e.value.code, e.value.field) == ("LIABILITY_NOT_COVERED", "liability")


def test_a_high_end_policy_no_longer_in_force_is_refused(env: Any) -> None:
    person = env.main.person
    ended = add_policy(
        env.db,
        env.cx.vault,
        policy_no="HE-ENDED-01",
        insured=person,
        plan=env.db.get(Policy, env.high_end).plan,
        status=PolicyStatus.SURRENDERED,
        high_end=True,
        start=datetime.date(2026, 1, 1),
        end=datetime.date(2026, 12, 31),
        surrendered_on=datetime.date(2026, 2, 1),
    )
    with pytest.raises(AppointmentRuleBroken) as e:
        booking.book(env.db, env.cx, env.directory, env.main, request(ended.id))
    assert (e.value.code, e.value.field) == ("POLICY_NOT_DIRECT_BILLING", "policyId")


def test_a_facility_outside_the_network_is_refused(env: Any, demo: Any) -> None:
    with pytest.raises(AppointmentRuleBroken) as e:
        env.book(facility_id=DESIGNATED)
    assert (e.value.code, e.value.field) == ("FACILITY_NOT_IN_NETWORK", "facilityId")
    # a high-end group plan of another network: the group list's facilities are outside it
    plan = add_plan(
        env.db, company="某外资企业", code="HE-OTHER", name="高端计划", network_id="another-network"
    )
    person = env.main.person
    other = add_policy(
        env.db,
        env.cx.vault,
        policy_no="HE-OTHER-01",
        insured=person,
        plan=plan,
        high_end=True,
        start=datetime.date(2026, 1, 1),
        end=datetime.date(2026, 12, 31),
    )
    with pytest.raises(AppointmentRuleBroken) as e:
        booking.book(env.db, env.cx, env.directory, env.main, request(other.id))
    assert e.value.code == "FACILITY_NOT_IN_NETWORK"
    assert booking.facilities(env.directory, other) == []


def test_unknown_facility_and_choices_that_do_not_match_it(env: Any) -> None:
    with pytest.raises(AppointmentRuleBroken) as e:
        env.book(facility_id="no-such-facility")
    assert e.value.code == "FACILITY_NOT_FOUND"
    for changes in ({"city": "北京"}, {"nature": FacilityNature.PRIVATE}):
        with pytest.raises(AppointmentRuleBroken) as e:
            env.book(**changes)
        assert e.value.code == "FACILITY_MISMATCH"
    with pytest.raises(AppointmentRuleBroken) as e:
        env.book(department="眼科")
    assert e.value.code == "DEPARTMENT_NOT_AT_FACILITY"


def test_bad_input_is_named_field_by_field(env: Any) -> None:
    with pytest.raises(ValidationFailed) as e:
        env.book(description="  ", applicant_mobile="12345", doctor_level="professor")
    assert {(p.field, p.code) for p in e.value.problems} == {
        ("description", "REQUIRED"),
        ("applicantMobile", "INVALID_MOBILE"),
        ("doctorLevel", "INVALID_CHOICE"),
    }


def test_one_open_appointment_per_person_facility_and_day(env: Any) -> None:
    first = env.book()
    with pytest.raises(AppointmentRuleBroken) as e:
        env.book(visit_time=VisitTime.AFTERNOON)
    assert e.value.code == "DUPLICATE_APPOINTMENT"
    booking.cancel(env.db, env.cx, env.main, first.id)
    assert env.book().status == "submitted"  # a cancelled one no longer counts


def test_the_facility_step_filters_by_the_choices(env: Any, demo: Any) -> None:
    policy = booking.own_policy(env.db, env.main, env.high_end, datetime.date(2026, 3, 2))
    dental = booking.facilities(env.directory, policy, liability=Liability.DENTAL)
    public = booking.facilities(
        env.directory, policy, liability=Liability.OUTPATIENT, nature=FacilityNature.PUBLIC
    )
    assert dental and all(f.kind.value == "dental" for f in dental)
    assert SHUGUANG in [f.id for f in public]
    assert DESIGNATED not in [f.id for f in booking.facilities(env.directory, policy)]
    assert booking.facilities(env.directory, policy, city="北京") == []


# --- progress, visibility, cancelling ----------------------------------------------------------


def test_another_members_appointment_answers_as_missing(env: Any) -> None:
    a = env.book()
    assert [x.id for x in booking.appointments(env.db, env.main)] == [a.id]
    assert booking.appointments(env.db, env.staff) == []
    with pytest.raises(AppointmentNotFound):
        booking.appointment(env.db, env.staff, a.id)
    with pytest.raises(AppointmentNotFound):
        booking.cancel(env.db, env.cx, env.staff, a.id)


def test_a_dependants_appointment_is_seen_by_the_main_insured(env: Any, demo: Any) -> None:
    spouse = env.db.get(Person, demo.people["spouse"].person_id)
    dependant = add_policy(
        env.db,
        env.cx.vault,
        policy_no="DEMO-I-8001-02",
        insured=spouse,
        main_insured=env.main.person,
        relation=Relation.SPOUSE,
        high_end=True,
        start=datetime.date(2026, 1, 1),
        end=datetime.date(2026, 12, 31),
    )
    choices = booking.direct_billing_policies(env.db, env.main, datetime.date(2026, 3, 2))
    assert dependant.id in [p.id for p in choices]
    a = booking.book(env.db, env.cx, env.directory, env.main, request(dependant.id))
    assert a.patient_id == spouse.id
    assert a.id in [x.id for x in booking.appointments(env.db, env.main)]


def test_cancel_until_the_day_before(env: Any, clock: FakeClock) -> None:
    a = env.book(visit_date=datetime.date(2026, 3, 5))
    clock.now = datetime.datetime(2026, 3, 4, 15, 59, tzinfo=datetime.UTC)  # 23:59 on the 4th
    b = env.book(visit_date=datetime.date(2026, 3, 9), visit_time=VisitTime.AFTERNOON)
    assert booking.cancel(env.db, env.cx, env.main, a.id).status == "cancelled"
    clock.now = datetime.datetime(2026, 3, 8, 16, 0, tzinfo=datetime.UTC)  # 00:00 on the 9th
    with pytest.raises(AppointmentRuleBroken) as e:
        booking.cancel(env.db, env.cx, env.main, b.id)
    assert e.value.code == "TOO_LATE_TO_CANCEL"
    with pytest.raises(AppointmentStateConflict):
        booking.cancel(env.db, env.cx, env.main, a.id)


# --- the coordinator desk ----------------------------------------------------------------------


def test_the_queue_is_oldest_first_and_filters(
    env: Any, coordinator: Any, clock: FakeClock
) -> None:
    first = env.book(visit_date=datetime.date(2026, 3, 6))
    clock.advance(minutes=5)
    second = env.book(visit_date=datetime.date(2026, 3, 5))
    page = desk.queue(env.db, desk.QueueFilter(), offset=0, limit=10)
    assert [a.id for a in page.items] == [first.id, second.id]
    by_day = desk.queue(
        env.db, desk.QueueFilter(visit_date=datetime.date(2026, 3, 5)), offset=0, limit=10
    )
    assert [a.id for a in by_day.items] == [second.id]
    elsewhere = desk.queue(env.db, desk.QueueFilter(facility_id=DESIGNATED), offset=0, limit=10)
    assert elsewhere.items == []
    desk.confirm(env.db, env.cx, coordinator, first.id, time="09:30")
    assert [a.id for a in desk.queue(env.db, desk.QueueFilter(), offset=0, limit=10).items] == [
        second.id
    ]


def test_each_decision_reaches_the_member(env: Any, coordinator: Any) -> None:
    env.db.add(
        ContactProfile(
            account_id=env.main.id,
            address_enc=env.cx.vault.encrypt("上海市"),
            email_enc=env.cx.vault.encrypt("zhang.wei@example.com"),
        )
    )
    a = env.book()
    desk.confirm(env.db, env.cx, coordinator, a.id, time="09:30", doctor="李医生")
    b = env.book(visit_date=datetime.date(2026, 3, 6))
    desk.propose(env.db, env.cx, coordinator, b.id, day=datetime.date(2026, 3, 9), time="14:00")
    c = env.book(visit_date=datetime.date(2026, 3, 10))
    desk.decline(env.db, env.cx, coordinator, c.id, reason="该科室当日停诊")
    d = env.book(visit_date=datetime.date(2026, 3, 11))
    booking.cancel(env.db, env.cx, env.main, d.id)
    rows = env.db.scalars(select(Notification).order_by(Notification.id)).all()
    texts = [(r.channel.value, env.cx.vault.decrypt(r.body_enc)) for r in rows]
    # booked (acknowledged), confirmed; booked, time proposed; booked, declined; booked,
    # cancelled: each on both channels
    assert [ch for ch, _ in texts] == ["sms", "email"] * 8
    assert "您的直付就诊预约已提交：2026年3月5日 上午" in texts[0][1]
    assert "与医院确认后" in texts[1][1]
    assert "您的直付就诊预约已确认：2026年3月5日 09:30" in texts[2][1]
    assert "张伟" in texts[2][1] and "李医生" in texts[3][1]
    assert "建议改为2026年3月9日 14:00" in texts[6][1]
    assert "原因：该科室当日停诊" in texts[10][1]
    assert "您已取消2026年3月11日在" in texts[14][1] and "如非本人操作" in texts[14][1]
    inbox = env.db.scalars(select(MemberMessage).order_by(MemberMessage.id)).all()
    assert [m.kind for m in inbox] == [
        "appointment.submitted",
        "appointment.confirmed",
        "appointment.submitted",
        "appointment.time_proposed",
        "appointment.submitted",
        "appointment.declined",
        "appointment.submitted",
        "appointment.cancelled",
    ]
    assert {m.subject_type for m in inbox} == {"appointment"}
    assert all("张伟" not in m.body for m in inbox)
    with pytest.raises(AppointmentStateConflict):
        desk.confirm(env.db, env.cx, coordinator, a.id, time="10:00")


def test_an_english_speaking_member_is_told_in_english(env: Any, coordinator: Any) -> None:
    env.main.preferred_language = "en"
    a = env.book()
    desk.confirm(env.db, env.cx, coordinator, a.id, time="09:30")
    sms = env.db.scalar(select(Notification).order_by(Notification.id.desc()))
    body = env.cx.vault.decrypt(sms.body_enc)
    assert "is confirmed: 5 March 2026 09:30" in body and "Shuguang Hospital" in body


def test_the_member_accepts_or_declines_a_proposed_time(env: Any, coordinator: Any) -> None:
    a = env.book()
    desk.propose(env.db, env.cx, coordinator, a.id, day=datetime.date(2026, 3, 9), time="14:00")
    accepted = booking.respond(env.db, env.cx, env.main, a.id, accept=True)
    assert (accepted.status, accepted.visit_date, accepted.confirmed_time) == (
        "confirmed",
        datetime.date(2026, 3, 9),
        "14:00",
    )
    b = env.book()
    desk.propose(env.db, env.cx, coordinator, b.id, day=datetime.date(2026, 3, 10), time="08:30")
    assert booking.respond(env.db, env.cx, env.main, b.id, accept=False).status == "cancelled"
    with pytest.raises(AppointmentStateConflict):
        booking.respond(env.db, env.cx, env.main, b.id, accept=True)


def test_desk_input_is_checked(env: Any, coordinator: Any) -> None:
    a = env.book()
    with pytest.raises(ValidationFailed):
        desk.confirm(env.db, env.cx, coordinator, a.id, time="9.30")
    with pytest.raises(ValidationFailed):
        desk.decline(env.db, env.cx, coordinator, a.id, reason=" ")
    with pytest.raises(AppointmentRuleBroken):
        desk.propose(env.db, env.cx, coordinator, a.id, day=datetime.date(2026, 3, 2), time="10:00")
    with pytest.raises(AppointmentNotFound):
        desk.confirm(env.db, env.cx, coordinator, a.id + 1000, time="09:30")


def test_attended_or_no_show_after_the_day(env: Any, coordinator: Any, clock: FakeClock) -> None:
    a = env.book()
    desk.confirm(env.db, env.cx, coordinator, a.id, time="09:30")
    with pytest.raises(AppointmentRuleBroken):
        desk.record_outcome(env.db, env.cx, coordinator, a.id, attended=True)
    clock.now = datetime.datetime(2026, 3, 5, 8, 0, tzinfo=datetime.UTC)
    assert (
        desk.record_outcome(env.db, env.cx, coordinator, a.id, attended=False).status == "no_show"
    )


def test_only_coordinators_open_the_desk(env: Any, coordinator: Any) -> None:
    from server.claims import adjusters

    create_adjuster(
        env.db,
        env.cx.vault,
        username="li.shenhe",
        name="李审核",
        email="",
        password="Review-2026!",
        now=env.cx.now(),
    )
    adjuster = adjusters.log_in(env.db, env.cx, username="li.shenhe", password="Review-2026!")
    with pytest.raises(AdjusterUnauthenticated):
        desk.authenticate(env.db, env.cx, adjuster.token)
    mine = adjusters.log_in(env.db, env.cx, username="chen.xietiao", password="Desk-2026!x")
    assert desk.authenticate(env.db, env.cx, mine.token).id == coordinator.id


def test_an_account_holds_at_most_ten_open_appointments(env: Any) -> None:
    days = [datetime.date(2026, 3, 4) + datetime.timedelta(days=i) for i in range(11)]
    for day in days[: booking.MAX_OPEN_PER_ACCOUNT]:
        env.book(visit_date=day)
    with pytest.raises(AppointmentRuleBroken) as e:
        env.book(visit_date=days[-1])
    assert e.value.code == "TOO_MANY_OPEN"
