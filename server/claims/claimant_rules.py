"""Who a member may claim for, under which rules, up to which limit.

The same checks run when a draft starts, when the plan rules are shown and again at
submission, so a rule the claimant was shown is the rule that decides. A rule that a step
checks and submission checks again is one function here, so the same draft gets the same
code, field and message at the step and at submission.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from server.accounts.errors import PolicyNotFound, RealNameRequired
from server.accounts.models import Account
from server.claims import outpatient_year
from server.claims.core import ClaimContext, remember_contact
from server.claims.errors import ClaimRuleBroken
from server.claims.models import ClaimLimitOverride, ContactProfile, PayeeAccount
from server.claims.rules import PlanRules
from server.crypto import mask_name
from server.errors import FieldProblem
from server.policies.models import Policy, PolicyStatus, Relation
from server.policies.service import age_on
from server.workdays import CHINA_TZ


def china_today(cx: ClaimContext) -> datetime.date:
    """Dates of incidents and cover are China dates, whatever the server's zone."""
    return cx.now().astimezone(CHINA_TZ).date()


def require_verified(account: Account) -> int:
    """Claims are an insurance feature: real-name verification comes first."""
    if account.person_id is None:
        raise RealNameRequired("Complete real-name verification to use health-insurance services.")
    return account.person_id


def rules_for(cx: ClaimContext, policy: Policy) -> PlanRules:
    return cx.rules.for_plan(policy.plan.code if policy.plan is not None else None)


def member_policy(db: Session, person_id: int, policy_id: int) -> Policy:
    """One of the member's own or dependants' policies; any other answers as missing."""
    # with its plan, which names the rules: one statement
    policy = db.get(Policy, policy_id, options=(joinedload(Policy.plan),))
    if policy is None or person_id not in (policy.insured_id, policy.main_insured_id):
        raise PolicyNotFound("No such policy among yours.")
    return policy


def member_policy_and_contact(
    db: Session, person_id: int, policy_id: int, account_id: int
) -> tuple[Policy, ContactProfile | None]:
    """`member_policy`, and the account's contact details (as `contact_of`, remembered for
    the rest of the request), in one statement."""
    row = db.execute(
        select(Policy, ContactProfile)
        .outerjoin(ContactProfile, ContactProfile.account_id == account_id)
        .where(Policy.id == policy_id)
        .options(joinedload(Policy.plan))
    ).first()
    if row is None or person_id not in (row[0].insured_id, row[0].main_insured_id):
        raise PolicyNotFound("No such policy among yours.")
    policy, contact = row
    if contact is not None:
        remember_contact(db, contact)
    return policy, contact


def check_in_force(policy: Policy, today: datetime.date) -> None:
    if policy.status is not PolicyStatus.IN_FORCE or not (
        policy.start_date <= today <= policy.end_date
    ):
        raise ClaimRuleBroken(
            "POLICY_NOT_IN_FORCE",
            "Only a policy in force can be claimed on (this one is matured, surrendered or not started).",
            field="policyId",
        )


def claim_relation(
    policy: Policy, person_id: int, rules: PlanRules, today: datetime.date
) -> Relation:
    """The insured person's relation to the applicant, if the applicant may claim for them.

    A member claims for themselves, and a main insured for a minor child dependant;
    an adult dependant claims on their own account (seed 000 §4 note 1).
    """
    if policy.insured_id == person_id:
        return Relation.SELF
    if policy.main_insured_id != person_id:
        raise ClaimRuleBroken(
            "NOT_INSURED_PERSON", "You cannot claim for this person.", field="policyId"
        )
    minor = age_on(policy.insured.birth_date, today) < 18
    if not minor:
        if rules.claim_for_adult_dependants:
            return policy.relation
        raise ClaimRuleBroken(
            "ADULT_DEPENDANT",
            "An adult dependant must claim with their own account; a main insured may claim only for a minor child.",
            field="policyId",
        )
    if policy.relation is Relation.CHILD and rules.claim_for_minor_children:
        return Relation.CHILD
    raise ClaimRuleBroken(
        "NOT_INSURED_PERSON",
        "A main insured may claim only for a minor child dependant.",
        field="policyId",
    )


def limit_override(db: Session, person_id: int) -> ClaimLimitOverride | None:
    return db.scalar(select(ClaimLimitOverride).where(ClaimLimitOverride.person_id == person_id))


def online_limit_fen(db: Session, rules: PlanRules, person_id: int) -> int | None:
    """The plan's online limit, or the one the claims department set for this person."""
    override = limit_override(db, person_id)
    return override.limit_fen if override is not None else rules.online_limit_fen


def yuan_text(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def check_amount(
    rules: PlanRules, claim_type: str | None, total_fen: int, limit: int | None
) -> None:
    """The invoice total against the online limit and the claim type's band."""
    if limit is not None and total_fen > limit:
        raise ClaimRuleBroken(
            "AMOUNT_OVER_LIMIT",
            f"Online claims are limited to CNY {yuan_text(limit)} of invoices; "
            "claim the rest at the office or ask the claims department to raise your limit.",
            field="invoiceTotal",
        )
    ctype = rules.claim_type(claim_type) if claim_type else None
    if ctype is None:
        return
    if (ctype.min_fen is not None and total_fen < ctype.min_fen) or (
        ctype.max_fen is not None and total_fen > ctype.max_fen
    ):
        lo = "" if ctype.min_fen is None else f"from CNY {yuan_text(ctype.min_fen)} "
        hi = "" if ctype.max_fen is None else f"up to CNY {yuan_text(ctype.max_fen)}"
        raise ClaimRuleBroken(
            "AMOUNT_OUTSIDE_BAND",
            f"{ctype.name} takes invoice totals {lo}{hi}; choose the claim type that fits the amount.",
            field="invoiceTotal",
        )


# --- rules of a step, checked again at submission ------------------------------------------------


def rule_broken(problem: FieldProblem) -> ClaimRuleBroken:
    """An input rule found broken at submission: the code, field and message of its step."""
    return ClaimRuleBroken(problem.code, problem.message, field=problem.field)


def check_declaration(rules: PlanRules, version: str | None) -> None:
    """The plan's 授权与声明 must have been accepted in its current version."""
    if rules.declaration is None:
        return
    if version != rules.declaration.version:
        raise ClaimRuleBroken(
            "DECLARATION_REQUIRED",
            "Read and accept the plan's authorisation and declaration "
            f"(version {rules.declaration.version}) before sending.",
            field="declarationVersion",
        )


def check_notice(accepted: bool) -> None:
    if not accepted:
        raise ClaimRuleBroken(
            "NOTICE_NOT_ACCEPTED",
            "Read and accept the claim notice (《理赔申请须知》) first.",
            field="noticeAccepted",
        )


def check_contact(contact: ContactProfile | None) -> ContactProfile:
    if contact is None:
        raise ClaimRuleBroken(
            "CONTACT_REQUIRED",
            "Add your contact address and e-mail before your first claim.",
            field="contact",
        )
    return contact


def incident_date_problem(
    incident_date: datetime.date, today: datetime.date
) -> FieldProblem | None:
    if incident_date > today:
        return FieldProblem(
            "incidentDate", "The incident date cannot be in the future.", "DATE_IN_FUTURE"
        )
    return None


def check_cover(policy: Policy, incident_date: datetime.date) -> None:
    if not policy.start_date <= incident_date <= policy.end_date:
        raise ClaimRuleBroken(
            "INCIDENT_OUTSIDE_COVER",
            f"The policy covers {policy.start_date.isoformat()} to "
            f"{policy.end_date.isoformat()}; the incident date is outside it.",
            field="incidentDate",
        )


def facility_problem(
    rules: PlanRules, claim_type: str | None, facility: str | None
) -> FieldProblem | None:
    """A claim type that excludes hospitals needs the hospital named."""
    ctype = rules.claim_type(claim_type) if claim_type else None
    if ctype is not None and ctype.excluded_facilities and not facility:
        return FieldProblem("facilityName", "Name the hospital for this claim type.", "REQUIRED")
    return None


def region_problems(rules: PlanRules, province: str | None, city: str | None) -> list[FieldProblem]:
    """A plan that needs the region (省/市) needs both; a blank value is none."""
    if not rules.region_required:
        return []
    return [
        FieldProblem(field, "This plan needs the province and the city.", "REQUIRED")
        for field, value in (("province", province), ("city", city))
        if not (value or "").strip()
    ]


def check_payee(payee: PayeeAccount | None) -> PayeeAccount:
    if payee is None or payee.removed_at is not None:
        raise ClaimRuleBroken(
            "PAYEE_REQUIRED",
            "Enter the bank and account number the claim is paid to (asked on a first claim only).",
            field="payee",
        )
    return payee


# --- the rules as a claimant sees them -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimable:
    """A person on one of the member's policies, and whether the member may claim for them."""

    policy: Policy
    name_masked: str
    relation: Relation
    is_minor: bool
    allowed: bool
    refusal_code: str | None
    refusal: str | None


@dataclass(frozen=True, slots=True)
class RulesView:
    policy: Policy
    rules: PlanRules
    online_limit_fen: int | None  # for the policy's insured person, override included
    limit_raised: bool
    claimable: list[Claimable]
    # the insured person's outpatient total this year, where the plan decides by it
    outpatient: outpatient_year.Standing | None = None


def rules_view(db: Session, cx: ClaimContext, account: Account, policy_id: int) -> RulesView:
    person_id = require_verified(account)
    policy = member_policy(db, person_id, policy_id)
    rules = rules_for(cx, policy)
    today = china_today(cx)
    override = limit_override(db, policy.insured_id)
    # who can be claimed for: the people on the member's policies of the same plan
    same = select(Policy).where(
        or_(Policy.insured_id == person_id, Policy.main_insured_id == person_id)
    )
    same = (
        same.where(Policy.plan_id == policy.plan_id)
        if policy.plan_id is not None
        else same.where(Policy.id == policy.id)
    )
    claimable = [
        _claimable(cx, p, person_id, rules, today)
        for p in db.scalars(same.order_by(Policy.main_insured_id.is_not(None), Policy.id))
    ]
    standing = (
        outpatient_year.standing(db, rules.outpatient_year, policy.insured_id, today.year)
        if rules.outpatient_year is not None
        else None
    )
    return RulesView(
        policy=policy,
        rules=rules,
        online_limit_fen=override.limit_fen if override is not None else rules.online_limit_fen,
        limit_raised=override is not None,
        claimable=claimable,
        outpatient=standing,
    )


def _claimable(
    cx: ClaimContext, policy: Policy, person_id: int, rules: PlanRules, today: datetime.date
) -> Claimable:
    code: str | None = None
    message: str | None = None
    try:
        claim_relation(policy, person_id, rules, today)
        check_in_force(policy, today)
    except ClaimRuleBroken as e:
        code, message = e.code, e.message
    return Claimable(
        policy=policy,
        name_masked=mask_name(cx.vault.decrypt(policy.insured.name_enc)),
        relation=policy.relation,
        is_minor=age_on(policy.insured.birth_date, today) < 18,
        allowed=code is None,
        refusal_code=code,
        refusal=message,
    )
