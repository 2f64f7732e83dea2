"""客户信息变更 (seed 000 §11.1): the member changes name, ID type, ID number or mobile.

The member enters the new details (a draft: each field checked, the new document free),
uploads the ID card's front and back, a photo holding it and a signature, proves
the current mobile and, when it changes, the new one (a CHANGE_DETAILS code to each,
for this account only), and submits. The back office approves, and the change is applied
in one transaction to the account (log-in mobile, real-name identity: server/accounts/
identity.py) and the insured person, with an audit record of old and new values; or
rejects it with a reason. Each step is on the request's timeline (保全进度查询, shared with
contact changes in member_admin.py) and the member is told by SMS, e-mail and in-app message.

A member has one change open at a time (the unique `open_for`, whatever arrives at once);
starting and submitting are budgeted per member on server/limits, and a new document costs
a real-name try (server/accounts/identity_tries.py): asking whether a document is taken is
the look-up those budgets exist for. Whether the new mobile is another account's log-in is
told only at submission, after the code sent to it is confirmed: only someone who holds that
mobile learns it (as registering with it would tell them), never a member probing numbers.
"""

from __future__ import annotations

import datetime
import json
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts import identity, identity_tries
from server.accounts.models import Account
from server.accounts.sms_codes import Purpose, SentCode
from server.accounts.validation import (
    id_number_problem,
    mobile_problem,
    name_problem,
    normalise_id_number,
    normalise_mobile,
    resident_id_birth_date,
    sms_code_problem,
)
from server.claims import claimant_input as check
from server.claims.claimant_rules import require_verified
from server.claims.core import ClaimContext
from server.claims.details_models import (
    DetailsChange,
    DetailsChangeFile,
    PersonalDetailsAudit,
    ServiceRequestEvent,
)
from server.claims.errors import (
    DetailsChangeLimited,
    IdentityUnavailable,
    MobileInUse,
    ServiceRequestNotFound,
    ServiceRequestOpen,
    WrongServiceRequestState,
)
from server.claims.models import (
    Adjuster,
    ContactProfile,
    ServiceRequest,
    ServiceRequestKind,
    ServiceRequestStatus,
)
from server.crypto import mask_id, mask_name, mask_phone
from server.errors import FieldProblem, ValidationFailed
from server.limits import Policy, key_of
from server.messages import service as messages
from server.notify import outbox
from server.notify.templates import HOTLINE
from server.policies.models import IdType, Person, PolicyKind
from server.policies.models import Policy as InsurancePolicy
from server.sessions import SessionKind
from server.storage.backend import thumbnail_key
from server.storage.uploads import StoredUpload

log = logging.getLogger(__name__)

S = ServiceRequestStatus
CATEGORIES = {
    "ID_FRONT": "身份证正面",
    "ID_BACK": "身份证反面",
    "ID_HANDHELD": "本人手持身份证",
    "SIGNATURE": "签名",
}
# per member: drafts started a day, and submissions in 30 days
STARTS = Policy("details-change-start", window=datetime.timedelta(days=1), limit=5)
SUBMITS = Policy("details-change-submit", window=datetime.timedelta(days=30), limit=3)
QUEUE_MAX = 100

UNAVAILABLE = (
    "This document cannot be used for a change online; call the service hotline "
    f"{HOTLINE} with your documents."
)


@dataclass(frozen=True, slots=True)
class Details:
    name: str
    id_type: IdType
    id_number: str
    mobile: str

    def as_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "idType": self.id_type.value,
            "idNumber": self.id_number,
            "mobile": self.mobile,
        }

    @classmethod
    def of_json(cls, d: dict[str, str]) -> Details:
        return cls(d["name"], IdType(d["idType"]), d["idNumber"], d["mobile"])


@dataclass(frozen=True, slots=True)
class CodesSent:
    mobiles: list[str]  # masked: the current mobile, then the new one when it changes
    sent: SentCode


@dataclass(frozen=True, slots=True)
class OfficeView:
    """What the back office decides on: the new name in full (to match the photos), the rest
    masked, as the claim review shows it."""

    request_id: int
    status: ServiceRequestStatus
    submitted_at: datetime.datetime | None
    current_name: str
    new_name: str
    new_id_type: IdType
    new_id_number: str  # masked
    new_mobile: str  # masked
    changes: list[str]  # NAME, ID_TYPE, ID_NUMBER, MOBILE
    files: list[tuple[str, int]]  # (category, details_change_file id), for signed links
    reject_reason: str | None


def _problem(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem(field, message, code)])


def current(cx: ClaimContext, account: Account, person: Person) -> Details:
    return Details(
        name=cx.vault.decrypt(person.name_enc).strip(),
        id_type=person.id_type,
        id_number=cx.vault.decrypt(person.id_number_enc),
        mobile=cx.vault.decrypt(account.phone_enc),
    )


def changed_fields(old: Details, new: Details) -> list[str]:
    return [
        label
        for label, a, b in (
            ("NAME", old.name, new.name),
            ("ID_TYPE", old.id_type, new.id_type),
            ("ID_NUMBER", old.id_number, new.id_number),
            ("MOBILE", old.mobile, new.mobile),
        )
        if a != b
    ]


def _checked(person: Person, name: str, id_type: IdType, id_number: str, mobile: str) -> Details:
    clean = " ".join(name.split())
    number = normalise_id_number(id_number)
    phone = normalise_mobile(mobile)
    problems = check.Problems()
    problems.include(name_problem(clean), id_number_problem(id_type, number), mobile_problem(phone))
    problems.raise_any()
    if id_type is IdType.RESIDENT_ID and resident_id_birth_date(number) != person.birth_date:
        # the birth date drives the claim rules (minor dependants): not a change made online
        raise _problem(
            "idNumber",
            f"The birth date in this ID number differs from the one on your policy; call the "
            f"service hotline {HOTLINE} to correct it.",
            "BIRTH_DATE_MISMATCH",
        )
    return Details(clean, id_type, number, phone)


def _free(
    db: Session,
    cx: ClaimContext,
    account: Account,
    old: Details,
    new: Details,
    *,
    mobile: bool = True,
) -> None:
    """The new mobile and document belong to no one else, or a typed error saying no more.

    With `mobile=False` the mobile is not looked at: whether a mobile is another account's
    log-in is told only once the member has shown they hold it (the code sent to it), so a
    signed-in member cannot use this request to learn which numbers have an account."""
    if mobile and new.mobile != old.mobile:
        other = db.scalar(
            select(Account.id).where(
                Account.phone_hash == cx.vault.lookup(new.mobile, kind="phone"),
                Account.id != account.id,
            )
        )
        if other is not None:
            raise MobileInUse(
                "This mobile number is another account's log-in; choose another.", field="mobile"
            )
    if (new.id_type, new.id_number) != (old.id_type, old.id_number) and not (
        identity.identity_free(db, cx.vault, account, new.id_type, new.id_number)
    ):
        raise IdentityUnavailable(UNAVAILABLE, field="idNumber")


def _budget(db: Session, cx: ClaimContext, policy: Policy, account: Account) -> None:
    decision = cx.limiter.hit(db, policy, key_of(cx.vault, policy.name, str(account.id)))
    if not decision.allowed:
        wait = decision.retry_after_seconds
        raise DetailsChangeLimited(
            f"Too many changes of personal details lately; try again in {wait} seconds or "
            f"call the service hotline {HOTLINE}.",
            wait,
        )


# --- the member ------------------------------------------------------------------------------


def start(
    db: Session,
    cx: ClaimContext,
    account: Account,
    *,
    name: str,
    id_type: IdType,
    id_number: str,
    mobile: str,
    client: str | None = None,
) -> ServiceRequest:
    """Steps 3-4: the new details, checked; a draft that takes the photos and signature."""
    person_id = require_verified(account)
    person = db.get(Person, person_id)
    assert person is not None
    new = _checked(person, name, id_type, id_number, mobile)
    old = current(cx, account, person)
    if not changed_fields(old, new):
        raise _problem("name", "Nothing differs from your current details.", "NOTHING_CHANGED")
    if _open_change(db, account) is not None:
        raise ServiceRequestOpen(
            "A change of personal details is open already; finish or wait for it first."
        )
    now = cx.now()
    _budget(db, cx, STARTS, account)
    if (new.id_type, new.id_number) != (old.id_type, old.id_number):
        keys = identity_tries.try_keys(
            cx.vault,
            member_phone_hash=account.phone_hash,
            client=client,
            id_type=new.id_type,
            name=new.name,
            number=new.id_number,
        )
        identity_tries.take_try(cx.limiter, db, keys, now)
    _free(db, cx, account, old, new, mobile=False)  # the mobile: at submission
    request = ServiceRequest(
        account_id=account.id,
        kind=ServiceRequestKind.CHANGE_DETAILS.value,
        status=S.DRAFT.value,
        detail_enc=cx.vault.encrypt(json.dumps(new.as_json(), ensure_ascii=False)),
        created_at=now,
    )
    try:
        with db.begin_nested():
            db.add(request)
            db.flush()
            db.add(
                DetailsChange(
                    request_id=request.id,
                    account_id=account.id,
                    person_id=person.id,
                    open_for=account.id,
                )
            )
            db.flush()
    except IntegrityError:  # another start of this member's got in first
        raise ServiceRequestOpen(
            "A change of personal details is open already; finish or wait for it first."
        ) from None
    _event(db, request, S.DRAFT, now)
    return request


def _open_change(db: Session, account: Account) -> DetailsChange | None:
    return db.scalar(select(DetailsChange).where(DetailsChange.open_for == account.id))


def own(
    db: Session, account: Account, request_id: int, *, lock: bool = False
) -> tuple[ServiceRequest, DetailsChange]:
    """The member's change of personal details; anyone else's answers as unknown."""
    query = select(ServiceRequest).where(ServiceRequest.id == request_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = db.scalar(query)
    change = (
        db.scalar(select(DetailsChange).where(DetailsChange.request_id == request_id))
        if row is not None
        else None
    )
    if row is None or change is None or row.account_id != account.id:
        raise ServiceRequestNotFound("No such request among yours.")
    return row, change


def _draft(db: Session, account: Account, request_id: int) -> tuple[ServiceRequest, DetailsChange]:
    require_verified(account)
    row, change = own(db, account, request_id, lock=True)
    if row.status != S.DRAFT.value:
        raise WrongServiceRequestState("This request has been sent; it can no longer change.")
    return row, change


def check_upload(db: Session, account: Account, request_id: int, category: str) -> None:
    """Before any byte is stored: a draft of the member's, and a category it takes."""
    _category(category)
    _draft(db, account, request_id)
    db.rollback()  # the row lock is not held while the body streams in


def _category(category: str) -> None:
    if category not in CATEGORIES:
        raise _problem(
            "category", "ID_FRONT, ID_BACK, ID_HANDHELD or SIGNATURE.", "CATEGORY_NOT_ALLOWED"
        )


def attach(
    db: Session,
    cx: ClaimContext,
    account: Account,
    request_id: int,
    category: str,
    stored: StoredUpload,
) -> tuple[DetailsChangeFile, str | None]:
    """Step 5-6: a photo or the signature, committed; a new one replaces the earlier one of
    its category (returned: the storage key to delete)."""
    _category(category)
    _, change = _draft(db, account, request_id)
    row = db.scalar(
        select(DetailsChangeFile).where(
            DetailsChangeFile.change_id == change.id, DetailsChangeFile.category == category
        )
    )
    replaced = None
    if row is None:
        row = DetailsChangeFile(change_id=change.id, category=category)
        db.add(row)
    else:
        replaced = row.storage_key
    row.storage_key = stored.key
    row.content_type = stored.content_type
    row.size = stored.size
    row.uploaded_at = cx.now()
    db.flush()
    db.commit()
    return row, replaced


def discard(db: Session, cx: ClaimContext, account: Account, request_id: int) -> None:
    """Delete a draft with its files: the member may start another change."""
    row, change = _draft(db, account, request_id)
    files = list(
        db.scalars(select(DetailsChangeFile).where(DetailsChangeFile.change_id == change.id))
    )
    keys = [f.storage_key for f in files]
    events = db.scalars(select(ServiceRequestEvent).where(ServiceRequestEvent.request_id == row.id))
    for obj in [*files, *events]:
        db.delete(obj)
    db.flush()
    db.delete(change)
    db.flush()
    db.delete(row)
    db.flush()
    for key in keys:
        for k in (key, thumbnail_key(key)):
            try:
                cx.storage.delete(k)
            except Exception:  # scripts/clean_uploads.py removes it later
                log.warning("could not delete a discarded draft's stored file", exc_info=True)


def files_of(db: Session, change: DetailsChange) -> list[str]:
    return list(
        db.scalars(
            select(DetailsChangeFile.category)
            .where(DetailsChangeFile.change_id == change.id)
            .order_by(DetailsChangeFile.id)
        )
    )


def _check_files(db: Session, change: DetailsChange) -> None:
    have = set(files_of(db, change))
    missing = [c for c in CATEGORIES if c not in have]
    if missing:
        raise _problem(
            "documents",
            "Upload " + ", ".join(CATEGORIES[c] for c in missing) + " first.",
            "DOCUMENTS_MISSING",
        )


def new_details(cx: ClaimContext, row: ServiceRequest) -> Details:
    return Details.of_json(json.loads(cx.vault.decrypt(row.detail_enc)))


def send_codes(db: Session, cx: ClaimContext, account: Account, request_id: int) -> CodesSent:
    """Step 7: a CHANGE_DETAILS code to the current mobile and, when it changes, to the new
    one; only this account can use them."""
    row, change = _draft(db, account, request_id)
    _check_files(db, change)
    now_mobile = cx.vault.decrypt(account.phone_enc)
    new = new_details(cx, row)
    phones = [now_mobile] + ([new.mobile] if new.mobile != now_mobile else [])
    sent = None
    for phone in phones:
        sent = cx.codes.issue(db, phone, Purpose.CHANGE_DETAILS, account_id=account.id)
    assert sent is not None
    return CodesSent([mask_phone(p) for p in phones], sent)


def submit(
    db: Session,
    cx: ClaimContext,
    account: Account,
    request_id: int,
    *,
    sms_code: str,
    new_mobile_sms_code: str | None,
) -> ServiceRequest:
    """The codes, then the request goes to the back office."""
    row, change = _draft(db, account, request_id)
    person = db.get(Person, change.person_id)
    assert person is not None
    new = new_details(cx, row)
    old = current(cx, account, person)
    problems = check.Problems()
    problems.include(sms_code_problem(sms_code))
    if new.mobile != old.mobile:
        problems.include(sms_code_problem(new_mobile_sms_code or "", "newMobileSmsCode"))
    problems.raise_any()
    _check_files(db, change)
    cx.codes.consume(db, old.mobile, Purpose.CHANGE_DETAILS, sms_code, account_id=account.id)
    if new.mobile != old.mobile:
        assert new_mobile_sms_code is not None
        cx.codes.consume(
            db, new.mobile, Purpose.CHANGE_DETAILS, new_mobile_sms_code, account_id=account.id
        )
    _free(db, cx, account, old, new)
    _budget(db, cx, SUBMITS, account)
    now = cx.now()
    row.status = S.SUBMITTED.value
    change.submitted_at = now
    _event(db, row, S.SUBMITTED, now)
    _tell(db, cx, account, row, S.SUBMITTED, now)
    return row


# --- the back office -------------------------------------------------------------------------


def queue(db: Session, cx: ClaimContext, *, offset: int, limit: int) -> list[OfficeView]:
    """Submitted changes, the oldest first."""
    limit = max(1, min(limit, QUEUE_MAX + 1))  # one more: whether a next page follows
    rows = db.execute(
        select(ServiceRequest, DetailsChange)
        .join(DetailsChange, DetailsChange.request_id == ServiceRequest.id)
        .where(ServiceRequest.status == S.SUBMITTED.value)
        .order_by(DetailsChange.submitted_at, ServiceRequest.id)
        .offset(max(offset, 0))
        .limit(limit)
    ).all()
    return [office_view(db, cx, r, c) for r, c in rows]


def office_view(
    db: Session, cx: ClaimContext, row: ServiceRequest, change: DetailsChange
) -> OfficeView:
    person = db.get(Person, change.person_id)
    account = db.get(Account, change.account_id)
    assert person is not None and account is not None
    new = new_details(cx, row)
    old = current(cx, account, person) if row.status != S.APPLIED.value else None
    return OfficeView(
        request_id=row.id,
        status=S(row.status),
        submitted_at=change.submitted_at,
        current_name=cx.vault.decrypt(person.name_enc).strip(),
        new_name=new.name,
        new_id_type=new.id_type,
        new_id_number=mask_id(new.id_number),
        new_mobile=mask_phone(new.mobile),
        changes=changed_fields(old, new) if old is not None else [],
        files=[
            (f.category, f.id)
            for f in db.scalars(
                select(DetailsChangeFile)
                .where(DetailsChangeFile.change_id == change.id)
                .order_by(DetailsChangeFile.category)
            )
        ],
        reject_reason=change.reject_reason,
    )


def find_for_office(db: Session, request_id: int) -> tuple[ServiceRequest, DetailsChange]:
    row = db.get(ServiceRequest, request_id)
    change = db.scalar(select(DetailsChange).where(DetailsChange.request_id == request_id))
    if row is None or change is None or row.status == S.DRAFT.value:
        raise ServiceRequestNotFound("No such change of personal details submitted.")
    return row, change


def _submitted(db: Session, request_id: int) -> tuple[ServiceRequest, DetailsChange]:
    row = db.scalar(
        select(ServiceRequest)
        .where(ServiceRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    change = db.scalar(select(DetailsChange).where(DetailsChange.request_id == request_id))
    if row is None or change is None or row.status == S.DRAFT.value:
        raise ServiceRequestNotFound("No such change of personal details submitted.")
    if row.status != S.SUBMITTED.value:
        raise WrongServiceRequestState("This request is decided already.")
    return row, change


def approve(db: Session, cx: ClaimContext, adjuster: Adjuster, request_id: int) -> ServiceRequest:
    """Applies the change, all in this transaction: the insured person, the account (log-in
    mobile, real-name identity), individual policies held in the old name, the audit; the
    member's sessions end, so every device signs in again with the new details."""
    row, change = _submitted(db, request_id)
    account = db.scalar(
        select(Account)
        .where(Account.id == change.account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    person = db.get(Person, change.person_id)
    assert account is not None and person is not None
    if account.person_id != person.id:  # the identity moved away meanwhile
        raise WrongServiceRequestState(
            "The member no longer holds this identity; reject the request."
        )
    new = new_details(cx, row)
    old = current(cx, account, person)
    _free(db, cx, account, old, new)  # still free now: else the office rejects it
    now = cx.now()
    try:
        with db.begin_nested():
            _apply(db, cx, adjuster, row, account, person, old, new, now)
    except IntegrityError:  # a request applied at the same moment took the mobile or document
        _free(db, cx, account, old, new)
        raise WrongServiceRequestState(
            "The new mobile or document was taken meanwhile; reject the request."
        ) from None
    cx.sessions.end_all(db, SessionKind.MEMBER, account.id)
    row.status = S.APPLIED.value
    row.decided_at = now
    change.open_for = None
    change.decided_by = adjuster.id
    _event(db, row, S.APPLIED, now)
    _tell(db, cx, account, row, S.APPLIED, now, also_to=old.mobile)
    return row


def _apply(
    db: Session,
    cx: ClaimContext,
    adjuster: Adjuster,
    row: ServiceRequest,
    account: Account,
    person: Person,
    old: Details,
    new: Details,
    now: datetime.datetime,
) -> None:
    audit = PersonalDetailsAudit(
        at=now,
        request_id=row.id,
        account_id=account.id,
        person_id=person.id,
        adjuster_id=adjuster.id,
        old_enc=cx.vault.encrypt(json.dumps(old.as_json(), ensure_ascii=False)),
        new_enc=cx.vault.encrypt(json.dumps(new.as_json(), ensure_ascii=False)),
        previous_id_number_hash=person.id_number_hash,
        previous_phone_hash=account.phone_hash,
    )
    db.add(audit)
    if new.name != old.name:
        held = db.scalars(
            select(InsurancePolicy).where(
                InsurancePolicy.insured_id == person.id,
                InsurancePolicy.kind == PolicyKind.INDIVIDUAL,
            )
        )
        for policy in held:
            if cx.vault.decrypt(policy.holder_name_enc).strip() == old.name:
                policy.holder_name_enc = cx.vault.encrypt(new.name)
    identity.apply_details_change(
        db,
        cx.vault,
        cx.limiter,
        account,
        person,
        name=new.name,
        id_type=new.id_type,
        id_number=new.id_number,
        mobile=new.mobile,
        now=now,
    )


def reject(
    db: Session, cx: ClaimContext, adjuster: Adjuster, request_id: int, *, reason: str
) -> ServiceRequest:
    problems = check.Problems()
    why = check.text(problems, "reason", reason, max_len=check.REASON_MAX, required=True)
    problems.raise_any()
    assert why is not None
    row, change = _submitted(db, request_id)
    now = cx.now()
    row.status = S.REJECTED.value
    row.decided_at = now
    change.open_for = None
    change.decided_by = adjuster.id
    change.reject_reason = why
    _event(db, row, S.REJECTED, now, why)
    account = db.get(Account, change.account_id)
    if account is not None:
        _tell(db, cx, account, row, S.REJECTED, now, reason=why)
    return row


# --- timeline and notices --------------------------------------------------------------------


def _event(
    db: Session,
    row: ServiceRequest,
    status: ServiceRequestStatus,
    at: datetime.datetime,
    note: str = "",
) -> None:
    db.add(ServiceRequestEvent(request_id=row.id, status=status.value, at=at, note=note))
    db.flush()


# (title, in-app body, SMS) per status and language; the e-mail says the in-app body
_TEXT: dict[ServiceRequestStatus, dict[str, tuple[str, str, str]]] = {
    S.SUBMITTED: {
        "zh": (
            "客户信息变更已提交",
            "您的客户信息变更申请已提交，审核结果将通知您。",
            "【太平洋保险】您的客户信息变更申请已提交，我们将尽快审核。如有疑问请致电{hotline}。",
        ),
        "en": (
            "Change of personal details submitted",
            "Your change of personal details is submitted; we will tell you the outcome.",
            "[CPIC] Your change of personal details is submitted for review. Questions: {hotline}.",
        ),
    },
    S.APPLIED: {
        "zh": (
            "客户信息变更已生效",
            "您的客户信息已更新，请使用新的信息登录。",
            "【太平洋保险】您的客户信息变更已审核通过并生效，请重新登录。如非本人操作请致电{hotline}。",
        ),
        "en": (
            "Personal details changed",
            "Your personal details are updated; sign in again with them.",
            "[CPIC] Your change of personal details is approved and applied; sign in again. "
            "Not you? Call {hotline}.",
        ),
    },
    S.REJECTED: {
        "zh": (
            "客户信息变更未通过",
            "您的客户信息变更申请未通过审核：{reason}",
            "【太平洋保险】您的客户信息变更申请未通过审核：{reason}。如有疑问请致电{hotline}。",
        ),
        "en": (
            "Change of personal details not approved",
            "Your change of personal details was not approved: {reason}",
            "[CPIC] Your change of personal details was not approved: {reason}. Questions: "
            "{hotline}.",
        ),
    },
}
_HOTLINE_SHOWN = {"zh": HOTLINE, "en": "1010-8686"}
SMS_REASON_MAX = 60


def _tell(
    db: Session,
    cx: ClaimContext,
    account: Account,
    row: ServiceRequest,
    status: ServiceRequestStatus,
    now: datetime.datetime,
    *,
    reason: str = "",
    also_to: str | None = None,
) -> None:
    """SMS (to the account's mobile, and to `also_to`, the former one, when it changed),
    e-mail (the contact e-mail, when there is one) and the in-app message."""
    lang = account.preferred_language if account.preferred_language in ("zh", "en") else "zh"
    title, body, sms = _TEXT[status][lang]
    short = reason if len(reason) <= SMS_REASON_MAX else reason[: SMS_REASON_MAX - 1] + "…"
    body = body.format(reason=reason)
    sms = sms.format(reason=short, hotline=_HOTLINE_SHOWN[lang])
    key = f"service_request:{row.id}:{status.value}"
    phone = cx.vault.decrypt(account.phone_enc)
    phones = [phone] + ([also_to] if also_to and also_to != phone else [])
    for i, p in enumerate(phones):
        outbox.enqueue(
            db, outbox.Channel.SMS, p, "", sms, f"{key}:sms:{i}", vault=cx.vault, now=now
        )
    contact = db.scalar(select(ContactProfile).where(ContactProfile.account_id == account.id))
    email = cx.vault.decrypt(contact.email_enc).strip() if contact is not None else ""
    if email:
        outbox.enqueue(
            db, outbox.Channel.EMAIL, email, title, body, f"{key}:email", vault=cx.vault, now=now
        )
    messages.post(
        db,
        account_id=account.id,
        kind=f"service_request.{status.value}",
        subject_type="service_request",
        subject_id=row.id,
        language=lang,
        title=title,
        body=body,
        dedupe_key=f"{key}:app",
        now=now,
    )


def summary(new: Details) -> str:
    """The new values, masked, for the progress list."""
    return f"{mask_name(new.name)} {mask_id(new.id_number)} {mask_phone(new.mobile)}"
