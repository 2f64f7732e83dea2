"""Claims: drafts and submitted claims, their documents, timeline, supplements, adjusters.

Amounts are integers in fen (1/100 yuan) so sums are exact. Personal data a claim
carries beyond ids (address, bank account, e-mail) is encrypted with the Vault; look-ups
use keyed hashes, as for accounts.
"""

from __future__ import annotations

import datetime
import enum

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime, utcnow, value_enum
from server.policies.models import Person, Policy, Relation


class ClaimStatus(enum.Enum):
    DRAFT = "draft"  # 草稿: being filled in, resumable
    SUBMITTED = "submitted"  # 已提交: waiting for an adjuster
    UNDER_REVIEW = "under_review"  # 审核中
    PENDING_SUPPLEMENT = "pending_supplement"  # 待补充资料
    SETTLED = "settled"  # 已结案
    PAID = "paid"  # 已支付: the payment of a settled claim is recorded (server/claims/payments.py)
    REJECTED = "rejected"  # 拒赔
    WITHDRAWN = "withdrawn"  # 已撤案


class IncidentType(enum.Enum):
    DISEASE = "disease"  # 疾病
    ACCIDENT = "accident"  # 意外


class Actor(enum.Enum):
    CLAIMANT = "claimant"
    ADJUSTER = "adjuster"
    SYSTEM = "system"


class Channel(enum.Enum):
    """申报途径: where the claim or a supplement came from."""

    APP = "app"
    WECHAT = "wechat"
    H5 = "h5"
    OFFICE = "office"


class ContactProfile(Base):
    """Contact address and e-mail a member adds before the first claim (补充个人信息)."""

    __tablename__ = "contact_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), unique=True)
    address_enc: Mapped[str] = mapped_column(Text)  # street address (详细地址)
    email_enc: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # 省市区 (server/divisions codes), set by a change of contact details (§11.2)
    province_code: Mapped[str | None] = mapped_column(String(12))
    city_code: Mapped[str | None] = mapped_column(String(12))
    district_code: Mapped[str | None] = mapped_column(String(12))


class ServiceRequestKind(enum.Enum):
    CHANGE_CONTACT = "change_contact"  # 客户联系信息变更 (§11.2)
    CHANGE_DETAILS = "change_details"  # 客户信息变更 (§11.1): staff review (details_change.py)


class ServiceRequestStatus(enum.Enum):
    DRAFT = "draft"  # being filled in: photos, signature, SMS codes
    SUBMITTED = "submitted"  # 审核中: with the back office
    APPLIED = "applied"  # 已生效
    REJECTED = "rejected"  # 未通过: with the reason


class ServiceRequest(Base):
    """One self-service policy administration request (自助保全, §11), for its progress
    list (§11.3). `detail_enc` holds the new values (JSON, encrypted)."""

    __tablename__ = "service_request"
    __table_args__ = (Index("ix_service_request_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    kind: Mapped[str] = mapped_column(String(30))  # ServiceRequestKind value
    status: Mapped[str] = mapped_column(String(20))  # ServiceRequestStatus value
    detail_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)


class PayeeAccount(Base):
    """A member's payee (收款人, seed 000 §7.1): the bank account claims are paid to.

    Asked inline on the first claim (the applicant's own account: only bank name and
    number), or saved in full with an SMS code (server/claims/payees.py): relationship, ID,
    bank location and code, social/medical insurance number. Removing one keeps the row
    (`removed_at`): claims paid to it still say where the money went.
    """

    __tablename__ = "payee_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # null: a payee the claims office typed from a paper claim (server/claims/offline.py)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    holder_name_enc: Mapped[str] = mapped_column(Text)
    bank_name: Mapped[str] = mapped_column(String(100))
    account_no_enc: Mapped[str] = mapped_column(Text)
    account_no_hash: Mapped[str] = mapped_column(String(64))
    account_no_last4: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # a saved payee's details (null on accounts captured inline by a claim)
    relationship: Mapped[str | None] = mapped_column(String(20))  # Relation value
    id_type: Mapped[str | None] = mapped_column(String(30))  # IdType value
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    bank_code: Mapped[str | None] = mapped_column(String(3))  # banks.csv
    province_code: Mapped[str | None] = mapped_column(String(12))  # server/divisions
    city_code: Mapped[str | None] = mapped_column(String(12))
    insurance_no_enc: Mapped[str | None] = mapped_column(Text)  # 社保/医保号
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)


class ClaimLimitOverride(Base):
    """An online claim limit the claims department raised for one insured person."""

    __tablename__ = "claim_limit_override"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    limit_fen: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[int] = mapped_column(ForeignKey("adjuster.id"))
    set_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutpatientYearTotal(Base):
    """Outpatient spending outside the platform in one calendar year, as the plan
    administrator loads it (scripts/load_outpatient_totals.py); added to the claims'."""

    __tablename__ = "outpatient_year_total"
    __table_args__ = (UniqueConstraint("person_id", "year", name="uq_outpatient_year_total"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    year: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)


class Claim(Base):
    """One claim, from draft to decision. `claim_no` is given at submission."""

    __tablename__ = "claim"
    __table_args__ = (
        UniqueConstraint("account_id", "client_key", name="uq_claim_client_key"),
        Index("ix_claim_status_submitted", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_no: Mapped[str | None] = mapped_column(String(20), unique=True)
    # the member who made it; null for a paper claim the office entered (channel OFFICE)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("person.id"))  # 申请人
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"), index=True)
    insured_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)  # 出险人
    relation: Mapped[Relation] = mapped_column(value_enum(Relation, "relation"))
    plan_rules: Mapped[str] = mapped_column(String(40))  # rules code in force for this claim
    status: Mapped[ClaimStatus] = mapped_column(
        value_enum(ClaimStatus, "claim_status"), default=ClaimStatus.DRAFT
    )
    channel: Mapped[Channel] = mapped_column(
        value_enum(Channel, "claim_channel"), default=Channel.APP
    )

    notice_accepted_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    # the plan's 授权与声明 (version) as accepted at submission, where the plan has one
    declaration_version: Mapped[str | None] = mapped_column(String(40))
    declaration_accepted_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    # 基本信息
    address_enc: Mapped[str | None] = mapped_column(Text)
    incident_type: Mapped[IncidentType | None] = mapped_column(
        value_enum(IncidentType, "incident_type")
    )
    incident_date: Mapped[datetime.date | None] = mapped_column(Date)
    claim_type: Mapped[str | None] = mapped_column(String(40))  # a code of the plan rules
    facility_name: Mapped[str | None] = mapped_column(String(200))  # 就诊医院
    # the directory facility chosen, where the plan names its hospitals by id
    facility_id: Mapped[str | None] = mapped_column(String(80))
    # 理赔金额
    invoice_total_fen: Mapped[int | None] = mapped_column(Integer)
    province: Mapped[str | None] = mapped_column(String(40))
    city: Mapped[str | None] = mapped_column(String(40))
    other_compensation_fen: Mapped[int | None] = mapped_column(Integer)
    payee_id: Mapped[int | None] = mapped_column(ForeignKey("payee_account.id"))
    # 签名 and submission
    signature_key: Mapped[str | None] = mapped_column(String(120))
    signed_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    client_key: Mapped[str | None] = mapped_column(String(64))
    limit_fen: Mapped[int | None] = mapped_column(Integer)  # the online limit applied
    duplicate_suspected: Mapped[bool] = mapped_column(Boolean, default=False)
    resubmission_of_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"))
    # 结案 / 拒赔
    approved_fen: Mapped[int | None] = mapped_column(Integer)
    paid_fen: Mapped[int | None] = mapped_column(Integer)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("adjuster.id"))
    # a paper claim: who entered it, and whom to tell (typed by staff or from the policy
    # record; encrypted); the language of the texts when no account chose one
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("adjuster.id"))
    contact_phone_enc: Mapped[str | None] = mapped_column(Text)
    contact_email_enc: Mapped[str | None] = mapped_column(Text)
    contact_language: Mapped[str | None] = mapped_column(String(5))

    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    # the last time the claimant acted (submission or supplement): the queue's "oldest first"
    waiting_since: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)

    policy: Mapped[Policy] = relationship()
    insured: Mapped[Person] = relationship(foreign_keys=[insured_id])
    applicant: Mapped[Person] = relationship(foreign_keys=[applicant_id])
    payee: Mapped[PayeeAccount | None] = relationship()
    documents: Mapped[list[ClaimDocument]] = relationship(
        order_by="ClaimDocument.id", back_populates="claim"
    )
    invoices: Mapped[list[ClaimInvoice]] = relationship(
        order_by="ClaimInvoice.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[ClaimEvent]] = relationship(order_by="ClaimEvent.id")
    deductions: Mapped[list[ClaimDeduction]] = relationship(
        order_by="ClaimDeduction.id", cascade="all, delete-orphan"
    )
    supplements: Mapped[list[SupplementRequest]] = relationship(order_by="SupplementRequest.id")


class ClaimPayment(Base):
    """The payment of a settled claim as the office records it (理赔款支付): amount, value
    date, the bank's reference, and the payee account it went to."""

    __tablename__ = "claim_payment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), unique=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    paid_on: Mapped[datetime.date] = mapped_column(Date)  # China date the bank paid
    bank_reference: Mapped[str] = mapped_column(String(60))
    payee_id: Mapped[int | None] = mapped_column(ForeignKey("payee_account.id"))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("adjuster.id"))
    recorded_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)


class ClaimInvoice(Base):
    """An invoice number the claimant entered; the same number in two claims is flagged."""

    __tablename__ = "claim_invoice"
    __table_args__ = (UniqueConstraint("claim_id", "invoice_no", name="uq_claim_invoice_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"))
    invoice_no: Mapped[str] = mapped_column(String(40), index=True)


class ClaimDocument(Base):
    """An uploaded file of a claim under one category (病历, 发票 ...)."""

    __tablename__ = "claim_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))  # a code of the plan rules
    storage_key: Mapped[str] = mapped_column(String(120))
    thumbnail_key: Mapped[str | None] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    original_sha256: Mapped[str] = mapped_column(String(64), index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    uploaded_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[Channel] = mapped_column(
        value_enum(Channel, "claim_channel"), default=Channel.APP
    )
    # set while the file belongs to a supplement not yet submitted, then kept for history
    supplement_id: Mapped[int | None] = mapped_column(ForeignKey("claim_supplement.id"))
    # the claimant removed it before submitting; the row stays until clean-up
    removed_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    # 问题影像: marked by an adjuster, with the reason shown to the claimant
    problem_reason: Mapped[str | None] = mapped_column(Text)
    problem_marked_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    problem_marked_by: Mapped[int | None] = mapped_column(ForeignKey("adjuster.id"))

    claim: Mapped[Claim] = relationship(back_populates="documents")


class ClaimEvent(Base):
    """One line of a claim's timeline: a status change or another step, who and when."""

    __tablename__ = "claim_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))  # CREATED, SUBMITTED, SUPPLEMENT_REQUESTED ...
    status_from: Mapped[ClaimStatus | None] = mapped_column(value_enum(ClaimStatus, "claim_status"))
    status_to: Mapped[ClaimStatus | None] = mapped_column(value_enum(ClaimStatus, "claim_status"))
    actor: Mapped[Actor] = mapped_column(value_enum(Actor, "claim_actor"))
    actor_id: Mapped[int | None] = mapped_column(Integer)  # account or adjuster id
    channel: Mapped[Channel | None] = mapped_column(value_enum(Channel, "claim_channel"))
    # what the claimant or adjuster wrote (remark, instructions, reason): no personal data
    note: Mapped[str] = mapped_column(Text, default="")


class ClaimDeduction(Base):
    """A line of the settlement notice: an amount not paid and why."""

    __tablename__ = "claim_deduction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)


class ClaimDuplicate(Base):
    """A suspected duplicate: an invoice image or number already used in another claim."""

    __tablename__ = "claim_duplicate"
    __table_args__ = (
        UniqueConstraint("claim_id", "other_claim_id", "basis", "detail", name="uq_claim_dup"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    other_claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"))
    basis: Mapped[str] = mapped_column(String(20))  # IMAGE | INVOICE_NO
    detail: Mapped[str] = mapped_column(String(64))  # the invoice number, or the image's hash
    found_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SupplementRequest(Base):
    """An adjuster's request for missing documents (补材), and the claimant's answer.

    The link in the SMS and e-mail carries a random token; only its hash is kept, and it
    stops working when the request is answered or expires.
    """

    __tablename__ = "claim_supplement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    requested_by: Mapped[int] = mapped_column(ForeignKey("adjuster.id"))
    requested_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    categories: Mapped[str] = mapped_column(Text)  # JSON list of category codes
    instructions: Mapped[str] = mapped_column(Text)
    deadline: Mapped[datetime.date] = mapped_column(Date)  # the last working day to answer
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    fulfilled_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    fulfilled_via: Mapped[Channel | None] = mapped_column(value_enum(Channel, "claim_channel"))
    remark: Mapped[str | None] = mapped_column(Text)
    # the adjuster has opened the claim since the supplement arrived
    seen_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)


class ClaimNumberSequence(Base):
    """The last sequence number given on one day; the row is locked while it is raised."""

    __tablename__ = "claim_number_sequence"

    day: Mapped[str] = mapped_column(String(6), primary_key=True)  # yymmdd, China time
    last: Mapped[int] = mapped_column(Integer, default=0)


class Adjuster(Base):
    """A claims adjuster (理赔审核员): created by a script, never by sign-up."""

    __tablename__ = "adjuster"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name_enc: Mapped[str] = mapped_column(Text)  # a person's name: encrypted
    email_enc: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # adjuster (claims) or coordinator (direct-billing appointments): one desk each
    role: Mapped[str] = mapped_column(String(16), default="adjuster", server_default="adjuster")
