"""The coordinator desk (直付协调): the queue of appointments and the decisions on them.

Coordinators are back-office accounts of their own role beside adjusters: the same
accounts script, log-in and sessions (server/claims/adjusters.py, server/sessions.py),
and each desk operation checks the role. Every decision is announced to the member in
the same transaction (server/billing/notices.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from server.billing import notices
from server.billing.appointments import _event, _state, hhmm
from server.billing.errors import AppointmentNotFound, AppointmentRuleBroken
from server.billing.models import Appointment, AppointmentStatus
from server.claims import adjusters
from server.claims.core import ClaimContext
from server.claims.errors import AdjusterUnauthenticated
from server.claims.models import Adjuster
from server.errors import FieldProblem, InvalidInput, ValidationFailed
from server.sessions import LiveSession
from server.workdays import china_date

S = AppointmentStatus
PAGE_MAX = 100
REASON_MAX = 500


def authenticate(db: Session, cx: ClaimContext, token: str) -> Adjuster:
    """The signed-in coordinator; any other back-office role is refused."""
    return authenticate_session(db, cx, token)[0]


def authenticate_session(db: Session, cx: ClaimContext, token: str) -> tuple[Adjuster, LiveSession]:
    """The signed-in coordinator and the session (signed file links are bound to it)."""
    person, session = adjusters.authenticate_session(db, cx, token)
    if person.role != adjusters.COORDINATOR:
        raise AdjusterUnauthenticated("Sign in as a direct-billing coordinator.")
    return person, session


@dataclass(frozen=True, slots=True)
class QueueFilter:
    statuses: tuple[AppointmentStatus, ...] = (S.SUBMITTED,)
    facility_id: str | None = None
    visit_date: datetime.date | None = None


@dataclass(frozen=True, slots=True)
class QueuePage:
    items: list[Appointment] = field(default_factory=list)
    total: int = 0
    has_next: bool = False


def queue(db: Session, f: QueueFilter, *, offset: int, limit: int) -> QueuePage:
    """Appointments waiting for the desk, oldest request first."""
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput(f"'first' must be between 1 and {PAGE_MAX}.", field="first")
    where: list[ColumnElement[bool]] = [
        Appointment.status.in_([s.value for s in f.statuses or (S.SUBMITTED,)])
    ]
    if f.facility_id:
        where.append(Appointment.facility_id == f.facility_id.strip())
    if f.visit_date:
        where.append(Appointment.visit_date == f.visit_date)
    rows = list(
        db.scalars(
            select(Appointment)
            .where(*where)
            .options(selectinload(Appointment.events))
            .order_by(Appointment.created_at, Appointment.id)
            .offset(offset)
            .limit(limit + 1)
        )
    )
    total = db.scalar(select(func.count()).select_from(Appointment).where(*where)) or 0
    return QueuePage(rows[:limit], total, len(rows) > limit)


def get(db: Session, appointment_id: int, *, lock: bool = False) -> Appointment:
    q = select(Appointment).where(Appointment.id == appointment_id)
    a = db.scalar(q.with_for_update() if lock else q)
    if a is None:
        raise AppointmentNotFound("No appointment has this id.")
    return a


def confirm(
    db: Session,
    cx: ClaimContext,
    coordinator: Adjuster,
    appointment_id: int,
    *,
    time: str,
    doctor: str = "",
) -> Appointment:
    """The hospital has the member: confirmed with the time (HH:MM) and the doctor."""
    a = get(db, appointment_id, lock=True)
    _state(a, S.SUBMITTED)
    doctor = doctor.strip()
    if len(doctor) > 30:
        raise ValidationFailed([FieldProblem("doctor", "At most 30 characters.", "TOO_LONG")])
    now = cx.now()
    a.confirmed_time = hhmm(time, "time")
    a.confirmed_doctor = doctor or a.doctor_name
    a.status = S.CONFIRMED.value
    _event(a, "confirmed", now, actor="coordinator", actor_id=coordinator.id)
    db.flush()
    notices.announce(db, cx, a, notices.Event.CONFIRMED, now, key=str(len(a.events)))
    return a


def propose(
    db: Session,
    cx: ClaimContext,
    coordinator: Adjuster,
    appointment_id: int,
    *,
    day: datetime.date,
    time: str,
    note: str = "",
) -> Appointment:
    """The hospital offers another day and time; the member accepts or declines it."""
    a = get(db, appointment_id, lock=True)
    _state(a, S.SUBMITTED)
    now = cx.now()
    if day <= china_date(now):
        raise AppointmentRuleBroken("DATE_TOO_SOON", "Propose a day after today.", field="date")
    if len(note.strip()) > REASON_MAX:
        raise ValidationFailed(
            [FieldProblem("note", f"At most {REASON_MAX} characters.", "TOO_LONG")]
        )
    a.proposed_date = day
    a.proposed_time = hhmm(time, "time")
    a.decision_reason = note.strip()
    a.status = S.TIME_PROPOSED.value
    _event(a, "time_proposed", now, actor="coordinator", actor_id=coordinator.id, note=note.strip())
    db.flush()
    notices.announce(db, cx, a, notices.Event.TIME_PROPOSED, now, key=str(len(a.events)))
    return a


def decline(
    db: Session,
    cx: ClaimContext,
    coordinator: Adjuster,
    appointment_id: int,
    *,
    reason: str,
) -> Appointment:
    """No appointment can be made; the reason goes to the member."""
    a = get(db, appointment_id, lock=True)
    _state(a, S.SUBMITTED, S.TIME_PROPOSED)
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise ValidationFailed(
            [FieldProblem("reason", f"Give a reason of 1 to {REASON_MAX} characters.", "REQUIRED")]
        )
    now = cx.now()
    a.decision_reason = reason
    a.status = S.DECLINED.value
    a.open_key = None
    _event(a, "declined", now, actor="coordinator", actor_id=coordinator.id, note=reason)
    db.flush()
    notices.announce(db, cx, a, notices.Event.DECLINED, now, key=str(len(a.events)))
    return a


def record_outcome(
    db: Session, cx: ClaimContext, coordinator: Adjuster, appointment_id: int, *, attended: bool
) -> Appointment:
    """After the day: the member came (attended) or did not (no-show)."""
    a = get(db, appointment_id, lock=True)
    _state(a, S.CONFIRMED)
    now = cx.now()
    if a.visit_date > china_date(now):
        raise AppointmentRuleBroken(
            "VISIT_NOT_YET", "The visit day has not come yet.", field="attended"
        )
    a.status = (S.ATTENDED if attended else S.NO_SHOW).value
    a.open_key = None
    _event(a, a.status, now, actor="coordinator", actor_id=coordinator.id)
    db.flush()
    return a
