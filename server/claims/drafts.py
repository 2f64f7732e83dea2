"""A member's self-service claim, from draft to submission (seed 000 §4, seed 002 二.1).

A draft is a claim row in status DRAFT that the member fills in step by step and can
leave and resume: notice and policy, contact details (first claim only), basic
information, amount and payee, documents (uploaded over HTTP elsewhere), confirmation,
signature and SMS code. Each step checks what it can; submission checks every rule
again, since rules, limits, ages and documents may have changed since a step was saved.

Submission is idempotent per (account, client key): the client sends the same key when
it retries, and gets the claim the first attempt made. The draft row is locked while it
is submitted. A race of one key on two drafts: on PostgreSQL one account's submissions
take turns on an advisory lock, so the key is checked and written by one UPDATE that
cannot break the unique constraint; on SQLite the constraint refuses it in a savepoint.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from server.accounts.models import Account
from server.accounts.sms_codes import Purpose, SentCode
from server.accounts.validation import sms_code_problem
from server.claims import announcements, designated, out_of_town, outpatient_year, payees
from server.claims import claimant_input as check
from server.claims.claimant_rules import (
    check_amount,
    check_contact,
    check_cover,
    check_declaration,
    check_in_force,
    check_notice,
    check_payee,
    china_today,
    claim_relation,
    facility_problem,
    incident_date_problem,
    member_policy_and_contact,
    online_limit_fen,
    region_problems,
    require_verified,
    rule_broken,
    rules_for,
)
from server.claims.claimant_views import (
    ContactView,
    PayeeView,
    PersonSummary,
    contact_of,
    contact_view,
    latest_payee,
    parties,
    payee_view,
)
from server.claims.core import (
    CLAIM_TABLE,
    TRANSITIONS,
    ClaimContext,
    active_documents,
    can_see,
    claim_day,
    claim_no_in_sql,
    create_claim,
    find_duplicates,
    member_claim,
    next_claim_no,
    open_supplement,
    record,
    remember_contact,
    transition,
)
from server.claims.errors import ClaimNotFound, ClaimRuleBroken, WrongClaimState
from server.claims.models import (
    Actor,
    Channel,
    Claim,
    ClaimDocument,
    ClaimDuplicate,
    ClaimEvent,
    ClaimInvoice,
    ClaimLimitOverride,
    ClaimStatus,
    ContactProfile,
    IncidentType,
    PayeeAccount,
)
from server.claims.rules import PlanRules
from server.crypto import mask_phone
from server.errors import FieldProblem, ValidationFailed
from server.policies.models import Relation

log = logging.getLogger(__name__)
S = ClaimStatus
PAYEE_TABLE = cast(Table, PayeeAccount.__table__)
INVOICE_TABLE = cast(Table, ClaimInvoice.__table__)


# --- finding the member's drafts ----------------------------------------------------------------


def own_claim(db: Session, account: Account, claim_id: int) -> Claim:
    """A claim this account made; a claim about the member made by someone else is not theirs
    to change, and a draft is only ever seen by its author."""
    claim = member_claim(db, account, claim_id, with_parts=True)
    if claim.account_id != account.id:
        raise ClaimNotFound("No such claim among yours.")
    return claim


def own_draft(db: Session, account: Account, claim_id: int) -> Claim:
    require_verified(account)
    claim = own_claim(db, account, claim_id)
    if claim.status is not S.DRAFT:
        raise WrongClaimState("This claim has been submitted; it can no longer be changed.")
    return claim


def drafts(db: Session, account: Account) -> list[Claim]:
    """The member's unfinished claims, the most recently touched first (to resume)."""
    require_verified(account)
    return list(
        db.scalars(
            select(Claim)
            .where(Claim.account_id == account.id, Claim.status == S.DRAFT)
            .order_by(Claim.updated_at.desc(), Claim.id.desc())
        )
    )


# --- step 1: notice, policy and insured person ---------------------------------------------------


def start_draft(
    db: Session,
    cx: ClaimContext,
    account: Account,
    *,
    policy_id: int,
    notice_accepted: bool,
    channel: Channel = Channel.APP,
) -> Claim:
    """A new draft on one of the member's policies, for themselves or a minor child.

    Each policy covers one person, so choosing the policy chooses the insured person.
    The contact address and e-mail come first on a first claim (CONTACT_REQUIRED).
    `channel` is where the member is claiming from (申报途径): the app or the WeChat
    mini-program.
    """
    person_id = require_verified(account)
    check_notice(notice_accepted)
    # the policy and the member's contact details in one statement
    policy, contact = member_policy_and_contact(db, person_id, policy_id, account.id)
    rules = rules_for(cx, policy)
    today = china_today(cx)
    relation = claim_relation(policy, person_id, rules, today)
    check_in_force(policy, today)
    check_contact(contact)
    now = cx.now()
    return create_claim(
        db,
        {
            "account_id": account.id,
            "applicant_id": person_id,
            "policy_id": policy.id,
            "insured_id": policy.insured_id,
            "relation": relation,
            "plan_rules": rules.code,
            "status": S.DRAFT,
            "channel": channel,
            "notice_accepted_at": now,
            "created_at": now,
            "updated_at": now,
        },
        "CREATED",
        actor=Actor.CLAIMANT,
        actor_id=account.id,
        now=now,
        channel=channel,
    )


# --- contact details (first claim) ----------------------------------------------------------------


def require_contact(db: Session, account: Account) -> ContactProfile:
    return check_contact(contact_of(db, account.id))


def save_contact(
    db: Session, cx: ClaimContext, account: Account, *, address: str, email: str
) -> ContactView:
    """Set or change the contact address and e-mail (encrypted; shown masked)."""
    require_verified(account)
    problems = check.Problems()
    addr = check.text(problems, "address", address, max_len=check.ADDRESS_MAX, required=True)
    mail = check.email(problems, "email", email)
    problems.raise_any()
    assert addr is not None and mail is not None
    values = {
        "address_enc": cx.vault.encrypt(addr),
        "email_enc": cx.vault.encrypt(mail),
        # a free-text address: region codes of an earlier contact change no longer describe it
        "province_code": None,
        "city_code": None,
        "district_code": None,
        "updated_at": cx.now(),
    }
    # one upsert on the unique account id, whether or not the member has a profile yet:
    # two saves at once end with one row (the later one's details), as a read then an
    # INSERT or UPDATE would not guarantee
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    upsert = (
        insert(ContactProfile)
        .values(account_id=account.id, **values)
        .on_conflict_do_update(index_elements=[ContactProfile.account_id], set_=values)
        .returning(ContactProfile)
    )
    contact = db.scalars(upsert, execution_options={"populate_existing": True}).one()
    remember_contact(db, contact)
    view = contact_view(cx, contact)
    assert view is not None
    return view


def claimant_profile(
    db: Session, cx: ClaimContext, account: Account
) -> tuple[ContactView | None, PayeeView | None]:
    """What is on file for the next claim: contact details and the payee account, masked."""
    require_verified(account)
    return contact_view(cx, contact_of(db, account.id)), payee_on_file(db, cx, account)


def claimant_contact(db: Session, cx: ClaimContext, account: Account) -> ContactView | None:
    """The contact details on file, masked (claimant_profile without the payee)."""
    require_verified(account)
    return contact_view(cx, contact_of(db, account.id))


def payee_on_file(db: Session, cx: ClaimContext, account: Account) -> PayeeView | None:
    """The payee account a new claim uses when it names none, masked."""
    return payee_view(cx, latest_payee(db, account.id))


# --- step 2: basic information --------------------------------------------------------------------


def update_basics(
    db: Session,
    cx: ClaimContext,
    account: Account,
    claim_id: int,
    *,
    address: str,
    incident_type: IncidentType,
    incident_date: datetime.date,
    claim_type: str,
    relationship: Relation | None = None,
    facility_name: str | None = None,
    facility_id: str | None = None,
) -> Claim:
    """基本信息: address, incident type and date, claim type, relationship for a child;
    the hospital by directory id where the plan names its hospitals so (designated.py)."""
    claim = own_draft(db, account, claim_id)
    rules = cx.rules.get(claim.plan_rules)
    today = china_today(cx)
    problems = check.Problems()
    addr = check.text(problems, "address", address, max_len=check.ADDRESS_MAX, required=True)
    facility = check.text(
        problems, "facilityName", facility_name, max_len=check.FACILITY_MAX, required=False
    )
    problems.include(incident_date_problem(incident_date, today))
    for_child = claim.insured_id != claim.applicant_id
    if for_child and relationship is None:
        problems.add("relationship", "Say how you are related to the insured person.", "REQUIRED")
    elif relationship is not None and relationship is not claim.relation:
        problems.add(
            "relationship",
            "The relationship does not match the policy's record of the insured person.",
            "RELATIONSHIP_MISMATCH",
        )
    if not (facility_id or "").strip():
        problems.include(facility_problem(rules, claim_type, facility))
    problems.raise_any()
    _check_claim_type(rules, claim_type)
    check_cover(claim.policy, incident_date)
    chosen = designated.check_choice(rules, claim_type, facility_id, facility)
    if chosen is not None:
        facility = chosen.name
    _check_facility(rules, claim_type, facility)
    out_of_town.check(
        rules,
        claim_type,
        facility,
        chosen.facility_id if chosen is not None else None,
        cx.facility_place,
    )
    outpatient_year.check(
        db,
        rules,
        insured_id=claim.insured_id,
        claim_id=claim.id,
        claim_type=claim_type,
        incident_date=incident_date,
        amount_fen=None,  # the amount comes next; it is placed in the year then
    )
    claim.address_enc = cx.vault.encrypt(addr or "")
    claim.incident_type = incident_type
    claim.incident_date = incident_date
    claim.claim_type = claim_type
    claim.facility_name = facility
    claim.facility_id = chosen.facility_id if chosen is not None else None
    claim.updated_at = cx.now()
    db.flush()
    return claim


def _check_claim_type(rules: PlanRules, code: str | None) -> None:
    if code is None:
        return
    office = rules.office_case(code)
    if office is not None:
        raise ClaimRuleBroken("OFFICE_ONLY", office.reason, field="claimType")
    if rules.claim_type(code) is None:
        raise ClaimRuleBroken(
            "CLAIM_TYPE_UNKNOWN",
            "This plan has no such claim type; choose one from the plan's rules.",
            field="claimType",
        )


def _check_facility(rules: PlanRules, code: str | None, facility: str | None) -> None:
    ctype = rules.claim_type(code) if code else None
    if ctype is None or not facility:
        return
    name = check.normalise_facility(facility)
    if any(check.normalise_facility(x) in name for x in ctype.excluded_facilities):
        raise ClaimRuleBroken("FACILITY_EXCLUDED", ctype.excluded_reason, field="facilityName")


# --- step 3: amount and payee ---------------------------------------------------------------------


def update_amount(
    db: Session,
    cx: ClaimContext,
    account: Account,
    claim_id: int,
    *,
    invoice_total: Decimal,
    invoice_numbers: Sequence[str] = (),
    province: str | None = None,
    city: str | None = None,
    other_compensation: Decimal = Decimal(0),
    payee_bank: str | None = None,
    payee_account_no: str | None = None,
    payee_id: int | None = None,
) -> Claim:
    """理赔金额: invoice total, invoice numbers, region if the plan needs it, compensation
    already received, and the payee: a saved one (`payee_id`, server/claims/payees.py),
    the account entered here (the applicant's own), or else the member's own on file."""
    claim, override, latest = _amount_draft(db, account, claim_id)
    # read before anything changes, so that all the changes go out in one UPDATE
    had_numbers = [i.invoice_no for i in claim.invoices]
    rules = cx.rules.get(claim.plan_rules)
    problems = check.Problems()
    total = check.amount_fen(problems, "invoiceTotal", invoice_total, allow_zero=False)
    other = check.amount_fen(problems, "otherCompensation", other_compensation, allow_zero=True)
    numbers = check.invoice_numbers(problems, "invoiceNumbers", invoice_numbers)
    prov = check.text(problems, "province", province, max_len=check.REGION_MAX, required=False)
    town = check.text(problems, "city", city, max_len=check.REGION_MAX, required=False)
    problems.include(*region_problems(rules, province, city))
    new_payee = payee_bank is not None or payee_account_no is not None
    if new_payee and payee_id is not None:
        problems.add("payeeId", "Choose a saved payee or enter an account, not both.", "CONFLICT")
    bank = acct = None
    if new_payee:
        bank = check.text(
            problems, "payee.bankName", payee_bank, max_len=check.BANK_NAME_MAX, required=True
        )
        acct = check.bank_account(problems, "payee.accountNo", payee_account_no)
    if total is not None and other is not None and other > total:
        problems.add(
            "otherCompensation",
            "Compensation already received cannot exceed the invoice total.",
            "OVER_INVOICE_TOTAL",
        )
    problems.raise_any()
    assert total is not None and other is not None
    limit = override.limit_fen if override is not None else rules.online_limit_fen
    check_amount(rules, claim.claim_type, total, limit)
    outpatient_year.check(
        db,
        rules,
        insured_id=claim.insured_id,
        claim_id=claim.id,
        claim_type=claim.claim_type,
        incident_date=claim.incident_date,
        amount_fen=total,
    )
    added: dict[str, Any] | None = None  # a payee account to add
    payee: PayeeAccount | None
    if payee_id is not None:
        payee = payees.own_payee(db, account, payee_id)
    elif new_payee:
        assert bank is not None and acct is not None
        payee, added = _payee(cx, account, claim, bank, acct, latest)
    else:
        payee = check_payee(latest)
    new_numbers = numbers if had_numbers != numbers else None
    now = cx.now()
    values: dict[str, Any] = {
        "invoice_total_fen": total,
        "other_compensation_fen": other,
        "province": prov,
        "city": town,
        "updated_at": now,
    }
    if (
        db.get_bind().dialect.name == "postgresql"
        and not had_numbers  # no invoice rows to delete before the new ones
        and (added is not None or new_numbers)
    ):
        _write_amount(db, claim, values, payee, added, new_numbers or [])
        return claim
    if added is not None:
        payee = PayeeAccount(**added)
        db.add(payee)
        db.flush()
    claim.invoice_total_fen = total
    claim.other_compensation_fen = other
    claim.province = prov
    claim.city = town
    claim.payee = payee  # the relationship, which the claim may have loaded already
    if had_numbers != numbers:
        if claim.invoices:
            claim.invoices.clear()
            db.flush()  # old rows go before new ones: the pair (claim, number) is unique
        claim.invoices.extend(ClaimInvoice(invoice_no=n) for n in numbers)
    claim.updated_at = now
    db.flush()
    return claim


def _write_amount(
    db: Session,
    claim: Claim,
    values: dict[str, Any],
    payee: PayeeAccount | None,
    added: dict[str, Any] | None,
    numbers: list[str],
) -> None:
    """PostgreSQL: the amount step's writes in one statement, each a CTE: the new payee
    account (`added`), the claim's UPDATE (naming that payee, or `payee`) and its first
    invoice numbers. The session's objects are then set to what was written, as a flush
    would leave them."""
    params = {f"claim_{key}": value for key, value in values.items()}
    params["amount_claim_id"] = claim.id
    if added is not None:
        params |= {f"payee_{key}": value for key, value in added.items()}
    else:
        params["amount_payee_id"] = payee.id if payee is not None else None
    params |= {f"invoice_{i}": number for i, number in enumerate(numbers)}
    statement = _amount_statement(tuple(values), tuple(added or ()), len(numbers))
    row = db.execute(statement, params).one()
    if added is not None:
        payee = row[0]
    for key, value in values.items():
        set_committed_value(claim, key, value)
    set_committed_value(claim, "payee_id", payee.id if payee is not None else None)
    set_committed_value(claim, "payee", payee)
    if numbers:
        ids, names = row[-2], row[-1]
        rows = []
        for pk, number in zip(ids, names, strict=True):
            invoice = ClaimInvoice(id=pk, claim_id=claim.id, invoice_no=number)
            make_transient_to_detached(invoice)
            db.add(invoice)
            rows.append(invoice)
        set_committed_value(claim, "invoices", rows)


@functools.cache
def _amount_statement(keys: tuple[str, ...], payee_keys: tuple[str, ...], invoices: int) -> Any:
    """`_write_amount`'s statement for these claim columns, a new payee account with these
    columns (none: the claim names `payee_id`) and this many invoice numbers, built once
    (its values are bound)."""
    payee_ref: Any = bindparam("amount_payee_id", type_=CLAIM_TABLE.c.payee_id.type)
    columns: list[Any] = []
    if payee_keys:
        new_payee = (
            insert(PAYEE_TABLE)
            .values({k: bindparam(f"payee_{k}", type_=PAYEE_TABLE.c[k].type) for k in payee_keys})
            .returning(*PAYEE_TABLE.c)
            .cte("new_payee")
        )
        payee_ref = select(new_payee.c.id).scalar_subquery()
        columns.append(aliased(PayeeAccount, new_payee))
    claim_id = bindparam("amount_claim_id", type_=CLAIM_TABLE.c.id.type)
    amount = (
        update(CLAIM_TABLE)
        .where(CLAIM_TABLE.c.id == claim_id)
        .values(
            {k: bindparam(f"claim_{k}", type_=CLAIM_TABLE.c[k].type) for k in keys}
            | {"payee_id": payee_ref}
        )
        .returning(CLAIM_TABLE.c.id)
        .cte("amount")
    )
    if invoices:
        number = INVOICE_TABLE.c.invoice_no.type
        added = (
            insert(INVOICE_TABLE)
            .values(
                [
                    {"claim_id": claim_id, "invoice_no": bindparam(f"invoice_{i}", type_=number)}
                    for i in range(invoices)
                ]
            )
            .returning(INVOICE_TABLE.c.id, INVOICE_TABLE.c.invoice_no)
            .cte("new_invoices")
        )
        for column in (added.c.id, added.c.invoice_no):
            columns.append(
                select(func.array_agg(aggregate_order_by(column, added.c.id))).scalar_subquery()
            )
    return select(*columns).add_cte(amount)


def _amount_draft(
    db: Session, account: Account, claim_id: int
) -> tuple[Claim, ClaimLimitOverride | None, PayeeAccount | None]:
    """`own_draft` for the amount step, in one statement: the claim with its parts and its
    invoice numbers, the insured person's online limit override (`limit_override`) and the
    member's own payee account on file (`latest_payee`)."""
    require_verified(account)
    latest_id = (
        select(PayeeAccount.id)
        .where(
            PayeeAccount.account_id == account.id,
            PayeeAccount.removed_at.is_(None),
            or_(PayeeAccount.relationship.is_(None), PayeeAccount.relationship == "self"),
        )
        .order_by(PayeeAccount.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    row = (
        db.execute(
            select(Claim, ClaimLimitOverride, PayeeAccount)
            .outerjoin(ClaimLimitOverride, ClaimLimitOverride.person_id == Claim.insured_id)
            .outerjoin(PayeeAccount, PayeeAccount.id == latest_id)
            .where(Claim.id == claim_id)
            .options(
                joinedload(Claim.policy),
                joinedload(Claim.payee),
                joinedload(Claim.applicant),
                joinedload(Claim.invoices),
            )
        )
        .unique()
        .first()
    )
    if row is None or not can_see(account, row[0]) or row[0].account_id != account.id:
        raise ClaimNotFound("No such claim among yours.")
    claim, override, latest = row
    if claim.status is not S.DRAFT:
        raise WrongClaimState("This claim has been submitted; it can no longer be changed.")
    return claim, override, latest


def _payee(
    cx: ClaimContext,
    account: Account,
    claim: Claim,
    bank: str,
    number: str,
    latest: PayeeAccount | None,
) -> tuple[PayeeAccount | None, dict[str, Any] | None]:
    """The applicant's own account: the one on file when it is entered again (nothing to
    add), or the values of a new row, which becomes the account new claims reuse."""
    digest = cx.vault.lookup(number, kind="bank-account")
    if latest is not None and latest.account_no_hash == digest and latest.bank_name == bank:
        return latest, None
    return (
        None,
        {
            "account_id": account.id,
            "holder_name_enc": claim.applicant.name_enc,  # paid to the applicant, in their name
            "bank_name": bank,
            "account_no_enc": cx.vault.encrypt(number),
            "account_no_hash": digest,
            "account_no_last4": number[-4:],
            "created_at": cx.now(),
        },
    )


# --- step 4: documents ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Materials:
    """The documents of one category, and whether the claim type needs it."""

    category: str
    required: bool
    documents: list[ClaimDocument]


def documents_of(db: Session, claim: Claim) -> list[ClaimDocument]:
    """The claim's files not removed, read afresh (uploads arrive in other requests);
    `claim.documents` holds them all afterwards, for the checks that follow."""
    db.expire(claim, ["documents"])
    return [d for d in claim.documents if d.removed_at is None]


def materials(db: Session, cx: ClaimContext, claim: Claim) -> list[Materials]:
    """Documents by category: the claim type's required ones first, then optional ones,
    then any other category that has files (before the claim type was chosen)."""
    rules = cx.rules.get(claim.plan_rules)
    ctype = rules.claim_type(claim.claim_type) if claim.claim_type else None
    required = ctype.required if ctype else ()
    order = list(ctype.categories if ctype else (c.code for c in rules.categories))
    docs = documents_of(db, claim)
    order += [d.category for d in docs if d.category not in order]
    return [
        Materials(
            category=code,
            required=code in required,
            documents=[d for d in docs if d.category == code],
        )
        for code in dict.fromkeys(order)
    ]


def remove_document(db: Session, cx: ClaimContext, account: Account, document_id: int) -> Claim:
    """Take a file out of a draft, or out of a supplement not yet sent. Removing twice is
    not an error. The stored file stays until the clean-up, with the row."""
    require_verified(account)
    doc = db.get(ClaimDocument, document_id)
    if doc is None or doc.claim.account_id != account.id:
        raise ClaimNotFound("No such document among your claims.")
    claim = doc.claim
    if doc.removed_at is not None:
        return claim
    supplement = open_supplement(db, claim) if claim.status is S.PENDING_SUPPLEMENT else None
    in_open_supplement = supplement is not None and doc.supplement_id == supplement.id
    if claim.status is not S.DRAFT and not in_open_supplement:
        raise WrongClaimState("Submitted documents cannot be removed.")
    now = cx.now()
    doc.removed_at = now
    claim.updated_at = now
    db.flush()
    return claim


# --- step 5: confirmation -------------------------------------------------------------------------


def submission_problems(db: Session, cx: ClaimContext, claim: Claim) -> list[ClaimRuleBroken]:
    """Every rule that would refuse the claim now, in the order of the steps."""
    return _submission_checks(db, cx, claim, _draft_facts(db, claim))[0]


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the checks read besides the claim: the contact on file and the person's limit
    set by the claims department (the documents are put on the claim itself)."""

    contact: ContactProfile | None
    override: ClaimLimitOverride | None


def _facts_query() -> Any:
    # one row per document (or one without), the contact and the override on each
    return (
        select(ContactProfile, ClaimLimitOverride, ClaimDocument)
        .select_from(Claim)
        .outerjoin(ContactProfile, ContactProfile.account_id == Claim.account_id)
        .outerjoin(ClaimLimitOverride, ClaimLimitOverride.person_id == Claim.insured_id)
        .outerjoin(ClaimDocument, ClaimDocument.claim_id == Claim.id)
        .where(Claim.id == bindparam("claim_id"))
        .order_by(ClaimDocument.id)
    )


_FACTS = _facts_query()


def _draft_facts(db: Session, claim: Claim) -> _Facts:
    """The contact, the limit override and the claim's documents (read afresh: uploads
    arrive in other requests; `claim.documents` holds them afterwards) in one statement."""
    rows = db.execute(_FACTS, {"claim_id": claim.id}).all()
    contact, override = (rows[0][0], rows[0][1]) if rows else (None, None)
    set_committed_value(claim, "documents", [row[2] for row in rows if row[2] is not None])
    if contact is not None:
        remember_contact(db, contact)
    return _Facts(contact=contact, override=override)


_DRAFT_WITH_FACTS = (
    select(Claim, ContactProfile, ClaimLimitOverride)
    .outerjoin(ContactProfile, ContactProfile.account_id == Claim.account_id)
    .outerjoin(ClaimLimitOverride, ClaimLimitOverride.person_id == Claim.insured_id)
    .where(Claim.id == bindparam("claim_id"))
    # what the rules read (as own_draft), and the documents read afresh
    .options(
        joinedload(Claim.policy),
        joinedload(Claim.payee),
        joinedload(Claim.applicant),
        joinedload(Claim.documents),
    )
    .execution_options(populate_existing=True)
)


def _draft_with_facts(db: Session, account: Account, claim_id: int) -> tuple[Claim, _Facts]:
    """`own_draft` and `_draft_facts` in one statement."""
    require_verified(account)
    row = db.execute(_DRAFT_WITH_FACTS, {"claim_id": claim_id}).unique().one_or_none()
    if row is None or row[0].account_id != account.id:
        raise ClaimNotFound("No such claim among yours.")
    claim, contact, override = row
    if claim.status is not S.DRAFT:
        raise WrongClaimState("This claim has been submitted; it can no longer be changed.")
    if contact is not None:
        remember_contact(db, contact)
    return claim, _Facts(contact=contact, override=override)


def _submission_checks(
    db: Session, cx: ClaimContext, claim: Claim, facts: _Facts
) -> tuple[list[ClaimRuleBroken], int | None]:
    """`submission_problems`, and the online limit they were checked against (submission
    writes it on the claim). `facts` were read with the claim's documents."""
    out: list[ClaimRuleBroken] = []
    limit: int | None = None
    rules = cx.rules.get(claim.plan_rules)
    today = china_today(cx)

    def attempt(fn: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except ClaimRuleBroken as e:
            out.append(e)

    attempt(check_notice, claim.notice_accepted_at is not None)
    attempt(claim_relation, claim.policy, claim.applicant_id, rules, today)
    attempt(check_in_force, claim.policy, today)
    attempt(check_contact, facts.contact if claim.account_id else None)
    if None in (claim.address_enc, claim.incident_type, claim.incident_date, claim.claim_type):
        out.append(
            ClaimRuleBroken("STEP_INCOMPLETE", "Fill in the basic information.", field="basics")
        )
    else:
        assert claim.incident_date is not None
        attempt(_check_claim_type, rules, claim.claim_type)
        future = incident_date_problem(claim.incident_date, today)
        if future is not None:  # the step refuses it before the cover, and so does this
            out.append(rule_broken(future))
        else:
            attempt(check_cover, claim.policy, claim.incident_date)
        facility = facility_problem(rules, claim.claim_type, claim.facility_name)
        if facility is not None:
            out.append(rule_broken(facility))
        attempt(_check_facility, rules, claim.claim_type, claim.facility_name)
        attempt(
            designated.check_choice, rules, claim.claim_type, claim.facility_id, claim.facility_name
        )
        attempt(
            out_of_town.check,
            rules,
            claim.claim_type,
            claim.facility_name,
            claim.facility_id,
            cx.facility_place,
        )
    if claim.invoice_total_fen is None:
        out.append(ClaimRuleBroken("STEP_INCOMPLETE", "Fill in the claim amount.", field="amount"))
    else:
        out += [rule_broken(p) for p in region_problems(rules, claim.province, claim.city)]
        attempt(check_payee, claim.payee)
        limit = facts.override.limit_fen if facts.override is not None else rules.online_limit_fen
        attempt(check_amount, rules, claim.claim_type, claim.invoice_total_fen, limit)
        # the year's total may have moved since the steps (another claim sent meanwhile)
        attempt(
            outpatient_year.check,
            db,
            rules,
            insured_id=claim.insured_id,
            claim_id=claim.id,
            claim_type=claim.claim_type,
            incident_date=claim.incident_date,
            amount_fen=claim.invoice_total_fen,
        )
    missing = _missing(rules, claim.claim_type, active_documents(claim))
    if missing:
        names = "、".join(c.name for c in (rules.category(code) for code in missing) if c)
        out.append(
            ClaimRuleBroken(
                "DOCUMENTS_MISSING",
                f"Upload at least one file for each required category: {names}.",
                field="documents",
            )
        )
    if not claim.signature_key:
        out.append(
            ClaimRuleBroken("SIGNATURE_REQUIRED", "Sign the application first.", field="signature")
        )
    return out, limit


def missing_categories(db: Session, cx: ClaimContext, claim: Claim) -> list[str]:
    rules = cx.rules.get(claim.plan_rules)
    return _missing(rules, claim.claim_type, documents_of(db, claim))


def _missing(rules: PlanRules, claim_type: str | None, documents: list[ClaimDocument]) -> list[str]:
    ctype = rules.claim_type(claim_type) if claim_type else None
    if ctype is None:
        return []
    have = {d.category for d in documents}
    return [c for c in ctype.required if c not in have]


@dataclass(frozen=True, slots=True)
class Confirmation:
    """确认材料: everything the claimant is about to submit, masked, and what still blocks it."""

    claim: Claim
    rules: PlanRules
    insured: PersonSummary
    applicant: PersonSummary
    payee: PayeeView | None
    online_limit_fen: int | None
    materials: list[Materials]
    problems: list[ClaimRuleBroken]


def confirmation(db: Session, cx: ClaimContext, account: Account, claim_id: int) -> Confirmation:
    claim = own_draft(db, account, claim_id)
    rules = cx.rules.get(claim.plan_rules)
    insured, applicant = parties(db, cx, claim)
    return Confirmation(
        claim=claim,
        rules=rules,
        insured=insured,
        applicant=applicant,
        payee=payee_view(cx, claim.payee),
        online_limit_fen=online_limit_fen(db, rules, claim.insured_id),
        materials=materials(db, cx, claim),
        problems=submission_problems(db, cx, claim),
    )


# --- step 6: SMS code and submission ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentConfirmation:
    sent: SentCode
    mobile_masked: str


def send_confirmation_code(
    db: Session, cx: ClaimContext, account: Account, claim_id: int
) -> SentConfirmation:
    """The CONFIRM_CLAIM code, to the applicant's own mobile, once the draft is complete."""
    claim, facts = _draft_with_facts(db, account, claim_id)
    problems = _submission_checks(db, cx, claim, facts)[0]
    if problems:
        raise problems[0]
    phone = cx.vault.decrypt(account.phone_enc)
    sent = cx.codes.issue(db, phone, Purpose.CONFIRM_CLAIM)
    return SentConfirmation(sent=sent, mobile_masked=mask_phone(phone))


def submit(
    db: Session,
    cx: ClaimContext,
    account: Account,
    claim_id: int,
    *,
    sms_code: str,
    client_key: str,
    declaration_version: str | None = None,
) -> Claim:
    """Submit the draft: rules checked again, SMS code used, claim number given.

    The same client key returns the same claim, whether the first attempt finished long
    ago or is committing right now in another request. Where the plan has a 授权与声明,
    `declaration_version` is the version the claimant read and accepted; it is stored with
    the time.
    """
    require_verified(account)
    key = check.client_key(client_key)
    postgres = db.get_bind().dialect.name == "postgresql"
    # the draft and the claim holding the key, if another, in one statement, locked in
    # the order of their ids (so two requests never wait on each other crosswise): two
    # submissions of one draft take turns, and the second sees what the first did
    rows = db.execute(
        _LOCKED_PG if postgres else _LOCKED,
        {"account_id": account.id, "claim_id": claim_id, "wanted_key": key},
    ).all()
    found = {row[0].id: row for row in rows}
    done = next((row[0] for row in rows if row[0].client_key == key), None)
    if done is not None and done.status is not S.DRAFT:
        if done.id != claim_id:
            raise _key_reused()
        return done
    if claim_id not in found:
        raise ClaimNotFound("No such claim among yours.")
    claim, contact, override = found[claim_id]
    if contact is not None:
        remember_contact(db, contact)  # the announcement reads it again
    if claim.status is not S.DRAFT:
        if claim.client_key == key:
            return claim  # submitted by a concurrent request with this key
        raise WrongClaimState("This claim has been submitted already.")
    code_problem = sms_code_problem(sms_code)
    if code_problem is not None:
        raise ValidationFailed([code_problem])
    if done is not None and done.id != claim_id:
        raise _key_reused()  # another draft holds it (a submission of it failed)
    if postgres and claim.client_key != key:
        _take_key_with_documents(db, claim, key)
    else:
        _take_key(db, claim, key)
        documents_of(db, claim)  # read afresh, after the row was locked
    problems, limit = _submission_checks(db, cx, claim, _Facts(contact, override))
    if problems:
        raise problems[0]
    rules = cx.rules.get(claim.plan_rules)
    check_declaration(rules, declaration_version)
    cx.codes.consume(db, cx.vault.decrypt(account.phone_enc), Purpose.CONFIRM_CLAIM, sms_code)
    now = cx.now()
    changes: dict[str, Any] = {
        "limit_fen": limit,  # read by the checks above (no problem: the amount was checked)
        "submitted_at": now,
        "waiting_since": now,
    }
    if rules.declaration is not None:
        changes["declaration_version"] = rules.declaration.version
        changes["declaration_accepted_at"] = now
    # claim.documents was read afresh above, after the row was locked: an upload records
    # its files under that lock, so none can have arrived since
    flags = flag_duplicates(db, claim, now)
    if postgres and not flags:
        # the number is taken in the same statement as the claim's UPDATE and its event
        _write_submitted(db, claim, changes, account.id, now)
    else:
        changes["claim_no"] = next_claim_no(db, now)
        for name, value in changes.items():
            setattr(claim, name, value)
        transition(
            db,
            claim,
            S.SUBMITTED,
            "SUBMITTED",
            actor=Actor.CLAIMANT,
            actor_id=account.id,
            now=now,
            channel=claim.channel,
        )
    if flags:
        bases = sorted({f.basis for f in flags})
        record(
            db,
            claim,
            "DUPLICATE_SUSPECTED",
            actor=Actor.SYSTEM,
            actor_id=None,
            now=now,
            note=", ".join(bases),
        )
    announcements.announce(db, cx, claim, announcements.Event.SUBMITTED, now, key="submit")
    db.flush()
    log.info("claim %s submitted (claim id %s)", claim.claim_no, claim.id)
    return claim


_EVENT_COLUMNS = (
    "at",
    "kind",
    "status_from",
    "status_to",
    "actor",
    "actor_id",
    "channel",
    "note",
)


@functools.lru_cache(maxsize=4)
def _submitted_statement(columns: tuple[str, ...]) -> Any:
    """PostgreSQL, one statement: the day's claim-number counter raised, the draft's
    UPDATE to SUBMITTED (with `columns` and the number made from the counter) and its
    timeline event's INSERT; it returns the claim's number, and no row if the claim is no
    longer a draft."""
    claim = cast(Table, Claim.__table__)
    event = cast(Table, ClaimEvent.__table__)
    number, claim_no = claim_no_in_sql()
    changed = (
        update(claim)
        .where(claim.c.id == bindparam("c_claim"), claim.c.status == S.DRAFT)
        .values(
            {c: bindparam(f"c_{c}", type_=claim.c[c].type) for c in columns}
            | {"claim_no": claim_no}
        )
        .returning(claim.c.id, claim.c.claim_no)
        .cte("submitted")
    )
    values = [bindparam(f"e_{c}", type_=event.c[c].type) for c in _EVENT_COLUMNS]
    timeline = (
        insert(event)
        .from_select(["claim_id", *_EVENT_COLUMNS], select(changed.c.id, *values))
        .returning(event.c.id)
        .cte("timeline")
    )
    return select(changed.c.claim_no).add_cte(number, timeline)


def _write_submitted(
    db: Session,
    claim: Claim,
    changes: dict[str, Any],
    account_id: int,
    now: datetime.datetime,
) -> None:
    """`transition` to SUBMITTED with `changes`, written in one statement rather than by
    the session (the claim's attributes are set as written)."""
    if S.SUBMITTED not in TRANSITIONS[claim.status]:
        raise WrongClaimState("This claim has been submitted already.")
    row = {**changes, "status": S.SUBMITTED, "updated_at": now}
    event = {
        "at": now,
        "kind": "SUBMITTED",
        "status_from": claim.status,
        "status_to": S.SUBMITTED,
        "actor": Actor.CLAIMANT,
        "actor_id": account_id,
        "channel": claim.channel,
        "note": "",
    }
    params = {f"c_{c}": v for c, v in row.items()} | {f"e_{c}": v for c, v in event.items()}
    params["c_claim"] = claim.id
    params["seq_day"] = claim_day(now)
    written = db.execute(_submitted_statement(tuple(row)), params).first()
    if written is None:
        raise WrongClaimState("This claim has been submitted already.")
    row["claim_no"] = written[0]
    for name, value in row.items():
        set_committed_value(claim, name, value)
    if "events" in claim.__dict__:
        db.expire(claim, ["events"])  # the timeline has one more line


def _key_reused() -> ValidationFailed:
    return ValidationFailed(
        [
            FieldProblem(
                "clientKey",
                "This client key was used for another claim; make a new one.",
                "CLIENT_KEY_REUSED",
            )
        ]
    )


# pg_advisory_xact_lock(_KEY_LOCK, account id): taken by a submission before its rows are
# locked, so writing a client key never waits on another account's submission, and two of
# one account's submissions take turns
_KEY_LOCK = 0x636B


def _locked_query(postgres: bool) -> Any:
    account_id = bindparam("account_id", type_=Integer)
    stmt = (
        select(Claim, ContactProfile, ClaimLimitOverride)
        # what the checks read besides the claim, in the same statement
        .outerjoin(ContactProfile, ContactProfile.account_id == Claim.account_id)
        .outerjoin(ClaimLimitOverride, ClaimLimitOverride.person_id == Claim.insured_id)
        .where(
            Claim.account_id == account_id,
            or_(Claim.id == bindparam("claim_id"), Claim.client_key == bindparam("wanted_key")),
        )
        # what the rules and the announcement read, in the same statement
        .options(joinedload(Claim.policy), joinedload(Claim.payee), joinedload(Claim.insured))
        .order_by(Claim.id)
        .with_for_update(of=Claim)
        .execution_options(populate_existing=True)
    )
    if postgres:
        # an uncorrelated subquery: PostgreSQL runs it once, before reading any row
        lock = select(func.pg_advisory_xact_lock(_KEY_LOCK, account_id)).scalar_subquery()
        stmt = stmt.where(lock.is_not(None))
    return stmt


_LOCKED = _locked_query(postgres=False)
_LOCKED_PG = _locked_query(postgres=True)
_holder = aliased(Claim)
# the key written unless a claim of the account holds it already: read in a snapshot taken
# after the account's lock, so every other submission that could write it has ended
_table = cast(Table, Claim.__table__)
_TAKE_KEY = (
    update(_table)
    .where(
        _table.c.id == bindparam("draft_id"),
        ~exists().where(
            _holder.account_id == bindparam("owner_id"),
            _holder.client_key == bindparam("wanted_key"),
        ),
    )
    .values(client_key=bindparam("wanted_key"))
    .returning(_table.c.id)
    .cte("key_taken")
)
_taken = select(func.count().label("taken")).select_from(_TAKE_KEY).subquery("taken")
# the key's UPDATE (a CTE) and the draft's documents in one statement: a row for each
# document, or one without, each saying whether the key was written
_KEY_AND_DOCUMENTS = (
    select(ClaimDocument, _taken.c.taken)
    .add_cte(_TAKE_KEY)
    .select_from(_taken)
    .outerjoin(ClaimDocument, ClaimDocument.claim_id == bindparam("draft_id"))
    .order_by(ClaimDocument.id)
)


def _take_key_with_documents(db: Session, claim: Claim, key: str) -> None:
    """PostgreSQL: write the key on the draft in a statement that cannot fail on the unique
    constraint (the account's submissions take turns: `_KEY_LOCK`), which also reads the
    draft's documents afresh (`claim.documents` holds them afterwards). A key another claim
    holds is refused with nothing written."""
    rows = db.execute(
        _KEY_AND_DOCUMENTS,
        {"draft_id": claim.id, "owner_id": claim.account_id, "wanted_key": key},
    ).all()
    if not rows[0].taken:
        raise _key_reused()
    set_committed_value(claim, "client_key", key)
    set_committed_value(claim, "documents", [r[0] for r in rows if r[0] is not None])


def _take_key(db: Session, claim: Claim, key: str) -> None:
    """Write the key on the draft; the unique constraint refuses one held by another claim
    (a savepoint keeps the session usable). SQLite's way (PostgreSQL's is
    `_take_key_with_documents`)."""
    if claim.client_key == key:
        return
    savepoint = db.begin_nested()
    try:
        claim.client_key = key
        db.flush()
    except IntegrityError:
        savepoint.rollback()
        raise _key_reused() from None
    savepoint.commit()


def ancestors(db: Session, claim: Claim) -> set[int]:
    """The claims this one resubmits, directly or through earlier resubmissions."""
    out: set[int] = set()
    current = claim.resubmission_of_id
    while current is not None and current not in out:
        out.add(current)
        current = db.scalar(select(Claim.resubmission_of_id).where(Claim.id == current))
    return out


def flag_duplicates(db: Session, claim: Claim, now: datetime.datetime) -> list[ClaimDuplicate]:
    """Duplicate flags, except against the claims this one resubmits (same invoices, on
    purpose)."""
    found = find_duplicates(db, claim, now)
    skip = ancestors(db, claim)
    keep: list[ClaimDuplicate] = []
    for flag in found:
        if flag.other_claim_id in skip:
            if flag in db.new:
                db.expunge(flag)
            else:
                db.delete(flag)
        elif flag not in keep:
            keep.append(flag)
    claim.duplicate_suspected = bool(keep)
    return keep


# --- discarding a draft --------------------------------------------------------------------------


def discard_draft(db: Session, cx: ClaimContext, account: Account, claim_id: int) -> None:
    """Delete a draft with its files; files another claim shares (a resubmission's copies)
    stay."""
    claim = own_draft(db, account, claim_id)
    keys = {k for d in claim.documents for k in (d.storage_key, d.thumbnail_key) if k}
    if claim.signature_key:
        keys.add(claim.signature_key)
    for row in [*claim.documents, *claim.events]:
        db.delete(row)
    db.flush()
    db.delete(claim)
    db.flush()
    for key in keys:
        shared = db.scalar(
            select(func.count()).where(
                (ClaimDocument.storage_key == key) | (ClaimDocument.thumbnail_key == key)
            )
        ) or db.scalar(select(func.count()).where(Claim.signature_key == key))
        if shared:
            continue
        try:
            cx.storage.delete(key)
        except Exception:  # the clean-up removes it later; the draft is gone either way
            log.warning("could not delete a discarded draft's stored file", exc_info=True)
