"""GraphQL types of a member's claims: the claim itself (a Relay node), lists, rules, views.

Everything personal is masked here as in the services: names, ID numbers, mobile,
e-mail, address and bank account. Amounts are yuan with two decimals.
"""

from __future__ import annotations

import datetime
import enum
import functools
from collections.abc import Callable, Iterable
from decimal import Decimal

import strawberry
from strawberry import relay

from schema.accounts.auth import current_session
from schema.accounts.errors import (
    PolicyNotFoundError,
    RealNameRequiredError,
    ValidationError,
)
from schema.claims.auth import claim_env
from schema.claims.common import (
    ClaimChannel,
    ClaimDeduction,
    ClaimDocumentFile,
    ClaimStatus,
    ClaimTimelineEvent,
    DocumentCategory,
    DuplicateFlag,
    IncidentType,
    SupplementInfo,
    categories,
    document_file,
    money,
    supplement_info,
    timeline,
)
from schema.claims.errors import ClaimNotFoundError, ClaimRuleError, ClaimStateError
from schema.context import Info
from schema.paging import PageInfo
from schema.policies.types import PolicyType, Relation, policy_type
from schema.results import ResultUnion
from server.claims import (
    claimant_actions,
    claimant_progress,
    claimant_views,
    deadlines,
    drafts,
    links,
    models,
    outpatient_year,
    payments,
)
from server.claims.claimant_rules import RulesView, online_limit_fen
from server.claims.core import open_supplement
from server.errors import DomainError


@strawberry.enum(description="Which claims to list: ALL, or one status (drafts are listed apart).")
class ClaimStatusFilter(enum.Enum):
    ALL = "all"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    PENDING_SUPPLEMENT = "pending_supplement"
    SETTLED = "settled"
    PAID = "paid"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    def status(self) -> models.ClaimStatus | None:
        return None if self is ClaimStatusFilter.ALL else models.ClaimStatus(self.value)


@strawberry.type(description="A person on a claim, masked (张*, 3101**********0311, 138****0001).")
class ClaimParty:
    name: str = strawberry.field(description="Masked name.")
    id_type: str = strawberry.field(description="Kind of identity document (IdType name).")
    id_number: str = strawberry.field(description="Masked document number.")
    relation: Relation = strawberry.field(  # type: ignore[valid-type]
        description="Relation to the applicant (SELF for the applicant)."
    )
    mobile: str | None = strawberry.field(description="Masked mobile, if known.")
    email: str | None = strawberry.field(description="Masked contact e-mail, if known.")


def party(p: claimant_views.PersonSummary) -> ClaimParty:
    return ClaimParty(
        name=p.name_masked,
        id_type=p.id_type,
        id_number=p.id_number_masked,
        relation=p.relation,
        mobile=p.mobile_masked,
        email=p.email_masked,
    )


@strawberry.type(description="The account a claim is paid to, masked (****6789).")
class ClaimPayee:
    holder_name: str = strawberry.field(description="Account holder, masked.")
    bank_name: str = strawberry.field(description="Bank (开户行).")
    account_no: str = strawberry.field(description="Account number: only the last 4 digits.")


def payee(p: claimant_views.PayeeView | None) -> ClaimPayee | None:
    if p is None:
        return None
    return ClaimPayee(
        holder_name=p.holder_masked, bank_name=p.bank_name, account_no=p.account_masked
    )


@strawberry.type(description="The contact details on file for claims, masked.")
class ClaimContact:
    address: str = strawberry.field(description="Contact address, masked.")
    email: str = strawberry.field(description="Contact e-mail, masked.")


@strawberry.type(description="A claim type of the plan (索赔类型).")
class ClaimTypeInfo:
    code: str = strawberry.field(description="Stable code, e.g. OUTPATIENT.")
    name: str = strawberry.field(description="Chinese name.")
    name_en: str = strawberry.field(description="English name.")


@strawberry.type(
    description="The documents of one category (上传材料), and whether it is required."
)
class ClaimMaterials:
    category: DocumentCategory = strawberry.field(description="The category, with its hint.")
    required: bool = strawberry.field(description="The claim type needs at least one file here.")
    documents: list[ClaimDocumentFile] = strawberry.field(description="The files, oldest first.")


@strawberry.type(
    name="Claim", description="A claim as its member sees it: draft, progress, decision."
)
class ClaimNode(relay.Node):
    claim_pk: relay.NodeID[str] = strawberry.field(description="Internal key of the claim.")
    row: strawberry.Private[models.Claim]

    @strawberry.field(
        description="Claim number (赔案号, VSHH + yymmdd + sequence); null for a draft."
    )
    def claim_no(self) -> str | None:
        return self.row.claim_no

    @strawberry.field(description="Where the claim stands.")
    def status(self) -> ClaimStatus:  # type: ignore[valid-type]
        return self.row.status  # type: ignore[return-value]

    @strawberry.field(description="申报途径: where the claim was made.")
    def channel(self) -> ClaimChannel:  # type: ignore[valid-type]
        return self.row.channel  # type: ignore[return-value]

    @strawberry.field(description="The policy claimed on.")
    def policy(self, info: Info) -> PolicyType:
        _, _, account = claim_env(info)
        return policy_type(info, self.row.policy, account.person_id or 0)

    @strawberry.field(description="The insured person (出险人), masked.")
    def insured(self, info: Info) -> ClaimParty:
        cx, db, _ = claim_env(info)
        return party(claimant_views.parties(db, cx, self.row)[0])

    @strawberry.field(description="The applicant (申请人), masked.")
    def applicant(self, info: Info) -> ClaimParty:
        cx, db, _ = claim_env(info)
        return party(claimant_views.parties(db, cx, self.row)[1])

    @strawberry.field(description="The insured person's relation to the applicant.")
    def relation(self) -> Relation:  # type: ignore[valid-type]
        return self.row.relation  # type: ignore[return-value]

    @strawberry.field(description="When the claimant accepted the claim notice (《理赔申请须知》).")
    def notice_accepted_at(self) -> datetime.datetime | None:
        return self.row.notice_accepted_at

    @strawberry.field(description="The address given in the basic information, masked.")
    def address(self, info: Info) -> str | None:
        cx, _, _ = claim_env(info)
        enc = self.row.address_enc
        return claimant_views.mask_address(cx.vault.decrypt(enc)) if enc else None

    @strawberry.field(description="出险类型.")
    def incident_type(self) -> IncidentType | None:  # type: ignore[valid-type]
        return self.row.incident_type  # type: ignore[return-value]

    @strawberry.field(description="发生日期 (China date).")
    def incident_date(self) -> datetime.date | None:
        return self.row.incident_date

    @strawberry.field(description="索赔类型, with its names.")
    def claim_type(self, info: Info) -> ClaimTypeInfo | None:
        cx, _, _ = claim_env(info)
        code = self.row.claim_type
        t = cx.rules.get(self.row.plan_rules).claim_type(code) if code else None
        if code is None:
            return None
        if t is None:  # a type since removed from the plan: the code is still the record
            return ClaimTypeInfo(code=code, name=code, name_en=code)
        return ClaimTypeInfo(code=t.code, name=t.name, name_en=t.name_en)

    @strawberry.field(description="就诊医院, as typed (or the designated hospital's name).")
    def facility_name(self) -> str | None:
        return self.row.facility_name

    @strawberry.field(description="The designated hospital's directory facility id, if chosen.")
    def facility_id(self) -> str | None:
        return self.row.facility_id

    @strawberry.field(description="发票票面累计金额: the invoice total claimed, yuan.")
    def invoice_total(self) -> Decimal | None:
        return money(self.row.invoice_total_fen)

    @strawberry.field(description="The invoice numbers entered.")
    def invoice_numbers(self) -> list[str]:
        return [i.invoice_no for i in self.row.invoices]

    @strawberry.field(description="省 (only for plans that need it).")
    def province(self) -> str | None:
        return self.row.province

    @strawberry.field(description="市 (only for plans that need it).")
    def city(self) -> str | None:
        return self.row.city

    @strawberry.field(description="已获赔偿或补偿: compensation already received, yuan.")
    def other_compensation(self) -> Decimal | None:
        return money(self.row.other_compensation_fen)

    @strawberry.field(description="Where the claim is paid, masked.")
    def payee(self, info: Info) -> ClaimPayee | None:
        cx, _, _ = claim_env(info)
        return payee(claimant_views.payee_view(cx, self.row.payee))

    @strawberry.field(
        description="The online limit for this claim, yuan: the one applied at submission, "
        "or for a draft the current one (the person's raised limit included); null for none."
    )
    def online_limit(self, info: Info) -> Decimal | None:
        cx, db, _ = claim_env(info)
        if self.row.status is not models.ClaimStatus.DRAFT:
            return money(self.row.limit_fen)
        rules = cx.rules.get(self.row.plan_rules)
        return money(online_limit_fen(db, rules, self.row.insured_id))

    @strawberry.field(description="Amount approved by the adjuster (核定金额), yuan.")
    def approved_amount(self) -> Decimal | None:
        return money(self.row.approved_fen)

    @strawberry.field(description="Amount paid (赔付金额), yuan.")
    def paid_amount(self) -> Decimal | None:
        return money(self.row.paid_fen)

    @strawberry.field(description="Amounts not paid, with reasons.")
    def deductions(self) -> list[ClaimDeduction]:
        return [
            ClaimDeduction(
                amount=Decimal(d.amount_fen).scaleb(-2).quantize(Decimal("0.01")), reason=d.reason
            )
            for d in self.row.deductions
        ]

    @strawberry.field(description="The adjuster's reason for a rejection or settlement.")
    def decision_reason(self) -> str | None:
        return self.row.decision_reason

    @strawberry.field(description="Documents by category: required ones first (上传材料).")
    def materials(self, info: Info) -> list[ClaimMaterials]:
        cx, db, _ = claim_env(info)
        session_id = current_session(info).id
        rules = cx.rules.get(self.row.plan_rules)
        out = []
        for m in drafts.materials(db, cx, self.row):
            found = categories(rules, [m.category])
            category = (
                found[0]
                if found
                else DocumentCategory(
                    code=m.category, name=m.category, name_en=m.category, hint="", hint_en=""
                )
            )
            out.append(
                ClaimMaterials(
                    category=category,
                    required=m.required,
                    documents=[document_file(cx, d, session_id) for d in m.documents],
                )
            )
        return out

    @strawberry.field(description="Every file of the claim, oldest first (上传影像).")
    def documents(self, info: Info) -> list[ClaimDocumentFile]:
        cx, db, _ = claim_env(info)
        session_id = current_session(info).id
        return [document_file(cx, d, session_id) for d in drafts.documents_of(db, self.row)]

    @strawberry.field(
        description="Files an adjuster marked as problems (问题影像), with the reasons."
    )
    def problem_images(self, info: Info) -> list[ClaimDocumentFile]:
        cx, db, _ = claim_env(info)
        session_id = current_session(info).id
        return [
            document_file(cx, d, session_id)
            for d in claimant_actions.problem_documents(db, self.row)
        ]

    @strawberry.field(description="Every step with time and actor, oldest first.")
    def timeline(self, info: Info) -> list[ClaimTimelineEvent]:
        _, db, _ = claim_env(info)
        db.expire(self.row, ["events"])  # steps may have been recorded since it was loaded
        return timeline(self.row)

    @strawberry.field(
        description="The open supplement request (待补充资料): what is missing, the adjuster's instructions, the deadline."
    )
    def supplement(self, info: Info) -> SupplementInfo | None:
        cx, db, _ = claim_env(info)
        s = open_supplement(db, self.row)
        return None if s is None else supplement_info(cx.rules.get(self.row.plan_rules), s)

    @strawberry.field(description="Suspected duplicates: invoices already used in another claim.")
    def duplicates(self, info: Info) -> list[DuplicateFlag]:
        from server.claims.core import duplicates_of

        _, db, _ = claim_env(info)
        return [
            DuplicateFlag(
                basis=d.basis,
                other_claim_no=other_no,
                invoice_no=d.detail if d.basis == "INVOICE_NO" else None,
            )
            for d, other_no in duplicates_of(db, self.row)
        ]

    @strawberry.field(description="An invoice image or number is used in another claim too.")
    def duplicate_suspected(self) -> bool:
        return self.row.duplicate_suspected

    @strawberry.field(description="The applicant has signed (申请人签名).")
    def signed(self) -> bool:
        return bool(self.row.signature_key)

    @strawberry.field(
        description="Signed link to the signature image (10 minutes, while signed in)."
    )
    def signature_url(self, info: Info) -> str | None:
        if not self.row.signature_key:
            return None
        return _link(info, "sig", self.row.id)

    @strawberry.field(
        description="The settlement notice (理赔结案通知书) page; settled claims only (10 minutes, while signed in)."
    )
    def settlement_notice_url(self, info: Info) -> str | None:
        if self.row.status not in (models.ClaimStatus.SETTLED, models.ClaimStatus.PAID):
            return None
        return _link(info, "notice-html", self.row.id)

    @strawberry.field(
        description="The settlement notice as PDF; settled claims only (10 minutes, while signed in)."
    )
    def settlement_notice_pdf_url(self, info: Info) -> str | None:
        if self.row.status not in (models.ClaimStatus.SETTLED, models.ClaimStatus.PAID):
            return None
        return _link(info, "notice-pdf", self.row.id)

    @strawberry.field(description="问题处理: waiting for documents, or problem images to answer.")
    def needs_action(self, info: Info) -> bool:
        _, db, _ = claim_env(info)
        return claimant_progress.needs_action(db, self.row)

    @strawberry.field(description="`withdrawClaim` is possible now.")
    def can_withdraw(self, info: Info) -> bool:
        _, _, account = claim_env(info)
        return self.row.account_id == account.id and self.row.status in (
            models.ClaimStatus.SUBMITTED,
            models.ClaimStatus.UNDER_REVIEW,
            models.ClaimStatus.PENDING_SUPPLEMENT,
        )

    @strawberry.field(description="`resubmitClaim` is possible now (重新申报).")
    def can_resubmit(self, info: Info) -> bool:
        _, db, account = claim_env(info)
        if self.row.account_id != account.id or not claimant_actions.can_resubmit(db, self.row):
            return False
        later = claimant_actions.resubmission_of(db, self.row)
        return later is None or later.status is models.ClaimStatus.DRAFT

    @strawberry.field(description="The claim this one resubmits, if any.")
    def resubmission_of(self, info: Info) -> ClaimNode | None:
        if self.row.resubmission_of_id is None:
            return None
        _, db, account = claim_env(info)
        try:
            old = claimant_progress.claim_detail(db, account, self.row.resubmission_of_id)
        except DomainError:
            return None
        return claim_node(old)

    @strawberry.field(description="Created (UTC).")
    def created_at(self) -> datetime.datetime:
        return self.row.created_at

    @strawberry.field(description="Last change (UTC).")
    def updated_at(self) -> datetime.datetime:
        return self.row.updated_at

    @strawberry.field(description="Submitted (UTC); null for a draft.")
    def submitted_at(self) -> datetime.datetime | None:
        return self.row.submitted_at

    @strawberry.field(description="Settled or rejected (UTC).")
    def decided_at(self) -> datetime.datetime | None:
        return self.row.decided_at

    @strawberry.field(
        description="When the claim should be settled (China date): 10 working days after the documents were complete (seed FAQ Q7). Null while documents are owed, once decided, or when that year's holiday calendar is not published yet."
    )
    def expected_settlement_by(self) -> datetime.date | None:
        return deadlines.dates(self.row).settle_by

    @strawberry.field(
        description="Once settled: the last day the payment is expected (2-3 working days after settling); null otherwise."
    )
    def expected_payment_by(self) -> datetime.date | None:
        return deadlines.dates(self.row).pay_by

    @strawberry.field(description="PAID: the day the payment was made (China date); null before.")
    def paid_on(self, info: Info) -> datetime.date | None:
        if self.row.status is not models.ClaimStatus.PAID:
            return None
        _, db, _ = claim_env(info)
        payment = payments.payment_of(db, self.row)
        return payment.paid_on if payment is not None else None

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ClaimNode | None]:
        # `node(id:)` answers null for anything not the caller's: ids reveal nothing
        _, db, account = claim_env(info)
        out: list[ClaimNode | None] = []
        for raw in node_ids:
            try:
                out.append(claim_node(claimant_progress.claim_detail(db, account, int(raw))))
            except (DomainError, ValueError):
                out.append(None)
        return out


def claim_node(row: models.Claim) -> ClaimNode:
    return ClaimNode(claim_pk=str(row.id), row=row)


def _link(info: Info, kind: str, claim_id: int) -> str:
    cx, _, _ = claim_env(info)
    s = cx.settings
    link = links.Link(kind, claim_id, current_session(info).id)
    return links.url(s.base_url, s.secret_key, link, cx.now())


# --- lists ---------------------------------------------------------------------------------------


@strawberry.type(description="One claim in a list.")
class ClaimEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this row.")
    node: ClaimNode = strawberry.field(description="The claim.")


@strawberry.type(description="A page of the member's claims, newest first.")
class ClaimConnection:
    edges: list[ClaimEdge] = strawberry.field(description="The rows of this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many claims match, over all pages.")


@strawberry.type(description="The member's unfinished claims, the most recently changed first.")
class ClaimDraftList:
    drafts: list[ClaimNode] = strawberry.field(description="Drafts to resume.")


# --- rules ---------------------------------------------------------------------------------------


@strawberry.type(description="A claim type of the plan, its amount band and documents.")
class ClaimTypeRule:
    code: str = strawberry.field(description="Pass as `claimType` in updateClaimBasics.")
    name: str = strawberry.field(description="Chinese name.")
    name_en: str = strawberry.field(description="English name.")
    min_amount: Decimal | None = strawberry.field(description="Lowest invoice total, yuan.")
    max_amount: Decimal | None = strawberry.field(description="Highest invoice total, yuan.")
    required: list[DocumentCategory] = strawberry.field(description="Categories that need a file.")
    optional: list[DocumentCategory] = strawberry.field(
        description="Categories that may have files."
    )
    excluded_facilities: list[str] = strawberry.field(
        description="Hospitals this type cannot be claimed for online."
    )
    excluded_reason: str = strawberry.field(description="Why, Chinese.")
    excluded_reason_en: str = strawberry.field(description="Why, English.")


@strawberry.type(description="A case the plan does not take online (须到医保办申报), and why.")
class OfficeOnlyCase:
    code: str = strawberry.field(
        description="Stable code; choosing it is refused with OFFICE_ONLY."
    )
    name: str = strawberry.field(description="Chinese name.")
    name_en: str = strawberry.field(description="English name.")
    reason: str = strawberry.field(description="Why and where to go, Chinese.")
    reason_en: str = strawberry.field(description="Why and where to go, English.")


@strawberry.type(
    description="A person on the member's policies, and whether the member may claim for them."
)
class ClaimablePerson:
    policy: PolicyType = strawberry.field(
        description="The person's policy: pass its id to startClaim."
    )
    name: str = strawberry.field(description="Masked name.")
    relation: Relation = strawberry.field(description="Relation to the main insured.")  # type: ignore[valid-type]
    is_minor: bool = strawberry.field(description="Under 18 today.")
    allowed: bool = strawberry.field(description="The member may claim for this person online now.")
    refusal_code: str | None = strawberry.field(
        description="Why not: ADULT_DEPENDANT, POLICY_NOT_IN_FORCE ..."
    )
    refusal: str | None = strawberry.field(description="Why not, for people.")


@strawberry.type(description="The claim rules of a policy's plan, for this member and person.")
class ClaimRules:
    policy: PolicyType = strawberry.field(description="The policy asked about.")
    code: str = strawberry.field(description="Rules code (DEFAULT, NKU-STAFF ...).")
    name: str = strawberry.field(description="Rules name, Chinese.")
    name_en: str = strawberry.field(description="Rules name, English.")
    online_limit: Decimal | None = strawberry.field(
        description="Highest invoice total of one online claim for this policy's insured person, "
        "yuan (a limit the claims department raised included); null when the plan has none."
    )
    limit_raised: bool = strawberry.field(
        description="The claims department raised this person's limit."
    )
    limit_note: str = strawberry.field(description="The plan's words on limits, Chinese.")
    limit_note_en: str = strawberry.field(description="The plan's words on limits, English.")
    region_required: bool = strawberry.field(
        description="Province and city are asked with the amount."
    )
    originals_not_needed_up_to: Decimal | None = strawberry.field(
        description="No originals to post up to this total, yuan."
    )
    settlement_working_days: int = strawberry.field(
        description="Target working days to settle after complete documents."
    )
    payment_working_days: str = strawberry.field(
        description="Working days to pay after settlement, e.g. 2-3."
    )
    claim_for_minor_children: bool = strawberry.field(
        description="A main insured may claim for a minor child dependant."
    )
    claim_for_adult_dependants: bool = strawberry.field(
        description="A main insured may claim for an adult dependant."
    )
    claim_types: list[ClaimTypeRule] = strawberry.field(description="Claim types accepted online.")
    office_only: list[OfficeOnlyCase] = strawberry.field(
        description="Cases refused online, with reasons."
    )
    claimable_for: list[ClaimablePerson] = strawberry.field(
        description="Who the member can claim for on this plan."
    )
    outpatient_year: OutpatientYearStanding | None = strawberry.field(
        description="Where the plan decides by the calendar year's outpatient total (the university plan): this year's total for the policy's insured person and what it allows online; null otherwise."
    )
    declaration: PlanDeclaration | None = strawberry.field(
        description="The authorisation and declaration (授权与声明) to show and have accepted before sending; pass its version to submitClaim. Null when the plan has none."
    )


@strawberry.type(description="The year's outpatient total and what it allows online.")
class OutpatientYearStanding:
    year: int = strawberry.field(description="The calendar year.")
    total: Decimal = strawberry.field(description="Outpatient total so far, yuan.")
    from_claims: Decimal = strawberry.field(
        description="Of which: outpatient claims sent on this platform (not withdrawn or rejected)."
    )
    loaded_by_administrator: Decimal = strawberry.field(
        description="Of which: spending outside the platform, as the plan administrator loaded it."
    )
    card_online: bool = strawberry.field(description="Card-swipe costs can be claimed online now.")
    advance_online: bool = strawberry.field(
        description="Advance payments can be claimed online now."
    )
    advance_room: Decimal = strawberry.field(
        description="How much more advance payment fits online this year, yuan."
    )
    meaning: str = strawberry.field(description="What the total means, Chinese.")
    meaning_en: str = strawberry.field(description="What the total means, English.")


@strawberry.type(description="A plan's authorisation and declaration text (授权与声明).")
class PlanDeclaration:
    version: str = strawberry.field(description="Pass to submitClaim as `declarationVersion`.")
    text: str = strawberry.field(description="The text, Chinese.")
    text_en: str = strawberry.field(description="The text, English.")


def _standing(s: outpatient_year.Standing | None) -> OutpatientYearStanding | None:
    if s is None:
        return None
    return OutpatientYearStanding(
        year=s.total.year,
        total=_yuan(s.total.total_fen),
        from_claims=_yuan(s.total.claims_fen),
        loaded_by_administrator=_yuan(s.total.loaded_fen),
        card_online=s.card_online,
        advance_online=s.advance_online,
        advance_room=_yuan(s.advance_room_fen),
        meaning=s.meaning,
        meaning_en=s.meaning_en,
    )


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def claim_rules(info: Info, view: RulesView) -> ClaimRules:
    r = view.rules
    _, _, account = claim_env(info)
    person_id = account.person_id or 0
    return ClaimRules(
        policy=policy_type(info, view.policy, person_id),
        code=r.code,
        name=r.name,
        name_en=r.name_en,
        online_limit=money(view.online_limit_fen),
        limit_raised=view.limit_raised,
        limit_note=r.limit_note,
        limit_note_en=r.limit_note_en,
        region_required=r.region_required,
        originals_not_needed_up_to=money(r.originals_not_needed_up_to_fen),
        settlement_working_days=r.settlement_working_days,
        payment_working_days=r.payment_working_days,
        claim_for_minor_children=r.claim_for_minor_children,
        claim_for_adult_dependants=r.claim_for_adult_dependants,
        claim_types=[
            ClaimTypeRule(
                code=t.code,
                name=t.name,
                name_en=t.name_en,
                min_amount=money(t.min_fen),
                max_amount=money(t.max_fen),
                required=categories(r, t.required),
                optional=categories(r, t.optional),
                excluded_facilities=list(t.excluded_facilities),
                excluded_reason=t.excluded_reason,
                excluded_reason_en=t.excluded_reason_en,
            )
            for t in r.claim_types
        ],
        office_only=[
            OfficeOnlyCase(
                code=o.code, name=o.name, name_en=o.name_en, reason=o.reason, reason_en=o.reason_en
            )
            for o in r.office_only
        ],
        claimable_for=[
            ClaimablePerson(
                policy=policy_type(info, c.policy, person_id),
                name=c.name_masked,
                relation=c.relation,
                is_minor=c.is_minor,
                allowed=c.allowed,
                refusal_code=c.refusal_code,
                refusal=c.refusal,
            )
            for c in view.claimable
        ],
        outpatient_year=_standing(view.outpatient),
        declaration=(
            PlanDeclaration(
                version=r.declaration.version,
                text=r.declaration.text,
                text_en=r.declaration.text_en,
            )
            if r.declaration
            else None
        ),
    )


# --- confirmation and profile ----------------------------------------------------------------------


@strawberry.type(
    description="确认材料: everything that will be submitted, masked, and what still blocks it."
)
class ClaimConfirmation:
    claim: ClaimNode = strawberry.field(
        description="The draft, with its basics, amount and materials."
    )
    insured: ClaimParty = strawberry.field(description="出险人, masked.")
    applicant: ClaimParty = strawberry.field(description="申请人, masked.")
    payee: ClaimPayee | None = strawberry.field(description="收款账户, masked.")
    online_limit: Decimal | None = strawberry.field(description="The limit that applies, yuan.")
    problems: list[ClaimRuleError] = strawberry.field(
        description="Every rule that would refuse submission now, in the order of the steps."
    )
    ready: bool = strawberry.field(description="No problems: send the SMS code and submit.")


def confirmation_type(c: drafts.Confirmation) -> ClaimConfirmation:
    return ClaimConfirmation(
        claim=claim_node(c.claim),
        insured=party(c.insured),
        applicant=party(c.applicant),
        payee=payee(c.payee),
        online_limit=money(c.online_limit_fen),
        problems=[ClaimRuleError.from_domain(p) for p in c.problems],
        ready=not c.problems,
    )


@strawberry.type(description="What is on file for the next claim.")
class ClaimantProfile:
    contact: ClaimContact | None = strawberry.field(
        description="Contact details, masked; null before the first claim."
    )
    # the payee on file is read only when the client asks for it (payee or payeeRequired)
    on_file: strawberry.Private[Callable[[], claimant_views.PayeeView | None]]

    @strawberry.field(description="The payee account reused by new claims, masked.")
    def payee(self) -> ClaimPayee | None:
        return payee(self.on_file())

    contact_required: bool = strawberry.field(
        description="saveClaimContact must come before startClaim."
    )

    @strawberry.field(description="updateClaimAmount must carry `payee`.")
    def payee_required(self) -> bool:
        return self.on_file() is None


def profile_type(
    contact: claimant_views.ContactView | None,
    on_file: Callable[[], claimant_views.PayeeView | None],
) -> ClaimantProfile:
    return ClaimantProfile(
        contact=None
        if contact is None
        else ClaimContact(address=contact.address_masked, email=contact.email_masked),
        contact_required=contact is None,
        on_file=functools.cache(on_file),
    )


# --- query results -------------------------------------------------------------------------------

ClaimsResult = ResultUnion(
    "ClaimsResult",
    ClaimConnection,
    RealNameRequiredError,
    ValidationError,
    description="A page of claims, or why not.",
)
ClaimResult = ResultUnion(
    "ClaimResult",
    ClaimNode,
    ClaimNotFoundError,
    RealNameRequiredError,
    description="One claim, or why not.",
)
ClaimDraftsResult = ResultUnion(
    "ClaimDraftsResult",
    ClaimDraftList,
    RealNameRequiredError,
    description="The drafts, or why not.",
)
ClaimRulesResult = ResultUnion(
    "ClaimRulesResult",
    ClaimRules,
    PolicyNotFoundError,
    RealNameRequiredError,
    description="The rules of a policy, or why not.",
)
ClaimConfirmationResult = ResultUnion(
    "ClaimConfirmationResult",
    ClaimConfirmation,
    ClaimNotFoundError,
    ClaimStateError,
    RealNameRequiredError,
    description="The confirm view, or why not.",
)
ClaimantProfileResult = ResultUnion(
    "ClaimantProfileResult",
    ClaimantProfile,
    RealNameRequiredError,
    description="The profile, or why not.",
)
