"""The app's list of direct-billing and health services: which the signed-in member may
use, and why not (seed §9.1, §10.1).

Appointments and their progress, the electronic card, card reissue and inpatient advance
payment are for high-end policies only (仅支持高端保单客户使用): any other member is shown
the offline route, the booking line. Internet outpatient
booking is a third party's service (微医), open to every member: a link out.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.billing.appointments import is_high_end
from server.billing.errors import BOOKING_LINE

PROVIDER_ZH = "微医"
PROVIDER_EN = "WeDoctor"
# the other high-end services: 电子直付卡 (§9.5), 申请补卡 (§9.6), 住院垫付 (§10)
HIGH_END_MORE = ("E_CARD", "CARD_REISSUE", "ADVANCE_PAYMENT")


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    code: str  # APPOINTMENT, APPOINTMENT_PROGRESS, INTERNET_OUTPATIENT, E_CARD, ...
    available: bool
    reason_code: str | None  # why not: HIGH_END_REQUIRED, REAL_NAME_REQUIRED
    offline_route: str | None  # what to do instead (the booking line)
    link: str | None = None  # a third party's page
    provider_zh: str | None = None
    provider_en: str | None = None


def service_list(
    db: Session, account: Account, today: datetime.date, *, internet_outpatient_url: str
) -> list[ServiceEntry]:
    if account.person_id is None:
        reason: str | None = "REAL_NAME_REQUIRED"
    else:
        reason = None if is_high_end(db, account, today) else "HIGH_END_REQUIRED"
    route = BOOKING_LINE if reason else None
    return [
        ServiceEntry("APPOINTMENT", reason is None, reason, route),
        ServiceEntry("APPOINTMENT_PROGRESS", reason is None, reason, route),
        ServiceEntry(
            "INTERNET_OUTPATIENT",
            True,
            None,
            None,
            link=internet_outpatient_url,
            provider_zh=PROVIDER_ZH,
            provider_en=PROVIDER_EN,
        ),
        # after the link-out, so that the first entries keep their places
        *(ServiceEntry(code, reason is None, reason, route) for code in HIGH_END_MORE),
    ]
