"""Inputs of the back office's queries and mutations. Amounts are yuan with up to 2 decimals."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

import strawberry

from schema.claims.common import ClaimStatus, IncidentType
from server.errors import FieldProblem


@strawberry.input(description="Sign in to the back office.")
class AdjusterLogInInput:
    username: str = strawberry.field(description="The adjuster's log-in name.")
    password: str = strawberry.field(description="The adjuster's password.")


@strawberry.input(description="Narrow the queue; every field is optional.")
class AdjusterQueueFilter:
    statuses: list[ClaimStatus] | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Only these statuses; default SUBMITTED and UNDER_REVIEW (waiting for an "
        "adjuster). Ask for PENDING_SUPPLEMENT to see claims waiting for documents.",
    )
    claim_type: str | None = strawberry.field(default=None, description="A claim type code.")
    plan_rules: str | None = strawberry.field(
        default=None, description="A plan rules code, e.g. DEFAULT, NKU-STAFF."
    )
    duplicate_suspected: bool | None = strawberry.field(
        default=None, description="Only suspected duplicates (true) or only the others (false)."
    )
    has_unseen_supplement: bool | None = strawberry.field(
        default=None, description="Only claims whose supplement arrived and is unseen (true)."
    )
    submitted_from: datetime.date | None = strawberry.field(
        default=None, description="Sent on or after this day (China date)."
    )
    submitted_to: datetime.date | None = strawberry.field(
        default=None, description="Sent on or before this day (China date)."
    )
    awaiting_payment: bool | None = strawberry.field(
        default=None,
        description="Only settled claims whose payment is not recorded yet (结案未支付), "
        "those past their last payment day first.",
    )


@strawberry.input(description="Take a submitted claim into review.")
class StartClaimReviewInput:
    claim_id: strawberry.ID = strawberry.field(description="Global id of the claim.")


@strawberry.input(description="Ask the claimant for documents (补材); sends the SMS and e-mail.")
class RequestClaimSupplementInput:
    claim_id: strawberry.ID = strawberry.field(description="Global id of the claim.")
    categories: list[str] = strawberry.field(
        description="Codes of the missing categories, among the claim type's (see documentCategories)."
    )
    instructions: str = strawberry.field(
        description="What is missing or wrong, shown to the claimant (up to 500 characters)."
    )


@strawberry.input(description="A file and what is wrong with it.")
class ProblemImageInput:
    document_id: strawberry.ID = strawberry.field(description="Global id of the document.")
    reason: str = strawberry.field(
        description="Shown to the claimant, e.g. 发票影像模糊 (up to 200 characters)."
    )


@strawberry.input(description="Mark problem images (问题影像).")
class MarkProblemImagesInput:
    claim_id: strawberry.ID = strawberry.field(description="Global id of the claim.")
    images: list[ProblemImageInput] = strawberry.field(description="1 to 50 files with reasons.")


@strawberry.input(description="A line of the settlement: an amount not paid, and why.")
class DeductionInput:
    amount: Decimal = strawberry.field(description="Yuan, above 0.")
    reason: str = strawberry.field(description="Why (up to 200 characters).")


@strawberry.input(
    description="Settle (结案). Approved = claimed - deductions; paid = approved; "
    "compensation received elsewhere must be among the deductions."
)
class SettleClaimInput:
    claim_id: strawberry.ID = strawberry.field(description="Global id of the claim.")
    approved_amount: Decimal = strawberry.field(description="Approved, yuan.")
    paid_amount: Decimal = strawberry.field(description="Paid, yuan (equal to approved).")
    deductions: list[DeductionInput] = strawberry.field(
        default_factory=list, description="Every amount not approved, with its reason."
    )
    note: str = strawberry.field(default="", description="Shown on the timeline (optional).")


@strawberry.input(description="Reject the claim (拒赔).")
class RejectClaimInput:
    claim_id: strawberry.ID = strawberry.field(description="Global id of the claim.")
    reason: str = strawberry.field(description="Shown to the claimant (up to 500 characters).")


@strawberry.input(
    description="Raise the online claim limit of one insured person: name them by a claim "
    "of theirs or by their policy number (exactly one of the two)."
)
class RaiseClaimLimitInput:
    limit: Decimal = strawberry.field(description="The new limit per claim, yuan.")
    reason: str = strawberry.field(description="Why (kept with who set it and when).")
    claim_id: strawberry.ID | None = strawberry.field(
        default=None, description="A sent claim of the insured person."
    )
    policy_no: str | None = strawberry.field(
        default=None, description="The insured person's policy or certificate number."
    )


@strawberry.input(
    description="A claim received on paper (线下申请), entered by the claims office for the "
    "insured person of a policy; the person needs no app account."
)
class EnterPaperClaimInput:
    policy_no: str = strawberry.field(description="The policy or certificate number.")
    insured_id_number: str = strawberry.field(
        description="The insured person's ID number as on the form (checked against the policy)."
    )
    claim_type: str = strawberry.field(description="A claim type code of the policy's plan.")
    incident_type: IncidentType = strawberry.field(description="Disease or accident.")  # type: ignore[valid-type]
    incident_date: datetime.date = strawberry.field(description="When it happened.")
    invoice_total: Decimal = strawberry.field(description="The invoices' total, yuan.")
    other_compensation: Decimal = strawberry.field(
        default=Decimal(0), description="Already compensated by another payer, yuan."
    )
    facility_name: str | None = strawberry.field(default=None, description="Hospital visited.")
    facility_id: str | None = strawberry.field(
        default=None,
        description="The directory facility id of the hospital, where the plan names its "
        "designated hospitals by id (typed names are then refused).",
    )
    payee_name: str = strawberry.field(description="Account holder (收款人).")
    bank_name: str = strawberry.field(description="开户行.")
    account_no: str = strawberry.field(description="Bank account number.")
    contact_mobile: str | None = strawberry.field(
        default=None, description="Mobile for the SMS; default: the one on the policy record."
    )
    contact_email: str | None = strawberry.field(default=None, description="E-mail, if given.")
    language: str = strawberry.field(
        default="zh",
        description="Language of the SMS and e-mail when the person has no app account: zh or en.",
    )


@strawberry.input(description="Send a paper claim into the review queue (it gets its number).")
class SendPaperClaimInput:
    claim_id: strawberry.ID = strawberry.field(description="Global id of the paper claim.")


@strawberry.input(description="Record the payment of a settled claim (理赔款支付).")
class RecordClaimPaymentInput:
    claim_id: strawberry.ID = strawberry.field(description="Global id of the claim.")
    amount: Decimal = strawberry.field(description="Paid, yuan: the settled paid amount.")
    paid_on: datetime.date = strawberry.field(description="The day the bank paid (China date).")
    bank_reference: str = strawberry.field(
        description="The bank's reference of the transfer (4-60 letters, digits, / _ -)."
    )


def to_fen(value: Decimal, field: str) -> tuple[int | None, FieldProblem | None]:
    """Yuan to fen; a problem for more than 2 decimals, infinity, NaN or absurd sizes."""
    try:
        if not value.is_finite() or abs(value) >= Decimal(10) ** 12:
            raise InvalidOperation
        fen = value * 100
        if fen != fen.to_integral_value():
            return None, FieldProblem(field, "Use at most 2 decimals.", "INVALID_AMOUNT")
        return int(fen), None
    except InvalidOperation:
        return None, FieldProblem(field, "This is not an amount.", "INVALID_AMOUNT")
