"""自助保全 (seed 000 §11): the member's own policy administration requests.

A change of personal details (§11.1) is reviewed by the back office: details_change.py.

A change of contact details (§11.2: province/city/district, street address, e-mail) takes
a CHANGE_CONTACT code sent to the member's own mobile and applies at once to the contact
record claims use (ContactProfile: one record). Every request is kept for the progress
list (§11.3) with its timeline, its new values encrypted, and the member is told in the
message centre.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.accounts.sms_codes import Purpose
from server.accounts.validation import sms_code_problem
from server.claims import claimant_input as check
from server.claims import details_change
from server.claims.claimant_rules import require_verified
from server.claims.claimant_views import contact_of, mask_address
from server.claims.core import ClaimContext
from server.claims.details_models import DetailsChange, ServiceRequestEvent
from server.claims.errors import ContactChangeLimited
from server.claims.models import (
    ContactProfile,
    ServiceRequest,
    ServiceRequestKind,
    ServiceRequestStatus,
)
from server.crypto import mask_email
from server.divisions import divisions
from server.limits import Policy, key_of
from server.messages import service as messages

LIST_MAX = 50  # the progress list shows the newest requests
# per member: contact changes a day (each also spends a CHANGE_CONTACT code)
CHANGES = Policy("contact-change", window=datetime.timedelta(days=1), limit=10)

_APPLIED_TEXT = {
    "zh": ("联系信息已变更", "您的联系地址和电子邮箱已更新，理赔将使用新的联系信息。"),
    "en": (
        "Contact details changed",
        "Your contact address and e-mail are updated; claims use them from now on.",
    ),
}


@dataclass(frozen=True, slots=True)
class Step:
    status: str  # DRAFT, SUBMITTED, APPLIED, REJECTED
    at: datetime.datetime
    note: str = ""  # a rejection's reason


@dataclass(frozen=True, slots=True)
class RequestView:
    id: int
    kind: ServiceRequestKind
    status: ServiceRequestStatus
    summary: str  # what changed, masked
    created_at: datetime.datetime
    decided_at: datetime.datetime | None
    timeline: list[Step]
    reject_reason: str | None = None
    files: tuple[str, ...] = ()  # a details change's photos and signature, by category


def _region(
    problems: check.Problems, province_code: str, city_code: str, district_code: str | None
) -> str | None:
    """The region's names as an address begins (上海市浦东新区), or None with the problem."""
    regions = divisions()
    province = regions.get(province_code)
    if province is None or province.parent_code is not None:
        problems.add("provinceCode", "Choose a province from the list.", "UNKNOWN_REGION")
        return None
    city = regions.city_in(province_code, city_code)
    if city is None:
        problems.add("cityCode", "Choose a city of the chosen province.", "UNKNOWN_REGION")
        return None
    names = [province.name] + ([] if city.name == province.name else [city.name])
    if regions.children(city.code):
        district = regions.district_in(city.code, district_code or "")
        if district is None:
            problems.add("districtCode", "Choose a district of the chosen city.", "UNKNOWN_REGION")
            return None
        names.append(district.name)
    elif district_code:
        problems.add(
            "districtCode", "This city has no districts: leave it empty.", "UNKNOWN_REGION"
        )
        return None
    return "".join(names)


def change_contact(
    db: Session,
    cx: ClaimContext,
    account: Account,
    *,
    province_code: str,
    city_code: str,
    district_code: str | None,
    address: str,
    email: str,
    sms_code: str,
) -> RequestView:
    """客户联系信息变更: checked, confirmed by the SMS code, applied at once."""
    require_verified(account)
    problems = check.Problems()
    region = _region(problems, province_code, city_code, district_code)
    street = check.text(problems, "address", address, max_len=check.ADDRESS_MAX, required=True)
    mail = check.email(problems, "email", email)
    problems.include(sms_code_problem(sms_code))
    problems.raise_any()
    assert region is not None and street is not None and mail is not None
    full = street if street.startswith(region) else region + street
    if len(full) > check.ADDRESS_MAX:
        problems.add("address", f"At most {check.ADDRESS_MAX} characters.", "TOO_LONG")
        problems.raise_any()
    decision = cx.limiter.hit(db, CHANGES, key_of(cx.vault, CHANGES.name, str(account.id)))
    if not decision.allowed:
        wait = decision.retry_after_seconds
        raise ContactChangeLimited(
            f"Too many contact changes today; try again in {wait} seconds.", wait
        )
    # one member's changes take turns: the one contact record is created once
    db.execute(select(Account.id).where(Account.id == account.id).with_for_update())
    cx.codes.consume(db, cx.vault.decrypt(account.phone_enc), Purpose.CHANGE_CONTACT, sms_code)
    now = cx.now()
    contact = contact_of(db, account.id)
    if contact is None:
        contact = ContactProfile(account_id=account.id, address_enc="", email_enc="")
        db.add(contact)
    contact.address_enc = cx.vault.encrypt(full)
    contact.email_enc = cx.vault.encrypt(mail)
    contact.province_code = province_code
    contact.city_code = city_code
    contact.district_code = district_code or None
    contact.updated_at = now
    detail = {
        "provinceCode": province_code,
        "cityCode": city_code,
        "districtCode": district_code or None,
        "address": full,
        "email": mail,
    }
    request = ServiceRequest(
        account_id=account.id,
        kind=ServiceRequestKind.CHANGE_CONTACT.value,
        status=ServiceRequestStatus.APPLIED.value,
        detail_enc=cx.vault.encrypt(json.dumps(detail, ensure_ascii=False)),
        created_at=now,
        decided_at=now,
    )
    db.add(request)
    db.flush()
    language = account.preferred_language if account.preferred_language in _APPLIED_TEXT else "zh"
    title, body = _APPLIED_TEXT[language]
    messages.post(
        db,
        account_id=account.id,
        kind="service_request.applied",
        subject_type="service_request",
        subject_id=request.id,
        language=language,
        title=title,
        body=body,
        dedupe_key=f"service_request:{request.id}:applied",
        now=now,
    )
    return _view(db, cx, request)


def _view(db: Session, cx: ClaimContext, r: ServiceRequest) -> RequestView:
    kind = ServiceRequestKind(r.kind)
    events = list(
        db.scalars(
            select(ServiceRequestEvent)
            .where(ServiceRequestEvent.request_id == r.id)
            .order_by(ServiceRequestEvent.id)
        )
    )
    if events:
        steps = [Step(e.status.upper(), e.at, e.note) for e in events]
    else:  # a contact change: applied as it was sent
        steps = [Step("SUBMITTED", r.created_at)]
        if r.decided_at is not None:
            steps.append(Step(r.status.upper(), r.decided_at))
    reason = None
    files: tuple[str, ...] = ()
    if kind is ServiceRequestKind.CHANGE_DETAILS:
        summary = details_change.summary(details_change.new_details(cx, r))
        change = db.scalar(select(DetailsChange).where(DetailsChange.request_id == r.id))
        if change is not None:
            reason = change.reject_reason
            files = tuple(details_change.files_of(db, change))
    else:
        detail = json.loads(cx.vault.decrypt(r.detail_enc))
        summary = f"{mask_address(detail['address'])} {mask_email(detail['email'])}"
    return RequestView(
        id=r.id,
        kind=kind,
        status=ServiceRequestStatus(r.status),
        summary=summary,
        created_at=r.created_at,
        decided_at=r.decided_at,
        timeline=steps,
        reject_reason=reason,
        files=files,
    )


def view(db: Session, cx: ClaimContext, r: ServiceRequest) -> RequestView:
    return _view(db, cx, r)


def requests(db: Session, cx: ClaimContext, account: Account) -> list[RequestView]:
    """保全进度查询: the member's requests, newest first."""
    require_verified(account)
    rows = db.scalars(
        select(ServiceRequest)
        .where(ServiceRequest.account_id == account.id)
        .order_by(ServiceRequest.id.desc())
        .limit(LIST_MAX)
    )
    return [_view(db, cx, r) for r in rows]
