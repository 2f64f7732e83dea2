"""Direct-billing appointments (seed §9.3, §9.4): what a high-end member may book, the
booking rules, progress, cancelling and answering a proposed time.

Rules: the policy is a high-end policy in force (HIGH_END_REQUIRED otherwise, with the
booking line as the offline route); the visit date is at least 2 working days ahead on
the mainland calendar (the guide: 提前2个工作日预约) and within the policy's cover; the
facility is one of the directory's direct-billing facilities in the policy's network,
chosen by id and matching the chosen city, nature and liability; the department is one
the facility lists; one open appointment per insured person, facility and day.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from server.accounts.errors import PolicyNotFound, RealNameRequired
from server.accounts.models import Account
from server.accounts.validation import mobile_problem, normalise_mobile
from server.billing import notices
from server.billing.errors import (
    AppointmentNotFound,
    AppointmentRuleBroken,
    AppointmentStateConflict,
    HighEndRequired,
)
from server.billing.models import (
    OPEN_STATUSES,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    FacilityNature,
    Liability,
    VisitTime,
)
from server.claims.core import ClaimContext
from server.directory.directory import Directory
from server.directory.models import Facility, FacilityKind, Ownership
from server.errors import FieldProblem, ValidationFailed
from server.policies.models import Policy, PolicyStatus
from server.workdays import add_working_days, china_date

S = AppointmentStatus
NOTICE_WORKING_DAYS = 2  # 提前2个工作日预约
HORIZON_DAYS = 90  # how far ahead an appointment can be asked for
# open appointments one account may hold: each one is a coordinator's phone call
MAX_OPEN_PER_ACCOUNT = 10
DESCRIPTION_MAX = 500
DOCTOR_LEVELS = ("chief", "associate_chief", "attending", "resident")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
# the first two digits of an administrative division code (GB/T 2260) -> province
PROVINCES = {
    "11": "北京",
    "12": "天津",
    "13": "河北",
    "14": "山西",
    "15": "内蒙古",
    "21": "辽宁",
    "22": "吉林",
    "23": "黑龙江",
    "31": "上海",
    "32": "江苏",
    "33": "浙江",
    "34": "安徽",
    "35": "福建",
    "36": "江西",
    "37": "山东",
    "41": "河南",
    "42": "湖北",
    "43": "湖南",
    "44": "广东",
    "45": "广西",
    "46": "海南",
    "50": "重庆",
    "51": "四川",
    "52": "贵州",
    "53": "云南",
    "54": "西藏",
    "61": "陕西",
    "62": "甘肃",
    "63": "青海",
    "64": "宁夏",
    "65": "新疆",
}
# benefit names (policy benefits page) -> the liability they cover
_LIABILITY_WORDS = {
    Liability.INPATIENT: ("住院",),
    Liability.OUTPATIENT: ("门诊", "门急诊", "急诊"),
    Liability.DENTAL: ("齿科", "牙科", "口腔"),
}


# --- what the member may use -----------------------------------------------------------------


def require_person(account: Account) -> int:
    if account.person_id is None:
        raise RealNameRequired("Complete real-name verification to use direct-billing services.")
    return account.person_id


def direct_billing_policies(db: Session, account: Account, today: datetime.date) -> list[Policy]:
    """The high-end policies in force the member (or a dependant of theirs) holds."""
    person_id = require_person(account)
    rows = db.scalars(
        select(Policy)
        .where(
            or_(Policy.insured_id == person_id, Policy.main_insured_id == person_id),
            Policy.status == PolicyStatus.IN_FORCE,
            Policy.high_end.is_(True),
            Policy.end_date >= today,
        )
        .options(selectinload(Policy.plan), selectinload(Policy.benefits))
        .order_by(Policy.main_insured_id.is_not(None), Policy.id)
    )
    return list(rows)


def is_high_end(db: Session, account: Account, today: datetime.date) -> bool:
    return account.person_id is not None and bool(direct_billing_policies(db, account, today))


def high_end_required() -> HighEndRequired:
    return HighEndRequired(
        "Direct-billing services are for high-end policy holders only (仅支持高端保单客户使用). "
        "Call 1010-8686 to book a direct-billing visit by phone."
    )


def own_policy(db: Session, account: Account, policy_id: int, today: datetime.date) -> Policy:
    """A policy of the member's that supports direct billing."""
    person_id = require_person(account)
    policy = db.get(Policy, policy_id)
    if policy is None or person_id not in (policy.insured_id, policy.main_insured_id):
        raise PolicyNotFound("No such policy among yours.")
    if not policy.high_end:
        raise high_end_required()
    if policy.status is not PolicyStatus.IN_FORCE or policy.end_date < today:
        raise AppointmentRuleBroken(
            "POLICY_NOT_DIRECT_BILLING", "This policy is not in force.", field="policyId"
        )
    return policy


def liabilities(policy: Policy) -> list[Liability]:
    """The liability types the policy's benefits list names (outpatient and inpatient when
    the policy lists no benefits)."""
    names = [b.name for b in policy.benefits]
    if not names:
        return [Liability.OUTPATIENT, Liability.INPATIENT]
    return [
        liability
        for liability, words in _LIABILITY_WORDS.items()
        if any(w in n for n in names for w in words)
    ]


def earliest_visit_date(today: datetime.date) -> datetime.date:
    return add_working_days(today, NOTICE_WORKING_DAYS)


def network_of(policy: Policy) -> str | None:
    return policy.plan.network_id if policy.plan is not None else None


def in_network(policy: Policy, facility: Facility) -> bool:
    """A direct-billing facility (medical or dental list) of the policy's network; a policy
    without a plan network uses every facility of any direct-billing list."""
    if facility.kind not in (FacilityKind.MEDICAL, FacilityKind.DENTAL):
        return False
    network = network_of(policy)
    return network in facility.networks if network else bool(facility.networks)


def _city(name: str) -> str:
    return name.strip().removesuffix("市")


def province_of(directory: Directory, facility: Facility) -> str:
    district = directory.district(facility.district) if facility.district else None
    if district is not None and district.adcode[:2] in PROVINCES:
        return PROVINCES[district.adcode[:2]]
    return _city(facility.city)


def _nature(facility: Facility) -> FacilityNature | None:
    if facility.ownership is Ownership.PUBLIC:
        return FacilityNature.PUBLIC
    if facility.ownership is Ownership.PRIVATE:
        return FacilityNature.PRIVATE
    return None


def _serves(facility: Facility, liability: Liability) -> bool:
    dental = facility.kind is FacilityKind.DENTAL
    return dental if liability is Liability.DENTAL else not dental


def facilities(
    directory: Directory,
    policy: Policy,
    *,
    liability: Liability | None = None,
    province: str | None = None,
    city: str | None = None,
    nature: FacilityNature | None = None,
) -> list[Facility]:
    """The facilities the booking's facility step offers, by the choices made so far."""
    out = []
    for f in directory.facilities:
        if not in_network(policy, f):
            continue
        if liability is not None and not _serves(f, liability):
            continue
        if city and _city(f.city) != _city(city):
            continue
        if province and province_of(directory, f) != _city(province).removesuffix("省"):
            continue
        if nature is not None and _nature(f) is not nature:
            continue
        out.append(f)
    return out


# --- booking ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Booking:
    policy_id: int
    visit_date: datetime.date
    liability: Liability
    province: str
    city: str
    nature: FacilityNature
    facility_id: str
    visit_time: VisitTime
    department: str
    description: str
    applicant_mobile: str | None = None
    department_type: str = ""
    doctor_name: str = ""
    doctor_level: str = ""


def _input_problems(b: Booking) -> tuple[list[FieldProblem], str | None]:
    found: list[FieldProblem] = []
    mobile = None
    if b.applicant_mobile is not None:
        mobile = normalise_mobile(b.applicant_mobile)
        problem = mobile_problem(mobile, "applicantMobile")
        if problem is not None:
            found.append(problem)
    description = b.description.strip()
    if not description:
        found.append(FieldProblem("description", "Describe the complaint.", "REQUIRED"))
    elif len(description) > DESCRIPTION_MAX:
        found.append(
            FieldProblem("description", f"At most {DESCRIPTION_MAX} characters.", "TOO_LONG")
        )
    if not b.department.strip():
        found.append(FieldProblem("department", "Choose a department.", "REQUIRED"))
    for field, value, n in (
        ("departmentType", b.department_type, 50),
        ("doctorName", b.doctor_name, 30),
    ):
        if len(value.strip()) > n:
            found.append(FieldProblem(field, f"At most {n} characters.", "TOO_LONG"))
    if b.doctor_level and b.doctor_level not in DOCTOR_LEVELS:
        found.append(FieldProblem("doctorLevel", "Not a doctor level.", "INVALID_CHOICE"))
    if not b.province.strip() or not b.city.strip():
        field = "province" if not b.province.strip() else "city"
        found.append(FieldProblem(field, "Choose the province and city.", "REQUIRED"))
    return found, mobile


def check_visit_date(policy: Policy, visit_date: datetime.date, today: datetime.date) -> None:
    earliest = earliest_visit_date(today)
    if visit_date < earliest:
        raise AppointmentRuleBroken(
            "DATE_TOO_SOON",
            f"Book at least {NOTICE_WORKING_DAYS} working days ahead: the earliest date is "
            f"{earliest.isoformat()}.",
            field="visitDate",
        )
    if visit_date > today + datetime.timedelta(days=HORIZON_DAYS):
        raise AppointmentRuleBroken(
            "DATE_TOO_FAR",
            f"Book at most {HORIZON_DAYS} days ahead.",
            field="visitDate",
        )
    if not policy.start_date <= visit_date <= policy.end_date:
        raise AppointmentRuleBroken(
            "DATE_OUTSIDE_COVER",
            f"The policy covers {policy.start_date.isoformat()} to {policy.end_date.isoformat()}.",
            field="visitDate",
        )


def _facility(directory: Directory, policy: Policy, b: Booking) -> Facility:
    facility = directory.get(b.facility_id.strip())
    if facility is None:
        raise AppointmentRuleBroken(
            "FACILITY_NOT_FOUND", "No facility has this id.", field="facilityId"
        )
    if not in_network(policy, facility):
        raise AppointmentRuleBroken(
            "FACILITY_NOT_IN_NETWORK",
            "This facility is not a direct-billing facility of your plan's network.",
            field="facilityId",
        )
    if b.liability not in liabilities(policy):
        raise AppointmentRuleBroken(
            "LIABILITY_NOT_COVERED",
            "The policy's benefits do not include this liability type.",
            field="liability",
        )
    mismatch = (
        not _serves(facility, b.liability)
        or _city(facility.city) != _city(b.city)
        or province_of(directory, facility) != _city(b.province).removesuffix("省")
        or _nature(facility) is not b.nature
    )
    if mismatch:
        raise AppointmentRuleBroken(
            "FACILITY_MISMATCH",
            "This facility does not match the liability type, city or nature chosen.",
            field="facilityId",
        )
    return facility


def _department(facility: Facility, name: str) -> str:
    wanted = name.strip().casefold()
    if not facility.departments:
        return name.strip()  # the list names none: the coordinator checks with the hospital
    for d in facility.departments:
        if wanted in (d.zh.casefold(), d.en.casefold()):
            return d.zh
    raise AppointmentRuleBroken(
        "DEPARTMENT_NOT_AT_FACILITY",
        "Choose one of this facility's departments.",
        field="department",
    )


def _open_key(person_id: int, facility_id: str, day: datetime.date) -> str:
    return f"{person_id}:{facility_id}:{day.isoformat()}"


def _duplicate() -> AppointmentRuleBroken:
    return AppointmentRuleBroken(
        "DUPLICATE_APPOINTMENT",
        "This insured person already has an open appointment at this facility on that day.",
        field="visitDate",
    )


def _event(
    a: Appointment,
    kind: str,
    now: datetime.datetime,
    *,
    actor: str,
    actor_id: int | None = None,
    note: str = "",
) -> None:
    a.events.append(
        AppointmentEvent(
            kind=kind, at=now, actor=actor, actor_id=actor_id, status_to=a.status, note=note
        )
    )
    a.updated_at = now


def book(
    db: Session, cx: ClaimContext, directory: Directory, account: Account, b: Booking
) -> Appointment:
    now = cx.now()
    today = china_date(now)
    problems, mobile = _input_problems(b)
    if problems:
        raise ValidationFailed(problems)
    policy = own_policy(db, account, b.policy_id, today)
    check_visit_date(policy, b.visit_date, today)
    facility = _facility(directory, policy, b)
    department = _department(facility, b.department)
    applicant = account.person
    assert applicant is not None  # own_policy required a verified account
    key = _open_key(policy.insured_id, facility.id, b.visit_date)
    if db.scalar(select(Appointment.id).where(Appointment.open_key == key)) is not None:
        raise _duplicate()
    # the account's row, locked: two bookings at once count each other (PostgreSQL)
    db.scalar(select(Account.id).where(Account.id == account.id).with_for_update())
    open_now = db.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.account_id == account.id,
            Appointment.status.in_([s.value for s in OPEN_STATUSES]),
        )
    )
    if (open_now or 0) >= MAX_OPEN_PER_ACCOUNT:
        raise AppointmentRuleBroken(
            "TOO_MANY_OPEN",
            f"At most {MAX_OPEN_PER_ACCOUNT} open appointments; cancel one or call 1010-8686.",
        )
    v = cx.vault
    a = Appointment(
        account_id=account.id,
        policy_id=policy.id,
        patient_id=policy.insured_id,
        applicant_name_enc=applicant.name_enc,
        applicant_id_number_enc=applicant.id_number_enc,
        applicant_mobile_enc=v.encrypt(mobile) if mobile else account.phone_enc,
        visit_date=b.visit_date,
        visit_time=b.visit_time.value,
        liability=b.liability.value,
        province=province_of(directory, facility),
        city=_city(facility.city),
        facility_nature=b.nature.value,
        facility_id=facility.id,
        facility_name=facility.name_zh,
        facility_name_en=facility.name_en,
        department=department,
        description_enc=v.encrypt(b.description.strip()),
        department_type=b.department_type.strip(),
        doctor_name=b.doctor_name.strip(),
        doctor_level=b.doctor_level,
        status=S.SUBMITTED.value,
        open_key=key,
        created_at=now,
        updated_at=now,
    )
    _event(a, "submitted", now, actor="member", actor_id=account.id)
    try:
        with db.begin_nested():  # two taps at once: the unique key lets one through
            db.add(a)
    except IntegrityError:
        raise _duplicate() from None
    notices.announce(db, cx, a, notices.Event.SUBMITTED, now, key="1")
    return a


# --- progress --------------------------------------------------------------------------------


def _visible(account: Account) -> list[ColumnElement[bool]]:
    person_id = require_person(account)
    return [
        Appointment.policy_id == Policy.id,
        or_(Policy.insured_id == person_id, Policy.main_insured_id == person_id),
    ]


def appointments(db: Session, account: Account, *, limit: int = 100) -> list[Appointment]:
    """The member's appointments and their dependants', newest first."""
    return list(
        db.scalars(
            select(Appointment)
            .join(Policy, Appointment.policy_id == Policy.id)
            .where(*_visible(account))
            .options(selectinload(Appointment.events))
            .order_by(Appointment.id.desc())
            .limit(limit)
        )
    )


def appointment(
    db: Session, account: Account, appointment_id: int, *, lock: bool = False
) -> Appointment:
    """One of the member's (or a dependant's) appointments; another member's answers as
    a missing one."""
    q = (
        select(Appointment)
        .join(Policy, Appointment.policy_id == Policy.id)
        .where(Appointment.id == appointment_id, *_visible(account))
    )
    a = db.scalar(q.with_for_update(of=Appointment) if lock else q)
    if a is None:
        raise AppointmentNotFound("No such appointment among yours.")
    return a


def _state(a: Appointment, *allowed: AppointmentStatus) -> None:
    if S(a.status) not in allowed:
        raise AppointmentStateConflict(
            f"The appointment is {a.status}; this step is not possible now."
        )


def cancel(db: Session, cx: ClaimContext, account: Account, appointment_id: int) -> Appointment:
    """The member cancels, until the day before the visit (China time)."""
    a = appointment(db, account, appointment_id, lock=True)
    _state(a, *OPEN_STATUSES)
    now = cx.now()
    if china_date(now) >= a.visit_date:
        raise AppointmentRuleBroken(
            "TOO_LATE_TO_CANCEL",
            "An appointment can be cancelled until the day before the visit; call 1010-8686.",
            field="appointmentId",
        )
    a.status = S.CANCELLED.value
    a.open_key = None
    _event(a, "cancelled", now, actor="member", actor_id=account.id)
    db.flush()
    notices.announce(db, cx, a, notices.Event.CANCELLED, now, key=str(len(a.events)))
    return a


def respond(
    db: Session, cx: ClaimContext, account: Account, appointment_id: int, *, accept: bool
) -> Appointment:
    """The member accepts the time the hospital proposed (confirmed) or declines it
    (cancelled)."""
    a = appointment(db, account, appointment_id, lock=True)
    _state(a, S.TIME_PROPOSED)
    now = cx.now()
    if not accept:
        a.status = S.CANCELLED.value
        a.open_key = None
        _event(a, "proposal_declined", now, actor="member", actor_id=account.id)
        db.flush()
        notices.announce(db, cx, a, notices.Event.CANCELLED, now, key=str(len(a.events)))
        return a
    assert a.proposed_date is not None
    if a.proposed_date <= china_date(now):
        raise AppointmentRuleBroken(
            "PROPOSAL_EXPIRED", "The proposed day has passed; call 1010-8686.", field="accept"
        )
    key = _open_key(a.patient_id, a.facility_id, a.proposed_date)
    if a.open_key != key:
        taken = db.scalar(
            select(Appointment.id).where(Appointment.open_key == key, Appointment.id != a.id)
        )
        if taken is not None:
            raise _duplicate()
    a.visit_date = a.proposed_date
    a.confirmed_time = a.proposed_time
    a.status = S.CONFIRMED.value
    a.open_key = key
    _event(a, "proposal_accepted", now, actor="member", actor_id=account.id)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise _duplicate() from None
    notices.announce(db, cx, a, notices.Event.CONFIRMED, now, key=str(len(a.events)))
    return a


def hhmm(value: str, field: str) -> str:
    v = value.strip()
    if not _HHMM.match(v):
        raise ValidationFailed([FieldProblem(field, "Give a time as HH:MM.", "INVALID_TIME")])
    return v
